"""Checks the API description (server/tests/openapi.rs runs it).

usage: openapi_check.py DOCUMENT SAMPLES

DOCUMENT is /api/v1/openapi.json as served; SAMPLES a JSON list of calls made against the
same server, each {"context": ..., "answer": ...}. The document must be valid OpenAPI 3.1
(the OpenAPI project's validator), every context must match the request schema, and every
answer the answer schema and, for its result, the schema its action names in `x-result`.
"""
import json
import sys

import jsonschema
from openapi_spec_validator import validate

document = json.load(open(sys.argv[1]))
samples = json.load(open(sys.argv[2]))
validate(document)

components = {"components": document["components"]}


def check(schema, value, what):
    validator = jsonschema.Draft202012Validator({**components, **schema})
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
    if errors:
        raise SystemExit(f"{what}: {errors[0].message} at {list(errors[0].path)}\n{json.dumps(value)[:2000]}")


variants = document["components"]["schemas"]["ProcessRequest"]["properties"]["context"]["oneOf"]
by_action = {variant["title"]: variant for variant in variants}
for sample in samples:
    context = sample["context"]
    action = context.get("action", "list_shareable")
    check({"$ref": "#/components/schemas/ProcessRequest"}, {"context": context, "config": {}}, f"{action} request")
    check({"$ref": "#/components/schemas/ProcessAnswer"}, sample["answer"], f"{action} answer")
    check(by_action[action]["x-result"], sample["answer"]["result"], f"{action} result")
print(f"valid OpenAPI {document['openapi']}; {len(samples)} calls match it")

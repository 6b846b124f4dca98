"""Client for a pipeshare hub's JSON API (``POST /api/v1/process``).

``Client.process(context, config)`` is the PlugPipe sharing guide's ``process``: it answers
the guide's envelope (``success``, ``message``, ``result`` or ``error``) as a dict, whatever
the HTTP status. The typed helpers answer the ``result`` and raise ``PipeshareError`` with the
HTTP status when the hub refuses.
"""
import base64
import hashlib
import json
import time
import urllib.error
import urllib.request

__all__ = ["Client", "PipeshareError"]
__version__ = "0.1.0"


class PipeshareError(Exception):
    """The hub refused a call: ``status`` is the HTTP status, ``message`` the hub's reason."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class Client:
    """A hub at ``url`` (``https://pipes.example.com``), called with an API ``token``.

    ``retries`` more tries are made after a connection error or a 503, waiting ``backoff``
    seconds, doubling each time; nothing else is retried.
    """

    def __init__(self, url, token, timeout=30.0, retries=3, backoff=0.5):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    # The guide's call.

    def process(self, context, config=None):
        """Runs one action; answers the envelope dict, on success and on refusal alike."""
        return self._process(context, config)[1]

    # Typed helpers: the result of the action, or PipeshareError.

    def call(self, action, config=None, **fields):
        """Runs ``action`` with ``fields`` as its context; answers its result."""
        status, envelope = self._process(dict(fields, action=action), config)
        if not envelope.get("success"):
            raise PipeshareError(status, envelope.get("error", "unknown error"))
        return envelope["result"]

    def list_shareable(self, **filters):
        """Pipes you may share; ``category``, ``status``, ``author``, ``search``, ``scope``,
        ``limit``, ``offset``, ``after``, ``before``."""
        paging = {key: filters.pop(key) for key in ("limit", "offset") if key in filters}
        return self.call("list_shareable", pipe_filters=filters, **paging)

    def share_pipe(self, pipe_name, public=False, approval_required=False, **options):
        options.update(public=public, approval_required=approval_required)
        return self.call("share_pipe", pipe_name=pipe_name, sharing_options=options)

    def unshare_pipe(self, pipe_name):
        return self.call("unshare_pipe", pipe_name=pipe_name)

    def grant(self, pipe_name, users=(), groups=(), access_level="read", expiration=None):
        permissions = {"users": list(users), "groups": list(groups), "access_level": access_level}
        if expiration is not None:
            permissions["expiration"] = expiration
        return self.call("manage_permissions", pipe_name=pipe_name, permissions=permissions)

    def revoke(self, pipe_name, users=(), groups=()):
        permissions = {"users": list(users), "groups": list(groups), "revoke": True}
        return self.call("manage_permissions", pipe_name=pipe_name, permissions=permissions)

    def download_pipe(self, pipe_name, version=None):
        fields = {"pipe_name": pipe_name}
        if version is not None:
            fields["version"] = version
        return self.call("download_pipe", **fields)

    def report(self, time_range="30_days", **sections):
        return self.call("generate_share_report", report_options=dict(sections, time_range=time_range))

    def list_all(self, **filters):
        """Every pipe ``list_shareable`` matches, page after page (``next_after``)."""
        while True:
            page = self.list_shareable(**filters)
            yield from page["pipes"]
            if not page.get("next_after"):
                return
            filters["after"] = page["next_after"]

    # Publishing and distribution.

    def publish(self, manifest, files=None, manifest_file=None):
        """Publishes the version ``manifest`` (YAML text) names, with ``files`` (relative path
        to bytes) beside it; ``manifest_file`` is ``pipe.yaml`` unless given."""
        encoded = {path: base64.b64encode(data).decode() for path, data in (files or {}).items()}
        fields = {"manifest": manifest, "files": encoded}
        if manifest_file is not None:
            fields["manifest_file"] = manifest_file
        return self.call("publish_pipe", **fields)

    def publish_archive(self, data):
        """Publishes a ``.tar.gz`` or ``.zip`` of a version folder (``bytes``)."""
        status, envelope = self._send("POST", "/api/v1/pipes/publish", data, "application/gzip")
        if not envelope.get("success"):
            raise PipeshareError(status, envelope.get("error", "unknown error"))
        return envelope["result"]

    def download_package(self, pipe_name, version=None, environment=None):
        """A version's package (``.tar.gz`` bytes), checked against its SHA-256; the newest
        version not yanked unless ``version`` or ``environment`` names one."""
        fields = {"pipe_name": pipe_name}
        if version is not None:
            fields["version"] = version
        if environment is not None:
            fields["environment"] = environment
        found = self.call("download_pipe", **fields)
        if not found.get("archive_url"):
            raise PipeshareError(404, f"Version {found['version']} of '{pipe_name}' has no package")
        request = urllib.request.Request(found["archive_url"], headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            data = response.read()
        if hashlib.sha256(data).hexdigest() != found["sha256"]:
            raise PipeshareError(502, "The package does not match its SHA-256")
        return data

    def promote(self, pipe_name, version, environment):
        return self.call("promote_pipe", pipe_name=pipe_name, version=version, environment=environment)

    def fork(self, pipe_name, new_name, version=None):
        fields = {"pipe_name": pipe_name, "new_name": new_name}
        if version is not None:
            fields["version"] = version
        return self.call("fork_pipe", **fields)

    def yank(self, pipe_name, version, reason):
        return self.call("yank_version", pipe_name=pipe_name, version=version, reason=reason)

    # The people side: access requests, the inbox, who can see what, webhooks.

    def request_access(self, pipe_name, reason, access_level="read", duration_days=None):
        fields = {"pipe_name": pipe_name, "reason": reason, "access_level": access_level}
        if duration_days is not None:
            fields["duration_days"] = duration_days
        return self.call("request_access", **fields)

    def access_requests(self, status=None, pipe_name=None):
        fields = {key: value for key, value in (("status", status), ("pipe_name", pipe_name)) if value is not None}
        return self.call("list_access_requests", **fields)["requests"]

    def review_access_request(self, request, decision, note=None, access_level=None, expiration=None):
        """Decides ``request`` (as listed: its ``revision`` binds the decision)."""
        fields = {"request_id": request["request_id"], "revision": request["revision"], "decision": decision}
        for key, value in (("note", note), ("access_level", access_level), ("expiration", expiration)):
            if value is not None:
                fields[key] = value
        return self.call("review_access_request", **fields)

    def renew_grant(self, pipe_name, user=None, group=None, days=None):
        fields = {"pipe_name": pipe_name}
        for key, value in (("user", user), ("group", group), ("days", days)):
            if value is not None:
                fields[key] = value
        return self.call("renew_grant", **fields)

    def explain_access(self, pipe_name=None, user=None):
        fields = {"pipe_name": pipe_name} if pipe_name is not None else {"user": user}
        return self.call("explain_access", **fields)

    def inbox(self, kind=None):
        return self.call("list_inbox", **({"kind": kind} if kind else {}))

    def review_inbox(self, items, decision, note=None):
        """Decides inbox ``items`` (as listed) together; the outcome of each."""
        refs = [{"kind": i["kind"], "id": i["id"], "revision": i.get("revision")} for i in items]
        fields = {"items": refs, "decision": decision}
        if note is not None:
            fields["note"] = note
        return self.call("review_inbox", **fields)["outcomes"]

    def add_webhook(self, url, pipe_name=None, events=None):
        """Subscribes ``url``; the answer holds the signing ``secret``, shown this once."""
        fields = {"url": url}
        if pipe_name is not None:
            fields["pipe_name"] = pipe_name
        if events is not None:
            fields["events"] = list(events)
        return self.call("add_webhook", **fields)

    def webhooks(self, pipe_name=None):
        return self.call("list_webhooks", **({"pipe_name": pipe_name} if pipe_name else {}))["webhooks"]

    def remove_webhook(self, webhook_id):
        return self.call("remove_webhook", webhook_id=webhook_id)

    # The wire.

    def _process(self, context, config):
        body = json.dumps({"context": context, "config": config or {}}).encode()
        return self._send("POST", "/api/v1/process", body)

    def _send(self, method, path, body, content_type="application/json"):
        """One request, retried on connection errors and 503; answers (status, envelope)."""
        attempt = 0
        while True:
            request = urllib.request.Request(
                self.url + path,
                data=body,
                method=method,
                headers={"Authorization": "Bearer " + self.token, "Content-Type": content_type},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.status, _envelope(response.read())
            except urllib.error.HTTPError as error:
                if error.code != 503 or attempt >= self.retries:
                    return error.code, _envelope(error.read())
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if attempt >= self.retries:
                    raise
            time.sleep(self.backoff * (2**attempt))
            attempt += 1


def _envelope(raw):
    """The hub's envelope; an answer that is not one (a proxy's error page) becomes one."""
    try:
        envelope = json.loads(raw.decode() or "{}")
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        return {"success": False, "message": "Pipe sharing orchestration failed", "error": raw.decode(errors="replace")[:500]}
    return envelope

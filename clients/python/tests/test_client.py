"""The client against a live pipeshare (PIPESHARE_URL, PIPESHARE_TOKEN for alice, who owns
`sqlite`) and, for retries, against a stand-in server that answers 503 first."""
import http.server
import json
import os
import threading
import unittest

from pipeshare import Client, PipeshareError

URL = os.environ["PIPESHARE_URL"]
TOKEN = os.environ["PIPESHARE_TOKEN"]


class LiveHub(unittest.TestCase):
    def setUp(self):
        self.hub = Client(URL, TOKEN)

    def test_publish_promote_download_fork_and_yank(self):
        published = self.hub.publish("name: py-tool\nversion: 1.0.0\n", {"main.py": b"print(1)\n"})
        self.assertEqual((published["pipe_name"], published["new_pipe"]), ("py-tool", True))
        archive = self.hub.download_package("py-tool")
        import io
        import tarfile

        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            self.assertEqual(sorted(tar.getnames()), ["main.py", "pipe.yaml"])
            self.assertEqual(tar.extractfile("main.py").read(), b"print(1)\n")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            manifest = b"name: py-tool\nversion: 1.1.0\n"
            info = tarfile.TarInfo("pipe.yaml")
            info.size = len(manifest)
            tar.addfile(info, io.BytesIO(manifest))
        self.assertEqual(self.hub.publish_archive(buffer.getvalue())["version"], "1.1.0")
        self.assertEqual(self.hub.promote("py-tool", "1.0.0", "staging")["status"], "active")
        self.assertEqual(self.hub.download_pipe("py-tool")["version"], "1.1.0")
        self.assertEqual(len(self.hub.download_package("py-tool", environment="staging")), len(archive))
        self.assertEqual(self.hub.fork("py-tool", "py-tool-fork", version="1.0.0")["pipe_name"], "py-tool-fork")
        self.assertEqual(self.hub.yank("py-tool", "1.1.0", "broken")["latest_version"], "1.0.0")
        with self.assertRaises(PipeshareError) as again:
            self.hub.publish("name: py-tool\nversion: 1.0.0\n")
        self.assertEqual(again.exception.status, 409)
        names = [pipe["name"] for pipe in self.hub.list_all()]
        self.assertIn("py-tool-fork", names)

    def test_process_answers_the_envelope_as_the_guide_reads_it(self):
        listed = self.hub.process({"action": "list_shareable"})
        self.assertEqual(set(listed), {"success", "message", "result"})
        self.assertTrue(listed["success"])
        self.assertIn("sqlite", [pipe["name"] for pipe in listed["result"]["pipes"]])
        refused = self.hub.process({"action": "share_pipe"})
        self.assertEqual(refused, {"success": False, "message": "Pipe sharing orchestration failed", "error": "Pipe name is required for sharing operation"})

    def test_helpers_answer_results_and_raise_with_the_status(self):
        shared = self.hub.share_pipe("sqlite", public=True)
        self.assertEqual(shared["sharing_status"], "active")
        self.assertTrue(shared["share_url"].endswith("/pipes/sqlite"))
        self.assertEqual(self.hub.download_pipe("sqlite")["pipe_name"], "sqlite")
        self.assertEqual(self.hub.list_shareable(category="database", limit=5)["filters_applied"], {"category": "database"})
        granted = self.hub.grant("sqlite", users=["bob"], access_level="read_write", expiration="2999-01-01")
        self.assertEqual(granted["active_permissions"]["access_level"], "read_write")
        self.assertEqual(self.hub.revoke("sqlite", users=["bob"])["grants"], [])
        self.assertIn("summary", self.hub.report("7_days", include_trend_analysis=True))
        with self.assertRaises(PipeshareError) as missing:
            self.hub.download_pipe("no_such_pipe")
        self.assertEqual((missing.exception.status, missing.exception.message), (404, "Pipe 'no_such_pipe' not found"))
        with self.assertRaises(PipeshareError) as bad:
            self.hub.list_shareable(status="bogus")
        self.assertEqual(bad.exception.status, 400)
        with self.assertRaises(PipeshareError) as unknown:
            Client(URL, "pps_nobody").list_shareable()
        self.assertEqual(unknown.exception.status, 401)
        self.hub.unshare_pipe("sqlite")


    def test_the_people_side(self):
        self.hub.share_pipe("sqlite", gated=True)
        explained = self.hub.explain_access("sqlite")
        self.assertEqual(explained["everyone"]["reason"], "gated_share")
        self.assertEqual([u["user"] for u in explained["users"]], ["alice"])
        # A request for a pipe nobody can see looks like any other, and is alice's alone.
        asked = self.hub.request_access("hidden_somewhere", "curious", duration_days=7)
        self.assertEqual((asked["status"], asked["revision"]), ("pending", 1))
        self.assertEqual([r["pipe_name"] for r in self.hub.access_requests(status="pending")], ["hidden_somewhere"])
        self.assertEqual(self.hub.inbox("my_request")["items"][0]["id"], str(asked["request_id"]))
        with self.assertRaises(PipeshareError) as own:
            self.hub.review_access_request(asked, "approve")
        self.assertEqual(own.exception.status, 403)
        self.hub.grant("sqlite", users=["bob"], expiration="2999-01-01")
        renewed = self.hub.renew_grant("sqlite", user="bob", days=10)
        self.assertTrue(renewed["expires_at"].startswith("2999-01-11"))
        outcomes = self.hub.review_inbox([{"kind": "expiring_grant", "id": "sqlite:user:bob"}], "approve")
        self.assertFalse(outcomes[0]["decided"])
        with self.assertRaises(PipeshareError) as inward:
            self.hub.add_webhook("http://127.0.0.1:9/hook", pipe_name="sqlite")
        self.assertEqual(inward.exception.status, 400)
        self.assertEqual(self.hub.webhooks("sqlite"), [])
        self.hub.revoke("sqlite", users=["bob"])
        self.hub.unshare_pipe("sqlite")


class StandIn(http.server.BaseHTTPRequestHandler):
    """Answers 503 `failures` times, then the envelope; counts the requests."""

    failures = 0
    requests = 0

    def do_POST(self):
        StandIn.requests += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        if StandIn.requests <= StandIn.failures:
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"busy")
            return
        body = json.dumps({"success": True, "message": "Pipe sharing orchestration completed", "result": {"ok": 1}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Retries(unittest.TestCase):
    def serve(self, failures):
        StandIn.failures, StandIn.requests = failures, 0
        server = http.server.HTTPServer(("127.0.0.1", 0), StandIn)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        return "http://127.0.0.1:%d" % server.server_port

    def test_a_503_is_tried_again(self):
        hub = Client(self.serve(failures=2), "pps_x", backoff=0.01)
        self.assertEqual(hub.process({})["result"], {"ok": 1})
        self.assertEqual(StandIn.requests, 3)

    def test_retries_end(self):
        hub = Client(self.serve(failures=10), "pps_x", retries=2, backoff=0.01)
        with self.assertRaises(PipeshareError) as busy:
            hub.call("list_shareable")
        self.assertEqual((busy.exception.status, StandIn.requests), (503, 3))

    def test_a_connection_refused_is_tried_again_then_raised(self):
        url = self.serve(failures=0)
        dead = Client(url.rsplit(":", 1)[0] + ":9", "pps_x", retries=1, backoff=0.01)
        with self.assertRaises(OSError):
            dead.process({})


if __name__ == "__main__":
    unittest.main()

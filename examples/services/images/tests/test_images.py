"""Tests of the image checks: each check is shown to fail on a bad fixture.

    python3 -m unittest discover -s examples/services/images/tests -v

Standard library only; the constraint tests that need root and unshare(1)
skip without them, the token test skips without python3-jwt and FastAPI.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

IMAGES = Path(__file__).resolve().parents[1]
SERVICES = IMAGES.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(IMAGES))

import smoke_check  # noqa: E402

SECRET = b"s" * 48
ISSUER = "fx-platform"


def image_setup_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(SERVICES / "common" / "image-setup.sh"), "--check", str(path)],
                          capture_output=True, text=True, timeout=30)


class ImageSetupCheckTest(unittest.TestCase):
    def test_accepts_a_pinned_list(self) -> None:
        self.assertEqual(image_setup_check(FIXTURES / "pinned.txt").returncode, 0)

    def test_accepts_both_services_lists(self) -> None:
        for service in ("orders-api", "inventory-api"):
            result = image_setup_check(SERVICES / service / "debian-packages.txt")
            self.assertEqual(result.returncode, 0, f"{service}: {result.stderr}")

    def test_fails_on_an_unpinned_package(self) -> None:
        result = image_setup_check(FIXTURES / "unpinned.txt")
        self.assertEqual(result.returncode, 1)
        self.assertIn("python3-jwt", result.stderr)

    def test_fails_on_a_malformed_version(self) -> None:
        result = image_setup_check(FIXTURES / "bad-version.txt")
        self.assertEqual(result.returncode, 1)
        self.assertIn("python3-jwt=>=2.6", result.stderr)

    def test_fails_on_a_package_listed_twice(self) -> None:
        result = image_setup_check(FIXTURES / "duplicate.txt")
        self.assertEqual(result.returncode, 1)
        self.assertIn("more than once: python3", result.stderr)

    def test_fails_on_an_empty_list(self) -> None:
        self.assertEqual(image_setup_check(FIXTURES / "empty.txt").returncode, 1)


def print_sources(apt_etc: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(IMAGES / "build-base.sh"), "--print-sources"], capture_output=True,
                          text=True, timeout=30, env={**os.environ, "FX_APT_ETC": str(apt_etc)})


class BaseMirrorChoiceTest(unittest.TestCase):
    """build-base.sh takes the Debian mirror and suites from the machine's apt configuration."""

    def test_reads_deb822_sources_skipping_disabled_and_source_stanzas(self) -> None:
        result = print_sources(FIXTURES / "apt-deb822")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(), [
            "bookworm http://mirror-a.invalid/debian",
            "bookworm-updates http://mirror-a.invalid/debian",
            "bookworm-security http://mirror-a.invalid/debian-security",
        ])

    def test_reads_one_line_sources_with_options(self) -> None:
        result = print_sources(FIXTURES / "apt-oneline")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(), [
            "bookworm http://mirror-b.invalid/debian",
            "bookworm-updates ",
            "bookworm-security http://mirror-b.invalid/debian-security",
        ])

    def test_fails_without_a_bookworm_source(self) -> None:
        result = print_sources(FIXTURES / "apt-none")
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot choose a Debian mirror", result.stderr)


class FakeServices:
    """orders-api and inventory-api stand-ins that verify the tokens like fx_service_kit does.

    `fault` makes one of them misbehave the way a broken image would.
    """

    def __init__(self, fault: Optional[str] = None, secret: bytes = SECRET, xray_port: Optional[int] = None) -> None:
        self.fault = fault
        self.xray_port = xray_port
        self.secret = secret
        self.stock = {"WIDGET-42": 10}
        self.orders: Dict[str, Dict[str, Any]] = {}
        self.servers = [self._server(self._orders), self._server(self._inventory)]
        self.orders_url, self.inventory_url = (f"http://127.0.0.1:{s.server_address[1]}" for s in self.servers)

    def _server(self, route: Any) -> ThreadingHTTPServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                status, payload, headers = route(self.command, self.path, self.headers.get("authorization"), body)
                self._send(status, payload, headers)

            do_GET = do_POST = _handle

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def _authorized(self, authorization: Optional[str], audience: str) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        header, payload, signature = authorization[len("Bearer "):].split(".")
        expected = smoke_check.hs256_token(self.secret, json.loads(_unb64(payload))).split(".")[2]
        claims = json.loads(_unb64(payload))
        now = time.time()
        return (signature == expected and json.loads(_unb64(header))["alg"] == "HS256"
                and claims["iss"] == ISSUER and claims["aud"] == audience and claims["sub"]
                and claims["iat"] <= now + 5 and claims["exp"] > now and claims["exp"] - claims["iat"] <= 3600)

    def _orders(self, method: str, path: str, auth: Optional[str], body: Any) -> Tuple[int, Any, Dict[str, str]]:
        if path == "/readyz":
            return 200, {"status": "ok"}, {}
        if not self._authorized(auth, "orders-api") and self.fault != "no-auth":
            return 401, {"detail": "invalid token"}, {}
        if method == "GET" and path == "/orders":
            return 200, {"items": []}, {}
        if method == "POST" and path == "/orders":
            if self.fault != "no-reservation":
                self.stock[body["sku"]] -= body["quantity"]
            self._send_segments()
            order = {**body, "id": str(uuid.uuid4()), "status": "pending"}
            self.orders[order["id"]] = order
            return 201, order, {"Location": f"/orders/{order['id']}"}
        if method == "GET" and path.startswith("/orders/"):
            order = dict(self.orders[path.rsplit("/", 1)[1]])
            if self.fault == "read-mismatch":
                order["quantity"] += 1
            return 200, order, {}
        return 404, {"detail": "not found"}, {}

    def _send_segments(self) -> None:
        """What the two services' tracers send for one order: a segment each, one trace id (unless a fault)."""
        if self.xray_port is None or self.fault == "no-trace":
            return
        trace = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
        other = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}" if self.fault == "split-trace" else trace
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for name, trace_id in (("orders-api", trace), ("inventory-api", other)):
                segment = {"name": name, "id": uuid.uuid4().hex[:16], "trace_id": trace_id}
                sock.sendto(b'{"format": "json", "version": 1}\n' + json.dumps(segment).encode(),
                            ("127.0.0.1", self.xray_port))

    def _inventory(self, method: str, path: str, auth: Optional[str], body: Any) -> Tuple[int, Any, Dict[str, str]]:
        if path == "/readyz":
            if self.fault == "inventory-not-ready":
                return 503, {"status": "unavailable", "reason": "database"}, {}
            return 200, {"status": "ok"}, {}
        if not self._authorized(auth, "inventory-api"):
            return 401, {"detail": "invalid token"}, {}
        sku = path.rsplit("/", 1)[1]
        return 200, {"sku": sku, "available": self.stock[sku], "reserved": 0}, {}


def _unb64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmokeCheckTest(unittest.TestCase):
    def check(self, fault: Optional[str] = None, secret: bytes = SECRET, traced: bool = False) -> None:
        port = free_udp_port() if traced else None
        fake = FakeServices(fault, secret=SECRET, xray_port=port)
        xray = smoke_check.XRayListener(port) if port else None
        try:
            smoke_check.run(fake.orders_url, fake.inventory_url, secret, ISSUER, "orders-api", "inventory-api",
                            "WIDGET-42", 2, ready_timeout=1.5, xray=xray, trace_timeout=1.0)
        finally:
            fake.close()
            if xray is not None:
                xray.close()

    def test_passes_with_one_trace_across_both_services(self) -> None:
        self.check(traced=True)

    def test_fails_when_no_segment_arrives(self) -> None:
        with self.assertRaisesRegex(smoke_check.CheckFailed, r"no X-Ray trace .*no segment"):
            self.check("no-trace", traced=True)

    def test_fails_when_the_trace_context_does_not_cross(self) -> None:
        with self.assertRaisesRegex(smoke_check.CheckFailed, r"no X-Ray trace with segments of orders-api, inventory-api"):
            self.check("split-trace", traced=True)

    def test_passes_against_working_services(self) -> None:
        self.check()

    def test_fails_when_a_service_never_gets_ready(self) -> None:
        with self.assertRaisesRegex(smoke_check.CheckFailed, r"inventory-api /readyz not 200 .*HTTP 503"):
            self.check("inventory-not-ready")

    def test_fails_when_requests_without_a_token_are_served(self) -> None:
        with self.assertRaisesRegex(smoke_check.CheckFailed, r"without a token: HTTP 200, expected 401"):
            self.check("no-auth")

    def test_fails_when_the_order_does_not_reserve_stock(self) -> None:
        with self.assertRaisesRegex(smoke_check.CheckFailed, r"10 available after the order, expected 8"):
            self.check("no-reservation")

    def test_fails_when_the_order_reads_back_different(self) -> None:
        with self.assertRaisesRegex(smoke_check.CheckFailed, r"quantity is 3, created with 2"):
            self.check("read-mismatch")

    def test_fails_when_tokens_are_signed_with_another_key(self) -> None:
        with self.assertRaisesRegex(smoke_check.CheckFailed, r"HTTP 401, expected 200"):
            self.check(secret=b"x" * 48)

    def test_fails_when_nothing_listens(self) -> None:
        with self.assertRaisesRegex(smoke_check.CheckFailed, r"orders-api /readyz not 200"):
            fake = FakeServices()
            fake.close()
            smoke_check.wait_ready("orders-api", fake.orders_url, timeout=0.5, interval=0.1)


class TokenAcceptedByTheKitTest(unittest.TestCase):
    def test_the_kit_verifies_the_smoke_token(self) -> None:
        sys.path.insert(0, str(SERVICES / "common"))
        try:
            from fx_service_kit.auth import TokenVerifier
        except ImportError as exc:  # python3-jwt or FastAPI not installed here
            self.skipTest(f"fx_service_kit not importable: {exc}")

        class Settings:
            jwt_secret = SECRET.decode()
            jwt_secret_file = None
            jwt_audience = "orders-api"
            jwt_issuer = ISSUER
            jwt_leeway_seconds = 30
            jwt_max_lifetime_seconds = 3600

        verifier = TokenVerifier(Settings())
        token = smoke_check.issue(SECRET, "smoke-user", ISSUER, "orders-api")
        self.assertEqual(verifier.verify(token).subject, "smoke-user")
        with self.assertRaises(Exception):  # another audience: the kit refuses it
            verifier.verify(smoke_check.issue(SECRET, "smoke-user", ISSUER, "inventory-api"))


CONSTRAINED = ["setpriv", "--reuid", "10001", "--regid", "10001", "--clear-groups", "--inh-caps=-all",
               "--bounding-set=-all", "--no-new-privs"]


class ConstraintsCheckTest(unittest.TestCase):
    script = str(IMAGES / "check-constraints.sh")

    def test_fails_for_an_unconstrained_root_process(self) -> None:
        if os.geteuid() != 0:
            self.skipTest("needs root (a non-root caller already fails the uid check)")
        result = subprocess.run(["sh", self.script], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        for reason in ("uid:gid are 0/0/0/0", "CapEff is", "no_new_privs is off"):
            self.assertIn(reason, result.stdout)

    def test_fails_on_a_writable_root_file_system(self) -> None:
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv")
        result = subprocess.run([*CONSTRAINED, "sh", self.script], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not read-only", result.stdout)
        self.assertNotIn("uid:gid", result.stdout)

    def test_passes_under_the_constraints(self) -> None:
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
            self.skipTest("needs root, unshare and setpriv")
        # The script comes on stdin: the tmpfs on /tmp would hide a checkout under /tmp.
        inner = ("mount --make-rprivate / && mount -t tmpfs tmpfs /tmp && mount -o remount,ro,bind / && "
                 + " ".join(CONSTRAINED) + " sh -s")
        with open(self.script, "rb") as script:
            result = subprocess.run(["unshare", "-m", "sh", "-c", inner], stdin=script, capture_output=True,
                                    timeout=30)
        result = subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(),
                                             result.stderr.decode())
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()

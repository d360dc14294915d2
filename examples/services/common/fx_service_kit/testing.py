"""pytest helpers shared by the services' test suites (not shipped in images).

A service's conftest.py imports the fixtures it wants (`app_factory`, `client`,
`unused_port`) and provides the `build_app` fixture they need (a callable that
turns settings overrides into an unstarted app), e.g. with `build_app_fixture`.
"""

import base64
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient


def make_token(
    secret: str,
    sub: Optional[str],
    expires_in: int = 300,
    algorithm: str = "HS256",
    **claims,
) -> str:
    """A signed JWT; a claim given as None (sub=None, exp=None) is left out."""
    payload: Dict[str, object] = {"sub": sub, "iat": int(time.time()), "exp": int(time.time()) + expires_in}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm=algorithm)


def unsigned_token(payload: dict) -> str:
    """An `alg: none` token, which must never be accepted."""

    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def invalid_tokens(make_token: Callable[..., str], sub: str) -> Dict[str, str]:
    """Tokens that must be rejected as "invalid token", by case id (for pytest.mark.parametrize)."""
    return {
        "garbage": "not-a-jwt",
        "malformed": "a.b.c",
        "alg-none": unsigned_token({"sub": sub, "exp": int(time.time()) + 300}),
        "hs512": make_token(algorithm="HS512"),  # right key, algorithm not allowed
        "no-exp": make_token(exp=None),  # no exp claim
        "no-sub": make_token(sub=None),  # no sub claim
        "empty-sub": make_token(sub=""),
    }


def bearer(token: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(resp, status: int, detail: Optional[str] = None) -> dict:
    """An RFC 9457 problem response with `status` (and `detail`), carrying the response's request id."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body = resp.json()
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    assert body["request_id"] == resp.headers["x-request-id"]
    if detail is not None:
        assert body["detail"] == detail, body
    return body


def assert_401(resp, detail: str) -> None:
    assert_problem(resp, 401, detail)
    assert resp.headers["www-authenticate"].startswith("Bearer")


def sample(metrics_text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text format, 0 when absent."""
    for line in metrics_text.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match[3] or ""))
        if found == labels:
            return float(match[4])
    return 0.0


def check_metrics_endpoint(client: TestClient, *families: str) -> str:
    """GET /metrics: Prometheus text with the HTTP and process metrics, and a
    `# TYPE` line for each of `families` ("name type"). Returns the text."""
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    for family in ("http_requests_total counter", "http_request_duration_seconds histogram", *families):
        assert f"# TYPE {family}" in resp.text
    assert "process_cpu_seconds_total" in resp.text
    return resp.text


def json_lines(text: str) -> List[dict]:
    """Every non-blank line parsed as JSON (fails on a line that is not)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# The directory holding fx_service_kit: on PYTHONPATH next to a service's package.
KIT_ROOT = Path(__file__).resolve().parents[1]


def image_command(dockerfile: Path, port: int) -> List[str]:
    """The Dockerfile's CMD (exec form), after checking what the image promises:
    uid 10001, and the service listening on 0.0.0.0:`port`."""
    text = dockerfile.read_text()
    joined = text.replace("\\\n", " ")
    match = re.search(r"^CMD (\[.*\])\s*$", joined, re.MULTILINE)
    assert match, f"no exec-form CMD in {dockerfile}"
    assert re.search(r"^USER 10001:10001$", text, re.MULTILINE)
    assert re.search(rf"^EXPOSE {port}$", text, re.MULTILINE)
    cmd = json.loads(match[1])
    assert cmd[cmd.index("--port") + 1] == str(port) and cmd[cmd.index("--host") + 1] == "0.0.0.0"
    return cmd


def on_loopback(cmd: List[str], port: int) -> List[str]:
    """An image command run here instead: this Python, on 127.0.0.1:`port`."""
    assert cmd[0] == "python3", cmd
    cmd = [sys.executable, *cmd[1:]]
    cmd[cmd.index("--port") + 1] = str(port)
    cmd[cmd.index("--host") + 1] = "127.0.0.1"
    return cmd


class Served:
    """A server process started by `with Served(...) as server:`; `server.output` afterwards."""

    def __init__(self, cmd: List[str], env: Mapping[str, str], cwd: Path, port: int) -> None:
        self.cmd = cmd
        self.env = dict(env)
        self.cwd = cwd
        self.url = f"http://127.0.0.1:{port}"
        self.output = ""
        self._proc: Optional[subprocess.Popen] = None

    def __enter__(self) -> "Served":
        self._proc = subprocess.Popen(
            self.cmd, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                assert self._proc.poll() is None, f"server exited early: {self.cmd}"
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        except BaseException:
            self._stop()
            raise

    def _stop(self) -> None:
        assert self._proc is not None
        self._proc.terminate()
        self.output, _ = self._proc.communicate(timeout=20)

    def __exit__(self, *exc) -> None:
        self._stop()
        assert self._proc is not None
        if exc[0] is None:
            assert self._proc.returncode == 0, self.output


# -- fixtures (import them into a conftest.py) -----------------------------------


def build_app_fixture(create_app: Callable[[Any], Any], make_settings: Callable[..., Any]):
    """A `build_app` fixture: settings overrides -> create_app(make_settings(**overrides))."""

    @pytest.fixture
    def build_app() -> Callable[..., Any]:
        return lambda **overrides: create_app(make_settings(**overrides))

    return build_app


def auth_fixture(make_token: Callable[..., str]):
    """An `auth` fixture: the headers of a valid bearer token."""

    @pytest.fixture
    def auth() -> Dict[str, str]:
        return bearer(make_token())

    return auth


@pytest.fixture
def app_factory(build_app) -> Iterator[Callable[..., TestClient]]:
    """Build an app with custom settings; started (lifespan) and stopped for the test."""
    clients = []

    def factory(**overrides) -> TestClient:
        client = TestClient(build_app(**overrides))
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(app_factory) -> TestClient:
    return app_factory()


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- credential rotation (the mounted database Secret, credentials.py) -------------

from .rotation_testing import KubeletSecretDir, RotatingRole, credential_files  # noqa: E402,F401


class Load:
    """`threads` threads calling `call()` (returning an HTTP status) in a loop until the block ends."""

    def __init__(self, call: Callable[[], int], threads: int = 6) -> None:
        import threading

        self.call = call
        self.statuses: List[int] = []
        self.errors: List[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status = self.call()
            except Exception as exc:  # noqa: BLE001 - a failed request, reported by the test
                with self._lock:
                    self.errors.append(repr(exc))
                continue
            with self._lock:
                self.statuses.append(status)

    def wait(self, requests: int, at_least: float = 0.0, timeout: float = 60.0) -> None:
        """Until `requests` more requests completed and `at_least` seconds passed."""
        start, started = len(self.statuses), time.monotonic()
        while len(self.statuses) - start < requests or time.monotonic() - started < at_least:
            assert time.monotonic() - started < timeout, "the load made no progress"
            time.sleep(0.02)

    def __enter__(self) -> "Load":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

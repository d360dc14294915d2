"""Smoke check of a running orders-api + inventory-api pair (standard library only).

    JWT_SECRET=... python3 smoke_check.py --orders http://127.0.0.1:8000 --inventory http://127.0.0.1:8080

Waits for both /readyz, then goes through both services: reads the stock of a
SKU from inventory-api, creates an order through orders-api (which reserves
that stock in inventory-api), reads the order back, and reads the stock again:
it must be lower by the ordered quantity. Also checks that a request without a
token is refused. With --xray-port, it also listens for the X-Ray segments
both services send over UDP (AWS_XRAY_DAEMON_ADDRESS) and requires one trace
id in a segment of each: the tracer runs in the images and the trace context
crosses from orders-api to inventory-api. Tokens are HS256 with the claims fx_service_kit.auth
requires (sub, iss, aud, iat, exp): an end-user one for orders-api and a
service one for inventory-api (its own audience).

Prints one line per step and exits 1 at the first failed one.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Tuple


class CheckFailed(Exception):
    pass


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs256_token(secret: bytes, claims: Dict[str, Any]) -> str:
    """A compact JWS (RFC 7515) signed with HMAC-SHA256."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = _b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def issue(secret: bytes, subject: str, issuer: str, audience: str, lifetime: int = 300,
          scope: Optional[str] = None) -> str:
    now = int(time.time())
    claims: Dict[str, Any] = {"sub": subject, "iss": issuer, "aud": audience, "iat": now, "exp": now + lifetime}
    if scope:
        claims["scope"] = scope
    return hs256_token(secret, claims)


def _lower(headers: Any) -> Dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def request(method: str, url: str, token: Optional[str] = None, body: Optional[Dict[str, Any]] = None,
            headers: Optional[Dict[str, str]] = None, timeout: float = 10.0) -> Tuple[int, Dict[str, str], Any]:
    """(status, lower-cased headers, parsed JSON body or text); network errors raise CheckFailed."""
    data = None
    all_headers = {"Accept": "application/json", **(headers or {})}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, resp_headers, raw = resp.status, _lower(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        status, resp_headers, raw = exc.code, _lower(exc.headers), exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise CheckFailed(f"{method} {url}: {exc}") from None
    text = raw.decode("utf-8", "replace")
    try:
        return status, resp_headers, json.loads(text) if text else None
    except ValueError:
        return status, resp_headers, text


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 300 else text[:300] + "..."


def expect(what: str, status: int, wanted: int, body: Any) -> None:
    if status != wanted:
        raise CheckFailed(f"{what}: HTTP {status}, expected {wanted}: {_short(body)}")


def wait_ready(name: str, base: str, timeout: float, interval: float = 0.5) -> float:
    """Seconds until GET /readyz answered 200; CheckFailed after `timeout`."""
    started = time.monotonic()
    last = "no answer"
    while True:
        try:
            status, _, body = request("GET", f"{base}/readyz", timeout=3)
            if status == 200:
                return time.monotonic() - started
            last = f"HTTP {status}: {_short(body)}"
        except CheckFailed as exc:
            last = str(exc)
        if time.monotonic() - started > timeout:
            raise CheckFailed(f"{name} /readyz not 200 within {timeout:.0f}s (last: {last})")
        time.sleep(interval)


class XRayListener:
    """Collects X-Ray segment documents sent over UDP ('{"format": "json", "version": 1}' line, then the segment)."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self.segments: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            _, _, body = data.decode("utf-8", "replace").partition("\n")
            try:
                segment = json.loads(body)
            except ValueError:
                continue
            if isinstance(segment, dict):
                with self._lock:
                    self.segments.append(segment)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def trace_across(self, names: Tuple[str, ...], timeout: float) -> str:
        """A trace id found in segments named each of `names`; CheckFailed after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                by_trace: Dict[str, set] = {}
                for segment in self.segments:
                    by_trace.setdefault(str(segment.get("trace_id")), set()).add(segment.get("name"))
            for trace_id, seen in by_trace.items():
                if set(names) <= seen:
                    return trace_id
            if time.monotonic() > deadline:
                summary = {t: sorted(map(str, n)) for t, n in by_trace.items()} or "no segment"
                raise CheckFailed(f"no X-Ray trace with segments of {', '.join(names)} within "
                                  f"{timeout:.0f}s: {_short(summary)}")
            time.sleep(0.2)


def available(base: str, sku: str, token: str) -> int:
    status, _, body = request("GET", f"{base}/inventory/{sku}", token)
    expect(f"GET /inventory/{sku}", status, 200, body)
    if not isinstance(body, dict) or not isinstance(body.get("available"), int):
        raise CheckFailed(f"GET /inventory/{sku}: no integer 'available' in {_short(body)}")
    return body["available"]


def run(orders: str, inventory: str, secret: bytes, issuer: str, orders_audience: str,
        inventory_audience: str, sku: str, quantity: int, ready_timeout: float,
        xray: Optional[XRayListener] = None, trace_timeout: float = 15.0) -> List[str]:
    """The steps' report lines; CheckFailed at the first failed step."""
    report: List[str] = []
    orders, inventory = orders.rstrip("/"), inventory.rstrip("/")
    for name, base in (("inventory-api", inventory), ("orders-api", orders)):
        report.append(f"{name} /readyz 200 after {wait_ready(name, base, ready_timeout):.1f}s")

    user = issue(secret, "smoke-user", issuer, orders_audience)
    service = issue(secret, "smoke-check", issuer, inventory_audience)

    status, _, body = request("GET", f"{orders}/orders")
    expect("GET /orders without a token", status, 401, body)
    report.append("orders-api refuses a request without a token (401)")

    before = available(inventory, sku, service)
    report.append(f"inventory-api {sku}: {before} available")
    if before < quantity:
        raise CheckFailed(f"inventory-api {sku}: only {before} available, the check orders {quantity}")

    order = {"customer_id": "smoke-1", "sku": sku, "quantity": quantity, "unit_price": "19.99", "currency": "EUR"}
    status, headers, created = request("POST", f"{orders}/orders", user, order,
                                       headers={"Idempotency-Key": str(uuid.uuid4())})
    expect("POST /orders", status, 201, created)
    if not isinstance(created, dict) or not created.get("id"):
        raise CheckFailed(f"POST /orders: no id in {_short(created)}")
    order_id = str(created["id"])
    report.append(f"orders-api created order {order_id} (Location: {headers.get('location', '-')})")

    status, _, read = request("GET", f"{orders}/orders/{order_id}", user)
    expect(f"GET /orders/{order_id}", status, 200, read)
    for key, value in order.items():
        if not isinstance(read, dict) or str(read.get(key)) != str(value):
            got = read.get(key) if isinstance(read, dict) else read
            raise CheckFailed(f"GET /orders/{order_id}: {key} is {_short(got)}, created with {value!r}")
    report.append(f"orders-api read order {order_id} back: {sku} x{quantity}")

    after = available(inventory, sku, service)
    if after != before - quantity:
        raise CheckFailed(f"inventory-api {sku}: {after} available after the order, expected {before - quantity}")
    report.append(f"inventory-api {sku}: {after} available after the order (reserved {quantity})")

    if xray is not None:
        trace_id = xray.trace_across(("orders-api", "inventory-api"), timeout=trace_timeout)
        report.append(f"X-Ray trace {trace_id} has segments of both orders-api and inventory-api")
    return report


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", required=True, help="orders-api base URL")
    parser.add_argument("--inventory", required=True, help="inventory-api base URL")
    parser.add_argument("--issuer", default="fx-platform")
    parser.add_argument("--orders-audience", default="orders-api")
    parser.add_argument("--inventory-audience", default="inventory-api")
    parser.add_argument("--sku", default="WIDGET-42")
    parser.add_argument("--quantity", type=int, default=2)
    parser.add_argument("--ready-timeout", type=float, default=90.0)
    parser.add_argument("--xray-port", type=int, help="UDP port on 127.0.0.1 the services send X-Ray segments to")
    args = parser.parse_args(argv)
    secret = os.environ.get("JWT_SECRET", "")
    if not secret:
        print("smoke-check: JWT_SECRET is required", file=sys.stderr)
        return 2
    xray = XRayListener(args.xray_port) if args.xray_port else None
    try:
        for line in run(args.orders, args.inventory, secret.encode(), args.issuer, args.orders_audience,
                        args.inventory_audience, args.sku, args.quantity, args.ready_timeout, xray):
            print(f"smoke-check: ok   {line}")
    except CheckFailed as exc:
        print(f"smoke-check: FAIL {exc}", file=sys.stderr)
        return 1
    finally:
        if xray is not None:
            xray.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

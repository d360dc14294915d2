"""orders-api reserving stock in inventory-api (INVENTORY_URL set): reserve, create,
confirm, with compensation when a step fails.

The happy path, 409s, idempotent retries, release and tracing run against the REAL
inventory-api served over HTTP on its own database (the `inventory` fixture);
failures of single steps use an httpx mock transport or a socket that never answers.
"""

import json
import socket
import threading
import uuid

import httpx
import jwt
import pytest

from conftest import SECRET, VALID_ORDER, bearer, make_token, serve_inventory
from fx_service_kit.auth import SecretSource, ServiceTokens
from fx_service_kit.testing import assert_problem
from orders_api.config import ConfigError, Settings
from orders_api.inventory import InventoryClient


def count_orders(db) -> int:
    return db.execute("SELECT count(*) FROM orders").fetchone()[0]


def calls(live):
    return [(method, path) for method, path, _ in live.requests]


@pytest.fixture
def orders(app_factory, inventory):
    """orders-api with INVENTORY_URL pointing at the live inventory-api."""
    return app_factory(inventory_url=inventory.url)


def use_mock_inventory(client, handler, timeout=2.0):
    """Point an app at a mock inventory; the handler sees every httpx.Request."""
    tokens = ServiceTokens(SecretSource(value=SECRET), "fx-platform", "orders-api", "inventory-api")
    client.app.state.inventory = InventoryClient(
        "http://inventory.test", tokens, timeout, transport=httpx.MockTransport(handler)
    )


def held(rid):
    return {"id": str(rid), "sku": "WIDGET-42", "quantity": 3, "state": "held", "created_by": "orders-api",
            "expires_at": "2030-01-01T00:00:00+00:00", "created_at": "2030-01-01T00:00:00+00:00"}


# -- the real inventory-api ------------------------------------------------------------


def test_order_reserves_and_confirms_stock_with_a_service_token(orders, inventory, db):
    resp = orders.post("/orders", json=VALID_ORDER, headers={**bearer(make_token(sub="bob")), "X-Request-ID": "req-1"})
    assert resp.status_code == 201, resp.text
    order = resp.json()
    rid = order["reservation_id"]
    assert calls(inventory) == [("POST", "/inventory/WIDGET-42/reservations"),
                                ("POST", f"/inventory/reservations/{rid}/confirm")]
    for _, _, headers in inventory.requests:
        claims = jwt.decode(headers["authorization"].split()[1], SECRET, algorithms=["HS256"], audience="inventory-api")
        assert claims["sub"] == "orders-api" and claims["iss"] == "fx-platform"  # never the user's token
        assert headers["x-request-id"] == "req-1"
        assert headers["traceparent"].startswith("00-")
    assert inventory.requests[0][2]["idempotency-key"] == order["id"]
    assert inventory.level("WIDGET-42") == (7, 3)
    assert inventory.states() == {"confirmed": 1}
    assert db.execute("SELECT stock_state FROM orders WHERE id = %s", (order["id"],)).fetchone()[0] == "confirmed"


def test_insufficient_or_unknown_stock_is_409_and_creates_nothing(orders, inventory, auth, db):
    body = assert_problem(orders.post("/orders", json={**VALID_ORDER, "quantity": 11}, headers=auth), 409)
    assert body["detail"] == "insufficient stock for WIDGET-42: 11 requested, 10 available"
    assert_problem(orders.post("/orders", json={**VALID_ORDER, "sku": "NOPE-1"}, headers=auth), 409,
                   "sku NOPE-1 is not stocked")
    assert count_orders(db) == 0
    assert inventory.level("WIDGET-42") == (10, 0) and inventory.states() == {}


def test_cancel_and_delete_return_the_stock(orders, inventory, auth):
    first = orders.post("/orders", json=VALID_ORDER, headers=auth).json()
    second = orders.post("/orders", json=VALID_ORDER, headers=auth).json()
    assert inventory.level("WIDGET-42") == (4, 6)
    cancelled = orders.patch(f"/orders/{first['id']}", json={"status": "cancelled"}, headers=auth).json()
    assert cancelled["reservation_id"] is None
    assert orders.delete(f"/orders/{second['id']}", headers=auth).status_code == 204
    assert inventory.level("WIDGET-42") == (10, 0)
    assert inventory.states() == {"released": 2}


def test_retry_with_the_same_idempotency_key_reserves_once(orders, inventory, auth, db):
    headers = {**auth, "Idempotency-Key": "cart-7"}
    first = orders.post("/orders", json=VALID_ORDER, headers=headers)
    second = orders.post("/orders", json=VALID_ORDER, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert count_orders(db) == 1 and inventory.states() == {"confirmed": 1}
    assert inventory.level("WIDGET-42") == (7, 3)


def test_end_user_tokens_are_rejected_by_inventory(inventory):
    resp = httpx.get(f"{inventory.url}/inventory/WIDGET-42", headers=bearer(make_token()), timeout=5)
    assert resp.status_code == 401


def test_trace_id_crosses_both_services(app_factory, monkeypatch, auth):
    """Both services export X-Ray segments to a local UDP listener; the order's trace
    continues in inventory-api, whose segments' parents are orders-api's call subsegments."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(3)
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:%d" % udp.getsockname()[1])
    live, stop = serve_inventory()
    try:
        orders = app_factory(inventory_url=live.url)
        assert orders.post("/orders", json=VALID_ORDER, headers=auth).status_code == 201
        segments = []
        while len(segments) < 3:  # inventory: reserve, confirm; orders: POST /orders
            segments.append(json.loads(udp.recv(65536).decode().split("\n", 1)[1]))
    finally:
        stop()
        udp.close()
    by_name = {}
    for segment in segments:
        by_name.setdefault(segment["name"], []).append(segment)
    (order_segment,) = by_name["orders-api"]
    assert len(by_name["inventory-api"]) == 2
    def walk(entity):
        for sub in entity.get("subsegments", []):
            yield sub
            yield from walk(sub)

    subsegment_ids = {s["id"] for s in walk(order_segment) if s["name"].startswith("inventory-api")}
    assert len(subsegment_ids) == 2
    for inv in by_name["inventory-api"]:
        assert inv["trace_id"] == order_segment["trace_id"]
        assert inv["parent_id"] in subsegment_ids
    assert any(s["name"] == "postgresql" for s in order_segment["subsegments"])


# -- single steps failing: compensation -----------------------------------------------------


@pytest.mark.parametrize("failure", ["500", "unreachable"])
def test_reserve_failure_is_503_with_retry_after_and_creates_nothing(client, auth, db, failure):
    def handler(request: httpx.Request) -> httpx.Response:
        if failure == "unreachable":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(500)

    use_mock_inventory(client, handler)
    resp = client.post("/orders", json=VALID_ORDER, headers=auth)
    assert_problem(resp, 503)
    assert resp.headers["retry-after"] == "5"
    assert count_orders(db) == 0


def test_confirm_failure_releases_the_hold_and_creates_nothing(client, auth, db):
    seen = []
    rid = uuid.uuid4()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if request.url.path.endswith("/reservations"):
            return httpx.Response(201, json=held(rid))
        if request.url.path.endswith("/confirm"):
            return httpx.Response(503)
        return httpx.Response(204)

    use_mock_inventory(client, handler)
    resp = client.post("/orders", json=VALID_ORDER, headers=auth)
    assert_problem(resp, 503)
    assert seen[-1] == ("DELETE", f"/inventory/reservations/{rid}")
    assert count_orders(db) == 0


def test_incomplete_order_is_hidden_resumed_by_a_retry_or_compensated_by_the_sweeper(client, auth, db):
    rid = uuid.uuid4()
    inventory_up = {"confirm": False, "release": False}
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if request.url.path.endswith("/reservations"):
            return httpx.Response(201, json=held(rid))
        if request.url.path.endswith("/confirm"):
            return httpx.Response(200, json={**held(rid), "state": "confirmed"}) if inventory_up["confirm"] \
                else httpx.Response(503)
        return httpx.Response(204) if inventory_up["release"] else httpx.Response(503)

    use_mock_inventory(client, handler)
    headers = {**auth, "Idempotency-Key": "k-1"}
    assert_problem(client.post("/orders", json=VALID_ORDER, headers=headers), 503)
    # Neither confirmed nor released: the order exists but is incomplete, so it is not visible.
    assert count_orders(db) == 1
    assert client.get("/orders", headers=auth).json()["items"] == []
    inventory_up["confirm"] = True
    retried = client.post("/orders", json=VALID_ORDER, headers=headers)
    assert retried.status_code == 201, retried.text
    assert client.get(f"/orders/{retried.json()['id']}", headers=auth).status_code == 200

    # Another one the client never retries: the sweeper releases its hold and drops it.
    inventory_up["confirm"] = False
    assert_problem(client.post("/orders", json=VALID_ORDER, headers={**auth, "Idempotency-Key": "k-2"}), 503)
    assert count_orders(db) == 2
    assert client.app.state.sweep() == 0  # not old enough yet
    db.execute("UPDATE orders SET created_at = now() - interval '1 hour' WHERE stock_state = 'reserved'")
    assert client.app.state.sweep() == 0  # inventory still down: kept for the next run
    inventory_up["release"] = True
    assert client.app.state.sweep() == 1
    assert count_orders(db) == 1
    assert seen[-1] == ("DELETE", f"/inventory/reservations/{rid}")


def test_timeout_is_503(client, auth, db):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        tokens = ServiceTokens(SecretSource(value=SECRET), "fx-platform", "orders-api", "inventory-api")
        client.app.state.inventory = InventoryClient(f"http://127.0.0.1:{silent.getsockname()[1]}", tokens, 0.3)
        assert_problem(client.post("/orders", json=VALID_ORDER, headers=auth), 503)
    finally:
        silent.close()
    assert count_orders(db) == 0


def test_concurrent_orders_on_scarce_stock_never_oversell(orders, inventory, auth, db):
    start = threading.Barrier(8)
    results = []

    def attempt(_):
        start.wait()
        results.append(orders.post("/orders", json={**VALID_ORDER, "quantity": 3}, headers=auth).status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] * 3 + [409] * 5
    assert inventory.level("WIDGET-42") == (1, 9)
    assert count_orders(db) == 3 and inventory.states() == {"confirmed": 3}


@pytest.mark.parametrize("url", ["ftp://inventory", "inventory-api:8080", "http://", "http://h/?q=1"])
def test_bad_inventory_url_is_refused(url):
    with pytest.raises(ConfigError, match="INVENTORY_URL"):
        Settings(database_url="postgresql://x", jwt_secret=SECRET, inventory_url=url)

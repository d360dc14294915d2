"""orders-api reserving stock in inventory-api (INVENTORY_URL set).

Happy path, 409s, token rejection and release run against the REAL inventory-api
served over HTTP (the `inventory` fixture); 5xx, timeouts and unreachable hosts
use a mock transport or a socket that never answers.
"""

import io
import json
import socket
import threading
import time
import uuid

import httpx
import psycopg
import pytest

from conftest import VALID_ORDER, bearer, make_token, serve_inventory
from orders_api.config import ConfigError, Settings
from orders_api.inventory import InventoryClient
from orders_api.logs import configure_logging


def count_orders(db) -> int:
    return db.execute("SELECT count(*) FROM orders").fetchone()[0]


def reservation_calls(live):
    return [(method, path) for method, path, _ in live.requests]


@pytest.fixture
def orders(app_factory, inventory):
    """orders-api with INVENTORY_URL pointing at the live inventory-api."""
    return app_factory(inventory_url=inventory.url)


def use_mock_inventory(client, handler, timeout=2.0):
    """Point an app at a mock inventory; the handler sees every httpx.Request."""
    client.app.state.inventory = InventoryClient(
        "http://inventory.test", timeout, transport=httpx.MockTransport(handler)
    )


def capture_logs() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    return stream


def log_lines(stream: io.StringIO):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# -- the real inventory-api ------------------------------------------------------------


def test_order_reserves_stock_with_the_callers_token(orders, inventory, db):
    token = make_token(sub="bob")
    resp = orders.post("/orders", json=VALID_ORDER, headers={**bearer(token), "X-Request-ID": "req-42"})
    assert resp.status_code == 201, resp.text
    order = resp.json()

    reservation_id = uuid.UUID(order["reservation_id"])
    stored = db.execute("SELECT reservation_id FROM orders WHERE id = %s", (order["id"],)).fetchone()[0]
    assert stored == reservation_id
    assert inventory.level("WIDGET-42") == (7, 3)  # 10 seeded, 3 reserved

    [(method, path, headers)] = inventory.requests
    assert (method, path) == ("POST", "/inventory/WIDGET-42/reservations")
    assert headers["authorization"] == f"Bearer {token}"  # the caller's own token, verbatim
    assert headers["x-request-id"] == "req-42"
    # inventory-api authenticated the caller, not some service identity
    hold = inventory.app.state.store._holds[reservation_id]
    assert (hold.created_by, hold.sku, hold.quantity) == ("bob", "WIDGET-42", 3)

    assert orders.get(f"/orders/{order['id']}", headers=bearer(token)).json() == order


def test_insufficient_stock_is_409_and_creates_nothing(orders, inventory, auth, db):
    resp = orders.post("/orders", json={**VALID_ORDER, "quantity": 11}, headers=auth)
    assert resp.status_code == 409, resp.text
    assert resp.json() == {"detail": "insufficient stock for WIDGET-42: 11 requested, 10 available"}
    assert count_orders(db) == 0
    assert inventory.level("WIDGET-42") == (10, 0)
    assert reservation_calls(inventory) == [("POST", "/inventory/WIDGET-42/reservations")]

    # the last units can still be ordered
    assert orders.post("/orders", json={**VALID_ORDER, "quantity": 10}, headers=auth).status_code == 201
    resp = orders.post("/orders", json={**VALID_ORDER, "quantity": 1}, headers=auth)
    assert resp.status_code == 409 and resp.json()["detail"].endswith("0 available")
    assert count_orders(db) == 1 and inventory.level("WIDGET-42") == (0, 10)


def test_sku_not_stocked_is_409_and_creates_nothing(orders, inventory, auth, db):
    resp = orders.post("/orders", json={**VALID_ORDER, "sku": "NOPE-1"}, headers=auth)
    assert resp.status_code == 409
    assert resp.json() == {"detail": "sku NOPE-1 is not stocked"}
    assert count_orders(db) == 0


def test_token_rejected_by_inventory_is_502_and_creates_nothing(app_factory, auth, db):
    live, stop = serve_inventory(secret="another-signing-key-that-orders-api-does-not-use")
    try:
        orders = app_factory(inventory_url=live.url)
        resp = orders.post("/orders", json=VALID_ORDER, headers=auth)
        assert resp.status_code == 502, resp.text
        assert "order not created" in resp.json()["detail"]
        assert count_orders(db) == 0
        assert live.level("WIDGET-42") == (10, 0)
    finally:
        stop()


def test_delete_releases_the_reservation(orders, inventory, db):
    token = make_token(sub="carol")
    order = orders.post("/orders", json=VALID_ORDER, headers=bearer(token)).json()
    assert inventory.level("WIDGET-42") == (7, 3)

    resp = orders.delete(f"/orders/{order['id']}", headers=bearer(token))
    assert resp.status_code == 204
    assert count_orders(db) == 0
    assert inventory.level("WIDGET-42") == (10, 0)
    method, path, headers = inventory.requests[-1]
    assert (method, path) == ("DELETE", f"/inventory/reservations/{order['reservation_id']}")
    assert headers["authorization"] == f"Bearer {token}"


def test_cancel_releases_the_reservation_once(orders, inventory, auth, db):
    order = orders.post("/orders", json=VALID_ORDER, headers=auth).json()
    resp = orders.patch(f"/orders/{order['id']}", json={"status": "cancelled"}, headers=auth)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "cancelled" and resp.json()["reservation_id"] is None
    assert db.execute("SELECT reservation_id FROM orders WHERE id = %s", (order["id"],)).fetchone()[0] is None
    assert inventory.level("WIDGET-42") == (10, 0)

    # deleting the cancelled order has nothing left to release
    assert orders.delete(f"/orders/{order['id']}", headers=auth).status_code == 204
    assert reservation_calls(inventory) == [
        ("POST", "/inventory/WIDGET-42/reservations"),
        ("DELETE", f"/inventory/reservations/{order['reservation_id']}"),
    ]


def test_other_updates_keep_the_reservation(orders, inventory, auth):
    order = orders.post("/orders", json=VALID_ORDER, headers=auth).json()
    resp = orders.patch(f"/orders/{order['id']}", json={"status": "paid", "unit_price": "5.00"}, headers=auth)
    assert resp.status_code == 200
    assert resp.json()["reservation_id"] == order["reservation_id"]
    # the same quantity is not a change
    assert orders.patch(f"/orders/{order['id']}", json={"quantity": 3}, headers=auth).status_code == 200

    # a different quantity would no longer match the reserved units
    resp = orders.patch(f"/orders/{order['id']}", json={"quantity": 4}, headers=auth)
    assert resp.status_code == 409 and "reservation" in resp.json()["detail"]
    assert orders.get(f"/orders/{order['id']}", headers=auth).json()["quantity"] == 3
    assert inventory.level("WIDGET-42") == (7, 3)


def test_deleting_a_shipped_order_keeps_its_stock_consumed(orders, inventory, auth):
    order = orders.post("/orders", json=VALID_ORDER, headers=auth).json()
    assert orders.patch(f"/orders/{order['id']}", json={"status": "shipped"}, headers=auth).status_code == 200
    assert orders.delete(f"/orders/{order['id']}", headers=auth).status_code == 204
    assert inventory.level("WIDGET-42") == (7, 3)
    assert [m for m, _ in reservation_calls(inventory)] == ["POST"]


def test_reservation_is_released_when_the_order_cannot_be_stored(orders, inventory, auth, db):
    db.execute("ALTER TABLE orders ADD CONSTRAINT test_no_boom CHECK (customer_id <> 'boom')")
    try:
        with pytest.raises(psycopg.errors.CheckViolation):
            orders.post("/orders", json={**VALID_ORDER, "customer_id": "boom"}, headers=auth)
    finally:
        db.execute("ALTER TABLE orders DROP CONSTRAINT test_no_boom")
    assert count_orders(db) == 0
    assert [m for m, _ in reservation_calls(inventory)] == ["POST", "DELETE"]
    assert inventory.level("WIDGET-42") == (10, 0)


def test_failed_release_is_logged_and_the_delete_still_succeeds(orders, inventory, auth, db):
    order = orders.post("/orders", json=VALID_ORDER, headers=auth).json()
    inventory.app.state.store.release(uuid.UUID(order["reservation_id"]))  # gone behind our back: 404

    stream = capture_logs()
    assert orders.delete(f"/orders/{order['id']}", headers=auth).status_code == 204
    assert count_orders(db) == 0
    failed = [line for line in log_lines(stream) if line["msg"] == "reservation release failed"]
    assert len(failed) == 1
    assert failed[0]["reservation_id"] == order["reservation_id"] and failed[0]["upstream_status"] == 404
    assert failed[0]["level"] == "error"


def test_unreachable_inventory_on_release_is_not_fatal(app_factory, auth, db):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "POST":
            return httpx.Response(201, json={"id": str(uuid.uuid4())})
        raise httpx.ConnectError("connection refused", request=request)

    orders = app_factory()
    use_mock_inventory(orders, handler)
    order = orders.post("/orders", json=VALID_ORDER, headers=auth).json()
    stream = capture_logs()
    assert orders.patch(f"/orders/{order['id']}", json={"status": "cancelled"}, headers=auth).status_code == 200
    assert calls == ["POST", "DELETE"]
    assert any(line["msg"] == "reservation release failed" for line in log_lines(stream))


# -- inventory failures: 503, one attempt, nothing created ----------------------------------


@pytest.mark.parametrize("upstream", [500, 502, 503, 504])
def test_inventory_5xx_is_503_without_retry(app_factory, auth, db, upstream):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path, request.headers["authorization"]))
        return httpx.Response(upstream, text="upstream trouble")

    orders = app_factory()
    use_mock_inventory(orders, handler)
    resp = orders.post("/orders", json=VALID_ORDER, headers=auth)
    assert resp.status_code == 503, resp.text
    assert "inventory service unavailable" in resp.json()["detail"]
    assert resp.headers["retry-after"] == "5"
    assert calls == [("POST", "/inventory/WIDGET-42/reservations", auth["Authorization"])]
    assert count_orders(db) == 0


def test_malformed_reservation_is_502(app_factory, auth, db):
    orders = app_factory()
    use_mock_inventory(orders, lambda request: httpx.Response(201, json={"no": "id"}))
    assert orders.post("/orders", json=VALID_ORDER, headers=auth).status_code == 502
    assert count_orders(db) == 0


def test_unreachable_inventory_is_503(app_factory, auth, db, unused_port):
    orders = app_factory(inventory_url=f"http://127.0.0.1:{unused_port}")  # nothing listens there
    resp = orders.post("/orders", json=VALID_ORDER, headers=auth)
    assert resp.status_code == 503
    assert count_orders(db) == 0


def test_silent_inventory_times_out_as_503_once(app_factory, auth, db):
    """A server that accepts connections and never answers: the bounded timeout ends the wait."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)
    accepted = []
    done = threading.Event()

    def accept_and_ignore():
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except socket.timeout:
                continue

    thread = threading.Thread(target=accept_and_ignore, daemon=True)
    thread.start()
    try:
        orders = app_factory(
            inventory_url=f"http://127.0.0.1:{listener.getsockname()[1]}", inventory_timeout_seconds=0.5
        )
        started = time.monotonic()
        resp = orders.post("/orders", json=VALID_ORDER, headers=auth)
        elapsed = time.monotonic() - started
    finally:
        done.set()
        thread.join(timeout=5)
        listener.close()
        for conn in accepted:
            conn.close()
    assert resp.status_code == 503
    assert 0.4 <= elapsed < 3, elapsed
    assert len(accepted) == 1  # no retry of the POST
    assert count_orders(db) == 0


# -- without INVENTORY_URL nothing changes -----------------------------------------------


def test_without_inventory_url_orders_reserve_nothing(client, auth, db):
    assert client.app.state.inventory is None
    resp = client.post("/orders", json={**VALID_ORDER, "quantity": 10_000, "sku": "NOT-STOCKED"}, headers=auth)
    assert resp.status_code == 201
    order = resp.json()
    assert order["reservation_id"] is None
    assert client.patch(f"/orders/{order['id']}", json={"quantity": 9}, headers=auth).status_code == 200
    assert client.patch(f"/orders/{order['id']}", json={"status": "cancelled"}, headers=auth).status_code == 200
    assert client.delete(f"/orders/{order['id']}", headers=auth).status_code == 204
    assert count_orders(db) == 0


# -- configuration and schema ------------------------------------------------------------


def test_inventory_settings_from_env():
    base = {"DATABASE_URL": "postgresql://x@y/z", "JWT_SECRET": "k" * 32}
    assert Settings.from_env(base).inventory_url is None
    assert Settings.from_env({**base, "INVENTORY_URL": " "}).inventory_url is None
    settings = Settings.from_env(
        {**base, "INVENTORY_URL": "http://inventory-api.inventory-api.svc.cluster.local/",
         "INVENTORY_TIMEOUT_SECONDS": "0.75"}
    )
    assert settings.inventory_url == "http://inventory-api.inventory-api.svc.cluster.local"
    assert settings.inventory_timeout_seconds == 0.75
    assert Settings.from_env(base).inventory_timeout_seconds == 2.0
    for bad in ("inventory-api:8080", "ftp://inventory", "http://", "http://inv/?x=1"):
        with pytest.raises(ConfigError, match="INVENTORY_URL"):
            Settings.from_env({**base, "INVENTORY_URL": bad})
    with pytest.raises(ConfigError, match="INVENTORY_TIMEOUT_SECONDS"):
        Settings.from_env({**base, "INVENTORY_URL": "http://inv", "INVENTORY_TIMEOUT_SECONDS": "0"})


def test_reservation_id_column_is_a_nullable_uuid(db):
    row = db.execute(
        "SELECT data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'orders' AND column_name = 'reservation_id'"
    ).fetchone()
    assert row == ("uuid", "YES")

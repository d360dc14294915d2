"""The load test's integrity verdict (../loadtest/loadtest.py) fails on each kind of
damage it claims to detect: checked here against hand-made bad states."""

import importlib.util
import uuid

import psycopg
import pytest

from conftest import DATABASE_URL, INVENTORY_DATABASE_URL, SERVICE_ROOT

spec = importlib.util.spec_from_file_location("loadtest", SERVICE_ROOT.parent / "loadtest" / "loadtest.py")
loadtest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(loadtest)


class FakeClient:
    def __init__(self, created=None):
        self.created = dict(created or {})
        self.outcomes = {}


@pytest.fixture
def sold():
    """Every phase SKU stocked; SCARCE-1 has one order of 2 units, consistently recorded."""
    rid, oid = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(INVENTORY_DATABASE_URL, autocommit=True) as inv:
        inv.execute("TRUNCATE reservations, stock")
        for sku in loadtest.SKUS:
            inv.execute("INSERT INTO stock (sku, available) VALUES (%s, %s)", (sku, loadtest.STOCK))
        inv.execute("UPDATE stock SET available = available - 2, committed = 2 WHERE sku = 'SCARCE-1'")
        inv.execute("INSERT INTO reservations (id, sku, quantity, state, created_by, idempotency_key, expires_at) "
                    "VALUES (%s, 'SCARCE-1', 2, 'confirmed', 'orders-api', %s, now())", (rid, str(oid)))
    with psycopg.connect(DATABASE_URL, autocommit=True) as db:
        db.execute("INSERT INTO orders (id, customer_id, sku, quantity, unit_price, currency, created_by, "
                   "reservation_id, stock_state, idempotency_key) VALUES "
                   "(%s, 'c-1', 'SCARCE-1', 2, 9.99, 'EUR', 'shopper', %s, 'confirmed', 'key-1')", (oid, rid))
    yield FakeClient({"key-1": str(oid)}), rid, oid
    with psycopg.connect(INVENTORY_DATABASE_URL, autocommit=True) as inv:
        inv.execute("TRUNCATE reservations, stock")


def verdict(client):
    return loadtest.verdict(DATABASE_URL, INVENTORY_DATABASE_URL, client)


def test_consistent_state_passes(sold):
    client, _, _ = sold
    assert verdict(client) == []


def test_oversell_fails(sold):
    client, _, _ = sold
    with psycopg.connect(INVENTORY_DATABASE_URL, autocommit=True) as inv:
        inv.execute("UPDATE stock SET committed = committed + 1 WHERE sku = 'SCARCE-1'")
    assert any(p.startswith("oversell") for p in verdict(client))


def test_orphan_reservation_fails(sold, db):
    client, _, _ = sold
    db.execute("TRUNCATE orders")
    assert any("orphan" in p for p in verdict(FakeClient()))


def test_leftover_hold_fails(sold):
    client, _, _ = sold
    with psycopg.connect(INVENTORY_DATABASE_URL, autocommit=True) as inv:
        inv.execute("UPDATE stock SET available = available - 1, reserved = 1 WHERE sku = 'SCARCE-2'")
        inv.execute("INSERT INTO reservations (id, sku, quantity, state, created_by, idempotency_key, expires_at) "
                    "VALUES (%s, 'SCARCE-2', 1, 'held', 'orders-api', 'x', now())", (uuid.uuid4(),))
    assert any("orphan" in p for p in verdict(client))


def test_duplicate_order_fails(sold, db):
    client, rid, _ = sold
    db.execute("INSERT INTO orders (customer_id, sku, quantity, unit_price, currency, created_by, reservation_id, "
               "stock_state, idempotency_key) VALUES ('c-1', 'SCARCE-1', 2, 9.99, 'EUR', 'shopper', %s, "
               "'confirmed', 'key-2')", (rid,))
    assert any(p.startswith("duplicate order") for p in verdict(client))


def test_order_no_client_was_told_of_fails(sold):
    _, _, _ = sold
    assert any(p.startswith("duplicate order") for p in verdict(FakeClient()))


class MetricsStub:
    """A replica's /metrics answering `text`, on a loopback port (what Rotation.check scrapes)."""

    def __init__(self, text: str) -> None:
        import http.server
        import threading

        body = text.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.name = f"stub-{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_rotation_verdict_fails_on_authentication_failures_and_stale_users(tmp_path):
    import os

    rotation = loadtest.Rotation(os.environ["ROTATION_ADMIN_URL"],
                                 {"orders": DATABASE_URL, "inventory": INVENTORY_DATABASE_URL}, tmp_path)
    try:
        bad = MetricsStub('db_auth_failures_total{outcome="recovered"} 5.0\ndb_auth_failures_total{outcome="failed"} 2.0\n')
        good = MetricsStub('db_auth_failures_total{outcome="recovered"} 1.0\ndb_auth_failures_total{outcome="failed"} 0.0\n')
        outcomes = {"created": 10, "503, retried": 3}
        rotation.rotated_at = rotation.roles["orders"].now()
        assert rotation.check([bad, good], outcomes) == [
            "credential rotation: 2 connections failed authentication after a re-read",
            "credential rotation: requests failed meanwhile: 503, retried",
            "credential rotation: orders-api opened no connection after the rotation",
            "credential rotation: inventory-api opened no connection after the rotation",
        ]
        stale = MetricsStub("http_requests_total 1.0\n")
        assert rotation.check([stale, good], {"created": 1})[0] == (
            f"credential rotation: {stale.name} does not read the credential files")
        # A connection opened after the rotation as the previous user is reported too.
        role = rotation.roles["orders"]
        previous = role.rotate_user()
        rotation.rotated_at = role.now()
        from psycopg.conninfo import make_conninfo

        with psycopg.connect(make_conninfo(DATABASE_URL, user=previous, password=_password_of(role, previous),
                                                            application_name="orders-api")):
            problems = rotation.check([good], {"created": 10})
        assert f"credential rotation: orders-api connected as ['{previous}'], not {role.user}, after the rotation" in problems
    finally:
        rotation.close()


def _password_of(role, user):
    # The previous user still has the password of before the rotation: set a known one (as the admin may).
    role._set_password(user, "knownpassword0123")
    return "knownpassword0123"

import uuid
from datetime import datetime
from decimal import Decimal

import psycopg
import pytest

from conftest import VALID_ORDER, bearer, make_token


def create(client, auth, **overrides):
    resp = client.post("/orders", json={**VALID_ORDER, **overrides}, headers=auth)
    assert resp.status_code == 201, resp.text
    return resp.json()


def count_orders(db) -> int:
    return db.execute("SELECT count(*) FROM orders").fetchone()[0]


# -- happy paths ----------------------------------------------------------------


def test_create_returns_the_stored_order(client, auth, db):
    resp = client.post("/orders", json=VALID_ORDER, headers=bearer(make_token(sub="bob")))
    assert resp.status_code == 201, resp.text
    order = resp.json()
    assert resp.headers["location"] == f"/orders/{order['id']}"
    assert {k: order[k] for k in VALID_ORDER} == VALID_ORDER
    assert order["unit_price"] == "19.99"  # money as an exact decimal string
    assert order["status"] == "pending"
    assert order["created_by"] == "bob"
    assert order["created_at"] == order["updated_at"]

    row = db.execute(
        "SELECT customer_id, sku, quantity, unit_price, currency, status, created_by FROM orders WHERE id = %s",
        (order["id"],),
    ).fetchone()
    assert row == ("c-1001", "WIDGET-42", 3, Decimal("19.99"), "EUR", "pending", "bob")


def test_create_accepts_a_json_number_price_and_strips_customer_id(client, auth):
    order = create(client, auth, unit_price=5, customer_id="  c-7  ")
    assert order["unit_price"] == "5.00"  # numeric(12,2) in the database
    assert order["customer_id"] == "c-7"


def test_get_by_id(client, auth):
    created = create(client, auth)
    resp = client.get(f"/orders/{created['id']}", headers=auth)
    assert resp.status_code == 200
    assert resp.json() == created


def test_list_is_newest_first_with_filters_and_pagination(client, auth):
    ids = [create(client, auth, customer_id=f"c-{i % 2}", quantity=i + 1)["id"] for i in range(5)]
    client.patch(f"/orders/{ids[0]}", json={"status": "paid"}, headers=auth)

    page = client.get("/orders", headers=auth).json()
    assert [o["id"] for o in page["items"]] == list(reversed(ids))
    assert page["next_offset"] is None

    first = client.get("/orders?limit=2", headers=auth).json()
    assert [o["id"] for o in first["items"]] == [ids[4], ids[3]]
    assert (first["limit"], first["offset"], first["next_offset"]) == (2, 0, 2)
    second = client.get("/orders?limit=2&offset=2", headers=auth).json()
    assert [o["id"] for o in second["items"]] == [ids[2], ids[1]]

    by_customer = client.get("/orders?customer_id=c-0", headers=auth).json()["items"]
    assert {o["id"] for o in by_customer} == {ids[0], ids[2], ids[4]}
    paid = client.get("/orders?status=paid", headers=auth).json()["items"]
    assert [o["id"] for o in paid] == [ids[0]]
    assert client.get("/orders?status=paid&customer_id=c-1", headers=auth).json()["items"] == []


def test_patch_updates_only_given_fields(client, auth, db):
    created = create(client, auth)
    resp = client.patch(f"/orders/{created['id']}", json={"quantity": 7, "status": "paid"}, headers=auth)
    assert resp.status_code == 200, resp.text
    updated = resp.json()
    assert updated["quantity"] == 7 and updated["status"] == "paid"
    assert updated["unit_price"] == created["unit_price"] and updated["sku"] == created["sku"]
    assert datetime.fromisoformat(updated["updated_at"]) > datetime.fromisoformat(created["updated_at"])
    assert db.execute("SELECT quantity, status FROM orders WHERE id = %s", (created["id"],)).fetchone() == (7, "paid")


@pytest.mark.parametrize("final", ["shipped", "cancelled"])
def test_shipped_or_cancelled_orders_are_immutable(client, auth, final):
    created = create(client, auth)
    assert client.patch(f"/orders/{created['id']}", json={"status": final}, headers=auth).status_code == 200
    resp = client.patch(f"/orders/{created['id']}", json={"quantity": 1}, headers=auth)
    assert resp.status_code == 409
    assert client.get(f"/orders/{created['id']}", headers=auth).json()["quantity"] == created["quantity"]


def test_delete_then_404(client, auth, db):
    created = create(client, auth)
    resp = client.delete(f"/orders/{created['id']}", headers=auth)
    assert resp.status_code == 204 and resp.content == b""
    assert count_orders(db) == 0
    assert client.get(f"/orders/{created['id']}", headers=auth).status_code == 404
    assert client.delete(f"/orders/{created['id']}", headers=auth).status_code == 404


# -- 404 and 422 --------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,body", [("GET", None), ("PATCH", {"quantity": 2}), ("DELETE", None)]
)
def test_unknown_order_is_404(client, auth, method, body):
    resp = client.request(method, f"/orders/{uuid.uuid4()}", json=body, headers=auth)
    assert resp.status_code == 404
    assert resp.json() == {"detail": "order not found"}


def test_malformed_order_id_is_422(client, auth):
    resp = client.get("/orders/not-a-uuid", headers=auth)
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["path", "order_id"]


@pytest.mark.parametrize(
    "field,value",
    [
        ("quantity", 0),
        ("quantity", -1),
        ("quantity", 10_001),
        ("quantity", 2.5),
        ("quantity", "3"),
        ("quantity", True),
        ("currency", "eur"),
        ("currency", "EU"),
        ("currency", "EURO"),
        ("sku", "widget-42"),
        ("sku", "WIDGET 42"),
        ("sku", "W"),
        ("sku", "WIDGET--42"),
        ("unit_price", 0),
        ("unit_price", "-1.00"),
        ("unit_price", "1.001"),
        ("unit_price", "NaN"),
        ("unit_price", "12345678901.00"),
        ("customer_id", ""),
        ("customer_id", "x" * 65),
    ],
)
def test_create_validation_errors_are_422(client, auth, db, field, value):
    resp = client.post("/orders", json={**VALID_ORDER, field: value}, headers=auth)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == ["body", field]
    assert count_orders(db) == 0


@pytest.mark.parametrize("missing", sorted(VALID_ORDER))
def test_create_requires_every_field(client, auth, missing):
    body = {k: v for k, v in VALID_ORDER.items() if k != missing}
    resp = client.post("/orders", json=body, headers=auth)
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", missing]


def test_create_rejects_unknown_fields_and_non_json(client, auth):
    assert client.post("/orders", json={**VALID_ORDER, "status": "paid"}, headers=auth).status_code == 422
    resp = client.post("/orders", content=b"{not json", headers={**auth, "Content-Type": "application/json"})
    assert resp.status_code == 422


@pytest.mark.parametrize(
    "body",
    [{}, {"quantity": None}, {"quantity": 0}, {"status": "lost"}, {"sku": "OTHER-1"}, {"unit_price": "0.00"}],
    ids=["empty", "null", "zero-quantity", "bad-status", "immutable-field", "zero-price"],
)
def test_patch_validation_errors_are_422(client, auth, body):
    created = create(client, auth)
    resp = client.patch(f"/orders/{created['id']}", json=body, headers=auth)
    assert resp.status_code == 422, resp.text
    assert client.get(f"/orders/{created['id']}", headers=auth).json() == created


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "status=lost", "customer_id="])
def test_list_query_validation_errors_are_422(client, auth, query):
    assert client.get(f"/orders?{query}", headers=auth).status_code == 422


def test_database_constraints_back_up_the_api_validation(db):
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute(
            "INSERT INTO orders (customer_id, sku, quantity, unit_price, currency, created_by)"
            " VALUES ('c', 'SKU-1', 0, 1, 'EUR', 'x')"
        )
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute(
            "INSERT INTO orders (customer_id, sku, quantity, unit_price, currency, created_by)"
            " VALUES ('c', 'SKU-1', 1, 1, 'eur', 'x')"
        )

import uuid
from datetime import datetime, timezone

import pytest

from conftest import TEST_SEED, bearer, make_token, stock


def reserve(client, auth, sku="WIDGET-42", quantity=1):
    return client.post(f"/inventory/{sku}/reservations", json={"quantity": quantity}, headers=auth)


# -- stock queries -------------------------------------------------------------


@pytest.mark.parametrize("sku", sorted(TEST_SEED))
def test_get_returns_the_seeded_stock(client, auth, sku):
    resp = client.get(f"/inventory/{sku}", headers=auth)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"sku": sku, "available": TEST_SEED[sku], "reserved": 0}


def test_unknown_but_valid_sku_is_404(client, auth):
    resp = client.get("/inventory/NOPE-1", headers=auth)
    assert resp.status_code == 404
    assert resp.json() == {"detail": "sku not found"}
    assert reserve(client, auth, sku="NOPE-1").status_code == 404


# -- reservations ----------------------------------------------------------------


def test_reservation_happy_path(client):
    auth = bearer(make_token(sub="orders-api"))
    before = datetime.now(timezone.utc)
    resp = reserve(client, auth, quantity=4)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    reservation_id = uuid.UUID(body["id"])
    assert resp.headers["location"] == f"/inventory/reservations/{reservation_id}"
    assert (body["sku"], body["quantity"], body["created_by"]) == ("WIDGET-42", 4, "orders-api")
    assert before <= datetime.fromisoformat(body["created_at"]) <= datetime.now(timezone.utc)
    assert stock(client, "WIDGET-42") == {"sku": "WIDGET-42", "available": 6, "reserved": 4}
    assert stock(client, "GADGET-7") == {"sku": "GADGET-7", "available": 3, "reserved": 0}  # untouched

    second = reserve(client, auth, quantity=6)
    assert second.status_code == 201
    assert second.json()["id"] != body["id"]
    assert stock(client, "WIDGET-42") == {"sku": "WIDGET-42", "available": 0, "reserved": 10}

    # releasing returns exactly that reservation's units
    assert client.delete(f"/inventory/reservations/{reservation_id}", headers=auth).status_code == 204
    assert stock(client, "WIDGET-42") == {"sku": "WIDGET-42", "available": 4, "reserved": 6}


def test_insufficient_stock_is_409_and_changes_nothing(client, auth):
    assert reserve(client, auth, sku="GADGET-7", quantity=2).status_code == 201
    resp = reserve(client, auth, sku="GADGET-7", quantity=2)
    assert resp.status_code == 409
    assert resp.json() == {"detail": "insufficient stock", "available": 1}
    assert stock(client, "GADGET-7") == {"sku": "GADGET-7", "available": 1, "reserved": 2}
    assert reserve(client, auth, sku="GADGET-7", quantity=1).status_code == 201  # the last unit is still there
    assert reserve(client, auth, sku="GADGET-7", quantity=1).status_code == 409


def test_out_of_stock_sku_is_409(client, auth):
    resp = reserve(client, auth, sku="EMPTY-1")
    assert resp.status_code == 409
    assert resp.json()["available"] == 0


def test_more_than_the_whole_stock_is_409(client, auth):
    assert reserve(client, auth, quantity=TEST_SEED["WIDGET-42"] + 1).status_code == 409
    assert reserve(client, auth, quantity=TEST_SEED["WIDGET-42"]).status_code == 201


def test_unknown_reservation_is_404(client, auth):
    resp = client.delete(f"/inventory/reservations/{uuid.uuid4()}", headers=auth)
    assert resp.status_code == 404
    assert resp.json() == {"detail": "reservation not found"}


def test_release_twice_is_404_the_second_time(client, auth):
    reservation_id = reserve(client, auth, quantity=3).json()["id"]
    assert client.delete(f"/inventory/reservations/{reservation_id}", headers=auth).status_code == 204
    assert client.delete(f"/inventory/reservations/{reservation_id}", headers=auth).status_code == 404
    assert stock(client, "WIDGET-42") == {"sku": "WIDGET-42", "available": 10, "reserved": 0}  # returned once


def test_each_app_has_its_own_stock(app_factory, auth):
    first, second = app_factory(), app_factory()
    assert reserve(first, auth, quantity=10).status_code == 201
    assert stock(second, "WIDGET-42")["available"] == 10


# -- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sku",
    ["widget-42", "W", "WIDGET_42", "WIDGET--42", "-WIDGET", "WIDGET-", "A1-B2-C3-D4-E5-F6", "X" * 17, "WIDGET 42"],
)
def test_invalid_sku_is_422(client, auth, sku):
    assert client.get(f"/inventory/{sku}", headers=auth).status_code == 422
    assert reserve(client, auth, sku=sku).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"quantity": 0},
        {"quantity": -1},
        {"quantity": 10_001},
        {"quantity": "3"},  # strict: no strings
        {"quantity": 1.5},
        {"quantity": True},
        {"quantity": None},
        {},
        {"quantity": 1, "sku": "GADGET-7"},  # unknown fields are rejected
        [1],
    ],
    ids=["zero", "negative", "too-many", "string", "float", "bool", "null", "missing", "extra-field", "not-object"],
)
def test_invalid_reservation_body_is_422(client, auth, body):
    resp = client.post("/inventory/WIDGET-42/reservations", json=body, headers=auth)
    assert resp.status_code == 422, resp.text
    assert stock(client, "WIDGET-42")["reserved"] == 0


def test_non_json_body_is_422(client, auth):
    resp = client.post(
        "/inventory/WIDGET-42/reservations",
        content=b"quantity=1",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 422


def test_malformed_reservation_id_is_422(client, auth):
    assert client.delete("/inventory/reservations/12345", headers=auth).status_code == 422


def test_reservations_cannot_be_listed_or_read(client, auth):
    # Only DELETE exists on a reservation; GET /inventory/reservations is a stock query for an invalid SKU.
    reservation_id = reserve(client, auth).json()["id"]
    assert client.get(f"/inventory/reservations/{reservation_id}", headers=auth).status_code == 405
    assert client.get("/inventory/reservations", headers=auth).status_code == 422

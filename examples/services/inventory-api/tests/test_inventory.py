import uuid
from datetime import datetime, timezone

import pytest

from conftest import TEST_SEED, bearer, level, make_token, reserve, stock
from fx_service_kit.testing import assert_problem


# -- stock queries -------------------------------------------------------------


@pytest.mark.parametrize("sku", sorted(TEST_SEED))
def test_get_returns_the_seeded_stock(client, auth, sku):
    resp = client.get(f"/inventory/{sku}", headers=auth)
    assert resp.status_code == 200, resp.text
    assert resp.json() == level(sku, TEST_SEED[sku])


def test_unknown_but_valid_sku_is_404(client, auth):
    assert_problem(client.get("/inventory/NOPE-1", headers=auth), 404, "sku not found")
    assert reserve(client, auth, sku="NOPE-1").status_code == 404


# -- reservations ----------------------------------------------------------------


def test_reservation_happy_path(client, auth):
    before = datetime.now(timezone.utc)
    resp = reserve(client, auth, quantity=4)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    reservation_id = uuid.UUID(body["id"])
    assert resp.headers["location"] == f"/inventory/reservations/{reservation_id}"
    assert (body["sku"], body["quantity"], body["created_by"], body["state"]) == ("WIDGET-42", 4, "orders-api", "held")
    assert before <= datetime.fromisoformat(body["created_at"]) <= datetime.now(timezone.utc)
    assert datetime.fromisoformat(body["expires_at"]) > datetime.fromisoformat(body["created_at"])
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 6, 4)
    assert stock(client, "GADGET-7") == level("GADGET-7", 3)  # untouched

    second = reserve(client, auth, quantity=6)
    assert second.status_code == 201
    assert second.json()["id"] != body["id"]
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 0, 10)

    # releasing returns exactly that reservation's units
    assert client.delete(f"/inventory/reservations/{reservation_id}", headers=auth).status_code == 204
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 4, 6)


def test_stock_survives_a_restart_and_is_shared_by_replicas(app_factory, auth):
    first = app_factory()
    assert reserve(first, auth, quantity=7).status_code == 201
    second = app_factory()  # another replica, or the same one restarted
    assert stock(second, "WIDGET-42") == level("WIDGET-42", 3, 7)
    assert reserve(second, auth, quantity=4).status_code == 409


def test_same_idempotency_key_returns_the_same_hold_once(client, auth):
    first = reserve(client, auth, quantity=2, key="order-1")
    again = reserve(client, auth, quantity=2, key="order-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 8, 2)
    other_body = reserve(client, auth, quantity=3, key="order-1")
    assert_problem(other_body, 422, "Idempotency-Key already used for another reservation")
    # Keys are per caller: another service's key does not collide.
    assert reserve(client, bearer(make_token(sub="billing-api")), quantity=2, key="order-1").status_code == 201


def test_idempotency_key_is_required(client, auth):
    resp = client.post("/inventory/WIDGET-42/reservations", json={"quantity": 1}, headers=auth)
    assert_problem(resp, 422)
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 10)


def test_confirm_moves_units_to_committed_and_is_idempotent(client, auth):
    rid = reserve(client, auth, quantity=3).json()["id"]
    resp = client.post(f"/inventory/reservations/{rid}/confirm", headers=auth)
    assert resp.status_code == 200, resp.text
    assert resp.json()["state"] == "confirmed"
    assert client.post(f"/inventory/reservations/{rid}/confirm", headers=auth).status_code == 200
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 7, 0, 3)
    assert client.get(f"/inventory/reservations/{rid}", headers=auth).json()["state"] == "confirmed"
    # Releasing a confirmed reservation (a cancelled order) returns its units.
    assert client.delete(f"/inventory/reservations/{rid}", headers=auth).status_code == 204
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 10)


def test_released_hold_cannot_be_confirmed(client, auth):
    rid = reserve(client, auth, quantity=3).json()["id"]
    assert client.delete(f"/inventory/reservations/{rid}", headers=auth).status_code == 204
    body = assert_problem(client.post(f"/inventory/reservations/{rid}/confirm", headers=auth), 409)
    assert body["state"] == "released"
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 10)


def test_expired_hold_is_swept_back_to_stock_and_cannot_be_confirmed(app_factory, auth, db):
    client = app_factory(reservation_ttl_seconds=1)
    live = reserve(client, auth, quantity=2).json()["id"]
    due = reserve(client, auth, quantity=5).json()["id"]
    db.execute("UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = %s", (due,))
    assert client.app.state.sweep() == 1
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 8, 2)
    assert client.get(f"/inventory/reservations/{due}", headers=auth).json()["state"] == "expired"
    assert assert_problem(client.post(f"/inventory/reservations/{due}/confirm", headers=auth), 409)["state"] == "expired"
    # A hold past its deadline that the sweeper has not reached yet cannot be confirmed either.
    db.execute("UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = %s", (live,))
    assert assert_problem(client.post(f"/inventory/reservations/{live}/confirm", headers=auth), 409)["state"] == "expired"
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 10)
    assert client.app.state.sweep() == 0


def test_sweeper_runs_in_the_background(app_factory, auth, db):
    client = app_factory(sweep_interval_seconds=0.2)
    rid = reserve(client, auth, quantity=4).json()["id"]
    db.execute("UPDATE reservations SET expires_at = now() WHERE id = %s", (rid,))
    import time

    deadline = time.monotonic() + 5
    while stock(client, "WIDGET-42")["available"] != 10:
        assert time.monotonic() < deadline, "sweeper did not expire the hold"
        time.sleep(0.1)


def test_insufficient_stock_is_409_and_changes_nothing(client, auth):
    assert reserve(client, auth, sku="GADGET-7", quantity=2).status_code == 201
    body = assert_problem(reserve(client, auth, sku="GADGET-7", quantity=2), 409, "insufficient stock")
    assert body["available"] == 1
    assert stock(client, "GADGET-7") == level("GADGET-7", 1, 2)
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
    assert_problem(client.delete(f"/inventory/reservations/{uuid.uuid4()}", headers=auth), 404, "reservation not found")
    assert client.post(f"/inventory/reservations/{uuid.uuid4()}/confirm", headers=auth).status_code == 404


def test_release_is_idempotent_and_returns_units_once(client, auth):
    reservation_id = reserve(client, auth, quantity=3).json()["id"]
    assert client.delete(f"/inventory/reservations/{reservation_id}", headers=auth).status_code == 204
    assert client.delete(f"/inventory/reservations/{reservation_id}", headers=auth).status_code == 204
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 10)  # returned once


def test_another_callers_reservation_is_not_found(client, auth):
    rid = reserve(client, auth, quantity=3).json()["id"]
    other = bearer(make_token(sub="billing-api"))
    assert client.delete(f"/inventory/reservations/{rid}", headers=other).status_code == 404
    assert client.post(f"/inventory/reservations/{rid}/confirm", headers=other).status_code == 404
    assert client.get(f"/inventory/reservations/{rid}", headers=other).status_code == 404
    assert stock(client, "WIDGET-42") == level("WIDGET-42", 7, 3)


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
    resp = client.post("/inventory/WIDGET-42/reservations", json=body, headers={**auth, "Idempotency-Key": "k"})
    assert_problem(resp, 422)
    assert stock(client, "WIDGET-42")["reserved"] == 0


def test_non_json_body_is_422(client, auth):
    resp = client.post(
        "/inventory/WIDGET-42/reservations",
        content=b"quantity=1",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": "k"},
    )
    assert resp.status_code == 422


def test_malformed_reservation_id_is_422(client, auth):
    assert client.delete("/inventory/reservations/12345", headers=auth).status_code == 422

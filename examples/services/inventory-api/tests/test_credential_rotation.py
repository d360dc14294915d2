"""A database password rotation under load costs no request (issue 19 item 3).

inventory-api reads the mounted database Secret (FX_DATABASE_CREDENTIALS_DIR, laid out as
kubelet writes it) at every new connection. Two replicas take reservations while the
test rotates the password of their role (single user), or switches them to
`<role>_clone` and then invalidates the previous user's password (multi user). The
pools replace connections every 0.3 s, so new connections open throughout: every
request must succeed, every connection opened after the rotation must use the new
credentials, and stock must add up.
"""

import os
import uuid

import pytest
from psycopg.conninfo import conninfo_to_dict

from conftest import DATABASE_URL, bearer, make_token, reset_stock
from fx_service_kit.testing import Load, RotatingRole, sample

ADMIN_URL = os.environ.get("ROTATION_ADMIN_URL", "")


@pytest.fixture
def role(tmp_path):
    if not ADMIN_URL:
        pytest.fail("ROTATION_ADMIN_URL is not set: run the suite through run-tests.sh")
    rotating = RotatingRole(ADMIN_URL, conninfo_to_dict(DATABASE_URL)["user"], DATABASE_URL, tmp_path / "database")
    yield rotating
    rotating.close()


@pytest.mark.parametrize("strategy", ["single user", "multi user"])
def test_password_change_under_load_fails_no_request(app_factory, role, strategy):
    reset_stock(seed={"ROT-1": 1_000_000})
    replicas = [app_factory(database_url=role.url, database_credentials_dir=str(role.dir.root),
                            db_pool_max_size=3, db_pool_max_lifetime_seconds=0.3) for _ in range(2)]
    auth = bearer(make_token())
    turn = []

    def request() -> int:
        turn.append(1)
        api = replicas[len(turn) % 2]
        resp = api.post("/inventory/ROT-1/reservations", json={"quantity": 1},
                        headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
        if resp.status_code != 201:
            return resp.status_code
        return api.post(f"/inventory/reservations/{resp.json()['id']}/confirm", headers=auth).status_code

    with Load(request, threads=6) as load:
        load.wait(requests=20)
        if strategy == "single user":
            role.rotate_password()
            previous = None
        else:
            previous = role.rotate_user()
        load.wait(requests=30, at_least=1.0)
        if previous is not None:
            role.invalidate(previous)
        invalidated_at = role.now()
        load.wait(requests=30, at_least=1.0)
        after = [s for s in role.sessions("inventory-api") if s["backend_start"] > invalidated_at]

    assert load.errors == []
    assert set(load.statuses) == {200}, sorted(set(load.statuses))
    assert after and {s["user"] for s in after} == {role.user}
    level = replicas[0].get("/inventory/ROT-1", headers=auth).json()
    assert level["committed"] == len(load.statuses) and level["available"] + level["committed"] == 1_000_000
    for api in replicas:
        assert sample(api.get("/metrics").text, "db_auth_failures_total", outcome="failed") == 0

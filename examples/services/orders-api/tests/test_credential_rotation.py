"""A database password rotation under load costs no request (issue 19 item 3).

orders-api reads the mounted database Secret (FX_DATABASE_CREDENTIALS_DIR, laid out as
kubelet writes it) at every new connection. While clients create and read orders, the
test rotates the password of the service's role as Secrets Manager does, rewrites the
files with kubelet's atomic `..data` swap, and later invalidates the old password. The
pool replaces connections every 0.3 s here, so many new connections open during the
rotation: every request must succeed, and every connection opened after the rotation
must use the new credentials.
"""

import os
import uuid

import pytest
from psycopg.conninfo import conninfo_to_dict

from conftest import DATABASE_URL, VALID_ORDER
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
def test_password_change_under_load_fails_no_request(app_factory, auth, role, strategy):
    # DATABASE_URL is what the env var holds at pod start: the stale value after a rotation.
    client = app_factory(database_url=role.url, database_credentials_dir=str(role.dir.root),
                         db_pool_max_size=4, db_pool_max_lifetime_seconds=0.3)
    created = []

    def request() -> int:
        resp = client.post("/orders", json=VALID_ORDER, headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
        if resp.status_code != 201:
            return resp.status_code
        created.append(resp.json()["id"])
        return client.get(f"/orders/{created[-1]}", headers=auth).status_code

    with Load(request, threads=6) as load:
        load.wait(requests=20)
        before = {s["pid"] for s in role.sessions("orders-api")}
        assert before, "no session before the rotation"
        if strategy == "single user":
            role.rotate_password()
            previous = None
        else:
            previous = role.rotate_user()
        rotated_at = role.now()
        load.wait(requests=30, at_least=1.0)
        if previous is not None:
            role.invalidate(previous)  # rotation N+1 changes the previous user's password
        invalidated_at = role.now()
        load.wait(requests=30, at_least=1.0)
        after = [s for s in role.sessions("orders-api") if s["backend_start"] > invalidated_at]

    assert load.errors == []
    assert set(load.statuses) == {200}, sorted(set(load.statuses))
    assert len(load.statuses) >= 80
    # New connections were opened after the rotation, all with the files' current user
    # (and password: the old one no longer authenticates any new connection).
    assert after and {s["user"] for s in after} == {role.user}
    assert before - {s["pid"] for s in role.sessions("orders-api")}, "the pool never replaced a connection"
    assert rotated_at < invalidated_at
    if strategy == "multi user":
        assert role.user == f"{previous}_clone"
    metrics = client.get("/metrics").text
    assert sample(metrics, "db_auth_failures_total", outcome="failed") == 0
    assert sample(metrics, "db_credential_reads_total") >= len(after)


def test_metrics_count_credential_reads_only_when_the_files_are_used(app_factory, role):
    with_files = app_factory(database_url=role.url, database_credentials_dir=str(role.dir.root))
    assert with_files.get("/readyz").status_code == 200
    assert sample(with_files.get("/metrics").text, "db_credential_reads_total") >= 1
    plain = app_factory()
    assert "db_credential_reads_total" not in plain.get("/metrics").text

"""fx_service_kit.credentials: the mounted database Secret read at every new connection.

The file tests need nothing; the connection tests need a real PostgreSQL and a role
that may rotate passwords (ROTATION_ADMIN_URL and DATABASE_URL, exported by
../inventory-api/run-tests.sh, which runs this suite).
"""

import logging
import os
import threading
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from fx_service_kit.config import ConfigError, database_url_from_env
from fx_service_kit.credentials import CredentialsCollector, DatabaseCredentials, is_auth_failure
from fx_service_kit.db import Pool
from fx_service_kit.testing import KubeletSecretDir, RotatingRole, credential_files

ADMIN_URL = os.environ.get("ROTATION_ADMIN_URL", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
needs_db = pytest.mark.skipif(not (ADMIN_URL and DATABASE_URL),
                              reason="needs ROTATION_ADMIN_URL and DATABASE_URL (run ../inventory-api/run-tests.sh)")
FILES = {"username": "app", "password": "s3cret", "host": "db.internal", "port": "5432", "dbname": "orders",
         "sslmode": "require", "url": "postgresql://app:s3cret@db.internal:5432/orders?sslmode=require"}


def test_reads_the_kubelet_layout_and_follows_a_swap(tmp_path):
    volume = KubeletSecretDir(tmp_path / "db", FILES)
    creds = DatabaseCredentials(str(tmp_path / "db"))
    assert creds.read() == {"user": "app", "password": "s3cret", "host": "db.internal", "port": "5432",
                            "dbname": "orders", "sslmode": "require"}
    volume.publish({**FILES, "username": "app_clone", "password": "n3w"})
    assert (creds.read()["user"], creds.read()["password"]) == ("app_clone", "n3w")
    assert creds.reads == 3
    # One version only: the previous timestamped directory is gone.
    assert len([p for p in (tmp_path / "db").iterdir() if p.name.startswith("..") and p.is_dir()
                and not p.is_symlink()]) == 1


def test_reads_one_version_even_when_kubelet_swaps_between_files(tmp_path, monkeypatch):
    volume = KubeletSecretDir(tmp_path / "db", FILES)
    creds = DatabaseCredentials(str(tmp_path / "db"))
    real = Path.read_text
    swapped = []

    def read_text(self, *args, **kwargs):
        # kubelet swaps right after the first file was read (and removes the old version).
        if not swapped and self.name == "username":
            text = real(self, *args, **kwargs)
            swapped.append(True)
            volume.publish({**FILES, "username": "app_clone", "password": "n3w"})
            return text
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    params = creds.read()
    # Never the old user with the new password: the read restarts on the new version.
    assert (params["user"], params["password"]) == ("app_clone", "n3w")


def test_a_plain_directory_and_the_url_alone_work(tmp_path):
    (tmp_path / "url").write_text("postgresql://u:p@h:6432/d?sslmode=verify-full\n")
    assert DatabaseCredentials(str(tmp_path)).read() == {"user": "u", "password": "p", "host": "h", "port": "6432",
                                                         "dbname": "d", "sslmode": "verify-full"}


def test_incomplete_credentials_are_a_config_error_without_the_password(tmp_path):
    (tmp_path / "username").write_text("app")
    (tmp_path / "password").write_text("s3cret")
    with pytest.raises(ConfigError) as err:
        DatabaseCredentials(str(tmp_path)).read()
    assert str(err.value) == (f"FX_DATABASE_CREDENTIALS_DIR {tmp_path}: no host "
                              "(files username, password, host, port, dbname, sslmode, or url)")
    with pytest.raises(ConfigError, match="is not a directory"):
        DatabaseCredentials(str(tmp_path / "missing")).read()


def test_the_files_win_over_the_env_vars_of_pod_start(tmp_path):
    KubeletSecretDir(tmp_path / "db", {**FILES, "password": "rotated"})
    env = {"DATABASE_URL": FILES["url"], "FX_DATABASE_CREDENTIALS_DIR": str(tmp_path / "db")}
    assert conninfo_to_dict(database_url_from_env(env))["password"] == "rotated"
    assert database_url_from_env({"DATABASE_URL": FILES["url"], "FX_DATABASE_CREDENTIALS_DIR": " "}) == FILES["url"]


def test_auth_failures_are_recognised_and_nothing_else():
    assert is_auth_failure(psycopg.OperationalError('connection failed: FATAL:  password authentication failed for user "a"'))
    assert is_auth_failure(psycopg.OperationalError('FATAL:  no pg_hba.conf entry for host "10.0.0.1", user "a"'))
    assert not is_auth_failure(psycopg.OperationalError('connection failed: FATAL:  database "nodb" does not exist'))
    assert not is_auth_failure(psycopg.OperationalError("connection refused"))
    assert not is_auth_failure(ValueError("password authentication failed"))


@pytest.fixture
def role(tmp_path):
    rotating = RotatingRole(ADMIN_URL, conninfo_to_dict(DATABASE_URL)["user"], DATABASE_URL, tmp_path / "db")
    yield rotating
    rotating.close()


@needs_db
def test_a_rotation_between_the_read_and_the_answer_is_retried_once_without_logging_the_password(role, caplog):
    creds = DatabaseCredentials(str(role.dir.root))
    stale = role.password
    calls = []

    def connect(conninfo, **kwargs):
        calls.append(kwargs["password"])
        if len(calls) == 1:
            role.rotate_password()  # lands after the files were read: this attempt uses the old password
        return psycopg.connect(conninfo, **kwargs)

    caplog.set_level(logging.INFO)
    with creds.connect(connect, "", connect_timeout=3) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == role.user
    assert calls == [stale, role.password]
    assert (creds.auth_recovered, creds.auth_failed) == (1, 0)
    assert "database authentication failed: credentials read again, retrying once" in caplog.text
    assert stale not in caplog.text and role.password not in caplog.text


@needs_db
def test_files_that_lag_the_database_by_a_moment_are_waited_for_not_counted_as_a_failure(role):
    # Single-user rotation: the password changes in the database first, the Secret (the files) after.
    creds = DatabaseCredentials(str(role.dir.root), change_wait_seconds=3)
    new_password = "lagged" + role.password
    calls = []

    def connect(conninfo, **kwargs):
        calls.append(kwargs["password"])
        if len(calls) == 1:
            role._set_password(role.user, new_password)
            role.password = new_password
            threading.Timer(0.3, lambda: role.dir.publish(credential_files(role.url))).start()
        return psycopg.connect(conninfo, **kwargs)

    with creds.connect(connect, "", connect_timeout=3) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == role.user
    assert calls[-1] == new_password and len(calls) == 2
    assert (creds.auth_recovered, creds.auth_failed) == (1, 0)


@needs_db
def test_credentials_that_stay_wrong_fail_after_one_retry(role, caplog):
    creds = DatabaseCredentials(str(role.dir.root), change_wait_seconds=0.2)
    role.invalidate(role.user)  # the files are never updated
    calls = []

    def connect(conninfo, **kwargs):
        calls.append(1)
        return psycopg.connect(conninfo, **kwargs)

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        creds.connect(connect, "", connect_timeout=3)
    assert len(calls) == 2
    assert (creds.auth_recovered, creds.auth_failed) == (0, 1)
    samples = {(m.name, tuple(s.labels.items()), s.value) for m in CredentialsCollector(creds).collect() for s in m.samples}
    assert ("db_auth_failures", (("outcome", "failed"),), 1) in samples
    assert role.password not in caplog.text


@needs_db
def test_pool_connections_use_the_current_files_and_old_sessions_continue(role):
    creds = DatabaseCredentials(str(role.dir.root))
    # The pool's URL is the env var of pod start; the files win for every new connection.
    pool = Pool(role.url, "kit-rotation", min_size=0, max_size=2, timeout=5, credentials=creds, max_lifetime=3600)
    pool.open()
    try:
        with pool.connection() as conn:
            first_pid = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
        previous = role.rotate_user()
        with pool.connection() as conn:
            # The pooled session opened with the previous user is still authenticated.
            assert conn.execute("SELECT pg_backend_pid() AS pid, current_user AS u").fetchone() == {"pid": first_pid, "u": previous}
        role.invalidate(previous)
        with pool.connection() as conn:
            assert conn.execute("SELECT current_user AS u").fetchone()["u"] == previous
        # Two at once: the second is a new connection, opened with the files' (new) user.
        with pool.connection() as conn, pool.connection() as other:
            users = {c.execute("SELECT current_user AS u").fetchone()["u"] for c in (conn, other)}
        assert users == {previous, role.user} and role.user == previous + "_clone"
    finally:
        pool.close()
    assert creds.reads >= 2 and credential_files(role.url)["username"] == role.user

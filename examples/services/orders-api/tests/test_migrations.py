import json
import os
import shutil
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from conftest import KIT_ROOT, SERVICE_ROOT
from orders_api.migrate import (
    LOCK_KEY,
    MIGRATIONS_DIR,
    MigrationError,
    apply_migrations,
    discover_migrations,
    pending_migrations,
)

ALL_VERSIONS = [m.version for m in discover_migrations()]


def tables(url):
    with psycopg.connect(url) as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        }


def recorded(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version").fetchall()


def test_migration_files_are_discovered_in_order():
    assert ALL_VERSIONS == sorted(ALL_VERSIONS)
    assert ALL_VERSIONS[:2] == ["0001", "0002"]


def test_fresh_database_is_migrated_and_rerun_is_a_no_op(scratch_db):
    assert [m.version for m in pending_migrations(scratch_db)] == ALL_VERSIONS
    assert apply_migrations(scratch_db) == ALL_VERSIONS
    assert {"orders", "schema_migrations"} <= tables(scratch_db)
    first = recorded(scratch_db)
    assert [r[0] for r in first] == ALL_VERSIONS

    assert apply_migrations(scratch_db) == []
    assert apply_migrations(scratch_db) == []
    assert recorded(scratch_db) == first
    assert pending_migrations(scratch_db) == []


def test_concurrent_runners_apply_each_migration_once(scratch_db):
    runners = 4
    barrier = threading.Barrier(runners)
    results, errors = [], []

    def run():
        barrier.wait()
        try:
            results.append(apply_migrations(scratch_db))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(v for r in results for v in r) == ALL_VERSIONS  # each applied exactly once
    assert [r[0] for r in recorded(scratch_db)] == ALL_VERSIONS


def test_runner_waits_for_the_advisory_lock(scratch_db):
    done = threading.Event()
    with psycopg.connect(scratch_db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        worker = threading.Thread(target=lambda: (apply_migrations(scratch_db), done.set()))
        worker.start()
        time.sleep(1.0)
        assert not done.is_set(), "migrations ran while another runner held the lock"
        waiting = holder.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()[0]
        assert waiting == 1
        holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        worker.join(timeout=30)
    assert done.is_set()
    assert [r[0] for r in recorded(scratch_db)] == ALL_VERSIONS


def test_changed_applied_migration_is_an_error(scratch_db, tmp_path):
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    apply_migrations(scratch_db, directory)
    first = directory / "0001_create_orders.sql"
    first.write_text(first.read_text() + "\n-- edited after release\n")
    with pytest.raises(MigrationError, match="checksum mismatch"):
        apply_migrations(scratch_db, directory)


def test_failing_migration_rolls_back_and_is_not_recorded(scratch_db, tmp_path):
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE a (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE b (id int);\nSELECT 1 / 0;")
    with pytest.raises(psycopg.errors.DivisionByZero):
        apply_migrations(scratch_db, tmp_path)
    assert [r[0] for r in recorded(scratch_db)] == ["0001"]
    assert "a" in tables(scratch_db) and "b" not in tables(scratch_db)

    (tmp_path / "0002_broken.sql").unlink()
    (tmp_path / "0002_fixed.sql").write_text("CREATE TABLE b (id int);")
    assert apply_migrations(scratch_db, tmp_path) == ["0002"]


@pytest.mark.parametrize("name", ["1_short.sql", "0003-dashes.sql", "0003_UPPER.sql"])
def test_badly_named_migration_files_are_rejected(tmp_path, name):
    (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_snake_case"):
        discover_migrations(tmp_path)


def test_duplicate_versions_are_rejected(tmp_path):
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="duplicate"):
        discover_migrations(tmp_path)


def run_cli(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(env_overrides)
    env["PYTHONPATH"] = os.pathsep.join([str(SERVICE_ROOT), str(KIT_ROOT)])  # as in the image
    return subprocess.run(
        [sys.executable, "-m", "orders_api.migrate", *args],
        cwd=SERVICE_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_cli_entry_point_migrates_and_logs_json(scratch_db):
    check = run_cli("--check", env_overrides={"DATABASE_URL": scratch_db})
    assert check.returncode == 3, check.stderr
    assert json_lines(check.stdout)[-1]["pending"] == ALL_VERSIONS

    result = run_cli(env_overrides={"DATABASE_URL": scratch_db})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = json_lines(result.stdout)
    assert [line["version"] for line in lines if line["msg"] == "applied migration"] == ALL_VERSIONS
    assert lines[-1]["msg"] == "migrations complete"

    again = run_cli(env_overrides={"DATABASE_URL": scratch_db})
    assert again.returncode == 0
    assert json_lines(again.stdout)[-1]["applied"] == []
    assert run_cli("--check", env_overrides={"DATABASE_URL": scratch_db}).returncode == 0


def test_cli_fails_without_database_url():
    result = run_cli(env_overrides={})
    assert result.returncode == 2
    assert json_lines(result.stdout)[-1]["msg"] == "DATABASE_URL (or PGHOST and friends) is required"


def test_cli_fails_when_database_unreachable(unused_port):
    url = f"postgresql://nobody:x@127.0.0.1:{unused_port}/none"
    result = run_cli("--wait", "1", env_overrides={"DATABASE_URL": url})
    assert result.returncode == 1
    assert json_lines(result.stdout)[-1]["msg"] == "migration failed"

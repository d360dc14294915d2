"""Test and load-test helpers for credential rotation (not shipped in images).

Only the standard library and psycopg, so ../loadtest (which has no pytest) uses it too;
`testing` re-exports it for the suites.
"""

import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping


class KubeletSecretDir:
    """A directory laid out as kubelet writes a Secret volume: the files in a timestamped
    directory, `..data` a symlink to it, each file a symlink through `..data`; `publish`
    writes a new version and swaps `..data` with one rename, then removes the old one."""

    def __init__(self, root: Path, values: Mapping[str, str]) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._versions = 0
        self.publish(values)

    def publish(self, values: Mapping[str, str]) -> None:
        self._versions += 1
        data = self.root / "..data"
        old = os.readlink(data) if data.is_symlink() else None
        version = self.root / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{self._versions:09d}"
        version.mkdir(mode=0o750)
        for name, value in values.items():
            (version / name).write_text(value)
            (version / name).chmod(0o440)
        staged = self.root / "..data_tmp"
        os.symlink(version.name, staged)
        os.replace(staged, data)
        for name in values:
            link = self.root / name
            if not link.is_symlink():
                os.symlink(f"..data/{name}", link)
        if old:
            shutil.rmtree(self.root / old)


def credential_files(url: str) -> Dict[str, str]:
    """The files FxMicroservice mounts, for a libpq URL."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    p = conninfo_to_dict(url)
    files = {"username": p["user"], "password": p["password"], "host": p["host"], "port": str(p.get("port", 5432)),
             "dbname": p["dbname"], "sslmode": p.get("sslmode", "disable")}
    files["url"] = make_conninfo(url, sslmode=files["sslmode"])
    return files


class RotatingRole:
    """A login role rotated the way the Secrets Manager rotation function does it, for tests.

    `admin_url` may create roles and is granted `owner` WITH ADMIN OPTION (run-tests-lib.sh
    create_rotation_admin); the role and its `<role>_clone` are members of `owner`, so they
    use its tables. Single user: `rotate_password()` sets a new password (the old one stops
    working for new connections at once) and publishes it. Multi user: `rotate_user()` sets a
    new password on the other user (`<role>_clone`, created on first use) and publishes it;
    the previous user keeps working until `invalidate(user)`, what rotation N+1 does to it.
    """

    def __init__(self, admin_url: str, owner: str, database_url: str, directory: Path) -> None:
        self.admin_url = admin_url
        self.owner = owner
        self.primary = f"{owner}_rot_{secrets.token_hex(4)}"
        self.clone = f"{self.primary}_clone"
        self.database_url = database_url
        self.user = self.primary
        self.password = secrets.token_hex(16)
        self._created = [self.primary]
        self._sql(f'CREATE ROLE "{self.primary}" LOGIN PASSWORD {_literal(self.password)} IN ROLE "{owner}"')
        self.dir = KubeletSecretDir(directory, credential_files(self.url))

    @property
    def url(self) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.database_url, user=self.user, password=self.password)

    def _set_password(self, user: str, password: str) -> None:
        self._sql(f'ALTER ROLE "{user}" PASSWORD {_literal(password)}')

    def rotate_password(self) -> None:
        self.password = secrets.token_hex(16)
        self._set_password(self.user, self.password)
        self.dir.publish(credential_files(self.url))

    def rotate_user(self) -> str:
        """Switch to the other user; returns the previous one (still valid)."""
        previous = self.user
        self.user = self.clone if self.user == self.primary else self.primary
        self.password = secrets.token_hex(16)
        if self.user not in self._created:
            self._sql(f'CREATE ROLE "{self.user}" LOGIN PASSWORD {_literal(self.password)} IN ROLE "{self.owner}"')
            self._created.append(self.user)
        else:
            self._set_password(self.user, self.password)
        self.dir.publish(credential_files(self.url))
        return previous

    def invalidate(self, user: str) -> None:
        self._set_password(user, secrets.token_hex(16))

    def sessions(self, application_name: str) -> List[Dict[str, Any]]:
        rows = self._sql(
            "SELECT pid, usename, backend_start FROM pg_stat_activity WHERE application_name = %s "
            "AND usename = ANY(%s)", (application_name, self._created))
        return [{"pid": r[0], "user": r[1], "backend_start": r[2]} for r in rows]

    def now(self):
        return self._sql("SELECT clock_timestamp()")[0][0]

    def close(self) -> None:
        for user in self._created:
            self._sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (user,))
            self._sql(f'DROP ROLE IF EXISTS "{user}"')

    def _sql(self, query: str, params: Any = None) -> List[Any]:
        # A connection per statement: the database may have restarted since the last one.
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []


def _literal(value: str) -> str:
    assert all(c.isalnum() for c in value)
    return f"'{value}'"

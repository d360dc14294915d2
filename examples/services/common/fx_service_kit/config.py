"""What every service's environment-only configuration shares."""

from typing import Mapping


class ConfigError(RuntimeError):
    """Raised at start-up when the environment is incomplete or inconsistent."""


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    """Integer variable `name`; `default` when unset or empty; ConfigError below `minimum`."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def database_url_from_env(env: Mapping[str, str]) -> str:
    """DATABASE_URL, or a libpq URL built from PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE
    (the keys FxDatabase's secret also provides); "" when neither is set. With
    FX_DATABASE_CREDENTIALS_DIR set, the current credential files win over both
    (the env vars keep the values of pod start; credentials.py)."""
    url = (env.get("DATABASE_URL") or "").strip()
    from .credentials import credentials_from_env

    credentials = credentials_from_env(env)
    if credentials is not None:
        return credentials.conninfo(url)
    if url or not env.get("PGHOST"):
        return url
    from psycopg.conninfo import make_conninfo

    parts = {
        "host": env.get("PGHOST"),
        "port": env.get("PGPORT"),
        "user": env.get("PGUSER"),
        "password": env.get("PGPASSWORD"),
        "dbname": env.get("PGDATABASE"),
        "sslmode": env.get("PGSSLMODE"),
    }
    return make_conninfo("", **{k: v for k, v in parts.items() if v})

"""Service configuration, read from environment variables only (12-factor)."""

import os
from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import urlsplit

from fx_service_kit.auth import DEFAULT_MAX_LIFETIME_SECONDS
from fx_service_kit.config import ConfigError, database_url_from_env, env_int
from fx_service_kit.credentials import CREDENTIALS_DIR_ENV
from fx_service_kit.problems import DEFAULT_MAX_BODY_BYTES


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    jwt_secret: Optional[str] = None
    jwt_secret_file: Optional[str] = None
    # End users' tokens must be minted for this audience by this issuer.
    jwt_audience: str = "orders-api"
    jwt_issuer: str = "fx-platform"
    jwt_leeway_seconds: int = 30
    jwt_max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS
    # The audience of the service tokens orders-api presents to inventory-api.
    inventory_audience: str = "inventory-api"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # An order whose stock could not be confirmed is compensated after this long.
    incomplete_order_timeout_seconds: float = 30.0
    sweep_interval_seconds: float = 5.0
    db_pool_min_size: int = 1
    db_pool_max_size: int = 10
    db_timeout_seconds: float = 5.0
    readiness_timeout_seconds: float = 2.0
    log_level: str = "INFO"
    service_name: str = "orders-api"
    # inventory-api's base URL; unset means orders are created without reserving stock.
    inventory_url: Optional[str] = None
    inventory_timeout_seconds: float = 2.0
    # The mounted database Secret (FxMicroservice): every new connection reads these files.
    database_credentials_dir: Optional[str] = None
    # Connections are replaced after this long (on return to the pool), so none outlives credentials by much.
    db_pool_max_lifetime_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if not self.database_url:
            raise ConfigError("DATABASE_URL (or PGHOST and friends) is required")
        if not self.jwt_secret and not self.jwt_secret_file:
            raise ConfigError("one of JWT_SECRET or JWT_SECRET_FILE is required")
        if self.jwt_secret and self.jwt_secret_file:
            raise ConfigError("set only one of JWT_SECRET and JWT_SECRET_FILE")
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ConfigError("DB_POOL_MIN_SIZE must not exceed DB_POOL_MAX_SIZE")
        if self.inventory_url is not None:
            url = urlsplit(self.inventory_url)
            if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
                raise ConfigError(
                    f"INVENTORY_URL must be an http(s) base URL such as "
                    f"http://inventory-api:8080, got {self.inventory_url!r}"
                )
            object.__setattr__(self, "inventory_url", self.inventory_url.rstrip("/"))
        if self.inventory_timeout_seconds <= 0:
            raise ConfigError("INVENTORY_TIMEOUT_SECONDS must be > 0")

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(
            database_url=database_url_from_env(env),
            jwt_secret=env.get("JWT_SECRET") or None,
            jwt_secret_file=env.get("JWT_SECRET_FILE") or None,
            jwt_audience=env.get("JWT_AUDIENCE") or "orders-api",
            jwt_issuer=env.get("JWT_ISSUER") or "fx-platform",
            jwt_leeway_seconds=env_int(env, "JWT_LEEWAY_SECONDS", 30, 0),
            jwt_max_lifetime_seconds=env_int(env, "JWT_MAX_LIFETIME_SECONDS", DEFAULT_MAX_LIFETIME_SECONDS, 1),
            inventory_audience=env.get("INVENTORY_AUDIENCE") or "inventory-api",
            max_body_bytes=env_int(env, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 256),
            incomplete_order_timeout_seconds=_float(env, "INCOMPLETE_ORDER_TIMEOUT_SECONDS", 30.0),
            sweep_interval_seconds=_float(env, "SWEEP_INTERVAL_SECONDS", 5.0),
            db_pool_min_size=env_int(env, "DB_POOL_MIN_SIZE", 1, 0),
            db_pool_max_size=env_int(env, "DB_POOL_MAX_SIZE", 10, 1),
            db_timeout_seconds=_float(env, "DB_TIMEOUT_SECONDS", 5.0),
            readiness_timeout_seconds=_float(env, "READINESS_TIMEOUT_SECONDS", 2.0),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            service_name=env.get("OTEL_SERVICE_NAME") or env.get("SERVICE_NAME") or "orders-api",
            inventory_url=(env.get("INVENTORY_URL") or "").strip() or None,
            inventory_timeout_seconds=_float(env, "INVENTORY_TIMEOUT_SECONDS", 2.0),
            database_credentials_dir=(env.get(CREDENTIALS_DIR_ENV) or "").strip() or None,
            db_pool_max_lifetime_seconds=_float(env, "DB_POOL_MAX_LIFETIME_SECONDS", 3600.0),
        )

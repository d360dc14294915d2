"""Service configuration, read from environment variables only (12-factor)."""

import json
import os
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional

from fx_service_kit.auth import DEFAULT_MAX_LIFETIME_SECONDS
from fx_service_kit.config import ConfigError, database_url_from_env, env_int
from fx_service_kit.credentials import CREDENTIALS_DIR_ENV
from fx_service_kit.problems import DEFAULT_MAX_BODY_BYTES

from .models import SKU_MAX_LENGTH, SKU_PATTERN

# Used when INVENTORY_SEED is unset or empty. WIDGET-42 is the SKU of
# orders-api's example order.
DEFAULT_SEED: Mapping[str, int] = MappingProxyType({"WIDGET-42": 100, "GADGET-7": 25, "GIZMO-9000": 5})
MAX_STOCK = 1_000_000_000

_SKU_RE = re.compile(SKU_PATTERN)


def check_seed(seed: Any) -> Dict[str, int]:
    """The seed as a plain dict, or ConfigError naming the first bad entry."""
    if not isinstance(seed, Mapping):
        raise ConfigError(f"INVENTORY_SEED must be a JSON object of sku -> quantity, got {type(seed).__name__}")
    checked: Dict[str, int] = {}
    for sku, quantity in seed.items():
        if not isinstance(sku, str) or len(sku) > SKU_MAX_LENGTH or not _SKU_RE.match(sku):
            raise ConfigError(f"INVENTORY_SEED: {sku!r} is not a valid SKU ({SKU_PATTERN})")
        # bool is an int subclass: reject true/false explicitly.
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= MAX_STOCK:
            raise ConfigError(
                f"INVENTORY_SEED: quantity of {sku} must be an integer 0..{MAX_STOCK}, got {quantity!r}"
            )
        checked[sku] = quantity
    return checked


def parse_seed(raw: Optional[str]) -> Dict[str, int]:
    """INVENTORY_SEED's JSON text; the default seed when unset or blank."""
    if raw is None or not raw.strip():
        return dict(DEFAULT_SEED)
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"INVENTORY_SEED is not valid JSON: {exc}") from None
    return check_seed(value)


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    jwt_secret: Optional[str] = None
    jwt_secret_file: Optional[str] = None
    # Only service tokens minted for this audience are accepted (orders-api mints them).
    jwt_audience: str = "inventory-api"
    jwt_issuer: str = "fx-platform"
    jwt_leeway_seconds: int = 30
    jwt_max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS
    seed: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SEED))
    log_level: str = "INFO"
    service_name: str = "inventory-api"
    db_pool_min_size: int = 1
    db_pool_max_size: int = 10
    db_timeout_seconds: float = 5.0
    readiness_timeout_seconds: float = 2.0
    # A hold not confirmed within this time expires and its units return to stock.
    reservation_ttl_seconds: int = 120
    sweep_interval_seconds: float = 5.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
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
        # Validated and frozen, whether it came from the environment or from code.
        object.__setattr__(self, "seed", MappingProxyType(check_seed(self.seed)))

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(
            database_url=database_url_from_env(env),
            jwt_secret=env.get("JWT_SECRET") or None,
            jwt_secret_file=env.get("JWT_SECRET_FILE") or None,
            jwt_audience=env.get("JWT_AUDIENCE") or "inventory-api",
            jwt_issuer=env.get("JWT_ISSUER") or "fx-platform",
            jwt_leeway_seconds=env_int(env, "JWT_LEEWAY_SECONDS", 30, 0),
            jwt_max_lifetime_seconds=env_int(env, "JWT_MAX_LIFETIME_SECONDS", DEFAULT_MAX_LIFETIME_SECONDS, 1),
            seed=parse_seed(env.get("INVENTORY_SEED")),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            service_name=env.get("OTEL_SERVICE_NAME") or env.get("SERVICE_NAME") or "inventory-api",
            db_pool_min_size=env_int(env, "DB_POOL_MIN_SIZE", 1, 0),
            db_pool_max_size=env_int(env, "DB_POOL_MAX_SIZE", 10, 1),
            db_timeout_seconds=float(env_int(env, "DB_TIMEOUT_SECONDS", 5, 1)),
            readiness_timeout_seconds=float(env_int(env, "READINESS_TIMEOUT_SECONDS", 2, 1)),
            reservation_ttl_seconds=env_int(env, "RESERVATION_TTL_SECONDS", 120, 1),
            sweep_interval_seconds=float(env_int(env, "SWEEP_INTERVAL_SECONDS", 5, 1)),
            max_body_bytes=env_int(env, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 256),
            database_credentials_dir=(env.get(CREDENTIALS_DIR_ENV) or "").strip() or None,
            db_pool_max_lifetime_seconds=float(env_int(env, "DB_POOL_MAX_LIFETIME_SECONDS", 3600, 1)),
        )

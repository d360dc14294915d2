"""Service configuration, read from environment variables only (12-factor)."""

import json
import os
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional

from fx_service_kit.config import ConfigError, env_int

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
    jwt_secret: Optional[str] = None
    jwt_secret_file: Optional[str] = None
    jwt_audience: Optional[str] = None
    jwt_issuer: Optional[str] = None
    jwt_leeway_seconds: int = 30
    seed: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SEED))
    log_level: str = "INFO"

    def __post_init__(self) -> None:
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
            jwt_secret=env.get("JWT_SECRET") or None,
            jwt_secret_file=env.get("JWT_SECRET_FILE") or None,
            jwt_audience=env.get("JWT_AUDIENCE") or None,
            jwt_issuer=env.get("JWT_ISSUER") or None,
            jwt_leeway_seconds=env_int(env, "JWT_LEEWAY_SECONDS", 30, 0),
            seed=parse_seed(env.get("INVENTORY_SEED")),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
        )

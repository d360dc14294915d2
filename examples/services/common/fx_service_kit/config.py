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

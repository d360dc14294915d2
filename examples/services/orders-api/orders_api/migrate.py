"""orders-api's schema migrations (fx_service_kit.migrate with this service's files).

Run by the Kubernetes migration Job before a new Deployment rolls out:

    python3 -m orders_api.migrate            # apply pending migrations
    python3 -m orders_api.migrate --check    # exit 3 if any are pending
"""

import sys
from pathlib import Path
from typing import List, Optional

from fx_service_kit import migrate as kit
from fx_service_kit.migrate import Migration, MigrationError

__all__ = [
    "LOCK_KEY", "MIGRATIONS_DIR", "Migration", "MigrationError",
    "apply_migrations", "discover_migrations", "main", "pending_migrations",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Arbitrary but fixed 64-bit key: ASCII "orders_m".
LOCK_KEY = kit.lock_key(b"orders_m")


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> List[Migration]:
    return kit.discover_migrations(directory)


def pending_migrations(database_url: str, directory: Path = MIGRATIONS_DIR) -> List[Migration]:
    return kit.pending_migrations(database_url, directory)


def apply_migrations(database_url: str, directory: Path = MIGRATIONS_DIR) -> List[str]:
    """Apply every pending migration; return the versions applied by this call."""
    return kit.apply_migrations(database_url, directory, LOCK_KEY)


def main(argv: Optional[List[str]] = None) -> int:
    return kit.main("orders_api.migrate", MIGRATIONS_DIR, LOCK_KEY, argv)


if __name__ == "__main__":
    sys.exit(main())

"""inventory-api's schema migrations, then the seed stock (INVENTORY_SEED).

Run by the Kubernetes migration Job before a new Deployment rolls out:

    python3 -m inventory_api.migrate            # apply pending migrations, seed missing SKUs
    python3 -m inventory_api.migrate --check    # exit 3 if any are pending

Seeding only inserts SKUs that are not stocked yet, so re-running it (or a new
release) never resets stock that replicas have been selling.
"""

import os
import sys
from pathlib import Path
from typing import List, Mapping, Optional

import psycopg

from fx_service_kit import migrate as kit
from fx_service_kit.migrate import Migration, MigrationError

from .config import parse_seed

__all__ = ["LOCK_KEY", "MIGRATIONS_DIR", "Migration", "MigrationError", "apply_migrations",
           "discover_migrations", "main", "pending_migrations", "seed_stock"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = kit.lock_key(b"invntory")


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> List[Migration]:
    return kit.discover_migrations(directory)


def pending_migrations(database_url: str, directory: Path = MIGRATIONS_DIR) -> List[Migration]:
    return kit.pending_migrations(database_url, directory)


def apply_migrations(database_url: str, directory: Path = MIGRATIONS_DIR) -> List[str]:
    return kit.apply_migrations(database_url, directory, LOCK_KEY)


def seed_stock(database_url: str, seed: Mapping[str, int]) -> List[str]:
    """Insert the SKUs of `seed` that are not stocked yet; return those inserted."""
    inserted = []
    with psycopg.connect(database_url) as conn:
        for sku, quantity in sorted(seed.items()):
            row = conn.execute(
                "INSERT INTO stock (sku, available) VALUES (%s, %s) ON CONFLICT (sku) DO NOTHING RETURNING sku",
                (sku, quantity),
            ).fetchone()
            if row:
                inserted.append(sku)
    return inserted


def main(argv: Optional[List[str]] = None) -> int:
    seed = parse_seed(os.environ.get("INVENTORY_SEED"))
    return kit.main("inventory_api.migrate", MIGRATIONS_DIR, LOCK_KEY, argv,
                    after=lambda url: kit.log.info("seeded", extra={"skus": seed_stock(url, seed)}))


if __name__ == "__main__":
    sys.exit(main())

"""PostgreSQL access through psycopg 3 and the kit's checked connection pool.

Every query of a caller's orders is scoped to the caller (`owner`), unless the
caller is an admin (`owner=None`): another user's order is simply not found.
An order whose stock is reserved but not yet confirmed (`stock_state =
'reserved'`) is incomplete: it is not listed nor returned until it completes.
"""

import base64
import json
import logging
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple
from uuid import UUID

import psycopg

from fx_service_kit.credentials import DatabaseCredentials
from fx_service_kit.db import Pool

from .config import Settings
from .migrate import discover_migrations
from .models import FINAL_STATUSES, OrderStatus

log = logging.getLogger(__name__)

ORDER_COLUMNS = (
    "id, customer_id, sku, quantity, unit_price, currency, status, reservation_id, created_by, "
    "created_at, updated_at"
)
UPDATABLE = ("quantity", "unit_price", "status")
VISIBLE = "stock_state IS DISTINCT FROM 'reserved'"


class OrderFinal(Exception):
    """The order is shipped or cancelled and can no longer change."""


class ReservationHeld(Exception):
    """The order's quantity is covered by a stock reservation and cannot change."""


class KeyConflict(Exception):
    """A concurrent request created the order for this Idempotency-Key first."""


class InvalidCursor(ValueError):
    pass


def encode_cursor(row: Dict[str, Any]) -> str:
    raw = json.dumps([row["created_at"].isoformat(), str(row["id"])]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Tuple[datetime, UUID]:
    try:
        created_at, order_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created_at), UUID(order_id)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("invalid cursor") from exc


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        directory = settings.database_credentials_dir
        self.credentials = DatabaseCredentials(directory) if directory else None
        self.pool = Pool(
            settings.database_url, "orders-api", settings.db_pool_min_size, settings.db_pool_max_size,
            settings.db_timeout_seconds, application_name=settings.service_name,
            credentials=self.credentials, max_lifetime=settings.db_pool_max_lifetime_seconds,
        )
        self._expected_versions = {m.version for m in discover_migrations()}

    def open(self) -> None:
        self.pool.open()

    def close(self) -> None:
        self.pool.close()

    # -- health ------------------------------------------------------------

    def readiness(self) -> Optional[str]:
        """None when ready, otherwise a short reason."""
        try:
            with self.pool.connection(timeout=self.settings.readiness_timeout_seconds) as conn:
                tracked = conn.execute(
                    "SELECT to_regclass('schema_migrations') IS NOT NULL AS tracked"
                ).fetchone()
                if not tracked or not tracked["tracked"]:
                    return "migrations pending"
                rows = conn.execute("SELECT version FROM schema_migrations").fetchall()
        except psycopg.OperationalError:
            return "database unreachable"
        except psycopg.Error as exc:
            log.warning("readiness check failed", extra={"error": str(exc)})
            return "database error"
        except Exception:  # noqa: BLE001 - DatabaseUnavailable and pool errors
            return "database unreachable"
        missing = self._expected_versions - {r["version"] for r in rows}
        if missing:
            return "migrations pending"
        return None

    # -- orders --------------------------------------------------------------

    def find_by_key(self, created_by: str, key: str) -> Optional[Dict[str, Any]]:
        """The caller's order for an Idempotency-Key, incomplete or not, with its request_hash and stock_state."""
        with self.pool.connection() as conn:
            return conn.execute(
                f"SELECT {ORDER_COLUMNS}, request_hash, stock_state FROM orders "
                "WHERE created_by = %s AND idempotency_key = %s",
                (created_by, key),
            ).fetchone()

    def create_order(
        self,
        data: Dict[str, Any],
        created_by: str,
        order_id: UUID,
        reservation_id: Optional[UUID] = None,
        idempotency_key: Optional[str] = None,
        request_hash: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Insert the order; 'reserved' (incomplete) when it holds a reservation. KeyConflict on a key race."""
        try:
            with self.pool.connection() as conn:
                row = conn.execute(
                    f"""
                    INSERT INTO orders (id, customer_id, sku, quantity, unit_price, currency, created_by,
                                        reservation_id, stock_state, idempotency_key, request_hash)
                    VALUES (%(id)s, %(customer_id)s, %(sku)s, %(quantity)s, %(unit_price)s, %(currency)s,
                            %(created_by)s, %(reservation_id)s, %(stock_state)s, %(key)s, %(hash)s)
                    RETURNING {ORDER_COLUMNS}
                    """,
                    {**data, "id": order_id, "created_by": created_by, "reservation_id": reservation_id,
                     "stock_state": "reserved" if reservation_id else None, "key": idempotency_key,
                     "hash": request_hash},
                ).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise KeyConflict() from exc
        assert row is not None
        return row

    def complete(self, order_id: UUID, confirm) -> Optional[Dict[str, Any]]:
        """Confirm an incomplete order's reservation with `confirm(reservation_id)` while holding
        the order's row lock (so the sweeper cannot compensate it meanwhile), then mark it
        confirmed. Returns the row; None when the order no longer exists."""
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT {ORDER_COLUMNS}, stock_state FROM orders WHERE id = %s FOR UPDATE", (order_id,)
            ).fetchone()
            if row is None or row["stock_state"] != "reserved":
                return row
            confirm(row["reservation_id"])
            return conn.execute(
                f"UPDATE orders SET stock_state = 'confirmed', updated_at = now() WHERE id = %s "
                f"RETURNING {ORDER_COLUMNS}",
                (order_id,),
            ).fetchone()

    def discard_incomplete(self, order_id: UUID) -> bool:
        with self.pool.connection() as conn:
            row = conn.execute(
                "DELETE FROM orders WHERE id = %s AND stock_state = 'reserved' RETURNING id", (order_id,)
            ).fetchone()
        return row is not None

    def sweep_incomplete(self, older_than: float, release, limit: int = 50) -> int:
        """Compensate incomplete orders older than `older_than` seconds: `release(reservation_id)`
        (True when the hold is gone) then delete the order. Rows are locked with SKIP LOCKED, so
        replicas sweep side by side and never touch an order a request is completing."""
        done = 0
        with self.pool.connection(span="postgresql sweep") as conn:
            rows = conn.execute(
                "SELECT id, reservation_id FROM orders WHERE stock_state = 'reserved' "
                "AND created_at < now() - make_interval(secs => %s) ORDER BY created_at LIMIT %s "
                "FOR UPDATE SKIP LOCKED",
                (older_than, limit),
            ).fetchall()
            for row in rows:
                if release(row["reservation_id"]):
                    conn.execute("DELETE FROM orders WHERE id = %s", (row["id"],))
                    done += 1
        return done

    def get_order(self, order_id: UUID, owner: Optional[str]) -> Optional[Dict[str, Any]]:
        with self.pool.connection() as conn:
            return conn.execute(
                f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = %(id)s AND {VISIBLE} "
                "AND (%(owner)s::text IS NULL OR created_by = %(owner)s)",
                {"id": order_id, "owner": owner},
            ).fetchone()

    def list_orders(
        self,
        limit: int,
        owner: Optional[str],
        cursor: Optional[str] = None,
        status: Optional[str] = None,
        customer_id: Optional[str] = None,
    ) -> Tuple[List[Dict[str, Any]], Optional[str]]:
        """(rows, next cursor): newest first, keyset-paged on (created_at, id)."""
        query, params = self.list_query(limit, owner, cursor, status, customer_id)
        with self.pool.connection() as conn:
            rows = conn.execute(query, params).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1]) if more else None

    @staticmethod
    def list_query(
        limit: int,
        owner: Optional[str],
        cursor: Optional[str] = None,
        status: Optional[str] = None,
        customer_id: Optional[str] = None,
    ) -> Tuple[str, Dict[str, Any]]:
        # Only the conditions that apply, so the planner picks the index of this shape.
        where, params = [VISIBLE], {"limit": limit + 1}
        if owner is not None:
            where.append("created_by = %(owner)s")
            params["owner"] = owner
        if status is not None:
            where.append("status = %(status)s")
            params["status"] = status
        if customer_id is not None:
            where.append("customer_id = %(customer_id)s")
            params["customer_id"] = customer_id
        if cursor is not None:
            params["after_at"], params["after_id"] = decode_cursor(cursor)
            where.append("(created_at, id) < (%(after_at)s, %(after_id)s)")
        return (
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE {' AND '.join(where)} "
            "ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
            params,
        )

    def update_order(
        self, order_id: UUID, changes: Dict[str, Any], owner: Optional[str]
    ) -> Optional[Tuple[Dict[str, Any], Optional[UUID]]]:
        """(updated row, reservation to release) or None when absent (or not the owner's).

        Raises OrderFinal for a shipped or cancelled order, and ReservationHeld when
        the quantity of an order with a stock reservation would change. Cancelling
        detaches the reservation (the column becomes NULL) and returns its id, so
        the caller releases it after this transaction has committed.
        """
        unknown = set(changes) - set(UPDATABLE)
        if unknown or not changes:
            raise ValueError(f"cannot update {sorted(unknown) or 'nothing'}")
        assignments = [f"{col} = %({col})s" for col in UPDATABLE if col in changes]
        with self.pool.connection() as conn:
            # One transaction: the row lock makes the checks and the update atomic.
            current = conn.execute(
                f"SELECT status, quantity, reservation_id FROM orders WHERE id = %(id)s AND {VISIBLE} "
                "AND (%(owner)s::text IS NULL OR created_by = %(owner)s) FOR UPDATE",
                {"id": order_id, "owner": owner},
            ).fetchone()
            if current is None:
                return None
            if current["status"] in FINAL_STATUSES:
                raise OrderFinal()
            held = current["reservation_id"]
            if held is not None and changes.get("quantity", current["quantity"]) != current["quantity"]:
                raise ReservationHeld()
            release = held if changes.get("status") == OrderStatus.cancelled.value else None
            if release is not None:
                assignments.append("reservation_id = NULL")
                assignments.append("stock_state = 'released'")
            row = conn.execute(
                f"""
                UPDATE orders SET {", ".join(assignments)}, updated_at = now()
                WHERE id = %(id)s
                RETURNING {ORDER_COLUMNS}
                """,
                {**changes, "id": order_id},
            ).fetchone()
        assert row is not None
        return row, release

    def delete_order(self, order_id: UUID, owner: Optional[str]) -> Optional[Dict[str, Any]]:
        """The deleted row's id, status and reservation_id, or None when absent (or not the owner's)."""
        with self.pool.connection() as conn:
            return conn.execute(
                f"DELETE FROM orders WHERE id = %(id)s AND {VISIBLE} "
                "AND (%(owner)s::text IS NULL OR created_by = %(owner)s) RETURNING id, status, reservation_id",
                {"id": order_id, "owner": owner},
            ).fetchone()

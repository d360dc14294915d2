"""PostgreSQL access through psycopg 3 and a connection pool."""

import logging
from typing import Any, Dict, List, Optional, Tuple
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from .config import Settings
from .migrate import discover_migrations
from .models import FINAL_STATUSES, OrderStatus

log = logging.getLogger(__name__)

ORDER_COLUMNS = (
    "id, customer_id, sku, quantity, unit_price, currency, status, reservation_id, created_by, "
    "created_at, updated_at"
)
UPDATABLE = ("quantity", "unit_price", "status")


class OrderFinal(Exception):
    """The order is shipped or cancelled and can no longer change."""


class ReservationHeld(Exception):
    """The order's quantity is covered by a stock reservation and cannot change."""


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = ConnectionPool(
            settings.database_url,
            min_size=settings.db_pool_min_size,
            max_size=settings.db_pool_max_size,
            timeout=settings.db_timeout_seconds,
            name="orders-api",
            kwargs={"row_factory": dict_row, "application_name": settings.service_name},
            # Do not block start-up on the database: /readyz reports it instead.
            open=False,
        )
        self._expected_versions = {m.version for m in discover_migrations()}

    def open(self) -> None:
        self.pool.open(wait=False)

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
        except PoolTimeout:
            return "database unreachable"
        except psycopg.Error as exc:
            log.warning("readiness check failed", extra={"error": str(exc)})
            return "database error"
        missing = self._expected_versions - {r["version"] for r in rows}
        if missing:
            return "migrations pending"
        return None

    # -- orders --------------------------------------------------------------

    def create_order(
        self, data: Dict[str, Any], created_by: str, reservation_id: Optional[UUID] = None
    ) -> Dict[str, Any]:
        with self.pool.connection() as conn:
            row = conn.execute(
                f"""
                INSERT INTO orders (customer_id, sku, quantity, unit_price, currency, created_by,
                                    reservation_id)
                VALUES (%(customer_id)s, %(sku)s, %(quantity)s, %(unit_price)s, %(currency)s,
                        %(created_by)s, %(reservation_id)s)
                RETURNING {ORDER_COLUMNS}
                """,
                {**data, "created_by": created_by, "reservation_id": reservation_id},
            ).fetchone()
        assert row is not None
        return row

    def get_order(self, order_id: UUID) -> Optional[Dict[str, Any]]:
        with self.pool.connection() as conn:
            return conn.execute(
                f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = %s", (order_id,)
            ).fetchone()

    def list_orders(
        self,
        limit: int,
        offset: int,
        status: Optional[str] = None,
        customer_id: Optional[str] = None,
    ) -> List[Dict[str, Any]]:
        where, params = [], {"limit": limit, "offset": offset}
        if status is not None:
            where.append("status = %(status)s")
            params["status"] = status
        if customer_id is not None:
            where.append("customer_id = %(customer_id)s")
            params["customer_id"] = customer_id
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self.pool.connection() as conn:
            return conn.execute(
                f"""
                SELECT {ORDER_COLUMNS} FROM orders {clause}
                ORDER BY created_at DESC, id DESC
                LIMIT %(limit)s OFFSET %(offset)s
                """,
                params,
            ).fetchall()

    def update_order(
        self, order_id: UUID, changes: Dict[str, Any]
    ) -> Optional[Tuple[Dict[str, Any], Optional[UUID]]]:
        """(updated row, reservation to release) or None when absent.

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
                "SELECT status, quantity, reservation_id FROM orders WHERE id = %s FOR UPDATE",
                (order_id,),
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

    def delete_order(self, order_id: UUID) -> Optional[Dict[str, Any]]:
        """The deleted row's id, status and reservation_id, or None when absent."""
        with self.pool.connection() as conn:
            return conn.execute(
                "DELETE FROM orders WHERE id = %s RETURNING id, status, reservation_id", (order_id,)
            ).fetchone()

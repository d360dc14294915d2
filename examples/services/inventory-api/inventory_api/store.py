"""Stock and reservations in PostgreSQL, correct under any number of replicas.

Every operation is one transaction. Reserving decrements `available` with a
guarded UPDATE (`available >= quantity`), which takes the SKU's row lock, so
two replicas can never sell the same units; confirming and releasing lock the
reservation row first (SELECT ... FOR UPDATE), so a hold changes state once.
The sweeper expires holds past their deadline with SKIP LOCKED, so replicas
sweep side by side without blocking each other or a request.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional, Tuple

import psycopg

from fx_service_kit.db import Pool

log = logging.getLogger(__name__)

HELD, CONFIRMED, RELEASED, EXPIRED = "held", "confirmed", "released", "expired"
COLUMNS = "id, sku, quantity, state, created_by, idempotency_key, expires_at, created_at"


class UnknownSku(LookupError):
    pass


class InsufficientStock(Exception):
    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"{sku}: requested {requested}, available {available}")
        self.sku = sku
        self.requested = requested
        self.available = available


class KeyReused(Exception):
    """The idempotency key was used before for a different reservation."""


class ReservationGone(Exception):
    """The hold expired or was released: it can no longer be confirmed."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


@dataclass(frozen=True)
class Level:
    sku: str
    available: int
    reserved: int
    committed: int


@dataclass(frozen=True)
class Hold:
    id: uuid.UUID
    sku: str
    quantity: int
    state: str
    created_by: str
    idempotency_key: str
    expires_at: datetime
    created_at: datetime


def _hold(row) -> Hold:
    return Hold(**{k: row[k] for k in Hold.__dataclass_fields__})


class InventoryStore:
    def __init__(self, pool: Pool, ttl_seconds: int) -> None:
        self.pool = pool
        self.ttl_seconds = ttl_seconds

    def level(self, sku: str) -> Optional[Level]:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT sku, available, reserved, committed FROM stock WHERE sku = %s", (sku,)
            ).fetchone()
        return Level(**row) if row else None

    def levels(self) -> List[Level]:
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT sku, available, reserved, committed FROM stock ORDER BY sku").fetchall()
        return [Level(**r) for r in rows]

    def held_count(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT count(*) AS n FROM reservations WHERE state = 'held'").fetchone()
        return int(row["n"]) if row else 0

    def reserve(self, sku: str, quantity: int, created_by: str, idempotency_key: str) -> Tuple[Hold, bool]:
        """(hold, created): a new hold, or the caller's earlier one for the same key (created False)."""
        if quantity <= 0:
            raise ValueError("quantity must be > 0")
        existing = self._by_key(created_by, idempotency_key)
        if existing is not None:
            return self._same(existing, sku, quantity), False
        try:
            with self.pool.connection() as conn:
                taken = conn.execute(
                    "UPDATE stock SET available = available - %(q)s, reserved = reserved + %(q)s, updated_at = now() "
                    "WHERE sku = %(sku)s AND available >= %(q)s RETURNING available",
                    {"sku": sku, "q": quantity},
                ).fetchone()
                if taken is None:
                    row = conn.execute("SELECT available FROM stock WHERE sku = %s", (sku,)).fetchone()
                    if row is None:
                        raise UnknownSku(sku)
                    raise InsufficientStock(sku, quantity, row["available"])
                row = conn.execute(
                    f"""
                    INSERT INTO reservations (id, sku, quantity, created_by, idempotency_key, expires_at)
                    VALUES (%s, %s, %s, %s, %s, now() + make_interval(secs => %s))
                    RETURNING {COLUMNS}
                    """,
                    (uuid.uuid4(), sku, quantity, created_by, idempotency_key, self.ttl_seconds),
                ).fetchone()
                return _hold(row), True
        except psycopg.errors.UniqueViolation:
            # A concurrent request with the same key won; this transaction (and its
            # stock decrement) rolled back. Answer with the winner's hold.
            existing = self._by_key(created_by, idempotency_key)
            assert existing is not None
            return self._same(existing, sku, quantity), False

    @staticmethod
    def _same(hold: Hold, sku: str, quantity: int) -> Hold:
        if hold.sku != sku or hold.quantity != quantity:
            raise KeyReused()
        return hold

    def _by_key(self, created_by: str, key: str) -> Optional[Hold]:
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM reservations WHERE created_by = %s AND idempotency_key = %s",
                (created_by, key),
            ).fetchone()
        return _hold(row) if row else None

    def get(self, reservation_id: uuid.UUID, created_by: str) -> Optional[Hold]:
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM reservations WHERE id = %s AND created_by = %s", (reservation_id, created_by)
            ).fetchone()
        return _hold(row) if row else None

    def confirm(self, reservation_id: uuid.UUID, created_by: str) -> Optional[Hold]:
        """Turn a live hold into a sale (idempotent). None when unknown to this caller;
        ReservationGone when it expired or was released."""
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT {COLUMNS}, expires_at <= now() AS due FROM reservations "
                "WHERE id = %s AND created_by = %s FOR UPDATE",
                (reservation_id, created_by),
            ).fetchone()
            if row is None:
                return None
            if row["state"] == CONFIRMED:
                return _hold(row)
            if row["state"] != HELD:
                raise ReservationGone(row["state"])
            if row["due"]:
                self._end(conn, row, EXPIRED)
                gone = ReservationGone(EXPIRED)
            else:
                conn.execute(
                    "UPDATE stock SET reserved = reserved - %(q)s, committed = committed + %(q)s, updated_at = now() "
                    "WHERE sku = %(sku)s",
                    {"q": row["quantity"], "sku": row["sku"]},
                )
                updated = conn.execute(
                    f"UPDATE reservations SET state = 'confirmed', updated_at = now() WHERE id = %s RETURNING {COLUMNS}",
                    (reservation_id,),
                ).fetchone()
                return _hold(updated)
        raise gone  # after the expiry committed

    def release(self, reservation_id: uuid.UUID, created_by: str) -> Optional[Hold]:
        """Return a hold's or a sale's units to stock (idempotent: an ended one stays ended).
        None when unknown to this caller."""
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM reservations WHERE id = %s AND created_by = %s FOR UPDATE",
                (reservation_id, created_by),
            ).fetchone()
            if row is None:
                return None
            if row["state"] in (HELD, CONFIRMED):
                row = self._end(conn, row, RELEASED)
            return _hold(row)

    @staticmethod
    def _end(conn: psycopg.Connection, row, state: str):
        column = "reserved" if row["state"] == HELD else "committed"
        conn.execute(
            f"UPDATE stock SET available = available + %(q)s, {column} = {column} - %(q)s, updated_at = now() "
            "WHERE sku = %(sku)s",
            {"q": row["quantity"], "sku": row["sku"]},
        )
        return conn.execute(
            f"UPDATE reservations SET state = %s, updated_at = now() WHERE id = %s RETURNING {COLUMNS}",
            (state, row["id"]),
        ).fetchone()

    def expire_due(self, limit: int = 500) -> int:
        """Expire held reservations past their deadline, returning their units; the count expired."""
        with self.pool.connection(span="postgresql sweep") as conn:
            rows = conn.execute(
                """
                WITH due AS (
                    SELECT id FROM reservations
                    WHERE state = 'held' AND expires_at <= now()
                    ORDER BY expires_at LIMIT %s
                    FOR UPDATE SKIP LOCKED
                ), ended AS (
                    UPDATE reservations r SET state = 'expired', updated_at = now()
                    FROM due WHERE r.id = due.id
                    RETURNING r.sku, r.quantity
                ), per_sku AS (
                    SELECT sku, sum(quantity)::integer AS q, count(*) AS n FROM ended GROUP BY sku
                )
                UPDATE stock s SET available = s.available + per_sku.q, reserved = s.reserved - per_sku.q,
                                   updated_at = now()
                FROM per_sku WHERE s.sku = per_sku.sku
                RETURNING per_sku.n
                """,
                (limit,),
            ).fetchall()
        return sum(int(r["n"]) for r in rows)

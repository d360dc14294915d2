"""In-memory stock, safe to use from many threads at once.

FastAPI runs the (synchronous) endpoints in a thread pool, so two requests can
reserve the same SKU at the same moment: every read-check-write happens under
one lock, so stock is never oversold and `available + reserved` per SKU never
changes.
"""

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, List, Mapping, Optional


class UnknownSku(LookupError):
    pass


class InsufficientStock(Exception):
    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"{sku}: requested {requested}, available {available}")
        self.sku = sku
        self.requested = requested
        self.available = available


@dataclass(frozen=True)
class Level:
    sku: str
    available: int
    reserved: int


@dataclass(frozen=True)
class Hold:
    id: uuid.UUID
    sku: str
    quantity: int
    created_by: str
    created_at: datetime


class InventoryStore:
    def __init__(self, seed: Mapping[str, int]) -> None:
        self._lock = threading.Lock()
        self._available: Dict[str, int] = dict(seed)
        self._reserved: Dict[str, int] = {sku: 0 for sku in seed}
        self._holds: Dict[uuid.UUID, Hold] = {}

    def level(self, sku: str) -> Optional[Level]:
        with self._lock:
            if sku not in self._available:
                return None
            return Level(sku, self._available[sku], self._reserved[sku])

    def levels(self) -> List[Level]:
        with self._lock:
            return [Level(sku, self._available[sku], self._reserved[sku]) for sku in sorted(self._available)]

    def reserve(self, sku: str, quantity: int, created_by: str) -> Hold:
        if quantity <= 0:
            raise ValueError("quantity must be > 0")
        with self._lock:
            available = self._available.get(sku)
            if available is None:
                raise UnknownSku(sku)
            if quantity > available:
                raise InsufficientStock(sku, quantity, available)
            hold = Hold(uuid.uuid4(), sku, quantity, created_by, datetime.now(timezone.utc))
            self._available[sku] = available - quantity
            self._reserved[sku] += quantity
            self._holds[hold.id] = hold
            return hold

    def release(self, reservation_id: uuid.UUID) -> Optional[Hold]:
        """Cancel a reservation and return its units to stock; None when unknown."""
        with self._lock:
            hold = self._holds.pop(reservation_id, None)
            if hold is not None:
                self._reserved[hold.sku] -= hold.quantity
                self._available[hold.sku] += hold.quantity
            return hold

    def reservation_count(self) -> int:
        with self._lock:
            return len(self._holds)

"""Request and response schemas (pydantic v1, as shipped by Debian bookworm).

SKUs follow the same rule as orders-api, so every SKU an order can name is one
this service can be asked about.
"""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Extra, conint

# Identical to orders_api.models.SKU_PATTERN.
SKU_PATTERN = r"^[A-Z0-9]{2,16}(-[A-Z0-9]{1,16}){0,4}$"
SKU_MAX_LENGTH = 64
# Largest single reservation: the same bound as an order's quantity in orders-api.
MAX_QUANTITY = 10_000

Quantity = conint(strict=True, gt=0, le=MAX_QUANTITY)


class StockLevel(BaseModel):
    sku: str
    available: int
    reserved: int
    committed: int

    class Config:
        schema_extra = {"example": {"sku": "WIDGET-42", "available": 95, "reserved": 3, "committed": 2}}


class ReservationCreate(BaseModel):
    quantity: Quantity

    class Config:
        extra = Extra.forbid
        schema_extra = {"example": {"quantity": 3}}


class Reservation(BaseModel):
    id: UUID
    sku: str
    quantity: int
    state: str
    created_by: str
    expires_at: datetime
    created_at: datetime


class InsufficientStockError(BaseModel):
    """A problem details body (RFC 9457) with the units still available."""

    type: str
    title: str
    status: int
    detail: str
    available: int
    request_id: str

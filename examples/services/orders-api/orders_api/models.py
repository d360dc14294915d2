"""Request and response schemas (pydantic v1, as shipped by Debian bookworm).

The database enforces the same rules with CHECK constraints (see migrations/),
so a row written by anything other than this API is still valid.
"""

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Dict, List, Optional
from uuid import UUID

from pydantic import BaseModel, Extra, conint, constr, condecimal, root_validator

SKU_PATTERN = r"^[A-Z0-9]{2,16}(-[A-Z0-9]{1,16}){0,4}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
MAX_QUANTITY = 10_000

CustomerId = constr(strip_whitespace=True, min_length=1, max_length=64)
Sku = constr(regex=SKU_PATTERN, max_length=64)
Quantity = conint(strict=True, gt=0, le=MAX_QUANTITY)
Money = condecimal(gt=Decimal(0), max_digits=12, decimal_places=2)
Currency = constr(regex=CURRENCY_PATTERN)


class OrderStatus(str, Enum):
    pending = "pending"
    paid = "paid"
    shipped = "shipped"
    cancelled = "cancelled"


FINAL_STATUSES = (OrderStatus.shipped.value, OrderStatus.cancelled.value)


class OrderCreate(BaseModel):
    customer_id: CustomerId
    sku: Sku
    quantity: Quantity
    unit_price: Money
    currency: Currency

    class Config:
        extra = Extra.forbid
        schema_extra = {
            "example": {
                "customer_id": "c-1001",
                "sku": "WIDGET-42",
                "quantity": 3,
                "unit_price": "19.99",
                "currency": "EUR",
            }
        }


class OrderUpdate(BaseModel):
    """Partial update: only the fields present are changed; at least one is required."""

    quantity: Optional[Quantity] = None
    unit_price: Optional[Money] = None
    status: Optional[OrderStatus] = None

    class Config:
        extra = Extra.forbid

    @root_validator(pre=True)
    def _non_empty_non_null(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if not values:
            raise ValueError("at least one of quantity, unit_price, status is required")
        nulls = sorted(k for k, v in values.items() if v is None)
        if nulls:
            raise ValueError(f"fields may not be null: {', '.join(nulls)}")
        return values


class Order(BaseModel):
    id: UUID
    customer_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str
    status: OrderStatus
    # inventory-api's reservation for this order's stock; null without INVENTORY_URL
    # and after cancellation (the reservation is released then).
    reservation_id: Optional[UUID] = None
    created_by: str
    created_at: datetime
    updated_at: datetime

    class Config:
        # Money as a string ("19.99"): a JSON float would lose precision.
        json_encoders = {Decimal: lambda d: format(d, "f")}


class OrderPage(BaseModel):
    items: List[Order]
    limit: int
    # Opaque; pass it as `cursor` for the next page. null on the last page.
    next_cursor: Optional[str]

    class Config:
        json_encoders = {Decimal: lambda d: format(d, "f")}

"""The FastAPI application.

Served in the image by:  python3 -m uvicorn --factory orders_api.app:create_app
"""

import logging
from typing import Optional
from uuid import UUID

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from fx_service_kit.auth import Principal, TokenVerifier, authenticated, bearer_scheme

from . import __version__
from .config import Settings
from .db import Database, OrderFinal, ReservationHeld
from .inventory import (
    InsufficientStock,
    InventoryClient,
    InventoryRejected,
    InventoryUnavailable,
    UnknownSku,
)
from .logs import configure_logging, request_id_var
from .models import Order, OrderCreate, OrderPage, OrderStatus, OrderUpdate
from .observability import Metrics, ObservabilityMiddleware, access_log
from .tracing import setup_tracing

log = logging.getLogger("orders_api")

NOT_FOUND = {404: {"description": "Order not found"}}
UNAUTHORIZED = {401: {"description": "Missing, expired or invalid bearer token"}}
INVENTORY_ERRORS = {
    409: {"description": "Not enough stock, or the SKU is not stocked (only with INVENTORY_URL)"},
    502: {"description": "inventory-api rejected the request (only with INVENTORY_URL)"},
    503: {"description": "inventory-api unreachable, failing or too slow (only with INVENTORY_URL)"},
}


def bearer_token(credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer_scheme)) -> str:
    """The caller's raw token, forwarded to inventory-api (only used after `authenticated`)."""
    return credentials.credentials if credentials is not None else ""


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)

    app = FastAPI(
        title="orders-api",
        version=__version__,
        description="Sample order service for the Fx platform.",
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings)
    app.state.db = Database(settings)
    app.state.inventory = (
        InventoryClient(settings.inventory_url, settings.inventory_timeout_seconds)
        if settings.inventory_url
        else None
    )
    app.state.metrics = Metrics()
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics, access_log=access_log)
    app.state.tracing = setup_tracing(app, settings.service_name)

    @app.on_event("startup")
    def _open_pool() -> None:
        app.state.db.open()
        log.info("orders-api started", extra={"version": __version__,
                                              "inventory_url": settings.inventory_url})

    @app.on_event("shutdown")
    def _close_pool() -> None:
        app.state.db.close()
        if app.state.inventory is not None:
            app.state.inventory.close()
        log.info("orders-api stopped")

    def get_db(request: Request) -> Database:
        return request.app.state.db

    def get_inventory(request: Request) -> Optional[InventoryClient]:
        return request.app.state.inventory

    def release(inventory: Optional[InventoryClient], reservation_id, token: str) -> None:
        # Best effort: a failure is logged by the client (with the id, for cleanup).
        if inventory is not None and reservation_id is not None:
            inventory.release(reservation_id, token, request_id_var.get())

    # -- operational endpoints (no auth: reached by kubelet and Prometheus) ----

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process serves requests")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Readiness: the database is reachable and migrated",
        responses={503: {"description": "Not ready"}},
    )
    def readyz(db: Database = Depends(get_db)):
        reason = db.readiness()
        if reason is not None:
            return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=Response)
    def metrics(request: Request) -> Response:
        m: Metrics = request.app.state.metrics
        return Response(content=m.exposition(), media_type=m.content_type)

    # -- orders -------------------------------------------------------------------

    @app.post(
        "/orders",
        response_model=Order,
        status_code=status.HTTP_201_CREATED,
        tags=["orders"],
        responses={**UNAUTHORIZED, **INVENTORY_ERRORS},
    )
    def create_order(
        body: OrderCreate,
        response: Response,
        principal: Principal = Depends(authenticated),
        token: str = Depends(bearer_token),
        db: Database = Depends(get_db),
        inventory: Optional[InventoryClient] = Depends(get_inventory),
    ):
        reservation_id = None
        if inventory is not None:
            try:
                reservation_id = inventory.reserve(body.sku, body.quantity, token, request_id_var.get())
            except InsufficientStock as exc:
                log.info("order refused: insufficient stock",
                         extra={"sku": body.sku, "requested": body.quantity, "available": exc.available})
                detail = f"insufficient stock for {body.sku}: {body.quantity} requested"
                if exc.available is not None:
                    detail += f", {exc.available} available"
                raise HTTPException(status_code=409, detail=detail) from None
            except UnknownSku:
                raise HTTPException(status_code=409, detail=f"sku {body.sku} is not stocked") from None
            except InventoryUnavailable:
                raise HTTPException(
                    status_code=503,
                    detail="inventory service unavailable, order not created; try again later",
                    headers={"Retry-After": "5"},
                ) from None
            except InventoryRejected:
                raise HTTPException(
                    status_code=502, detail="inventory service rejected the reservation, order not created"
                ) from None
        try:
            row = db.create_order(body.dict(), created_by=principal.subject, reservation_id=reservation_id)
        except BaseException:
            # No order, so no stock may stay reserved for it.
            release(inventory, reservation_id, token)
            raise
        app.state.metrics.orders_created.inc()
        response.headers["Location"] = f"/orders/{row['id']}"
        log.info("order created", extra={"order_id": str(row["id"]), "subject": principal.subject,
                                         "reservation_id": str(reservation_id) if reservation_id else None})
        return row

    @app.get("/orders", response_model=OrderPage, tags=["orders"], responses=UNAUTHORIZED)
    def list_orders(
        limit: int = Query(50, ge=1, le=200),
        offset: int = Query(0, ge=0, le=100_000),
        status_filter: Optional[OrderStatus] = Query(None, alias="status"),
        customer_id: Optional[str] = Query(None, min_length=1, max_length=64),
        _: Principal = Depends(authenticated),
        db: Database = Depends(get_db),
    ):
        rows = db.list_orders(
            limit=limit,
            offset=offset,
            status=status_filter.value if status_filter else None,
            customer_id=customer_id,
        )
        return {
            "items": rows,
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if len(rows) == limit else None,
        }

    @app.get(
        "/orders/{order_id}",
        response_model=Order,
        tags=["orders"],
        responses={**UNAUTHORIZED, **NOT_FOUND},
    )
    def get_order(
        order_id: UUID,
        _: Principal = Depends(authenticated),
        db: Database = Depends(get_db),
    ):
        row = db.get_order(order_id)
        if row is None:
            raise HTTPException(status_code=404, detail="order not found")
        return row

    @app.patch(
        "/orders/{order_id}",
        response_model=Order,
        tags=["orders"],
        responses={
            **UNAUTHORIZED,
            **NOT_FOUND,
            409: {"description": "Order is shipped or cancelled, or its quantity is reserved"},
        },
    )
    def update_order(
        order_id: UUID,
        body: OrderUpdate,
        principal: Principal = Depends(authenticated),
        token: str = Depends(bearer_token),
        db: Database = Depends(get_db),
        inventory: Optional[InventoryClient] = Depends(get_inventory),
    ):
        changes = body.dict(exclude_unset=True)
        if "status" in changes:
            changes["status"] = changes["status"].value
        try:
            result = db.update_order(order_id, changes)
        except OrderFinal:
            raise HTTPException(status_code=409, detail="order is shipped or cancelled") from None
        except ReservationHeld:
            raise HTTPException(
                status_code=409,
                detail="quantity is covered by a stock reservation; cancel the order and place a new one",
            ) from None
        if result is None:
            raise HTTPException(status_code=404, detail="order not found")
        row, released = result
        # After the commit: a failure leaves stock reserved (logged), never a live order without stock.
        release(inventory, released, token)
        log.info("order updated", extra={"order_id": str(order_id), "subject": principal.subject,
                                         "fields": sorted(changes)})
        return row

    @app.delete(
        "/orders/{order_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        tags=["orders"],
        responses={**UNAUTHORIZED, **NOT_FOUND},
    )
    def delete_order(
        order_id: UUID,
        principal: Principal = Depends(authenticated),
        token: str = Depends(bearer_token),
        db: Database = Depends(get_db),
        inventory: Optional[InventoryClient] = Depends(get_inventory),
    ):
        deleted = db.delete_order(order_id)
        if deleted is None:
            raise HTTPException(status_code=404, detail="order not found")
        # A shipped order's stock has left: its reservation stays consumed.
        if deleted["status"] != OrderStatus.shipped.value:
            release(inventory, deleted["reservation_id"], token)
        log.info("order deleted", extra={"order_id": str(order_id), "subject": principal.subject})
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return app

"""The FastAPI application.

Served in the image by:  python3 -m uvicorn --factory orders_api.app:create_app
"""

import hashlib
import json
import logging
from typing import Any, Dict, Optional
from uuid import UUID, uuid4

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response, status

from fx_service_kit.auth import BearerGate, Principal, ServiceTokens, TokenVerifier, authenticated
from fx_service_kit.background import Periodic
from fx_service_kit.credentials import CredentialsCollector
from fx_service_kit.problems import InputGuardMiddleware, install_problem_handlers, problem

from . import __version__
from .config import Settings
from .db import Database, InvalidCursor, KeyConflict, OrderFinal, ReservationHeld
from .inventory import (
    InsufficientStock,
    InventoryClient,
    InventoryRejected,
    InventoryUnavailable,
    ReservationGone,
    UnknownSku,
)
from .logs import configure_logging, request_id_var
from .models import Order, OrderCreate, OrderPage, OrderStatus, OrderUpdate
from .observability import Metrics, ObservabilityMiddleware, access_log
from .tracing import setup_tracing

log = logging.getLogger("orders_api")

# A token with this scope sees and changes every order; others only their own.
ADMIN_SCOPE = "orders:admin"
RETRY_AFTER = {"Retry-After": "5"}
NOT_FOUND = {404: {"description": "Order not found (or not the caller's)"}}
UNAUTHORIZED = {401: {"description": "Missing, expired or invalid bearer token"}}
INVENTORY_ERRORS = {
    409: {"description": "Not enough stock, or the SKU is not stocked (only with INVENTORY_URL)"},
    422: {"description": "Invalid order, or an Idempotency-Key already used for another body"},
    502: {"description": "inventory-api rejected the request (only with INVENTORY_URL)"},
    503: {"description": "inventory-api or the database unavailable: retry with the same Idempotency-Key"},
}
IdempotencyKey = Header(
    None,
    alias="Idempotency-Key",
    min_length=1,
    max_length=128,
    regex=r"^[\x21-\x7e]+$",
    description="Makes the creation safe to retry: the same key and body give the same order.",
)


def request_hash(body: OrderCreate) -> str:
    canonical = json.dumps(body.dict(), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def owner_of(principal: Principal) -> Optional[str]:
    """The owner to scope queries to: the caller, or None (everyone's) for an admin."""
    return None if principal.has_scope(ADMIN_SCOPE) else principal.subject


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
        InventoryClient(
            settings.inventory_url,
            ServiceTokens(app.state.verifier.secret, settings.jwt_issuer, settings.service_name,
                          settings.inventory_audience),
            settings.inventory_timeout_seconds,
        )
        if settings.inventory_url
        else None
    )
    app.state.metrics = Metrics()
    if app.state.db.credentials is not None:
        app.state.metrics.registry.register(CredentialsCollector(app.state.db.credentials))

    install_problem_handlers(app, with_database=True)
    # Innermost first: the input guard reads the body only after the gate accepted the token.
    app.add_middleware(InputGuardMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(BearerGate, verifier_of=lambda: app.state.verifier, prefixes=["/orders"])
    app.state.tracer = setup_tracing(app, settings.service_name)
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics, access_log=access_log)

    def sweep() -> int:
        inventory: Optional[InventoryClient] = app.state.inventory
        if inventory is None:
            return 0
        done = app.state.db.sweep_incomplete(settings.incomplete_order_timeout_seconds,
                                             lambda rid: inventory.release(rid))
        if done:
            log.info("compensated incomplete orders", extra={"count": done})
        return done

    app.state.sweep = sweep
    app.state.sweeper = Periodic("orders-sweeper", settings.sweep_interval_seconds, sweep)

    @app.on_event("startup")
    def _open_pool() -> None:
        app.state.db.open()
        app.state.sweeper.start()
        log.info("orders-api started", extra={"version": __version__,
                                              "inventory_url": settings.inventory_url})

    @app.on_event("shutdown")
    def _close_pool() -> None:
        app.state.sweeper.stop()
        app.state.db.close()
        if app.state.inventory is not None:
            app.state.inventory.close()
        log.info("orders-api stopped")

    def get_db(request: Request) -> Database:
        return request.app.state.db

    def get_inventory(request: Request) -> Optional[InventoryClient]:
        return request.app.state.inventory

    def release(inventory: Optional[InventoryClient], reservation_id) -> bool:
        # Best effort: a failure is logged by the client (with the id, for cleanup).
        if inventory is not None and reservation_id is not None:
            return inventory.release(reservation_id, request_id_var.get())
        return True

    def unavailable(detail: str) -> HTTPException:
        return HTTPException(status_code=503, detail=detail, headers=RETRY_AFTER)

    def complete(db: Database, inventory: InventoryClient, order_id: UUID) -> Dict[str, Any]:
        """Confirm the order's hold; on failure compensate (release, discard) or leave it to the sweeper."""
        try:
            row = db.complete(order_id, lambda rid: inventory.confirm(rid, request_id_var.get()))
        except (InventoryUnavailable, InventoryRejected, ReservationGone) as exc:
            gone = isinstance(exc, ReservationGone)
            # Compensation: give the stock back, then drop the incomplete order. If inventory
            # cannot be reached either, the sweeper does both later.
            reservation_id = _reservation_of(db, order_id)
            if reservation_id is not None and release(inventory, reservation_id):
                db.discard_incomplete(order_id)
            log.warning("order not completed", extra={"order_id": str(order_id), "reason": type(exc).__name__})
            if gone:
                raise unavailable("stock hold expired, order not created; try again") from None
            raise unavailable("inventory service unavailable, order not created; "
                              "retry with the same Idempotency-Key") from None
        if row is None:
            raise unavailable("order was compensated while completing; try again")
        return row

    def _reservation_of(db: Database, order_id: UUID) -> Optional[UUID]:
        with db.pool.connection() as conn:
            found = conn.execute(
                "SELECT reservation_id FROM orders WHERE id = %s AND stock_state = 'reserved'", (order_id,)
            ).fetchone()
        return found["reservation_id"] if found else None

    # -- operational endpoints (no auth: reached by kubelet and Prometheus) ----

    @app.get("/healthz", tags=["ops"], summary="Liveness: the event loop serves requests (no database, no worker)")
    async def healthz() -> dict:
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
            return problem(503, reason, "/readyz", RETRY_AFTER, reason=reason)
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
        idempotency_key: Optional[str] = IdempotencyKey,
        principal: Principal = Depends(authenticated),
        db: Database = Depends(get_db),
        inventory: Optional[InventoryClient] = Depends(get_inventory),
    ):
        digest = request_hash(body)

        def replay(existing: Dict[str, Any]) -> Dict[str, Any]:
            if existing["request_hash"] != digest:
                raise HTTPException(status_code=422, detail="Idempotency-Key already used with another request body")
            row = existing
            if existing["stock_state"] == "reserved" and inventory is not None:
                row = complete(db, inventory, existing["id"])
            response.headers["Idempotent-Replayed"] = "true"
            response.headers["Location"] = f"/orders/{row['id']}"
            return row

        if idempotency_key is not None:
            existing = db.find_by_key(principal.subject, idempotency_key)
            if existing is not None:
                return replay(existing)

        order_id = uuid4()
        reservation_id = None
        if inventory is not None:
            try:
                reservation_id = inventory.reserve(body.sku, body.quantity, str(order_id), request_id_var.get())
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
                raise unavailable("inventory service unavailable, order not created; try again later") from None
            except InventoryRejected:
                raise HTTPException(
                    status_code=502, detail="inventory service rejected the reservation, order not created"
                ) from None
        try:
            row = db.create_order(body.dict(), principal.subject, order_id, reservation_id,
                                  idempotency_key, digest)
        except KeyConflict:
            # A concurrent request with the same key created the order first.
            release(inventory, reservation_id)
            existing = db.find_by_key(principal.subject, idempotency_key or "")
            if existing is None:
                raise unavailable("concurrent request for this Idempotency-Key; try again") from None
            return replay(existing)
        except BaseException:
            # No order, so no stock may stay reserved for it.
            release(inventory, reservation_id)
            raise
        if inventory is not None:
            row = complete(db, inventory, order_id)
        app.state.metrics.orders_created.inc()
        response.headers["Location"] = f"/orders/{row['id']}"
        log.info("order created", extra={"order_id": str(row["id"]), "subject": principal.subject,
                                         "reservation_id": str(reservation_id) if reservation_id else None})
        return row

    @app.get("/orders", response_model=OrderPage, tags=["orders"],
             responses={**UNAUTHORIZED, 422: {"description": "Invalid query or cursor"}})
    def list_orders(
        limit: int = Query(50, ge=1, le=200),
        cursor: Optional[str] = Query(None, min_length=1, max_length=200, regex=r"^[A-Za-z0-9_-]+$"),
        status_filter: Optional[OrderStatus] = Query(None, alias="status"),
        customer_id: Optional[str] = Query(None, min_length=1, max_length=64),
        principal: Principal = Depends(authenticated),
        db: Database = Depends(get_db),
    ):
        try:
            rows, next_cursor = db.list_orders(
                limit=limit,
                owner=owner_of(principal),
                cursor=cursor,
                status=status_filter.value if status_filter else None,
                customer_id=customer_id,
            )
        except InvalidCursor:
            raise HTTPException(status_code=422, detail="invalid cursor") from None
        return {"items": rows, "limit": limit, "next_cursor": next_cursor}

    @app.get(
        "/orders/{order_id}",
        response_model=Order,
        tags=["orders"],
        responses={**UNAUTHORIZED, **NOT_FOUND},
    )
    def get_order(
        order_id: UUID,
        principal: Principal = Depends(authenticated),
        db: Database = Depends(get_db),
    ):
        row = db.get_order(order_id, owner_of(principal))
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
        db: Database = Depends(get_db),
        inventory: Optional[InventoryClient] = Depends(get_inventory),
    ):
        changes = body.dict(exclude_unset=True)
        if "status" in changes:
            changes["status"] = changes["status"].value
        try:
            result = db.update_order(order_id, changes, owner_of(principal))
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
        release(inventory, released)
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
        db: Database = Depends(get_db),
        inventory: Optional[InventoryClient] = Depends(get_inventory),
    ):
        deleted = db.delete_order(order_id, owner_of(principal))
        if deleted is None:
            raise HTTPException(status_code=404, detail="order not found")
        # A shipped order's stock has left: its reservation stays consumed.
        if deleted["status"] != OrderStatus.shipped.value:
            release(inventory, deleted["reservation_id"])
        log.info("order deleted", extra={"order_id": str(order_id), "subject": principal.subject})
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return app

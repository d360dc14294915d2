"""The FastAPI application.

Served in the image by:  python3 -m uvicorn --factory orders_api.app:create_app
"""

import logging
from typing import Optional
from uuid import UUID

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse

from . import __version__
from .auth import Principal, TokenVerifier, authenticated
from .config import Settings
from .db import Database, OrderFinal
from .logs import configure_logging
from .models import Order, OrderCreate, OrderPage, OrderStatus, OrderUpdate
from .observability import Metrics, ObservabilityMiddleware
from .tracing import setup_tracing

log = logging.getLogger("orders_api")

NOT_FOUND = {404: {"description": "Order not found"}}
UNAUTHORIZED = {401: {"description": "Missing, expired or invalid bearer token"}}


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
    app.state.metrics = Metrics()
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)
    app.state.tracing = setup_tracing(app, settings.service_name)

    @app.on_event("startup")
    def _open_pool() -> None:
        app.state.db.open()
        log.info("orders-api started", extra={"version": __version__})

    @app.on_event("shutdown")
    def _close_pool() -> None:
        app.state.db.close()
        log.info("orders-api stopped")

    def get_db(request: Request) -> Database:
        return request.app.state.db

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
        responses=UNAUTHORIZED,
    )
    def create_order(
        body: OrderCreate,
        response: Response,
        principal: Principal = Depends(authenticated),
        db: Database = Depends(get_db),
    ):
        row = db.create_order(body.dict(), created_by=principal.subject)
        app.state.metrics.orders_created.inc()
        response.headers["Location"] = f"/orders/{row['id']}"
        log.info("order created", extra={"order_id": str(row["id"]), "subject": principal.subject})
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
        responses={**UNAUTHORIZED, **NOT_FOUND, 409: {"description": "Order is shipped or cancelled"}},
    )
    def update_order(
        order_id: UUID,
        body: OrderUpdate,
        principal: Principal = Depends(authenticated),
        db: Database = Depends(get_db),
    ):
        changes = body.dict(exclude_unset=True)
        if "status" in changes:
            changes["status"] = changes["status"].value
        try:
            row = db.update_order(order_id, changes)
        except OrderFinal:
            raise HTTPException(status_code=409, detail="order is shipped or cancelled") from None
        if row is None:
            raise HTTPException(status_code=404, detail="order not found")
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
    ):
        if not db.delete_order(order_id):
            raise HTTPException(status_code=404, detail="order not found")
        log.info("order deleted", extra={"order_id": str(order_id), "subject": principal.subject})
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return app

"""The FastAPI application.

Served in the image by:  python3 -m uvicorn --factory inventory_api.app:create_app
"""

import logging
from typing import Optional
from uuid import UUID

from fastapi import Depends, FastAPI, HTTPException, Path, Request, Response, status
from fastapi.responses import JSONResponse

from fx_service_kit.auth import Principal, TokenVerifier, authenticated

from . import __version__
from .config import Settings
from .logs import configure_logging
from .models import (
    SKU_MAX_LENGTH,
    SKU_PATTERN,
    InsufficientStockError,
    Reservation,
    ReservationCreate,
    StockLevel,
)
from .observability import Metrics, ObservabilityMiddleware, access_log
from .store import InsufficientStock, InventoryStore, UnknownSku

log = logging.getLogger("inventory_api")

UNAUTHORIZED = {401: {"description": "Missing, expired or invalid bearer token"}}
SKU_NOT_FOUND = {404: {"description": "Unknown SKU"}}

SkuPath = Path(
    ...,
    regex=SKU_PATTERN,
    max_length=SKU_MAX_LENGTH,
    description="Upper-case alphanumeric groups joined by single dashes, as in orders-api.",
    example="WIDGET-42",
)


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)

    app = FastAPI(
        title="inventory-api",
        version=__version__,
        description="Sample stock service for the Fx platform: stock levels and reservations.",
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings)
    app.state.store = InventoryStore(settings.seed)
    app.state.metrics = Metrics(app.state.store)
    # Ready from the end of start-up until shutdown begins.
    app.state.ready = False
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics, access_log=access_log)

    @app.on_event("startup")
    def _started() -> None:
        app.state.ready = True
        log.info("inventory-api started", extra={"version": __version__, "skus": len(settings.seed)})

    @app.on_event("shutdown")
    def _stopping() -> None:
        app.state.ready = False
        log.info("inventory-api stopped")

    def get_store(request: Request) -> InventoryStore:
        return request.app.state.store

    # -- operational endpoints (no auth: reached by kubelet and Prometheus) ----

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process serves requests")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Readiness: start-up has finished and shutdown has not begun",
        responses={503: {"description": "Not ready"}},
    )
    def readyz(request: Request):
        if not request.app.state.ready:
            return JSONResponse({"status": "unavailable", "reason": "not started"}, status_code=503)
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=Response)
    def metrics(request: Request) -> Response:
        m: Metrics = request.app.state.metrics
        return Response(content=m.exposition(), media_type=m.content_type)

    # -- inventory ----------------------------------------------------------------

    @app.get(
        "/inventory/{sku}",
        response_model=StockLevel,
        tags=["inventory"],
        responses={**UNAUTHORIZED, **SKU_NOT_FOUND},
    )
    def get_stock(
        sku: str = SkuPath,
        _: Principal = Depends(authenticated),
        store: InventoryStore = Depends(get_store),
    ):
        level = store.level(sku)
        if level is None:
            raise HTTPException(status_code=404, detail="sku not found")
        return {"sku": level.sku, "available": level.available, "reserved": level.reserved}

    @app.post(
        "/inventory/{sku}/reservations",
        response_model=Reservation,
        status_code=status.HTTP_201_CREATED,
        tags=["inventory"],
        responses={
            **UNAUTHORIZED,
            **SKU_NOT_FOUND,
            409: {"model": InsufficientStockError, "description": "Not enough stock available"},
        },
    )
    def reserve(
        body: ReservationCreate,
        response: Response,
        sku: str = SkuPath,
        principal: Principal = Depends(authenticated),
        store: InventoryStore = Depends(get_store),
    ):
        m: Metrics = app.state.metrics
        try:
            hold = store.reserve(sku, body.quantity, created_by=principal.subject)
        except UnknownSku:
            raise HTTPException(status_code=404, detail="sku not found") from None
        except InsufficientStock as exc:
            m.reservations.labels("insufficient_stock").inc()
            log.info(
                "reservation refused",
                extra={"sku": sku, "requested": exc.requested, "available": exc.available,
                       "subject": principal.subject},
            )
            return JSONResponse(
                {"detail": "insufficient stock", "available": exc.available},
                status_code=status.HTTP_409_CONFLICT,
            )
        m.reservations.labels("created").inc()
        response.headers["Location"] = f"/inventory/reservations/{hold.id}"
        log.info(
            "reservation created",
            extra={"reservation_id": str(hold.id), "sku": sku, "quantity": hold.quantity,
                   "subject": principal.subject},
        )
        return {
            "id": hold.id,
            "sku": hold.sku,
            "quantity": hold.quantity,
            "created_by": hold.created_by,
            "created_at": hold.created_at,
        }

    @app.delete(
        "/inventory/reservations/{reservation_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        tags=["inventory"],
        responses={**UNAUTHORIZED, 404: {"description": "Reservation not found"}},
    )
    def release(
        reservation_id: UUID,
        principal: Principal = Depends(authenticated),
        store: InventoryStore = Depends(get_store),
    ):
        hold = store.release(reservation_id)
        if hold is None:
            raise HTTPException(status_code=404, detail="reservation not found")
        app.state.metrics.releases.inc()
        log.info(
            "reservation released",
            extra={"reservation_id": str(hold.id), "sku": hold.sku, "quantity": hold.quantity,
                   "subject": principal.subject},
        )
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return app

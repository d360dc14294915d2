"""The FastAPI application.

Served in the image by:  python3 -m uvicorn --factory inventory_api.app:create_app
"""

import logging
from typing import Optional
from uuid import UUID

from fastapi import Depends, FastAPI, Header, HTTPException, Path, Request, Response, status

from fx_service_kit.auth import BearerGate, Principal, TokenVerifier, authenticated
from fx_service_kit.background import Periodic
from fx_service_kit.credentials import CredentialsCollector, DatabaseCredentials
from fx_service_kit.db import Pool
from fx_service_kit.problems import InputGuardMiddleware, install_problem_handlers, problem
from fx_service_kit.tracing import TracingMiddleware, tracer_from_env

from . import __version__
from .config import Settings
from .logs import configure_logging
from .migrate import discover_migrations
from .models import (
    SKU_MAX_LENGTH,
    SKU_PATTERN,
    InsufficientStockError,
    Reservation,
    ReservationCreate,
    StockLevel,
)
from .observability import Metrics, ObservabilityMiddleware, access_log
from .store import Hold, InsufficientStock, InventoryStore, KeyReused, ReservationGone, UnknownSku

log = logging.getLogger("inventory_api")

UNAUTHORIZED = {401: {"description": "Missing, expired or invalid service token"}}
SKU_NOT_FOUND = {404: {"description": "Unknown SKU"}}
RESERVATION_NOT_FOUND = {404: {"description": "Unknown reservation (or another caller's)"}}
PROBLEM = {"content": {"application/problem+json": {}}}

SkuPath = Path(
    ...,
    regex=SKU_PATTERN,
    max_length=SKU_MAX_LENGTH,
    description="Upper-case alphanumeric groups joined by single dashes, as in orders-api.",
    example="WIDGET-42",
)
IdempotencyKey = Header(
    ...,
    alias="Idempotency-Key",
    min_length=1,
    max_length=128,
    regex=r"^[\x21-\x7e]+$",
    description="The caller's key for this reservation (orders-api sends the order id): a retry returns the same hold.",
)


def _reservation(hold: Hold) -> dict:
    return {
        "id": hold.id, "sku": hold.sku, "quantity": hold.quantity, "state": hold.state,
        "created_by": hold.created_by, "expires_at": hold.expires_at, "created_at": hold.created_at,
    }


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)

    app = FastAPI(
        title="inventory-api",
        version=__version__,
        description="Sample stock service for the Fx platform: stock levels and reservations, for service callers.",
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings)
    credentials = DatabaseCredentials(settings.database_credentials_dir) if settings.database_credentials_dir else None
    app.state.pool = Pool(
        settings.database_url, "inventory-api", settings.db_pool_min_size, settings.db_pool_max_size,
        settings.db_timeout_seconds, application_name=settings.service_name,
        credentials=credentials, max_lifetime=settings.db_pool_max_lifetime_seconds,
    )
    app.state.store = InventoryStore(app.state.pool, settings.reservation_ttl_seconds)
    app.state.metrics = Metrics(app.state.store)
    if credentials is not None:
        app.state.metrics.registry.register(CredentialsCollector(credentials))
    app.state.tracer = tracer_from_env(settings.service_name)
    app.state.ready = False
    expected_migrations = {m.version for m in discover_migrations()}

    def sweep() -> int:
        expired = app.state.store.expire_due()
        if expired:
            app.state.metrics.expired.inc(expired)
            log.info("expired holds", extra={"count": expired})
        return expired

    app.state.sweep = sweep
    app.state.sweeper = Periodic("inventory-sweeper", settings.sweep_interval_seconds, sweep)

    install_problem_handlers(app, with_database=True)
    # Innermost first: the input guard reads the body only after the gate accepted the token.
    app.add_middleware(InputGuardMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(BearerGate, verifier_of=lambda: app.state.verifier, prefixes=["/inventory"])
    app.add_middleware(TracingMiddleware, tracer=app.state.tracer)
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics, access_log=access_log)

    @app.on_event("startup")
    def _started() -> None:
        app.state.pool.open()
        app.state.sweeper.start()
        app.state.ready = True
        log.info("inventory-api started", extra={"version": __version__})

    @app.on_event("shutdown")
    def _stopping() -> None:
        app.state.ready = False
        app.state.sweeper.stop()
        app.state.pool.close()
        app.state.tracer.shutdown()
        log.info("inventory-api stopped")

    def get_store(request: Request) -> InventoryStore:
        return request.app.state.store

    # -- operational endpoints (no auth: reached by kubelet and Prometheus) ----

    @app.get("/healthz", tags=["ops"], summary="Liveness: the event loop serves requests (no database, no worker)")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Readiness: started, the database answers and is migrated",
        responses={503: {"description": "Not ready", **PROBLEM}},
    )
    def readyz(request: Request):
        if not request.app.state.ready:
            return problem(503, "not started", "/readyz", reason="not started")
        try:
            with request.app.state.pool.connection(timeout=settings.readiness_timeout_seconds) as conn:
                tracked = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL AS t").fetchone()
                rows = conn.execute("SELECT version FROM schema_migrations").fetchall() if tracked["t"] else []
        except Exception as exc:  # noqa: BLE001
            log.warning("readiness check failed", extra={"error": type(exc).__name__})
            return problem(503, "database unreachable", "/readyz", {"Retry-After": "5"}, reason="database unreachable")
        if expected_migrations - {r["version"] for r in rows}:
            return problem(503, "migrations pending", "/readyz", reason="migrations pending")
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
        return {"sku": level.sku, "available": level.available, "reserved": level.reserved,
                "committed": level.committed}

    @app.post(
        "/inventory/{sku}/reservations",
        response_model=Reservation,
        status_code=status.HTTP_201_CREATED,
        tags=["inventory"],
        responses={
            **UNAUTHORIZED,
            **SKU_NOT_FOUND,
            200: {"model": Reservation, "description": "The caller's earlier hold for this Idempotency-Key"},
            409: {"model": InsufficientStockError, "description": "Not enough stock available"},
            422: {"description": "Invalid request, or the Idempotency-Key was used for another reservation"},
        },
    )
    def reserve(
        body: ReservationCreate,
        response: Response,
        sku: str = SkuPath,
        idempotency_key: str = IdempotencyKey,
        principal: Principal = Depends(authenticated),
        store: InventoryStore = Depends(get_store),
    ):
        m: Metrics = app.state.metrics
        try:
            hold, created = store.reserve(sku, body.quantity, principal.subject, idempotency_key)
        except UnknownSku:
            raise HTTPException(status_code=404, detail="sku not found") from None
        except KeyReused:
            raise HTTPException(status_code=422, detail="Idempotency-Key already used for another reservation") from None
        except InsufficientStock as exc:
            m.reservations.labels("insufficient_stock").inc()
            log.info("reservation refused", extra={"sku": sku, "requested": exc.requested,
                                                   "available": exc.available, "subject": principal.subject})
            return problem(409, "insufficient stock", f"/inventory/{sku}/reservations", available=exc.available)
        m.reservations.labels("created" if created else "replayed").inc()
        response.status_code = 201 if created else 200
        response.headers["Location"] = f"/inventory/reservations/{hold.id}"
        log.info("reservation created" if created else "reservation replayed",
                 extra={"reservation_id": str(hold.id), "sku": sku, "quantity": hold.quantity,
                        "subject": principal.subject})
        return _reservation(hold)

    @app.get(
        "/inventory/reservations/{reservation_id}",
        response_model=Reservation,
        tags=["inventory"],
        responses={**UNAUTHORIZED, **RESERVATION_NOT_FOUND},
    )
    def get_reservation(
        reservation_id: UUID,
        principal: Principal = Depends(authenticated),
        store: InventoryStore = Depends(get_store),
    ):
        hold = store.get(reservation_id, principal.subject)
        if hold is None:
            raise HTTPException(status_code=404, detail="reservation not found")
        return _reservation(hold)

    @app.post(
        "/inventory/reservations/{reservation_id}/confirm",
        response_model=Reservation,
        tags=["inventory"],
        responses={**UNAUTHORIZED, **RESERVATION_NOT_FOUND,
                   409: {"description": "The hold expired or was released", **PROBLEM}},
    )
    def confirm(
        reservation_id: UUID,
        principal: Principal = Depends(authenticated),
        store: InventoryStore = Depends(get_store),
    ):
        try:
            hold = store.confirm(reservation_id, principal.subject)
        except ReservationGone as exc:
            return problem(409, f"reservation {exc.state}", f"/inventory/reservations/{reservation_id}/confirm",
                           state=exc.state)
        if hold is None:
            raise HTTPException(status_code=404, detail="reservation not found")
        app.state.metrics.confirmations.inc()
        return _reservation(hold)

    @app.delete(
        "/inventory/reservations/{reservation_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        tags=["inventory"],
        responses={**UNAUTHORIZED, **RESERVATION_NOT_FOUND},
    )
    def release(
        reservation_id: UUID,
        principal: Principal = Depends(authenticated),
        store: InventoryStore = Depends(get_store),
    ):
        hold = store.release(reservation_id, principal.subject)
        if hold is None:
            raise HTTPException(status_code=404, detail="reservation not found")
        app.state.metrics.releases.inc()
        log.info("reservation released", extra={"reservation_id": str(hold.id), "sku": hold.sku,
                                                "quantity": hold.quantity, "subject": principal.subject})
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return app

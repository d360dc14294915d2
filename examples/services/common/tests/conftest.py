"""Fixtures for fx_service_kit's own tests: a minimal app wired like the services wire the kit."""

import logging
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Optional

from fastapi import Depends, FastAPI, Response

KIT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT_ROOT))

from fx_service_kit import testing  # noqa: E402
from fx_service_kit.auth import Principal, TokenVerifier, authenticated  # noqa: E402
from fx_service_kit.problems import install_problem_handlers  # noqa: E402
from fx_service_kit.observability import HttpMetrics, ObservabilityMiddleware  # noqa: E402
from fx_service_kit.testing import app_factory, client, unused_port  # noqa: E402,F401

SECRET = "fx-service-kit-test-signing-key-0123456789abcdef"
ISSUER = "fx-platform"
AUDIENCE = "kit-api"
make_token = partial(testing.make_token, secret=SECRET, sub="alice", iss=ISSUER, aud=AUDIENCE)


@dataclass(frozen=True)
class KitSettings:
    """The JWT fields of a service's Settings."""

    jwt_secret: Optional[str] = SECRET
    jwt_secret_file: Optional[str] = None
    jwt_audience: str = AUDIENCE
    jwt_issuer: str = ISSUER
    jwt_leeway_seconds: int = 30
    jwt_max_lifetime_seconds: int = 3600


def create_app(settings: KitSettings) -> FastAPI:
    app = FastAPI()
    app.state.verifier = TokenVerifier(settings)
    app.state.metrics = HttpMetrics()
    install_problem_handlers(app)
    app.add_middleware(
        ObservabilityMiddleware, metrics=app.state.metrics, access_log=logging.getLogger("kit_test.access")
    )

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(app.state.metrics.exposition(), media_type=app.state.metrics.content_type)

    @app.get("/items/{item_id}")
    def item(item_id: int, principal: Principal = Depends(authenticated)) -> dict:
        logging.getLogger("kit_test").info("item read", extra={"item_id": item_id})
        return {"item_id": item_id, "subject": principal.subject}

    return app


build_app = testing.build_app_fixture(create_app, KitSettings)

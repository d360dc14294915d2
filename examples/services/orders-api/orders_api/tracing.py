"""Tracing for orders-api: fx_service_kit.tracing (spans, propagation, OTLP and X-Ray export).

Configuration is the standard OTEL_* environment FxMicroservice sets
(OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER) and AWS_XRAY_DAEMON_ADDRESS.
"""

import logging
from typing import Any, Mapping, Optional

from fx_service_kit.tracing import Tracer, TracingMiddleware, tracer_from_env

log = logging.getLogger(__name__)


def setup_tracing(app: Any, service_name: str, env: Optional[Mapping[str, str]] = None) -> Tracer:
    """Trace every request of `app` (probes excepted); the tracer is shut down with the app."""
    tracer = tracer_from_env(service_name, env)
    app.add_middleware(TracingMiddleware, tracer=tracer)
    app.router.on_shutdown.append(tracer.shutdown)
    log.info("tracing", extra={"service_name": service_name,
                               "exporters": [type(e).__name__ for e in tracer.exporters]})
    return tracer

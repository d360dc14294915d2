"""JSON structured logging (fx_service_kit.logs), with OpenTelemetry trace ids when tracing."""

import logging
from typing import IO, Any, Dict, Optional

from fx_service_kit import logs as kit_logs
from fx_service_kit.logs import request_id_var

__all__ = ["JsonFormatter", "configure_logging", "request_id_var"]


def _trace_ids() -> Dict[str, Any]:
    """Current trace/span ids when OpenTelemetry is installed and a span is active."""
    try:
        from opentelemetry import trace  # type: ignore[import-not-found]
    except ImportError:
        return {}
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return {}
    return {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}


class JsonFormatter(kit_logs.JsonFormatter):
    def context(self) -> Dict[str, Any]:
        return _trace_ids()


def configure_logging(level: str = "INFO", stream: Optional[IO[str]] = None) -> logging.Handler:
    """Send every log record (ours and uvicorn's) as JSON to stdout."""
    return kit_logs.configure_logging(level, stream, JsonFormatter())

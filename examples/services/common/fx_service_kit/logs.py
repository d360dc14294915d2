"""JSON structured logging to stdout, one object per line."""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import IO, Any, Dict, Optional

# Set by the HTTP middleware (observability.py) for the duration of a request.
request_id_var: ContextVar[Optional[str]] = ContextVar("request_id", default=None)

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def context(self) -> Dict[str, Any]:
        """Fields added to every line after the request id: the trace and span ids while tracing."""
        from .tracing import current_span

        span = current_span()
        if span is None:
            return {}
        return {"trace_id": span.trace_id, "span_id": span.span_id}

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, tz=timezone.utc)
        payload = {
            "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            payload["request_id"] = request_id
        payload.update(self.context())
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_") and key not in payload:
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


def configure_logging(
    level: str = "INFO",
    stream: Optional[IO[str]] = None,
    formatter: Optional[logging.Formatter] = None,
) -> logging.Handler:
    """Send every log record (ours and uvicorn's) as JSON to stdout."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter or JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn installs its own plain-text handlers before it imports the app;
    # route its records through the root JSON handler instead.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # The app writes its own JSON access log (observability.py, with the route
    # template and probes at DEBUG); uvicorn's would duplicate every request, so
    # it stays off whether or not --no-access-log was given. (uvicorn decides per
    # connection with hasHandlers(), which follows propagate up to the root.)
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    return handler

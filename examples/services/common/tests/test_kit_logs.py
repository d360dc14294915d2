"""fx_service_kit.logs: JSON lines, request ids, and uvicorn's loggers tamed."""

import io
import json
import logging
import sys

from fx_service_kit.logs import JsonFormatter, configure_logging, request_id_var


def test_json_formatter_includes_extras_and_request_id():
    record = logging.LogRecord("orders_api", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.order_id = "o-1"
    token = request_id_var.set("req-1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hello world"
    assert line["level"] == "warning"
    assert line["logger"] == "orders_api"
    assert line["order_id"] == "o-1"
    assert line["request_id"] == "req-1"
    assert line["ts"].endswith("Z")


def test_json_formatter_context_hook_and_exceptions():
    class WithTrace(JsonFormatter):
        def context(self):
            return {"trace_id": "t-1"}

    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = json.loads(WithTrace().format(record))
    assert line["trace_id"] == "t-1"
    assert "request_id" not in line  # none outside a request
    assert "ValueError: bad" in line["exc_info"]
    assert line["msg"] == "failed"


def test_uvicorn_access_log_stays_off_after_configure_logging():
    """The app logs each request itself; uvicorn's access logger must not reach the root handler.

    uvicorn decides per connection with `hasHandlers()`, which follows `propagate`
    up to the root: a propagating uvicorn.access would undo --no-access-log.
    """
    stream = io.StringIO()
    access = logging.getLogger("uvicorn.access")
    access.propagate = True  # as uvicorn leaves it without --no-access-log
    configure_logging("INFO", stream=stream)
    assert not access.hasHandlers()
    access.info('127.0.0.1:1234 - "GET /orders HTTP/1.1" 401')
    logging.getLogger("uvicorn.error").info("Uvicorn running on http://127.0.0.1:8000")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["uvicorn.error"]  # still routed, as JSON

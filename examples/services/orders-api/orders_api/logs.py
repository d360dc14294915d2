"""JSON structured logging (fx_service_kit.logs: request, trace and span ids on every line)."""

from fx_service_kit.logs import JsonFormatter, configure_logging, request_id_var

__all__ = ["JsonFormatter", "configure_logging", "request_id_var"]

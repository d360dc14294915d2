"""JSON structured logging to stdout, one object per line (fx_service_kit.logs)."""

from fx_service_kit.logs import JsonFormatter, configure_logging, request_id_var

__all__ = ["JsonFormatter", "configure_logging", "request_id_var"]

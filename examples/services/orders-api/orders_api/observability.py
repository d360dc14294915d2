"""orders-api's metrics: the shared HTTP ones (fx_service_kit.observability) plus its own."""

import logging

from prometheus_client import Counter

from fx_service_kit.observability import HttpMetrics, ObservabilityMiddleware

__all__ = ["Metrics", "ObservabilityMiddleware", "access_log"]

access_log = logging.getLogger("orders_api.access")


class Metrics(HttpMetrics):
    def __init__(self) -> None:
        super().__init__()
        self.orders_created = Counter(
            "orders_created_total",
            "Orders created.",
            registry=self.registry,
        )

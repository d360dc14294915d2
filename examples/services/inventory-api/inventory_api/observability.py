"""inventory-api's metrics: the shared HTTP ones (fx_service_kit.observability) plus stock levels."""

import logging

from fx_service_kit.observability import HttpMetrics, ObservabilityMiddleware
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .store import InventoryStore

__all__ = ["Metrics", "ObservabilityMiddleware", "StockCollector", "access_log"]

access_log = logging.getLogger("inventory_api.access")


class StockCollector(Collector):
    """Units per SKU and state, read from the store at scrape time.

    Cardinality is bounded: SKUs come only from the seed, never from requests.
    """

    def __init__(self, store: InventoryStore) -> None:
        self.store = store

    def collect(self):
        units = GaugeMetricFamily("inventory_units", "Units per SKU by state.", labels=("sku", "state"))
        for level in self.store.levels():
            units.add_metric((level.sku, "available"), level.available)
            units.add_metric((level.sku, "reserved"), level.reserved)
        yield units
        yield GaugeMetricFamily(
            "inventory_reservations_open", "Reservations held.", value=self.store.reservation_count()
        )


class Metrics(HttpMetrics):
    def __init__(self, store: InventoryStore) -> None:
        super().__init__()
        self.registry.register(StockCollector(store))
        self.reservations = Counter(
            "inventory_reservations_total",
            "Reservation requests by outcome (created, insufficient_stock).",
            ("outcome",),
            registry=self.registry,
        )
        self.releases = Counter(
            "inventory_reservations_released_total",
            "Reservations cancelled and returned to stock.",
            registry=self.registry,
        )

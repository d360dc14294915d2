"""inventory-api's metrics: the shared HTTP ones (fx_service_kit.observability) plus stock levels."""

import logging

from fx_service_kit.observability import HttpMetrics, ObservabilityMiddleware
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .store import InventoryStore

__all__ = ["Metrics", "ObservabilityMiddleware", "StockCollector", "access_log"]

access_log = logging.getLogger("inventory_api.access")
log = logging.getLogger(__name__)


class StockCollector(Collector):
    """Units per SKU and state, read from the database at scrape time (nothing during an outage).

    Cardinality is bounded: SKUs come only from the seed, never from requests.
    """

    def __init__(self, store: InventoryStore) -> None:
        self.store = store

    def collect(self):
        try:
            levels = self.store.levels()
            held = self.store.held_count()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail with the database
            log.warning("stock metrics unavailable", extra={"error": type(exc).__name__})
            return
        units = GaugeMetricFamily("inventory_units", "Units per SKU by state.", labels=("sku", "state"))
        for level in levels:
            units.add_metric((level.sku, "available"), level.available)
            units.add_metric((level.sku, "reserved"), level.reserved)
            units.add_metric((level.sku, "committed"), level.committed)
        yield units
        yield GaugeMetricFamily("inventory_reservations_open", "Reservations held.", value=held)


class Metrics(HttpMetrics):
    def __init__(self, store: InventoryStore) -> None:
        super().__init__()
        self.registry.register(StockCollector(store))
        self.reservations = Counter(
            "inventory_reservations_total",
            "Reservation requests by outcome (created, replayed, insufficient_stock).",
            ("outcome",),
            registry=self.registry,
        )
        self.releases = Counter(
            "inventory_reservations_released_total",
            "Reservations cancelled and returned to stock.",
            registry=self.registry,
        )
        self.confirmations = Counter(
            "inventory_reservations_confirmed_total",
            "Reservations confirmed (sold).",
            registry=self.registry,
        )
        self.expired = Counter(
            "inventory_reservations_expired_total",
            "Holds expired by the sweeper and returned to stock.",
            registry=self.registry,
        )

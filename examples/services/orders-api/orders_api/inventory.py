"""Client for inventory-api: stock reservations for new orders.

Used only when INVENTORY_URL is set. inventory-api accepts only service tokens
(its own audience): orders-api presents a short-lived token of its own
(`ServiceTokens`, sub = orders-api), never the end user's. The request id and
the trace context (traceparent, X-Amzn-Trace-Id) are forwarded, and each call is
a client span.

Calls are bounded by INVENTORY_TIMEOUT_SECONDS. A reservation carries an
Idempotency-Key (the order's id), so repeating it after a lost response returns
the same hold instead of reserving the stock twice; confirm and release are
idempotent by nature.
"""

import logging
from typing import Optional
from uuid import UUID

import httpx

from fx_service_kit import tracing
from fx_service_kit.auth import ServiceTokens

log = logging.getLogger(__name__)


class InventoryError(Exception):
    """Base class: the reservation was not made."""


class InsufficientStock(InventoryError):
    def __init__(self, available: Optional[int]) -> None:
        super().__init__(f"insufficient stock (available: {available})")
        self.available = available


class UnknownSku(InventoryError):
    """inventory-api does not stock the SKU."""


class InventoryUnavailable(InventoryError):
    """Unreachable, timed out or answered 5xx: worth retrying later."""


class InventoryRejected(InventoryError):
    """Any other answer (401/403/422, malformed body): a configuration problem."""


class ReservationGone(InventoryError):
    """The hold expired or was released before it could be confirmed."""


class InventoryClient:
    def __init__(
        self,
        base_url: str,
        tokens: ServiceTokens,
        timeout_seconds: float = 2.0,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_seconds),
            # An in-cluster call: no proxies or netrc from the environment.
            trust_env=False,
            follow_redirects=False,
            # retries=0 (httpx's default) is deliberate, see the module docstring.
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def _headers(self, request_id: Optional[str]) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens.get()}", "Accept": "application/json"}
        if request_id:
            headers["X-Request-ID"] = request_id
        tracing.inject(headers)
        return headers

    def _send(self, operation: str, method: str, path: str, request_id: Optional[str],
              extra_headers: Optional[dict] = None, **kwargs) -> httpx.Response:
        """One traced call; InventoryUnavailable when it gets no answer or a 5xx."""
        with tracing.client_span(f"inventory-api {operation}",
                                 {"http.method": method, "http.url": self.base_url + path}) as span:
            try:
                resp = self._http.request(method, path, headers={**self._headers(request_id), **(extra_headers or {})},
                                          **kwargs)
            except httpx.TimeoutException as exc:
                log.warning("inventory timed out", extra={"operation": operation, "error": repr(exc)})
                raise InventoryUnavailable("inventory timed out") from exc
            except httpx.HTTPError as exc:
                log.warning("inventory unreachable", extra={"operation": operation, "error": repr(exc)})
                raise InventoryUnavailable("inventory unreachable") from exc
            if span is not None:
                span.attributes["http.status"] = resp.status_code
                span.error = resp.status_code >= 500
        if resp.status_code >= 500:
            log.warning("inventory failed", extra={"operation": operation, "upstream_status": resp.status_code})
            raise InventoryUnavailable(f"inventory answered {resp.status_code}")
        return resp

    def reserve(self, sku: str, quantity: int, idempotency_key: str, request_id: Optional[str] = None) -> UUID:
        """The reservation's id (the same one for a repeated key); raises an InventoryError subclass otherwise."""
        path = f"/inventory/{sku}/reservations"  # sku is validated: [A-Z0-9-] only
        resp = self._send("reserve", "POST", path, request_id, json={"quantity": quantity},
                          extra_headers={"Idempotency-Key": idempotency_key})

        if resp.status_code in (200, 201):
            try:
                return UUID(str(resp.json()["id"]))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("inventory sent a malformed reservation", extra={"body": resp.text[:200]})
                raise InventoryRejected("malformed reservation") from exc
        if resp.status_code == 409:
            available = None
            try:
                value = resp.json().get("available")
                available = value if isinstance(value, int) and not isinstance(value, bool) else None
            except (ValueError, AttributeError):
                pass
            raise InsufficientStock(available)
        if resp.status_code == 404:
            raise UnknownSku(sku)
        log.error(
            "inventory rejected the reservation request",
            extra={"operation": "reserve", "upstream_status": resp.status_code, "body": resp.text[:200]},
        )
        raise InventoryRejected(f"inventory answered {resp.status_code}")

    def confirm(self, reservation_id: UUID, request_id: Optional[str] = None) -> None:
        """Turn the hold into a sale; ReservationGone when it expired or was released."""
        resp = self._send("confirm", "POST", f"/inventory/reservations/{reservation_id}/confirm", request_id)
        if resp.status_code == 200:
            return
        if resp.status_code in (404, 409):
            raise ReservationGone(f"inventory answered {resp.status_code}")
        log.error("inventory rejected the confirmation",
                  extra={"operation": "confirm", "upstream_status": resp.status_code})
        raise InventoryRejected(f"inventory answered {resp.status_code}")

    def release(self, reservation_id: UUID, request_id: Optional[str] = None) -> bool:
        """Release a reservation; True when it is gone (released now or before, or unknown).
        Never raises: a failure is logged and False returned."""
        extra = {"operation": "release", "reservation_id": str(reservation_id)}
        try:
            resp = self._send("release", "DELETE", f"/inventory/reservations/{reservation_id}", request_id)
        except Exception as exc:  # noqa: BLE001 - a release failure must never fail the caller
            log.error("reservation release failed", extra={**extra, "error": repr(exc)})
            return False
        if resp.status_code in (204, 404):
            log.info("reservation released", extra={**extra, "upstream_status": resp.status_code})
            return True
        log.error("reservation release failed", extra={**extra, "upstream_status": resp.status_code})
        return False

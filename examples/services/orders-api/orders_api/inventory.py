"""Client for inventory-api: stock reservations for new orders.

Used only when INVENTORY_URL is set. The caller's bearer token and request id
are forwarded, so inventory-api authenticates the same user and its log lines
carry the same X-Request-ID.

Calls are bounded by INVENTORY_TIMEOUT_SECONDS and never retried: a
reservation is a non-idempotent POST, and a retry after a lost response would
reserve the stock twice.
"""

import logging
from typing import Optional
from uuid import UUID

import httpx

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


class InventoryClient:
    def __init__(
        self,
        base_url: str,
        timeout_seconds: float = 2.0,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
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

    @staticmethod
    def _headers(token: str, request_id: Optional[str]) -> dict:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if request_id:
            headers["X-Request-ID"] = request_id
        return headers

    def reserve(self, sku: str, quantity: int, token: str, request_id: Optional[str] = None) -> UUID:
        """The new reservation's id; raises an InventoryError subclass otherwise."""
        path = f"/inventory/{sku}/reservations"  # sku is validated: [A-Z0-9-] only
        try:
            resp = self._http.post(path, json={"quantity": quantity}, headers=self._headers(token, request_id))
        except httpx.TimeoutException as exc:
            log.warning("inventory timed out", extra={"operation": "reserve", "error": repr(exc)})
            raise InventoryUnavailable("inventory timed out") from exc
        except httpx.HTTPError as exc:
            log.warning("inventory unreachable", extra={"operation": "reserve", "error": repr(exc)})
            raise InventoryUnavailable("inventory unreachable") from exc

        if resp.status_code == 201:
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
        if resp.status_code >= 500:
            log.warning("inventory failed", extra={"operation": "reserve", "upstream_status": resp.status_code})
            raise InventoryUnavailable(f"inventory answered {resp.status_code}")
        log.error(
            "inventory rejected the reservation request",
            extra={"operation": "reserve", "upstream_status": resp.status_code, "body": resp.text[:200]},
        )
        raise InventoryRejected(f"inventory answered {resp.status_code}")

    def release(self, reservation_id: UUID, token: str, request_id: Optional[str] = None) -> bool:
        """Release a reservation. Never raises: a failure is logged and False returned."""
        extra = {"operation": "release", "reservation_id": str(reservation_id)}
        try:
            resp = self._http.delete(
                f"/inventory/reservations/{reservation_id}", headers=self._headers(token, request_id)
            )
        except Exception as exc:  # noqa: BLE001 - a release failure must never fail the caller
            log.error("reservation release failed", extra={**extra, "error": repr(exc)})
            return False
        if resp.status_code == 204:
            log.info("reservation released", extra=extra)
            return True
        log.error("reservation release failed", extra={**extra, "upstream_status": resp.status_code})
        return False

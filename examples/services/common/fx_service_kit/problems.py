"""One error format for every error (RFC 9457 problem details), and the input
guard that runs before any body is parsed.

- `install_problem_handlers(app)`: HTTP errors, validation errors (never echoing
  the request body), a database outage (503 with Retry-After) and unexpected
  errors all answer `application/problem+json` with `type`, `title`, `status`,
  `detail`, `instance` and the `request_id`.
- `InputGuardMiddleware`: a body limit enforced while reading (413 before
  anything is parsed: from Content-Length when given, else while streaming),
  and NUL bytes, invalid UTF-8 and lone surrogates (also as JSON `\\ud800`
  escapes) rejected as 422, in the body, the path and the query string.
"""

import json
import logging
from http import HTTPStatus
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .logs import request_id_var

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"
DEFAULT_MAX_BODY_BYTES = 16 * 1024
RETRY_AFTER_SECONDS = "5"


def problem(
    status: int,
    detail: Optional[str] = None,
    instance: Optional[str] = None,
    headers: Optional[Mapping[str, str]] = None,
    **extra: Any,
) -> JSONResponse:
    body: Dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    request_id = request_id_var.get()
    if request_id is not None:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_TYPE)


def _safe_loc(item: Any) -> Any:
    # A location names a field; an unknown field's name comes from the body, so cap it.
    if isinstance(item, int):
        return item
    text = "".join(c if c.isprintable() else "?" for c in str(item))
    return text if len(text) <= 64 else text[:61] + "..."


def validation_errors(exc: RequestValidationError) -> List[Dict[str, Any]]:
    """loc, msg and type of each error: never the input value, so nothing of the body is echoed."""
    return [
        {"loc": [_safe_loc(i) for i in err.get("loc", ())], "msg": str(err.get("msg", ""))[:200], "type": err.get("type", "")}
        for err in exc.errors()
    ]


def database_errors() -> tuple:
    """Exception classes that mean "the database is unavailable" (503, retry later)."""
    import psycopg
    from psycopg_pool import PoolTimeout

    from .db import DatabaseUnavailable

    return (DatabaseUnavailable, PoolTimeout, psycopg.OperationalError)


def install_problem_handlers(app: FastAPI, with_database: bool = False) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem(exc.status_code, detail, request.url.path, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return problem(422, "request validation failed", request.url.path, errors=validation_errors(exc))

    if with_database:
        async def _database(request: Request, exc: Exception):
            log.warning("database unavailable", extra={"error": type(exc).__name__, "path": request.url.path})
            return problem(503, "database unavailable; try again later", request.url.path,
                           {"Retry-After": RETRY_AFTER_SECONDS})

        for cls in database_errors():
            app.add_exception_handler(cls, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.error("unhandled error", exc_info=exc)
        return problem(500, "internal error", request.url.path)


# -- input guard -------------------------------------------------------------------


def _has_bad_text(value: Any) -> bool:
    """True when a decoded JSON value holds a NUL or a lone surrogate anywhere (keys included)."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_bad_text(k) or _has_bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_bad_text(v) for v in value)
    return False


def bad_text(raw: bytes) -> Optional[str]:
    """Why `raw` is not acceptable text, or None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "request is not valid UTF-8"
    if "\x00" in text:
        return "request contains a NUL character"
    return None


class InputGuardMiddleware:
    def __init__(self, app, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _reply(self, scope, receive, send, response: JSONResponse) -> None:
        await response(scope, receive, send)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        reason = bad_text(unquote_to_bytes(scope.get("query_string", b"") or b"")) or (
            "request path contains a NUL character or invalid text" if _has_bad_text(path) else None
        )
        if reason:
            await self._reply(scope, receive, send, problem(422, reason, None))
            return
        headers = {k.lower(): v for k, v in scope.get("headers") or []}
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await self._reply(scope, receive, send, problem(400, "invalid Content-Length"))
                return
            if declared > self.max_body_bytes:
                await self._reply(scope, receive, send, problem(
                    413, f"request body exceeds {self.max_body_bytes} bytes", path))
                return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return

        chunks: List[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._reply(scope, receive, send, problem(
                    413, f"request body exceeds {self.max_body_bytes} bytes", path))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            reason = bad_text(body)
            if reason is None and b"content-type" in headers and b"json" in headers[b"content-type"]:
                try:
                    if _has_bad_text(json.loads(body)):
                        reason = "request contains a NUL character or a lone surrogate"
                except ValueError:
                    pass  # not JSON: the route's validation answers 422
            if reason:
                await self._reply(scope, receive, send, problem(422, reason, path))
                return

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

"""JWT bearer authentication (HS256, shared signing key from a Kubernetes secret)."""

import logging
import os
import threading
from dataclasses import dataclass, field
import time
from typing import Any, Dict, FrozenSet, Optional, Protocol

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .config import ConfigError

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output.
MIN_KEY_BYTES = 32
# Default bound on a token's lifetime (exp - iat) and on service tokens' lifetime.
DEFAULT_MAX_LIFETIME_SECONDS = 3600
SERVICE_TOKEN_LIFETIME_SECONDS = 300


class SecretSource:
    """The signing key, from JWT_SECRET or from the file named by JWT_SECRET_FILE.

    A file is re-read when its modification time changes, so a rotated
    Kubernetes secret volume is picked up without a restart.
    """

    def __init__(self, value: Optional[str] = None, path: Optional[str] = None) -> None:
        if bool(value) == bool(path):
            raise ConfigError("exactly one of a secret value or a secret file is required")
        self._value = value
        self._path = path
        self._lock = threading.Lock()
        self._cached: Optional[bytes] = None
        self._mtime: Optional[float] = None
        self.get()  # fail fast at start-up on a missing, unreadable or short key

    @staticmethod
    def _check(key: bytes, origin: str) -> bytes:
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(f"{origin} must be at least {MIN_KEY_BYTES} bytes for HS256")
        return key

    def get(self) -> bytes:
        if self._value is not None:
            return self._check(self._value.encode(), "JWT_SECRET")
        assert self._path is not None
        try:
            mtime = os.stat(self._path).st_mtime
        except OSError as exc:
            if self._cached is not None:
                # Mid-rotation the symlinks of a secret volume can briefly vanish.
                return self._cached
            raise ConfigError(f"JWT_SECRET_FILE {self._path!r} is not readable: {exc}") from exc
        with self._lock:
            if self._cached is None or mtime != self._mtime:
                with open(self._path, "rb") as fh:
                    key = fh.read().strip()
                self._cached = self._check(key, "JWT_SECRET_FILE")
                self._mtime = mtime
            return self._cached


@dataclass(frozen=True)
class Principal:
    subject: str
    claims: Dict[str, Any] = field(default_factory=dict)
    scopes: FrozenSet[str] = frozenset()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def _scopes(claims: Dict[str, Any]) -> FrozenSet[str]:
    # RFC 8693 "scope" (space-separated string); some issuers send a "scp" list.
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list):
        return frozenset(s for s in raw if isinstance(s, str))
    return frozenset()


class JwtSettings(Protocol):
    """The settings fields a service's Settings provides for token verification."""

    jwt_secret: Optional[str]
    jwt_secret_file: Optional[str]
    jwt_audience: str
    jwt_issuer: str
    jwt_leeway_seconds: int
    jwt_max_lifetime_seconds: int


class TokenVerifier:
    """Verifies HS256 tokens that carry `sub`, `iss`, `aud`, `iat` and `exp`, with a bounded lifetime."""

    def __init__(self, settings: JwtSettings) -> None:
        if not settings.jwt_audience or not settings.jwt_issuer:
            raise ConfigError("JWT_AUDIENCE and JWT_ISSUER must not be empty")
        if settings.jwt_max_lifetime_seconds < 1:
            raise ConfigError("JWT_MAX_LIFETIME_SECONDS must be >= 1")
        self.secret = SecretSource(settings.jwt_secret, settings.jwt_secret_file)
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.leeway = settings.jwt_leeway_seconds
        self.max_lifetime = settings.jwt_max_lifetime_seconds

    def verify(self, token: str) -> Principal:
        required = ["exp", "sub", "aud", "iss", "iat"]
        claims = jwt.decode(
            token,
            self.secret.get(),
            algorithms=[ALGORITHM],  # never trust the token's own "alg"
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            options={"require": required},
        )
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise jwt.InvalidTokenError("sub must be a non-empty string")
        issued, expires = claims.get("iat"), claims.get("exp")
        if not isinstance(issued, (int, float)) or not isinstance(expires, (int, float)):
            raise jwt.InvalidTokenError("iat and exp must be numbers")
        if expires - issued > self.max_lifetime:
            raise jwt.InvalidTokenError("token lifetime exceeds the maximum")
        if issued > time.time() + self.leeway:
            raise jwt.ImmatureSignatureError("iat is in the future")
        return Principal(subject=subject, claims=claims, scopes=_scopes(claims))


class ServiceTokens:
    """Short-lived tokens this service presents to another one (`aud` = that service), renewed at half-life."""

    def __init__(self, secret: SecretSource, issuer: str, subject: str, audience: str,
                 lifetime: int = SERVICE_TOKEN_LIFETIME_SECONDS) -> None:
        self.secret = secret
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._token = ""
        self._renew_at = 0.0

    def get(self) -> str:
        with self._lock:
            now = time.time()
            if now >= self._renew_at:
                claims = {"sub": self.subject, "iss": self.issuer, "aud": self.audience,
                          "iat": int(now), "exp": int(now) + self.lifetime}
                self._token = jwt.encode(claims, self.secret.get(), algorithm=ALGORITHM)
                self._renew_at = now + self.lifetime / 2
            return self._token


bearer_scheme = HTTPBearer(auto_error=False, description="HS256 JWT with `sub` and `exp` claims")


def _unauthorized(detail: str, error: Optional[str] = None) -> HTTPException:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": challenge},
    )


def authenticated(
    request: Request,
    credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer_scheme),
) -> Principal:
    """FastAPI dependency: the authenticated caller, or 401 (from BearerGate when it already checked)."""
    checked = getattr(request.state, "principal", None)
    if isinstance(checked, Principal):
        return checked
    if credentials is None:
        # HTTPBearer(auto_error=False) also gives None for a non-Bearer scheme.
        raise _unauthorized("missing bearer token")
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return verifier.verify(credentials.credentials)
    except jwt.ExpiredSignatureError:
        raise _unauthorized("token expired", "invalid_token") from None
    except jwt.InvalidTokenError as exc:
        log.info("rejected bearer token", extra={"reason": type(exc).__name__})
        raise _unauthorized("invalid token", "invalid_token") from None


def require_scope(principal: Principal, scope: str) -> None:
    if not principal.has_scope(scope):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=f"scope {scope} required")


class BearerGate:
    """ASGI middleware: checks the bearer token of requests under `prefixes` before the
    body is read, so an unauthenticated client never gets a body parsed; the
    principal is left in the request state for `authenticated`."""

    def __init__(self, app, verifier_of, prefixes) -> None:
        self.app = app
        self.verifier_of = verifier_of  # () -> TokenVerifier, read per request
        self.prefixes = tuple(prefixes)

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not any(path == p or path.startswith(p + "/") for p in self.prefixes):
            await self.app(scope, receive, send)
            return
        from .problems import problem

        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        failure = None
        if scheme.lower() != "bearer" or not token.strip():
            failure = _unauthorized("missing bearer token")
        else:
            try:
                principal = self.verifier_of().verify(token.strip())
            except jwt.ExpiredSignatureError:
                failure = _unauthorized("token expired", "invalid_token")
            except jwt.InvalidTokenError as exc:
                log.info("rejected bearer token", extra={"reason": type(exc).__name__})
                failure = _unauthorized("invalid token", "invalid_token")
        if failure is not None:
            response = problem(401, failure.detail, path, failure.headers)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

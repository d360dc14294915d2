"""JWT bearer authentication (HS256, shared signing key from a Kubernetes secret)."""

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Protocol

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .config import ConfigError

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output.
MIN_KEY_BYTES = 32


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


class JwtSettings(Protocol):
    """The settings fields a service's Settings provides for token verification."""

    jwt_secret: Optional[str]
    jwt_secret_file: Optional[str]
    jwt_audience: Optional[str]
    jwt_issuer: Optional[str]
    jwt_leeway_seconds: int


class TokenVerifier:
    def __init__(self, settings: JwtSettings) -> None:
        self.secret = SecretSource(settings.jwt_secret, settings.jwt_secret_file)
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.leeway = settings.jwt_leeway_seconds

    def verify(self, token: str) -> Principal:
        required = ["exp", "sub"]
        if self.audience:
            required.append("aud")
        if self.issuer:
            required.append("iss")
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
        return Principal(subject=subject, claims=claims)


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
    """FastAPI dependency: the authenticated caller, or 401."""
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

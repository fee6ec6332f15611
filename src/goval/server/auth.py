"""Tokens: verifying who a session is, and minting tokens (protocol.md §1.2).

HS256 with the workspace secret always works; EdDSA/RS256 are accepted too when a public key or
a JWKS URL is configured, so an external identity provider can mint tokens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from goval.errors import AuthError
from goval.identity import Identity, Role

__all__ = ["LEEWAY_SECONDS", "Authenticator", "parse_duration"]

LEEWAY_SECONDS = 30
MAX_USER_ID = 2**32 - 1


@dataclass(frozen=True)
class Authenticator:
    """Verifies and mints tokens for one workspace."""

    secret: bytes
    workspace_id: str
    public_key: str | None = None
    jwks_url: str | None = None

    def verify(self, token: str) -> Identity:
        """The identity in a valid token; raises AuthError with the close reason."""
        if not token:
            raise AuthError("missing token")
        claims = self._decode(token)
        if claims.get("ws") != self.workspace_id:
            raise AuthError("wrong workspace")
        roles = claims.get("roles")
        role = (
            Role.strongest([r for r in roles if isinstance(r, str)])
            if isinstance(roles, list)
            else None
        )
        if role is None:
            raise AuthError("no role")
        return Identity(
            user_id=_user_id(claims.get("sub")), name=str(claims.get("name", "")), role=role
        )

    def mint(self, name: str, role: Role, user_id: int = 1, ttl: float = 8 * 3600.0) -> str:
        """A token for ``name`` with ``role``, valid for ``ttl`` seconds."""
        claims = {
            "sub": str(user_id),
            "name": name,
            "roles": [role.wire_name],
            "ws": self.workspace_id,
            "exp": int(time.time() + ttl),
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def _decode(self, token: str) -> dict[str, Any]:
        # `sub` may be an integer (protocol.md §1.2); PyJWT insists on strings, so we check it.
        options: jwt.types.Options = {"require": ["exp"], "verify_sub": False}
        try:
            header = jwt.get_unverified_header(token)
            key: Any = self.secret
            algorithms = ["HS256"]
            if header.get("alg") != "HS256":
                key, algorithms = self._external_key(token, header)
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=algorithms, options=options, leeway=LEEWAY_SECONDS
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except (jwt.PyJWTError, ValueError):
            raise AuthError("invalid token") from None
        return claims

    def _external_key(self, token: str, header: dict[str, Any]) -> tuple[Any, list[str]]:
        algorithms = ["EdDSA", "RS256"]
        if header.get("alg") not in algorithms:
            raise AuthError("invalid token")
        if self.public_key is not None:
            return self.public_key, algorithms
        if self.jwks_url is not None:
            return jwt.PyJWKClient(self.jwks_url).get_signing_key_from_jwt(token).key, algorithms
        raise AuthError("invalid token")


def _user_id(sub: object) -> int:
    """``sub`` as a uint32: integers and decimal strings; anything else is invalid."""
    try:
        value = int(str(sub))
    except ValueError:
        raise AuthError("invalid token") from None
    if not 0 <= value <= MAX_USER_ID:
        raise AuthError("invalid token")
    return value


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``8h``, ``2d`` → seconds."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    text = text.strip().lower()
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)

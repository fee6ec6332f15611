"""Signed file URLs (protocol §4.1): the HMAC that binds a path, a method and an expiry.

Owns the URL format ``<origin>/fs/<escaped path>?m=<METHOD>&e=<expire>&s=<sig>`` and its check.
``sig`` is the unpadded base64url HMAC-SHA256 of ``METHOD\\npath\\nexpire`` under a key derived
from the workspace secret (never the secret itself, so a leaked URL key cannot mint tokens).
Pure: no file access here — ``services/files.py`` issues URLs, ``server/files_http.py`` serves
them.

The origin: the server sets ``UrlSigner.origin`` to its own base URL once it has bound its port
(``Server.start``); a signer without an origin (the service test harness) issues
origin-relative URLs (``/fs/...``), which a client resolves against the URL it connected to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FS_PREFIX", "METHODS", "URL_LIFETIME", "SignedUrl", "UrlSigner"]

FS_PREFIX = "/fs/"
URL_LIFETIME = 15 * 60
METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
_KEY_LABEL = b"goval signed file urls v1"


@dataclass(frozen=True, slots=True)
class SignedUrl:
    """A URL for one method on one path, valid until ``expire`` (Unix seconds)."""

    url: str
    method: str
    expire: int


class UrlSigner:
    """Issues and checks signed file URLs for one workspace.

    Args:
        secret: the workspace secret (``WorkspaceKeys.secret``).
        origin: ``http(s)://host:port`` prefixed to issued URLs ("" = origin-relative).
        lifetime: seconds a URL stays valid.
        clock: the time source (Unix seconds), replaceable in tests.
    """

    def __init__(
        self,
        secret: bytes,
        origin: str = "",
        lifetime: int = URL_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()
        self.origin = origin
        self.lifetime = lifetime
        self._clock = clock

    def __repr__(self) -> str:  # never print key material
        return f"UrlSigner(origin={self.origin!r})"

    def signature(self, method: str, path: str, expire: int) -> str:
        """The ``s`` parameter for ``method`` on cleaned ``path`` until ``expire``."""
        message = f"{method}\n{path}\n{expire}".encode("utf-8", "surrogatepass")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def sign(self, method: str, path: str) -> SignedUrl:
        """A URL for ``method`` on the cleaned workspace path ``path``."""
        if method not in METHODS:
            raise ValueError(f"unsupported method {method}")
        expire = int(self._clock()) + self.lifetime
        query = urllib.parse.urlencode(
            {"m": method, "e": str(expire), "s": self.signature(method, path, expire)}
        )
        escaped = urllib.parse.quote(path, safe="/")
        return SignedUrl(f"{self.origin}{FS_PREFIX}{escaped}?{query}", method, expire)

    def verify(self, method: str, path: str, claimed_method: str, expire: str, sig: str) -> bool:
        """Whether a request for ``method`` on ``path`` carries a valid, unexpired signature.

        ``claimed_method``, ``expire`` and ``sig`` are the URL's ``m``, ``e`` and ``s``.
        """
        if claimed_method != method or not (expire.isascii() and expire.isdigit()):
            return False
        deadline = int(expire[:15])
        if deadline < self._clock():
            return False
        expected = self.signature(method, path, deadline)
        return hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace"))

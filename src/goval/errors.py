"""The one exception tree of goval.

Services and stores raise these; exactly one function (``goval.server.router.error_reply``) turns
an exception into the wire ``error`` reply, so the text a client sees is ``str(exc)``::

    GovalError                      every error a client may see, text = wire text
    ├── ProtocolViolation           malformed frames, unknown channels, bad channel-0 requests
    ├── Unsupported                 "unsupported command <field> on service <service>"
    ├── PermissionDenied            "permission denied: <what>"
    ├── FileError                   "<op> <path>: <reason>" (Go-style, clients match the reason)
    ├── ProcessError                "exit status N", "signal: NAME", "exec: ...", "already running"
    ├── OTError                     invalid ops, versions, links
    └── LimitExceeded               too many channels/cursors, message too long, value too large
    AuthError                       a token was refused; never sent as ``error``, closes 1008

Anything else raised by a service is a server fault: logged, answered
``internal error: <short description>``, and the connection is kept.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "FileError",
    "GovalError",
    "LimitExceeded",
    "OTError",
    "PermissionDenied",
    "ProcessError",
    "ProtocolViolation",
    "Unsupported",
]


class GovalError(Exception):
    """An error whose ``str()`` is the exact text sent to the client."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


class ProtocolViolation(GovalError):
    """The client broke the wire protocol (bad frame, foreign channel, bad channel-0 request)."""


class Unsupported(GovalError):
    """A body the service does not handle."""

    def __init__(self, field: str, service: str) -> None:
        super().__init__(f"unsupported command {field} on service {service}")
        self.field = field
        self.service = service


class PermissionDenied(GovalError):
    """The session's role may not do this."""

    def __init__(self, what: str) -> None:
        super().__init__(f"permission denied: {what}")
        self.what = what


class FileError(GovalError):
    """A file operation failed: ``<op> <path>: <reason>`` with a Go-style reason."""

    NOT_FOUND = "no such file or directory"
    EXISTS = "file exists"
    NOT_A_DIRECTORY = "not a directory"
    IS_A_DIRECTORY = "is a directory"
    PERMISSION_DENIED = "permission denied"
    TOO_LARGE = "file too large"
    INVALID_UTF8 = "invalid UTF-8"

    def __init__(self, op: str, path: str, reason: str) -> None:
        super().__init__(f"{op} {path}: {reason}")
        self.op = op
        self.path = path
        self.reason = reason


class ProcessError(GovalError):
    """A process could not start, or ended badly."""


class OTError(GovalError):
    """An OT request was refused; nothing was committed."""


class LimitExceeded(GovalError):
    """A configured limit was hit."""


class AuthError(Exception):
    """A token was refused; ``reason`` is the close-1008 reason (``invalid token``, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

"""Who a session is: roles and identities, shared by the server, services and the client.

Roles are ordered (read < write < owner) so "at least write" is a comparison.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Identity", "Role"]


class Role(enum.IntEnum):
    """A session's permission level; the strongest role in a token wins."""

    READ = 1
    WRITE = 2
    OWNER = 3

    @property
    def wire_name(self) -> str:
        """The role's name in tokens and ``User.roles``."""
        return self.name.lower()

    @classmethod
    def strongest(cls, names: list[str] | tuple[str, ...]) -> Role | None:
        """The strongest known role among ``names`` (unknown names ignored), or None."""
        known = [cls[name.upper()] for name in names if name.upper() in cls.__members__]
        return max(known) if known else None


@dataclass(frozen=True)
class Identity:
    """The user behind a session: from a token, or the local user in no-auth mode."""

    user_id: int
    name: str
    role: Role

"""goval: a self-hostable workspace server that speaks the goval protocol.

Public API (imported lazily, so ``import goval.ot`` stays light)::

    from goval import Server, ServerConfig, serve, connect, Client, errors
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from goval import errors
    from goval.client import Client, connect
    from goval.server.app import Server
    from goval.server.config import ServerConfig

__all__ = ["Client", "Server", "ServerConfig", "__version__", "connect", "errors", "serve"]
__version__ = "0.1.0"

_LAZY = {
    "Client": "goval.client",
    "connect": "goval.client",
    "Server": "goval.server.app",
    "ServerConfig": "goval.server.config",
    "errors": "goval.errors",
}


def __getattr__(name: str) -> Any:
    if name == "serve":
        return serve
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'goval' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    return module if name == "errors" else getattr(module, name)


async def serve(config: ServerConfig) -> Server:
    """Start a server for ``config`` and return it (call ``await server.aclose()`` to stop)."""
    from goval.server.app import Server

    server = Server(config)
    await server.start()
    return server

"""The server's configuration: one frozen dataclass built from the CLI (and tests)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from goval.host import Limits

__all__ = ["DEFAULT_PORT", "ServerConfig", "is_loopback"]

DEFAULT_PORT = 8283
MiB = 1024 * 1024


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: the only hosts --no-auth may listen on."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerConfig:
    """Every knob of one goval server. Limits follow protocol.md §3.7."""

    workspace: Path
    state_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    no_auth: bool = False
    compress: bool = False
    public_key_file: Path | None = None
    jwks_url: str | None = None
    max_message: int = 32 * MiB
    chat_history: int = 100
    max_channels_per_session: int = 256
    idle_timeout: float = 15 * 60.0
    send_budget: int = 4 * MiB
    send_queue_limit: int = 64 * MiB
    lag_timeout: float = 60.0
    heartbeat: float = 30.0
    shutdown_grace: float = 2.0
    env: dict[str, str] = field(default_factory=dict)
    # Workspace processes: rlimits (None = inherit the server's), listening-port poll (0 = off).
    process_cpu_seconds: int | None = None
    process_memory: int | None = None
    process_count: int | None = None
    process_file_size: int | None = None
    port_poll_interval: float = 0.5
    # The socket service dials loopback only unless this is set.
    socket_any_address: bool = False
    # Sleep (SLEEP, then shut down) after this many seconds without a client command; 0 = never.
    idle_sleep: float = 0.0
    # A bearer token that may read GET /metrics besides owner tokens (for a Prometheus scraper).
    metrics_token: str | None = None

    def __post_init__(self) -> None:
        if self.no_auth and not is_loopback(self.host):
            raise ValueError(f"--no-auth is only allowed on a loopback address, not {self.host}")

    def process_limits(self) -> Limits | None:
        """The rlimits of every workspace process, or None when none is configured."""
        limits = Limits(
            self.process_cpu_seconds,
            self.process_memory,
            self.process_count,
            self.process_file_size,
        )
        return None if limits == Limits() else limits

    @property
    def resolved_state_dir(self) -> Path:
        """The state directory: ``<workspace>/.goval`` unless configured (hidden from clients)."""
        return self.state_dir if self.state_dir is not None else self.workspace / ".goval"

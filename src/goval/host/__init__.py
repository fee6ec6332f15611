"""goval.host: the OS layer — processes, PTY terminals and their screens, listening ports.

Services reach the operating system only through these names. Nothing here knows about
protobuf, channels or WebSockets; output is delivered as decoded, coalesced text (§3.5).
"""

from goval.host.decoder import CHUNK_LIMIT, OutputCoalescer, Utf8Decoder, split_utf8, utf8_length
from goval.host.output import OutputPump
from goval.host.pipe import PipeProcess
from goval.host.ports import ListeningPort, PortWatcher, listening_sockets, parse_proc_net_tcp
from goval.host.process import ChildProcess, Limits, child_environment, launch, spawn_error
from goval.host.respawn import RespawnPolicy
from goval.host.screen import TerminalScreen
from goval.host.signals import describe_exit, signal_name
from goval.host.terminal import Terminal, default_shell

__all__ = [
    "CHUNK_LIMIT",
    "ChildProcess",
    "Limits",
    "ListeningPort",
    "OutputCoalescer",
    "OutputPump",
    "PipeProcess",
    "PortWatcher",
    "RespawnPolicy",
    "Terminal",
    "TerminalScreen",
    "Utf8Decoder",
    "child_environment",
    "default_shell",
    "describe_exit",
    "launch",
    "listening_sockets",
    "parse_proc_net_tcp",
    "signal_name",
    "spawn_error",
    "split_utf8",
    "utf8_length",
]

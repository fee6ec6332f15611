"""The private driver the ``eval`` service runs as ``python -u eval_driver.py <socket path>``.

It is a standalone script (standard library only, any Python 3.8+): it keeps one namespace for
the channel's whole life and talks to the server over a Unix socket, one JSON object per line:
``{"code": "..."}`` in; ``{"result": "<repr>"}`` (last statement an expression; ``""`` for
statements or a ``None`` value, as the REPL prints nothing then) or ``{"error": "<traceback>"}``
out, written only after stdout and stderr were flushed so the server can deliver an eval's
output before its reply. The user's program keeps stdin, stdout and stderr. SIGINT interrupts a
running eval (a ``KeyboardInterrupt`` traceback) and is ignored while idle. Tracebacks show the
user's frames only, never this file's.
"""

from __future__ import annotations

import ast
import builtins
import json
import linecache
import signal
import socket
import sys
import traceback
import types
from typing import Any

DRIVER_FILE = __file__
_running = False


def _on_sigint(signum: int, frame: types.FrameType | None) -> None:
    # Idle (waiting for the next eval): a stray Ctrl-C must not kill the interpreter.
    if _running:
        raise KeyboardInterrupt


def _strip_driver(summary: traceback.TracebackException) -> None:
    frames = [frame for frame in summary.stack if frame.filename != DRIVER_FILE]
    summary.stack = traceback.StackSummary.from_list(frames)
    for linked in (summary.__cause__, summary.__context__):
        if linked is not None:
            _strip_driver(linked)


def format_error(exc: BaseException) -> str:
    """The traceback of ``exc`` without the driver's own frames."""
    summary = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    _strip_driver(summary)
    return "".join(summary.format())


def _compile(code: str, filename: str) -> tuple[types.CodeType, types.CodeType | None]:
    tree = ast.parse(code, filename, "exec")
    last: ast.Expression | None = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body[-1].value)
        del tree.body[-1]
    statements = compile(tree, filename, "exec")
    return statements, None if last is None else compile(last, filename, "eval")


def evaluate(code: str, number: int, namespace: dict[str, Any]) -> dict[str, str]:
    """Run one eval in ``namespace``; the reply object for the server."""
    global _running
    filename = f"<eval-{number}>"
    # Registered so tracebacks (now and from functions defined here, later) show the source.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        statements, expression = _compile(code, filename)
        _running = True
        try:
            exec(statements, namespace)
            value = None if expression is None else eval(expression, namespace)
        finally:
            _running = False
        if value is None:
            return {"result": ""}
        namespace["_"] = value
        return {"result": repr(value)}
    except BaseException as exc:  # everything the user's code raises is reported
        _running = False
        return {"error": format_error(exc)}


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # a user-replaced stream may be broken
            pass


def main() -> None:
    path = sys.argv[1]
    sys.argv = [""]
    sys.path[0] = ""  # the workspace (our cwd), as in the interactive interpreter
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = module
    signal.signal(signal.SIGINT, _on_sigint)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(path)
    incoming = connection.makefile("r", encoding="utf-8")
    outgoing = connection.makefile("w", encoding="utf-8")
    for number, line in enumerate(incoming, 1):
        reply = evaluate(json.loads(line)["code"], number, module.__dict__)
        _flush()
        outgoing.write(json.dumps(reply) + "\n")
        outgoing.flush()


if __name__ == "__main__":
    main()

"""Catch stop signals from the first instant of an entry point, before anything is imported.

Python turns SIGINT into KeyboardInterrupt wherever the program is, which during
start-up means a traceback. Entry points import this module first (it needs only
the standard library): a stop signal is recorded, and the session, once it has
installed its own handlers, sees it and stops cleanly.
"""

from __future__ import annotations

import _signal  # the C module: `signal` imports enum, which alone takes milliseconds
import os

STOP_SIGNALS = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP)
received: list[int] = []
PPID = os.getppid()  # the parent at start: a later change means it died


def _record(signum: int, frame: object) -> None:
    received.append(signum)


def catch(before: list[int] | None = None) -> None:
    """Record stop signals from now on; `before`: those a caller caught before us. A launcher
    may start Python with them blocked (scripts/tracer): they are let in once handled."""
    for sig in STOP_SIGNALS:
        _signal.signal(sig, _record)
    received[:0] = before or []
    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, STOP_SIGNALS)


catch()

"""The interface every subsystem's event source offers to the session loop."""

from __future__ import annotations

from typing import Protocol

from tracer.pipeline.writer import TraceWriter


class EventSource(Protocol):
    def start(self) -> None:
        """Attach everything; on failure release what was attached and raise TracerError."""

    def poll(self, timeout: float, writer: TraceWriter) -> None:
        """Wait up to `timeout` seconds for events and write all that are ready."""

    def close(self, writer: TraceWriter) -> None:
        """Detach everything (idempotent), then write the events still buffered."""

    def notes(self) -> list[str]:
        """`#` lines to write at the end (for example a container that exited)."""

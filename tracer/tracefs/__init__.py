"""A small libtracefs in Python: locate tracefs, instances, events, dynamic events."""

from tracer.tracefs.mount import find_tracefs

__all__ = ["find_tracefs"]

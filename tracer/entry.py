"""The `tracer` command's entry point: stop signals are caught before anything else loads."""

import tracer.early  # noqa: F401  (first: see its docstring)
from tracer.cli import main

__all__ = ["main"]

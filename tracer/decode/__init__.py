"""strace-grade decoding of syscall events: `make_formatter` (text) and `make_json` (typed)."""

from tracer.decode.format import Formatter, JsonMaker, make_formatter, make_json

__all__ = ["Formatter", "JsonMaker", "make_formatter", "make_json"]

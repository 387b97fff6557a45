"""tracer: a Linux kernel tracer built on BCC and tracefs."""

__version__ = "0.1.0"

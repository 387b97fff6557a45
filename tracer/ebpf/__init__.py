"""The ebpf subsystem: per-PID tail-call dispatch of syscall handlers, compiled by BCC."""

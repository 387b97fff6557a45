"""`tracer trace`: per-PID syscall handler sets, changed while tracing (`tracer ctl`)."""

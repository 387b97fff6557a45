"""The ftrace subsystem: plain tracefs hooks, no eBPF."""

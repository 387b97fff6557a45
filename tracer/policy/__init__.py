"""TracingPolicy files (Tetragon's schema) compiled into BPF programs of the per-PID dispatch:
schema (check the file) -> plan (resolve against the kernel) -> codegen (#defines around bpf/
templates) -> engine (load, fill filter maps, attach) -> format (text or JSON lines)."""

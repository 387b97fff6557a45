"""ebpf-packets: per-target packet capture on tc and cgroup hooks, with the owning process."""

"""Containers: find them by id or name, list their host PIDs, tag events with their id.

Everything comes from /proc/*/cgroup (through TRACER_PROCFS_PATH) and the cgroup
v2 tree (through TRACER_SYSFS_PATH); the podman and docker CLIs, when present,
only add names.
"""

from tracer.containers.cache import container_of, container_of_cgroup, forget, note_fork
from tracer.containers.model import Container
from tracer.containers.resolve import MIN_PREFIX, resolve, running_containers
from tracer.containers.unified import cgroup_id, cgroup_level, is_running

__all__ = [
    "MIN_PREFIX", "Container", "cgroup_id", "cgroup_level", "container_of", "container_of_cgroup",
    "forget", "is_running", "note_fork", "resolve", "running_containers",
]

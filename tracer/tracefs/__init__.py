"""A small libtracefs in Python: locate tracefs, instances, events, dynamic events.

    find_tracefs()                       where tracefs is (honours TRACER_PROCFS_PATH/SYSFS_PATH)
    Instance.create(stem) / .destroy()   a private ring buffer named tracer_<stem>_<pid>
    instance.enable(system, event)       events, filters, PID filters, trace_pipe, overruns
    dynevent.kprobe_alloc(...).create()  kprobes/uprobes with libtracefs semantics
"""

from tracer.tracefs.dynevent import DynEvent, DynEventError
from tracer.tracefs.instance import Instance
from tracer.tracefs.mount import find_tracefs

__all__ = ["DynEvent", "DynEventError", "Instance", "find_tracefs"]

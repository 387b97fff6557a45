"""The ebpf-packets hook's description (registered with the ebpf hooks)."""

from __future__ import annotations

from tracer import capabilities as cap
from tracer.capabilities import Capabilities
from tracer.hooks.spec import EventSource, Hook, Option


def mechanism(caps: Capabilities) -> str:
    buf = "BPF ring buffer" if caps.has(cap.RINGBUF) else "no ring buffer"
    return ("tc clsact ingress+egress BPF programs (attached with pyroute2) on our end of each veth"
            " into the target's network namespace; cgroup_skb, cgroup sock_create/post_bind and"
            " connect/sendmsg programs (BPF links) on the target's cgroup v2 directory name each"
            " packet's owning process; a target in the host network namespace (no namespace of"
            " its own, or a host-network container) is captured by the cgroup_skb programs alone,"
            " keeping only its own sockets' packets (sched_process_fork/exec/exit tracepoints keep"
            f" the set of its PIDs); events through the {buf}")


def run(hook: Hook, *args: object) -> EventSource:
    """The source, imported only when the hook runs (BCC and pyroute2 are not needed before)."""
    from tracer.net.source import create

    return create(hook, *args)


HOOK = Hook(
    name="ebpf-packets", subsystem="ebpf",
    summary="the network packets of the traced processes or containers, with the process owning each",
    traces="every packet entering or leaving the targets' network namespace, and their loopback"
           " traffic (for a target sharing the host's namespace, its own sockets): TIMESTAMP"
           " COMM PID/TID [CONTAINER] in|out IFACE[@HOST_END] PROTO SRC:PORT > DST:PORT len N"
           " [TCP flags]; COMM PID/TID is '? ?' for a packet no socket of a target owns",
    runner=run,
    options=(
        Option("--proto", "keep only this protocol (filtered in the kernel)", kind="choice",
               choices=("tcp", "udp", "icmp")),
        Option("--port", "keep only packets with this source or destination port (in the kernel)",
               kind="int", metavar="PORT"),
    ),
    requires=(cap.BCC, cap.HEADERS, cap.RINGBUF),
    mechanism=mechanism,
    formats=("text", "json", "pcapng"),
    example='./manager --run ebpf-packets --args "--container web --format pcapng --proto tcp --port 80"',
)

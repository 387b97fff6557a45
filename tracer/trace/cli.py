"""The `trace` and `ctl` verbs (tracer/cli.py finds this module's register())."""

from __future__ import annotations

import argparse
import os
import sys

from tracer.errors import TracerError

TRACE_HELP = """SPEC is [PID[,PID...]:]HANDLER[,HANDLER...]. A HANDLER is a syscall name, a
family (files, process, network) or the path of a handler file written with
bpf/api.h (see bpf/examples/). Without PIDs, the handlers form the default set:
every process without a set of its own uses it. PIDs given in one SPEC share a
handler set. Children follow their parent unless --no-follow-forks.
Example: tracer trace 1234,5678:openat,read 999:network files
Change it while it runs with 'tracer ctl'."""

CTL_HELP = """add SPEC...            add handlers (same SPEC as 'tracer trace')
remove PID[:HANDLER,...]  remove a PID's handlers (all of them without ':'),
                          or HANDLER,... alone: from the default set
list                   show who is traced with what"""


def _trace(ns: argparse.Namespace) -> int:
    if ns.summary:
        from tracer.views import summary

        return summary.run_trace(ns.specs, ns.output, ns.follow, ns.interval)
    from tracer.trace import runner

    return runner.run(ns.specs, ns.output, ns.format, ns.follow)


def _absolute(handlers_spec: str) -> str:
    """Handler file paths are the client's: make them absolute for the tracer."""
    from tracer.trace import spec as sp

    s = sp.parse(handlers_spec)
    hs = ",".join(os.path.abspath(h) if sp.is_file(h) else h for h in s.handlers)
    return f"{','.join(s.targets)}:{hs}" if s.targets else hs


def _ctl(ns: argparse.Namespace) -> int:
    from tracer.trace import control

    if os.geteuid() != 0:
        raise TracerError("'tracer ctl' needs root: the control socket of a running 'tracer trace'"
                          " is root's only; run it as root (sudo tracer ctl ...)")
    if ns.op == "add":
        req = {"op": "add", "specs": [_absolute(s) for s in ns.specs]}
    elif ns.op == "remove":
        req = {"op": "remove", "targets": [t if ":" not in t and "/" not in t else _absolute(t)
                                           for t in ns.targets]}
    else:
        req = {"op": "list"}
    reply = control.request(control.find(ns.to), req)
    if not reply.get("ok"):
        raise TracerError(str(reply.get("error", "the tracer refused the request")))
    for line in reply.get("lines", []):
        sys.stdout.write(line + "\n")
    if ns.op != "list" and ns.verbose:
        extra = f" (+{reply['compile_ms']} ms compiling)" if reply.get("compile_ms") else ""
        sys.stdout.write(f"applied in {reply.get('ms')} ms{extra}\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("trace", help="trace chosen syscalls with per-PID handler sets, until Ctrl-C",
                       description=TRACE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("specs", nargs="+", metavar="SPEC")
    t.add_argument("-o", "--output", metavar="FILE", help="write the trace here, not to stdout")
    t.add_argument("--format", choices=("text", "json", "strace"), default="text",
                   help="strace: lines as strace -f -ttt -T writes them")
    t.add_argument("--summary", action="store_true",
                   help="count in the kernel and print strace -c tables instead of one line per"
                        " call (SPEC: PID:SYSCALLS, 'all' for every syscall)")
    t.add_argument("--interval", type=int, default=10, metavar="SECONDS",
                   help="with --summary: seconds between two tables (default 10)")
    t.add_argument("--no-follow-forks", dest="follow", action="store_false",
                   help="children do not inherit their parent's handlers")
    t.set_defaults(func=_trace)

    c = sub.add_parser("ctl", help="change a running 'tracer trace' (root only)",
                       description=CTL_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--to", type=int, metavar="PID", help="the tracer to talk to, when several run")
    c.add_argument("-v", "--verbose", action="store_true", help="also print how long the change took")
    ops = c.add_subparsers(dest="op", required=True)
    a = ops.add_parser("add", help="add handlers")
    a.add_argument("specs", nargs="+", metavar="SPEC")
    r = ops.add_parser("remove", help="remove handlers")
    r.add_argument("targets", nargs="+", metavar="PID[:HANDLER,...]")
    ops.add_parser("list", help="show who is traced with what")
    c.set_defaults(func=_ctl)

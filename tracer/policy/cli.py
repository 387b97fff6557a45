"""`tracer policy FILE.yaml [--pid ...|--container ...]`: run a TracingPolicy file locally."""

from __future__ import annotations

import argparse
import os
import sys

from tracer.errors import TracerError

HELP = """Compile a TracingPolicy (apiVersion cilium.io/v1alpha1, kind TracingPolicy) into
BPF programs and print one line per event until Ctrl-C. Without --pid or
--container the policy applies to every process (as in Tetragon). --check only
validates the file against this kernel and prints what each hook point runs on."""


def _policy(ns: argparse.Namespace) -> int:
    from tracer import capabilities, targets
    from tracer.hooks.options import HookOptions, check_pid, parse_size
    from tracer.hooks.spec import Hook
    from tracer.pipeline import session
    from tracer.pipeline.writer import TraceWriter
    from tracer.policy import hookdefs, source

    stop = session.install_stop_handlers()
    caps = capabilities.probe()
    path = os.path.abspath(ns.file)
    plan = source.compile_file(path, caps)  # every policy error before anything is attached
    if ns.check:
        print(f"policy {plan.policy.name}: valid; {hookdefs.mechanism(path_obj(path), caps)}")
        return 0
    if os.geteuid() != 0:
        raise TracerError("tracer policy needs root (BPF and tracefs are root's): run it as root")
    opts = HookOptions(pids=[check_pid(p) for p in ns.pid], containers=ns.container, format=ns.format,
                       follow_forks=not ns.no_follow_forks,
                       buffer_size=parse_size(ns.buffer_size) if ns.buffer_size else None)
    opts.policy_file = path
    hook = Hook(name=f"policy-{plan.policy.name}", subsystem="ebpf", summary="", traces="",
                runner=hookdefs.run)
    who = targets.resolve(opts.pids, opts.containers, opts.follow_forks)
    src = source.create(hook, opts, who, caps)
    if ns.output and ns.output != "-":
        fd = os.open(ns.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    else:
        sys.stdout.flush()
        fd = os.dup(1)
    writer = TraceWriter(fd)
    try:
        src.start()
    except BaseException:
        os.close(fd)
        raise
    writer.note(f"policy {plan.policy.name}: {len(plan.hooks)} hook point(s) attached")
    writer.flush()
    try:
        while not stop.stopped:
            src.poll(session.POLL_INTERVAL, writer)
            writer.flush()
    finally:
        try:
            src.close(writer)
        finally:
            writer.finish(src.notes())
    return 0


def path_obj(path: str):  # noqa: ANN201
    from pathlib import Path

    return Path(path)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("policy", help="run a TracingPolicy YAML file (Tetragon's schema)",
                       description=HELP)
    p.add_argument("file", help="the TracingPolicy file")
    p.add_argument("--pid", nargs="+", action="extend", default=[], metavar="PID",
                   help="only these processes (and their children)")
    p.add_argument("--container", nargs="+", action="extend", default=[], metavar="ID|NAME",
                   help="only these containers")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--no-follow-forks", action="store_true")
    p.add_argument("--buffer-size", metavar="SIZE")
    p.add_argument("-o", "--output", metavar="FILE", help="write lines here (default: stdout)")
    p.add_argument("--check", action="store_true", help="validate and show the plan; attach nothing")
    p.set_defaults(func=_policy)

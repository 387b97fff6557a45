"""The `tracer` command: doctor, hooks, describe, run, clear, trace, ctl, containers."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from tracer.errors import TracerError, usage_message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise TracerError(f"{usage_message(message)}; see 'tracer --help'")


def _doctor(ns: argparse.Namespace) -> int:
    from tracer import capabilities
    from tracer.ebpf import frontend, selftest

    caps = capabilities.probe()
    if not ns.fast:
        caps = selftest.verified(caps)
    print(f"kernel {caps.release}")
    for line in caps.lines():
        print(line)
    print(f"ebpf syscall handlers attach with: {frontend.describe(caps)}")
    return 0


def _hooks(ns: argparse.Namespace) -> int:
    from tracer import capabilities
    from tracer.hooks import registry

    caps = capabilities.probe()
    for h in registry.hooks():
        why = h.why_unavailable(caps)
        print(f"{h.name:<18} {h.summary}" + (f"  [unavailable: {why}]" if why else ""))
    return 0


def _describe(ns: argparse.Namespace) -> int:
    from tracer import capabilities
    from tracer.hooks import options, registry

    print("\n".join(options.describe(registry.get(ns.hook), capabilities.probe())))
    return 0


def _run(ns: argparse.Namespace) -> int:
    from tracer.manager import run_hook

    return run_hook(ns.hook, shlex.join(ns.args), None)


def _clear(ns: argparse.Namespace) -> int:
    from tracer import cleanup

    lines = cleanup.clear()
    print("\n".join(lines) if lines else "nothing of ours left in the kernel")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tracer", description="Linux kernel tracer built on BCC and tracefs")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    d = sub.add_parser("doctor", help="what this kernel can and cannot do, with reasons")
    d.add_argument("--fast", action="store_true", help="read files only, load no BPF program")
    d.set_defaults(func=_doctor)
    sub.add_parser("hooks", help="list every hook").set_defaults(func=_hooks)
    ds = sub.add_parser("describe", help="describe a hook")
    ds.add_argument("hook")
    ds.set_defaults(func=_describe)
    r = sub.add_parser("run", help="run a hook until Ctrl-C; prints the trace file's path")
    r.add_argument("hook")
    r.add_argument("args", nargs=argparse.REMAINDER, help="the hook's options, e.g. --pid 1234")
    r.set_defaults(func=_run)
    sub.add_parser("clear", help="remove what a killed run left in the kernel").set_defaults(func=_clear)
    from tracer.containers import cli as containers_cli
    from tracer.policy import cli as policy_cli
    from tracer.trace import cli as trace_cli
    from tracer.views import cli as views_cli

    trace_cli.register(sub)  # trace, ctl
    containers_cli.register(sub)  # containers
    views_cli.register(sub)  # export
    policy_cli.register(sub)  # policy
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        ns = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
        return ns.func(ns)
    except TracerError as e:
        sys.stderr.write(f"tracer: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`tracer hooks | head`): as cat does, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
        return 141
    except Exception as e:  # a bug: still one line, never a traceback
        sys.stderr.write(f"tracer: internal error: {type(e).__name__}: {e}\n")
        return 1

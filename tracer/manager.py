"""The trace-hooks manager contract, one implementation for every subsystem.

container-tracer runs `./manager.py --get-all`, `--describe HOOK`, `--clear`,
`--run HOOK --args "..."` from trace-hooks/<subsystem>/. Every failure is one
line on stderr and a non-zero exit, with nothing on stdout.
"""

from __future__ import annotations

import argparse
import os
import sys

from tracer.errors import TracerError, quote, usage_message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise TracerError(f"{usage_message(message)}; usage: manager --get-all | --describe HOOK | --clear"
                          " | --run HOOK --args \"--pid PID...\"")


def _parser(subsystem: str) -> argparse.ArgumentParser:
    p = _Parser(prog=f"trace-hooks/{subsystem}/manager", add_help=False, allow_abbrev=False)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--get-all", action="store_true")
    g.add_argument("--describe", metavar="HOOK")
    g.add_argument("--clear", action="store_true")
    g.add_argument("--run", metavar="HOOK")
    g.add_argument("--help", "-h", action="store_true")
    p.add_argument("--args", default="")
    return p


def run_hook(name: str, args: str, subsystem: str | None) -> int:
    """`--run`: validate everything before touching the kernel, then play the session."""
    from tracer import capabilities, early, targets
    from tracer.hooks import options, registry
    from tracer.pipeline import session

    stop = session.install_stop_handlers(early.PPID)  # before anything is attached
    for sig in early.received:  # a stop asked for while we were starting
        stop(sig, None)
    hook = registry.get(name, subsystem)
    opts = options.parse(hook, args)  # a bad input is named as such, on any kernel
    if os.geteuid() != 0:
        raise TracerError(f"--run {quote(name)} needs root (tracefs and BPF are root's): run it as root")
    caps = capabilities.probe()
    why = hook.why_unavailable(caps)
    if why:
        raise TracerError(f"hook {name} cannot run on this kernel: {why}")
    who = targets.resolve(opts.pids, opts.containers, opts.follow_forks)
    return session.run(hook, opts, who, caps, stop=stop)


def _tracefs_where_bcc_looks(raise_error: bool) -> str | None:
    """Mount tracefs in our own mount namespace where the DaemonSet layout hides it."""
    from tracer import paths
    from tracer.tracefs import mountns

    try:
        mountns.ensure_tracefs(paths.sysfs())
    except TracerError as e:
        if raise_error:
            raise
        return str(e)
    return None


def get_all(subsystem: str, caps: object, mount_error: str | None = None) -> list[str]:
    """The hooks that run here. The agent discards the stderr of --get-all and shows no
    manager for an empty list, so when none can run, every hook is listed anyway: its
    --run then fails with the reason on stderr, which the agent does show."""
    from tracer.hooks import registry

    hooks = registry.hooks(subsystem)
    # every --run needs tracefs (its syscall formats, its instances): without it none runs
    no_tracefs = mount_error or (None if getattr(caps, "tracefs", None) else caps.reason("tracefs"))  # type: ignore[attr-defined]
    names = [] if no_tracefs else [h.name for h in hooks if not h.why_unavailable(caps)]  # type: ignore[arg-type]
    if names:
        return names
    why = no_tracefs or next((h.why_unavailable(caps) for h in hooks), None)  # type: ignore[arg-type]
    sys.stderr.write(f"{subsystem} manager: no hook can run here: {why}\n")
    return [h.name for h in hooks]


def main(subsystem: str, argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        ns = _parser(subsystem).parse_args(argv)
        if ns.help:
            _parser(subsystem).print_help()
            return 0
        mount_error = _tracefs_where_bcc_looks(raise_error=bool(ns.run))
        if ns.get_all or ns.describe:
            from tracer import capabilities
            from tracer.hooks import options, registry

            caps = capabilities.probe()
            if ns.get_all:
                sys.stdout.write("".join(f"{n}\n" for n in get_all(subsystem, caps, mount_error)))
            else:
                sys.stdout.write("\n".join(options.describe(registry.get(ns.describe, subsystem), caps))
                                 + "\n")
            return 0
        if ns.clear:
            from tracer import cleanup

            for line in cleanup.clear():
                sys.stdout.write(line + "\n")
            return 0
        return run_hook(ns.run, ns.args, subsystem)
    except TracerError as e:
        sys.stderr.write(f"{subsystem} manager: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:  # a stop before our handlers were in place: nothing was attached
        return 130
    except Exception as e:  # never a traceback for the agent: one line, non-zero
        sys.stderr.write(f"{subsystem} manager: internal error: {type(e).__name__}: {e}\n")
        return 1

"""The `export` verb (tracer/cli.py finds this module's register())."""

from __future__ import annotations

import argparse
import sys


def _export(ns: argparse.Namespace) -> int:
    from tracer.views import calls

    found = calls.read(ns.file)
    if ns.to == "ctf":
        from tracer.views import ctf

        where = ctf.write(found, ns.out)
    else:
        from tracer.views import perfetto

        where = perfetto.write(found, ns.out)
    sys.stdout.write(f"{where}\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("export", help="convert a --format json trace to CTF (LTTng kernel"
                       " conventions: babeltrace2, Trace Compass, lttng-analyses) or Perfetto",
                       description="FILE is a trace written with --format json (it keeps raw values"
                       " and call durations). ctf: OUT is a new directory, the trace goes to"
                       " OUT/kernel as LTTng lays it out. perfetto: OUT is the protobuf trace file"
                       " (open it in ui.perfetto.dev).")
    e.add_argument("file", metavar="FILE")
    e.add_argument("--to", choices=("ctf", "perfetto"), required=True)
    e.add_argument("out", metavar="OUT")
    e.set_defaults(func=_export)

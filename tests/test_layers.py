"""Imports point down: every module of tracer/ sits in a declared layer and imports only
from its own layer or the ones below, and no module imports itself back through others.
Every import counts: at the top of a file, inside a function, or for type checking only.
The layer order is written here and nowhere else."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "tracer"

# Lowest first. A module belongs to the layer of the longest prefix that names it
# (a prefix names the module itself and the modules under it).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("tracer.__init__", "tracer.errors", "tracer.paths", "tracer.procfs", "tracer.bootstrap",
              "tracer.early", "tracer.safefile")),
    ("kernel interfaces and output", (
        "tracer.tracefs", "tracer.syscalls", "tracer.containers", "tracer.pipeline.writer",
        "tracer.pipeline.tracefile", "tracer.ebpf.bccmodule", "tracer.ebpf.compile", "tracer.ebpf.record",
        "tracer.ebpf.cheader", "tracer.ebpf.ringbuf",
    )),
    ("what the kernel can do; decoding and trace formats",
     ("tracer.capabilities", "tracer.decode", "tracer.views")),
    ("hooks as data; targets", ("tracer.hooks", "tracer.targets", "tracer.ebpf.selftest")),
    ("session loop and engines", ("tracer.pipeline", "tracer.ebpf", "tracer.ftrace", "tracer.net",
                                  "tracer.policy")),
    ("tracer trace, views, and the hook descriptions that run them",
     ("tracer.trace", "tracer.views.summary", "tracer.ebpf.hookdefs", "tracer.ftrace.hookdefs",
      "tracer.net.hookdef", "tracer.policy.hookdefs")),
    ("entry points and the hook catalogue", (
        "tracer.hooks.registry", "tracer.manager", "tracer.cli", "tracer.cleanup", "tracer.__main__",
        "tracer.entry",
        "tracer.containers.cli", "tracer.trace.cli", "tracer.views.cli", "tracer.policy.cli",
    )),
)


def modules(pkg: Path = PKG) -> dict[str, Path]:
    """Module name -> file; a package is named by its __init__ (tracer.hooks.__init__)."""
    return {".".join(f.relative_to(pkg.parent).with_suffix("").parts): f for f in pkg.rglob("*.py")}


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The tracer modules `path` imports (`from tracer.x import y` names tracer.x.y when y
    is a module, tracer.x otherwise)."""

    def name(mod: str) -> str:
        return mod if mod in known else f"{mod}.__init__"

    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "tracer":
                for a in node.names:
                    sub = f"{node.module}.{a.name}"
                    out.add(name(sub) if name(sub) in known else name(node.module))
        elif isinstance(node, ast.Import):
            out.update(name(a.name) for a in node.names if a.name.split(".")[0] == "tracer")
    return out


def graph(pkg: Path = PKG) -> dict[str, set[str]]:
    known = modules(pkg)
    return {m: {t for t in imports(f, known) if t != m} for m, f in known.items()}


def layer_of(module: str) -> int | None:
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    return rank


def upward(g: dict[str, set[str]]) -> list[str]:
    out = []
    for mod, targets in g.items():
        for t in targets:
            lm, lt = layer_of(mod), layer_of(t)
            if lm is not None and lt is not None and lt > lm:
                out.append(f"{mod} ({LAYERS[lm][0]}) imports {t} ({LAYERS[lt][0]})")
    return sorted(out)


def cycles(g: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []
    found: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(g.get(m, ())):
            if state.get(t) == 1:
                found.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    return found


def test_every_module_has_a_layer():
    missing = sorted(m for m in modules() if layer_of(m) is None)
    assert not missing, f"give these modules a layer in tests/test_layers.py LAYERS: {missing}"


def test_imports_point_down():
    up = upward(graph())
    assert not up, "imports pointing up:\n" + "\n".join(up)


def test_no_import_cycle():
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(found)


def test_the_walk_finds_an_upward_import_and_a_cycle(tmp_path):
    """A low module importing a high one inside a function, and two modules importing
    each other, are found: a green run of the tests above means something."""
    pkg = tmp_path / "tracer"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("def f():\n    from tracer import cli\n")
    (pkg / "cli.py").write_text("from tracer.errors import f\n")
    g = graph(pkg)
    assert g["tracer.errors"] == {"tracer.cli"} and g["tracer.cli"] == {"tracer.errors"}
    assert upward(g) == ["tracer.errors (base) imports tracer.cli (entry points and the hook catalogue)"]
    assert cycles(g) == ["tracer.cli -> tracer.errors -> tracer.cli"]

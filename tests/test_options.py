"""--args parsed into typed HookOptions: every hook's own options have a field of their own."""

from __future__ import annotations

import dataclasses
import os
import shlex

import pytest

from tracer.hooks import options, registry

FIELDS = {f.name: f for f in dataclasses.fields(options.HookOptions)}


@pytest.mark.parametrize("hook", registry.hooks(), ids=lambda h: h.name)
def test_every_option_of_every_hook_has_a_typed_field(hook):
    for opt in hook.options:
        assert opt.dest in FIELDS, f"{hook.name} {opt.flag}"
        assert FIELDS[opt.dest].type != "Any", f"{hook.name} {opt.flag}"


@pytest.mark.parametrize("hook", registry.hooks(), ids=lambda h: h.name)
def test_each_hook_example_parses_into_its_fields(hook):
    if not hook.example:
        pytest.skip(f"{hook.name} has no example")
    args = shlex.split(hook.example)[-1].replace("1234", str(os.getppid()))
    opts = options.parse(hook, args)
    assert opts.pids == [os.getppid()] or opts.containers
    given = {o.dest for o in hook.options if o.flag in args}
    for name in given:
        assert getattr(opts, name) is not None, name
    if "--syscalls" in args:
        assert opts.syscalls == ["openat", "read"]
    if "--interval" in args:
        assert opts.interval == 5
    if "--port" in args:
        assert opts.port == 80 and opts.proto == "tcp"

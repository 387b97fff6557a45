"""The ftrace-* hooks (filled in by the ftrace subsystem work)."""

from tracer.hooks.spec import Hook

HOOKS: tuple[Hook, ...] = ()

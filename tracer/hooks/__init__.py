"""Hooks are data: a registry of descriptions, each naming the runner that plays it."""

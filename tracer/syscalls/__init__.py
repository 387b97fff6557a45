"""Syscall knowledge: numbers, tracefs formats, families, capture specs."""

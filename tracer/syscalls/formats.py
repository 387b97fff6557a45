"""Read tracefs's events/syscalls/*/format files: the kernel's own list of its syscalls
and the type and name of every argument (read at start-up, so the layouts are this kernel's own)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FIELD = re.compile(r"field:(?P<decl>[^;]+);\s*offset:(?P<off>\d+);\s*size:(?P<size>\d+);"
                    r"\s*signed:(?P<signed>\d);")


@dataclass(frozen=True)
class Field:
    type: str  # C type as the kernel wrote it, e.g. "const char *"
    name: str
    offset: int
    size: int
    signed: bool


@dataclass(frozen=True)
class EventFormat:
    name: str
    id: int
    fields: tuple[Field, ...]  # without the common_* header fields

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def parse_field_decl(decl: str) -> tuple[str, str]:
    """'const char * filename' -> ('const char *', 'filename'); arrays keep their brackets in the type."""
    decl = decl.strip()
    m = re.match(r"(?P<type>.*?)(?P<name>[A-Za-z_]\w*)\s*(?P<arr>\[[^\]]*\])?$", decl)
    if not m:
        return decl, ""
    typ = (m.group("type").strip() + (m.group("arr") or "")).strip()
    return typ, m.group("name")


def parse_format(text: str) -> EventFormat:
    name = re.search(r"^name:\s*(\S+)", text, re.M)
    ident = re.search(r"^ID:\s*(\d+)", text, re.M)
    fields = []
    for m in _FIELD.finditer(text):
        typ, fname = parse_field_decl(m.group("decl"))
        if fname.startswith("common_"):
            continue
        fields.append(Field(typ, fname, int(m.group("off")), int(m.group("size")),
                            m.group("signed") == "1"))
    return EventFormat(name.group(1) if name else "", int(ident.group(1)) if ident else -1,
                       tuple(fields))


def read_format(tracefs: Path, system: str, event: str) -> EventFormat:
    return parse_format((tracefs / "events" / system / event / "format").read_text())

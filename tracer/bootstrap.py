"""Let an entry point (a manager run by path) import the project and its dependencies.

Managers are started as `./manager.py` by container-tracer with the system
Python (the one Debian's python3-bpfcc serves); the project's virtualenv,
created by scripts/setup.sh with --system-site-packages, holds the rest.
"""

from __future__ import annotations

import glob
import site
import sys
from pathlib import Path


def use_project_env(root: Path) -> None:
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    for sp in glob.glob(str(root / ".venv/lib/python3*/site-packages")):
        site.addsitedir(sp)

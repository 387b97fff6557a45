import sys

import tracer.early  # noqa: F401,I001  (first: stop signals are caught from here on)
from tracer.cli import main

sys.exit(main())

"""``python -m metrics_toolkit.cli``: the command line."""

import sys

from . import main

__all__: list[str] = []

sys.exit(main())

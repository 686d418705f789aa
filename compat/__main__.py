"""``python -m compat`` is ``smp-compat``."""

from compat.cli import run

run()

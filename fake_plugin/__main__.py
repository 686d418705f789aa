"""``python -m fake_plugin ARG...`` behaves as ``session-manager-plugin ARG...``."""

from fake_plugin.program import run

run()

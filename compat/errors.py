"""The kit's two kinds of failure, the roots every package's own exceptions derive from.

- :class:`UserError`: bad input from the user; the CLI prints it as one line, never as a
  traceback.
- :class:`KitError`: the kit itself failed (a bug, a broken environment); a cell that meets
  one is ``error harness-error``, never a verdict on the tool.

Each package keeps its own classes in its ``errors`` module (``compat/agent/errors.py``,
``fake_plugin/errors.py`` for the plugin, which never imports ``compat``).
"""

from __future__ import annotations

__all__ = ["KitError", "UserError"]


class UserError(Exception):
    """Bad input from the user (a flag, a file, a name): say what, where, and what to do."""


class KitError(Exception):
    """The kit failed, not the tool and not the user: the message names what failed."""

"""The kit's two kinds of failure, the roots every package's own exceptions derive from.

- :class:`UserError`: bad input from the user; the CLI prints it as one line, never as a
  traceback.
- :class:`KitError`: the kit itself failed (a bug, a broken environment); a cell that meets
  one is ``error harness-error``, never a verdict on the tool.

Each package keeps its own classes in its ``errors`` module (``compat/adapter/errors.py``,
``compat/runner/errors.py`` also for ``runner/container``..., ``fake_plugin/errors.py`` for
the plugin, which never imports ``compat``), each derived from one of these two, its docstring
saying why; one that must also be a builtin for its callers adds it
(``class UnknownSessionError(KitError, KeyError)``). A package may catch its own
:class:`KitError` before a cell meets it, when it means something else there: an installer's
error (``compat/install/errors.py``) makes the cell ``skipped``. The exceptions:
``compat/fakeaws/errors.py`` names the two moto ``ServiceException`` subclasses that stay
beside the moto code, and a private class used inside one module stays there
(``tests/test_error_modules.py`` checks all of it).
"""

from __future__ import annotations

__all__ = ["CompileError", "KitError", "UserError"]


class UserError(Exception):
    """Bad input from the user (a flag, a file, a name): say what, where, and what to do."""


class KitError(Exception):
    """The kit failed, not the tool and not the user: the message names what failed."""


class CompileError(KitError):
    """One of the kit's C programs could not be compiled here (``compat.compiled``); each user
    says what it then does (the launcher falls back to the shim, the jail to less isolation,
    container cells are skipped)."""

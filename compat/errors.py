"""Errors a user can cause: the CLI prints them as one line, never as a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user (a flag, a file, a name): say what, where, and what to do."""

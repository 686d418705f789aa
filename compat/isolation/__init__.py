"""Isolation of code under test: the kit's own clean environment, the cell jail (issue 13).

Kept light: ``compat.cli`` imports :mod:`compat.isolation.kitenv` before anything else.
"""

"""What code under test can reach (docs/isolation.md): the kit's own environment, the jail.

Kept light: ``compat.cli`` imports :mod:`compat.isolation.kitenv` before anything else;
:mod:`compat.isolation.jail` (with ``jail.c``) is what every tool, version check and install
runs under.
"""

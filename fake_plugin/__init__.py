"""A faithful emulator of AWS's session-manager-plugin, release by release.

It is a standalone program (``python -m fake_plugin ARG...``) that never imports the
harness in ``compat``. Keep this module free of imports: the fast command-line branches
(install text, ``--version``, errors) must start as fast as a bare interpreter.
"""

"""Installers for the programs a ``run`` variant needs from a package registry (npm)."""

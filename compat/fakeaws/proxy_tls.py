"""moto's proxy package, imported without its logging setup; its CA and the per-host
certificates it mints with ``openssl``, in a directory of ours."""

from __future__ import annotations

import importlib
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moto.moto_proxy.certificate_creator import CertificateCreator


def load_moto_proxy() -> None:
    """Import ``moto.moto_proxy`` and undo what its import does to logging.

    It runs ``logging.basicConfig(stream=sys.stdout)``: left in place, every warning of any
    library would print on the kit's stdout. Call this before any ``moto.moto_proxy`` import.
    """
    root = logging.getLogger()
    before = list(root.handlers)
    importlib.import_module("moto.moto_proxy")
    for extra in [h for h in root.handlers if h not in before]:
        root.removeHandler(extra)
    logging.getLogger("MOTO_PROXY").setLevel(logging.WARNING)


def ca_bundle_path() -> Path:
    """moto's CA certificate: the bundle a client needs to trust the proxy's TLS."""
    load_moto_proxy()
    from moto.moto_proxy.certificate_creator import CertificateCreator  # noqa: PLC0415

    return Path(CertificateCreator.cacert)


def certificates_in(cert_dir: Path) -> type[CertificateCreator]:
    """moto's certificate creator, minting into ``cert_dir``: moto's default directory is
    inside site-packages (not ours to write, and shared by every run on the machine)."""
    load_moto_proxy()
    from moto.moto_proxy.certificate_creator import CertificateCreator  # noqa: PLC0415

    cert_dir.mkdir(parents=True, exist_ok=True)
    template = Path(CertificateCreator.certdir) / "req.conf.tmpl"
    shutil.copyfile(template, cert_dir / "req.conf.tmpl")

    class Certificates(CertificateCreator):
        certdir = f"{cert_dir}/"

    return Certificates

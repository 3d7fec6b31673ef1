"""Signing the Windows installer (packaging/windows/sign.py and build.py's signing_directives) with a
certificate made here for the test, as a release would with its own: makensis signs the installer and the
uninstaller it holds as it finishes each, and every program file that has no signature gets one. The
signature is checked with osslsigncode against the test certificate; a wrong password fails the build."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.windows_packaging import load

pytestmark = pytest.mark.skipif(any(shutil.which(tool) is None for tool in ("openssl", "osslsigncode", "makensis")),
                                reason="needs openssl, osslsigncode and makensis (Debian)")

SCRIPT = """Unicode true
Name "Phi Tray signing test"
OutFile "setup.exe"
RequestExecutionLevel user
Section
  WriteUninstaller "$TEMP\\\\uninstall.exe"
SectionEnd
Section "Uninstall"
SectionEnd
"""


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a PKCS#12 file with the password "secret", the certificate as PEM), valid for code signing."""
    folder = tmp_path_factory.mktemp("certificate")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=Phi Tray test signing", "-addext", "extendedKeyUsage=codeSigning",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(folder / "key.pem"), "-in", str(folder / "cert.pem"),
                    "-out", str(folder / "test.pfx"), "-passout", "pass:secret"], check=True, capture_output=True)
    return folder / "test.pfx", folder / "cert.pem"


def verified(path: Path, ca: Path) -> bool:
    done = subprocess.run(["osslsigncode", "verify", "-CAfile", str(ca), "-in", str(path)], capture_output=True, text=True)
    return done.returncode == 0 and "Signature verification: ok" in done.stdout


def build(folder: Path, pfx: Path, password: str) -> subprocess.CompletedProcess[str]:
    signing = load("build").signing_directives()
    (folder / "setup.nsi").write_text(signing + SCRIPT, encoding="utf-8")
    env = {**os.environ, "PHITRAY_SIGN_PFX": str(pfx), "PHITRAY_SIGN_PASSWORD": password}
    return subprocess.run(["makensis", "-V2", "-XTarget amd64-unicode", "setup.nsi"], cwd=folder, env=env,
                          capture_output=True, text=True)


def test_the_installer_and_its_uninstaller_are_signed_as_makensis_finishes_them(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    pfx, ca = certificate
    done = build(tmp_path, pfx, "secret")
    assert done.returncode == 0, done.stdout + done.stderr
    assert verified(tmp_path / "setup.exe", ca)
    signed = [line for line in done.stdout.splitlines() if line.startswith("signed ")]
    assert len(signed) == 2 and any(line.endswith("setup.exe") for line in signed), done.stdout  # and the uninstaller


def test_a_signing_that_fails_fails_the_build(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    pfx, _ = certificate
    done = build(tmp_path, pfx, "not the password")
    assert done.returncode != 0
    assert "could not sign" in done.stdout + done.stderr


def test_every_unsigned_program_file_is_signed_and_signed_ones_are_left_alone(
    certificate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pfx, ca = certificate
    assert build(tmp_path, pfx, "secret").returncode == 0
    staged = tmp_path / "staged"
    (staged / "pkgs" / "openvino").mkdir(parents=True)
    unsigned = staged / "pkgs" / "openvino" / "module.pyd"
    subprocess.run(["makensis", "-V1", "-XTarget amd64-unicode", f"-XOutFile {unsigned}", "-XName x", "-XSection",
                    "-XSectionEnd"], check=True, capture_output=True, cwd=tmp_path)  # any PE file, unsigned
    already = staged / "Python" / "vendor.dll"
    already.parent.mkdir()
    shutil.copy(tmp_path / "setup.exe", already)  # signed by "its vendor" (here the test certificate)
    before = already.read_bytes()
    monkeypatch.setenv("PHITRAY_SIGN_PFX", str(pfx))
    monkeypatch.setenv("PHITRAY_SIGN_PASSWORD", "secret")
    sign = load("sign")
    assert not sign.is_signed(unsigned)
    assert sign.sign_unsigned(staged) == 1
    assert verified(unsigned, ca)
    assert already.read_bytes() == before

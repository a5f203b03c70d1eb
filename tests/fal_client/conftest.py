"""Starts a real `kiln serve` over TLS for the fal_client tests.

fal_client 1.0.3 always speaks https and reads FAL_QUEUE_RUN_HOST / FAL_RUN_HOST when it is
imported, so the server is started (with a throw-away self-signed certificate trusted via
SSL_CERT_FILE) in pytest_configure, before any test module imports fal_client.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KILN = Path(os.environ.get("KILN_BINARY", REPO / ".build" / "debug" / "kiln"))

_server: subprocess.Popen[bytes] | None = None
_workdir: str | None = None


def _make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def pytest_configure(config) -> None:  # noqa: ANN001 - pytest hook signature
    global _server, _workdir
    if not KILN.exists():
        raise RuntimeError(f"{KILN} is missing: run `swift build --product kiln` first")
    _workdir = tempfile.mkdtemp(prefix="kiln-fal-client-")
    folder = Path(_workdir)
    cert, key = _make_certificate(folder)
    _server = subprocess.Popen(
        [str(KILN), "serve", "--port", "0", "--data-dir", str(folder / "data"), "--no-worker",
         "--tls-cert", str(cert), "--tls-key", str(key), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=open(folder / "serve.log", "wb"),
    )
    assert _server.stdout is not None
    line = _server.stdout.readline().decode().strip()
    if not line.startswith("Kiln listening on https://"):
        raise RuntimeError(f"kiln serve did not start: {line!r}; log: {(folder / 'serve.log').read_text()}")
    url = line.removeprefix("Kiln listening on ")
    host = url.removeprefix("https://")
    os.environ["KILN_TEST_URL"] = url
    os.environ["FAL_QUEUE_RUN_HOST"] = host
    os.environ["FAL_RUN_HOST"] = f"{host}/run"
    os.environ["SSL_CERT_FILE"] = str(cert)
    # Open local mode ignores the key, but fal_client refuses to run without one.
    os.environ["FAL_KEY"] = "local:unused"


def pytest_unconfigure(config) -> None:  # noqa: ANN001 - pytest hook signature
    if _server is not None:
        _server.terminate()
        try:
            _server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _server.kill()
    if _workdir is not None:
        shutil.rmtree(_workdir, ignore_errors=True)

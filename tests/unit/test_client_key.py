"""The client private key never lies on disk in plaintext: on Linux it is handed to ssl through an in-memory file
(memfd); elsewhere through a 0700 directory removed at once, and removed at the next start if kates was killed
(issue 11, 1b "The client key on disk")."""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from kates_cli.core import transport
from kates_cli.errors import ConfigError
from tests.controlplane.certs import LocalPKI


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    pki = LocalPKI(tmp_path_factory.mktemp("pki"))
    cert, key = pki.issue("client", "someone")
    return cert.read_bytes(), key.read_bytes()


class Recorder:
    """Stands in for an SSLContext: notes where the key was offered and what that path was at the time."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes, int]] = []

    def load_cert_chain(self, certfile: str, keyfile: str | None = None, password: object = None) -> None:
        assert keyfile is None
        target = os.readlink(certfile) if certfile.startswith("/proc/self/fd/") else certfile
        mode = os.stat(os.path.dirname(certfile)).st_mode if not certfile.startswith("/proc/") else 0
        self.seen.append((certfile, target, Path(certfile).read_bytes(), mode))


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="memfd is Linux-only")
def test_the_client_key_is_loaded_from_memory_not_from_a_file(pair: tuple[bytes, bytes]) -> None:
    ctx = Recorder()
    transport._load_cert_chain(ctx, *pair)  # type: ignore[arg-type]
    [(path, target, data, _)] = ctx.seen
    assert target.startswith("/memfd:kates-client-key"), f"the key was offered as {path} -> {target}"
    assert pair[1] in data and pair[0] in data
    with pytest.raises(OSError):  # the descriptor is closed once ssl has read it
        os.readlink(path)


def test_a_real_context_accepts_the_in_memory_key(pair: tuple[bytes, bytes]) -> None:
    transport._load_cert_chain(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), *pair)


def test_a_key_that_does_not_match_is_a_config_error(pair: tuple[bytes, bytes]) -> None:
    other = LocalPKI(Path(tempfile.mkdtemp())).issue("other", "other")[1].read_bytes()
    with pytest.raises(ConfigError, match="invalid client certificate or key"):
        transport._load_cert_chain(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), pair[0], other)


def test_without_memfd_the_key_goes_through_a_private_directory_removed_at_once(
    pair: tuple[bytes, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "_memfd", lambda data: None)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ctx = Recorder()
    transport._load_cert_chain(ctx, *pair)  # type: ignore[arg-type]
    [(path, _, data, mode)] = ctx.seen
    assert path.startswith(str(tmp_path / f"{transport.KEY_DIR_PREFIX}{os.getuid()}-{os.getpid()}-"))
    assert stat.S_IMODE(mode) == 0o700 and pair[1] in data
    assert list(tmp_path.iterdir()) == []


def test_a_dead_processs_key_directory_is_removed_at_the_next_start(
    pair: tuple[bytes, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{transport.KEY_DIR_PREFIX}{os.getuid()}-{dead.stdout.strip()}-abc"
    alive = tmp_path / f"{transport.KEY_DIR_PREFIX}{os.getuid()}-{os.getppid()}-abc"
    for d in (stale, alive):
        d.mkdir(mode=0o700)
        (d / "client.pem").write_bytes(pair[1])
    monkeypatch.setattr(transport, "_memfd", lambda data: None)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    transport._load_cert_chain(Recorder(), *pair)  # type: ignore[arg-type]
    assert sorted(tmp_path.iterdir()) == [alive]


def test_a_key_encrypted_with_a_passphrase_is_a_config_error_not_a_prompt(pair: tuple[bytes, bytes]) -> None:
    """ssl would ask for the passphrase on the terminal (OpenSSL's prompt), and a hook's kates would wait there."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pair[1], None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(ConfigError, match="encrypted with a passphrase"):
        transport._load_cert_chain(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), pair[0], encrypted)

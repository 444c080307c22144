"""Signaling over TLS: a server with a certificate from a CA made for the test, clients
that trust that CA (and only that), and ones that do not."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from signaling.auth import mint_token
from signaling.client import SignalingClient
from signaling.errors import ErrorCode, SignalingError
from signaling.server.app import RunningServer, start_server
from signaling.server.child_processes import die_with_parent
from signaling.server.hub import ServerConfig
from signaling.tls import TlsError, client_context, plain_to_network, server_context
from tests.support.server_process import run_cli
from tests.support.signaling import TEST_SECRET
from tests.support.test_ca import TestCA


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path)


@pytest_asyncio.fixture
async def tls_server(ca: TestCA) -> AsyncIterator[RunningServer]:
    files = ca.issue("127.0.0.1", "localhost")
    server = await start_server(
        ServerConfig(secret=TEST_SECRET),
        "127.0.0.1",
        0,
        ssl_context=server_context(files.cert, files.key),
    )
    yield server
    await server.stop()


async def test_a_client_that_trusts_the_servers_ca_signs_in_over_wss(
    tls_server: RunningServer, ca: TestCA
) -> None:
    assert tls_server.url.startswith("https://127.0.0.1:")
    client = SignalingClient(
        tls_server.url, mint_token(TEST_SECRET, "alice", "Alice"), ca_file=str(ca.ca_file)
    )

    user = await client.connect()

    assert user.user_id == "alice"
    assert [u.user_id for u in await client.subscribe_presence()] == ["alice"]
    await client.close()


async def test_a_client_that_does_not_trust_it_is_told_why(tls_server: RunningServer) -> None:
    client = SignalingClient(tls_server.url, mint_token(TEST_SECRET, "alice", "Alice"))

    with pytest.raises(SignalingError) as refused:
        await client.connect()

    assert refused.value.code is ErrorCode.NOT_CONNECTED
    assert "certificate is not trusted" in refused.value.message
    assert tls_server.hub.metrics.connections == 0
    await client.close()


async def test_a_certificate_for_another_host_is_refused(ca: TestCA) -> None:
    files = ca.issue("parley.example")
    server = await start_server(
        ServerConfig(secret=TEST_SECRET),
        "127.0.0.1",
        0,
        ssl_context=server_context(files.cert, files.key),
    )
    client = SignalingClient(
        server.url, mint_token(TEST_SECRET, "alice", "Alice"), ca_file=str(ca.ca_file)
    )
    try:
        with pytest.raises(SignalingError, match=r"certificate is not trusted.*mismatch"):
            await client.connect()
    finally:
        await client.close()
        await server.stop()


def test_bad_files_are_clear_errors(tmp_path: Path, ca: TestCA) -> None:
    files = ca.issue("localhost")
    other = ca.issue("other.example")
    with pytest.raises(TlsError, match="no such file"):
        server_context(tmp_path / "missing.pem", files.key)
    with pytest.raises(TlsError, match="cannot use"):
        server_context(files.cert, other.key)  # a key that is not the certificate's
    with pytest.raises(TlsError, match="no such CA file"):
        client_context(tmp_path / "missing-ca.pem")


def test_plain_connections_that_leave_the_machine_are_recognised() -> None:
    assert plain_to_network("http://parley.example:8719")
    assert plain_to_network("ws://192.0.2.7:8719")
    assert not plain_to_network("https://parley.example")
    assert not plain_to_network("http://127.0.0.1:8719")
    assert not plain_to_network("http://localhost:8719")
    assert not plain_to_network("http://[::1]:8719")


def test_the_cli_serves_https_with_the_given_certificate(ca: TestCA) -> None:
    files = ca.issue("127.0.0.1")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "signaling.server.cli",
            "--port",
            "0",
            "--secret",
            TEST_SECRET,
            "--tls-cert",
            str(files.cert),
            "--tls-key",
            str(files.key),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent(),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("parley-server listening on https://127.0.0.1:"), line
        url = line.split()[-1]
        trusting = ssl.create_default_context(cafile=str(ca.ca_file))
        with urllib.request.urlopen(f"{url}/healthz", timeout=5, context=trusting) as response:
            assert json.load(response) == {"ok": True}
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_cli_wants_both_tls_files(ca: TestCA) -> None:
    files = ca.issue("127.0.0.1")
    result = run_cli("--port", "0", "--tls-cert", str(files.cert))
    assert result.returncode == 2
    assert "give both --tls-cert and --tls-key" in result.stderr

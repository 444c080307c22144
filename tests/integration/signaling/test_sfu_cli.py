"""``parley-server``'s SFU options: what it refuses before starting, and a Janus it cannot use."""

from __future__ import annotations

from pathlib import Path

from signaling.server.janus_process import free_tcp_port
from tests.support.server_process import run_cli


def test_a_janus_url_needs_both_of_its_secrets(tmp_path: Path) -> None:
    result = run_cli(
        "--port", "0", "--data-dir", str(tmp_path),
        "--janus-url", "http://10.0.0.5:8088/janus", "--janus-secret", "s1",
    )  # fmt: skip
    assert result.returncode == 2
    assert "--janus-url needs --janus-secret and --janus-admin-key" in result.stderr
    assert "listening on" not in result.stdout


def test_an_sfu_is_refused_beside_several_servers(tmp_path: Path) -> None:
    result = run_cli(
        "--port", "0", "--data-dir", str(tmp_path),
        "--sfu", "janus", "--redis", "unix:///nowhere/redis.sock",
    )  # fmt: skip
    assert result.returncode == 2
    assert "--sfu/--janus-url cannot be combined with --redis yet" in result.stderr


def test_a_bad_port_range_is_refused(tmp_path: Path) -> None:
    for ports in ("5-3", "40000-30000", "20000", "a-b", "80-90"):
        result = run_cli(
            "--port", "0", "--data-dir", str(tmp_path), "--sfu", "janus", "--janus-rtp-ports", ports
        )  # fmt: skip
        assert result.returncode == 2, ports
        assert "--janus-rtp-ports: expected FIRST-LAST" in result.stderr


def test_a_janus_nobody_runs_stops_the_server_with_where_it_looked(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_tcp_port()}/janus"
    result = run_cli(
        "--port", "0", "--data-dir", str(tmp_path),
        "--janus-url", url, "--janus-secret", "s1", "--janus-admin-key", "s2",
    )  # fmt: skip
    assert result.returncode == 1
    assert f"parley-server: cannot reach Janus at {url} (no answer in 5 s)" in result.stderr
    assert "s1" not in result.stderr.replace(url, "")
    assert "listening on" not in result.stdout

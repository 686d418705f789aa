"""run_process ends the tool's whole group and returns only when every member is gone.

The shape of issue 9 item 1: the tool dies at once on SIGTERM while its plugin child needs a
moment to record its end. Reading the records as soon as the tool had exited lost that end
(and, with the old kill of the group, the plugin's record altogether).
"""

from __future__ import annotations

import socket
import sys
import textwrap
from pathlib import Path

import pytest

from compat.runner import process
from compat.runner.process import PortProbe, run_process
from tests.procscan import running_with

#: A "plugin": echoes on a port; on SIGTERM it takes a while, then records and exits.
PLUGIN = textwrap.dedent(
    """\
    import os, signal, socket, sys, time
    port, record, ignore = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "ignore"
    def on_term(signum, frame):
        if ignore:
            return
        time.sleep(0.5)
        with open(record, "a") as fh:
            fh.write("end\\n")
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    with open(record + ".pid", "w") as fh:
        fh.write(str(os.getpid()))
    server = socket.create_server(("127.0.0.1", port))
    while True:
        conn, _ = server.accept()
        conn.sendall(conn.recv(100))
        conn.close()
    """
)


def _tool(tmp_path: Path, port: int, mode: str, *, exit_first: bool = False) -> list[str]:
    (tmp_path / "plugin.py").write_text(PLUGIN)
    # Exiting first: once the plugin is up (its pid written), as a tool that detaches it.
    pid = tmp_path / "record.pid"
    tail = f"while not os.path.exists({str(pid)!r}): time.sleep(0.01)\n" if exit_first else ""
    tail = tail or "child.wait()\n"
    script = (
        "import os, subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, {str(tmp_path / 'plugin.py')!r}, "
        f"'{port}', {str(tmp_path / 'record')!r}, {mode!r}])\n" + tail
    )
    return [sys.executable, "-c", script]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(tmp_path: Path, argv: list[str], probe: PortProbe | None) -> process.Finished:
    return run_process(
        argv,
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=tmp_path / "out",
        stderr=tmp_path / "err",
        timeout=30,
        probe=probe,
    )


def test_a_stopped_tool_returns_after_its_plugin_recorded(tmp_path: Path) -> None:
    port = _free_port()
    finished = _run(tmp_path, _tool(tmp_path, port, "record"), PortProbe(port, b"ping\n"))
    assert finished.port_roundtrip and finished.exit_code == -15 and not finished.killed
    assert (tmp_path / "record").read_text() == "end\n"


def test_a_plugin_left_running_by_an_exited_tool_records_too(tmp_path: Path) -> None:
    port = _free_port()
    argv = _tool(tmp_path, port, "record", exit_first=True)
    finished = _run(tmp_path, argv, None)
    assert finished.exit_code == 0 and not finished.killed
    assert (tmp_path / "record").read_text() == "end\n"


def test_what_ignores_sigterm_is_killed_after_the_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process, "GRACE", 0.5)
    port = _free_port()
    finished = _run(tmp_path, _tool(tmp_path, port, "ignore"), PortProbe(port, b"ping\n"))
    assert finished.port_roundtrip and finished.killed
    assert not (tmp_path / "record").exists()
    # The pid the plugin wrote is its pid in the cell's PID namespace: look for it by name.
    assert (tmp_path / "record.pid").exists() and not running_with(str(tmp_path / "plugin.py"))

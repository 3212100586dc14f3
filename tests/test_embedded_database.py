"""The embedded PostgreSQL starts when needed and stops when its last user exits, however."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
HOLD = (
    "import sys, time; from itf_portal import pgembed; pgembed.attach(); "
    "print('attached', flush=True); time.sleep(float(sys.argv[1]))"
)


@pytest.fixture
def pg_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ITF_PGDATA"] = str(tmp_path / "pg")
    return env


def _server_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        in_dir = any(str(data_dir) in part for part in process.info["cmdline"] or [])
        if in_dir and process.info["name"] in ("postgres", "postmaster"):
            found.append(process)
    return found


def _running(env) -> bool:
    return (Path(env["ITF_PGDATA"]) / "data" / "postmaster.pid").exists()


def _hold(env, seconds=60) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(seconds)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "attached"
    return process


def _wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_the_server_stops_with_its_last_user_whichever_way_users_exit(pg_env):
    first = _hold(pg_env)
    second = _hold(pg_env)
    assert _running(pg_env)

    first.send_signal(signal.SIGTERM)  # like `kill`: still a clean exit
    first.wait(30)
    assert _running(pg_env), "another process still uses the server"

    second.kill()  # SIGKILL: no clean-up at all, its record goes stale
    second.wait(30)
    assert _running(pg_env)

    # The next user notices the stale record and, leaving, stops the server.
    third = _hold(pg_env, seconds=0)
    third.wait(30)
    assert _wait_until(lambda: not _running(pg_env))
    assert not _server_processes(Path(pg_env["ITF_PGDATA"]) / "data")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_run_interrupted_with_ctrl_c_leaves_no_server_running(pg_env):
    port = _free_port()
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=pg_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    data_dir = Path(pg_env["ITF_PGDATA"]) / "data"
    try:

        def serving():
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=2
                ) as r:
                    return r.status == 200
            except OSError:
                return False

        assert _wait_until(serving, timeout=240), make.stdout.read1().decode()
        assert _running(pg_env)
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C does
        make.wait(60)
        assert _wait_until(lambda: not _server_processes(data_dir), timeout=30)
        assert not _running(pg_env)
        assert not serving()
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)


def test_a_stale_pid_file_naming_an_unrelated_process_does_not_stop_the_server_starting(pg_env):
    first = _hold(pg_env, seconds=0)
    first.wait(30)
    assert _wait_until(lambda: not _running(pg_env))
    # As after a reboot: the file survives and its pid now belongs to some other program.
    unrelated = subprocess.Popen(["sleep", "60"])
    try:
        pid_file = Path(pg_env["ITF_PGDATA"]) / "data" / "postmaster.pid"
        pid_file.write_text(f"{unrelated.pid}\n{pg_env['ITF_PGDATA']}/data\n0\n5432\n\n\n\nready\n")
        check = (
            "from itf_portal import pgembed; import psycopg2; "
            "psycopg2.connect(pgembed.attach()).close(); print('connected')"
        )
        result = subprocess.run(
            [sys.executable, "-c", check], cwd=ROOT, env=pg_env, capture_output=True, text=True
        )
        assert "connected" in result.stdout, result.stderr
        assert unrelated.poll() is None  # never signalled
    finally:
        unrelated.kill()
    assert _wait_until(lambda: not _running(pg_env))

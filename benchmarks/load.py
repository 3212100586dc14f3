"""Load benchmark: the task list and a part page under 50 users, against the bare floor views.

Serves the app and the floor with gunicorn on loopback (same workers, same database), runs locust
against each in turn, and prints p50 and p99 for both and their ratios. Run with `make bench`.
"""

import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
USERS = os.environ.get("BENCH_USERS", "50")
AREA = os.environ.get("BENCH_AREA", "plymouth")
SECONDS = os.environ.get("BENCH_SECONDS", "30")


def signed_in_sessions(count: int) -> list[str]:
    """Sessions for the area's reviewer, made directly: password hashing at sign-in is slow by
    design and would otherwise dominate the first seconds of the run."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itf_portal.settings")
    import django

    django.setup()
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=f"{AREA}-reviewer")
    keys = []
    for _ in range(count):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app: str, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(VENV / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.2)
    return server


def run_locust(target: str, port: int, out: Path, sessions: list[str]) -> dict:
    command = [
        str(VENV / "locust"),
        *("-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless"),
        *("-u", USERS, "-r", "25", "-t", f"{SECONDS}s"),
        *("--host", f"http://127.0.0.1:{port}", "--csv", str(out / target)),
        *("--only-summary", "--reset-stats"),
    ]
    env = {**os.environ, "TARGET": target, "BENCH_SESSIONS": ",".join(sessions)}
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True)
    with open(out / f"{target}_stats.csv") as handle:
        rows = list(csv.DictReader(handle))
    failures = sum(int(row["Failure Count"]) for row in rows if row["Name"] == "Aggregated")
    if failures:
        raise SystemExit(f"{target}: {failures} requests failed; see {out}/{target}_failures.csv")
    return {row["Name"]: (float(row["50%"]), float(row["99%"])) for row in rows}


def main() -> None:
    out = Path(tempfile.mkdtemp(prefix="itf-bench-"))
    results = {}
    sessions = signed_in_sessions(int(USERS))
    for target, app in (("app", "itf_portal.wsgi"), ("floor", "benchmarks.floor_wsgi")):
        port = free_port()
        server = serve(app, port)
        try:
            results[target] = run_locust(target, port, out, sessions)
        finally:
            server.terminate()
            server.wait(30)
    print(f"{USERS} users for {SECONDS} s on loopback, gunicorn 2 workers x 4 threads")
    for name in ("task list", "part page"):
        (app50, app99), (floor50, floor99) = results["app"][name], results["floor"][name]
        print(
            f"{name:10}  app p50 {app50:6.0f} ms  p99 {app99:6.0f} ms | floor p50 {floor50:6.0f} ms"
            f"  p99 {floor99:6.0f} ms | ratio p50 {app50 / floor50:.1f}  p99 {app99 / floor99:.1f}"
        )


if __name__ == "__main__":
    sys.exit(main())

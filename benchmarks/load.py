"""Load benchmark: six pages under 50 distinct signed-in users, against a floor of the same HTML.

Builds its data in a database of its own on the same server (`itf_bench`, dropped at the end, so
the demo data is left as it was): the demo with every plan in Drafting, then on Plymouth a schemes
part of 300 schemes and 500 more saved versions of its vision, 50 area admins of the area and 50
national admins, each with a session made directly (password hashing is not what is measured).

Serves the app with gunicorn as `make run` does (2 workers x 4 threads) and captures each page's
HTML once; `floor_wsgi.py` then serves exactly those bytes from one bare Django view with no
middleware under the same gunicorn. Each page is first read by one person at a time (no queue:
what it costs alone), then locust runs against the app, then the floor, BENCH_RUNS times over, and
each run prints p50/p95/p99 per page for both, their ratios, and the ratio alone. Run with
`make bench`, or by itself inside the embedded server:

    ITF_PGDATA=... .venv/bin/python -m itf_portal.pgembed .venv/bin/python benchmarks/load.py

(with the Makefile's LOCAL_ENV). BENCH_USERS, BENCH_SECONDS, BENCH_RUNS and BENCH_AREA change it.
"""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
USERS = int(os.environ.get("BENCH_USERS", "50"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "30"))
RUNS = int(os.environ.get("BENCH_RUNS", "1"))
AREA = os.environ.get("BENCH_AREA", "plymouth")
DATABASE = "itf_bench"
VERSIONS = 500  # saves of the narrative part, each a version in its history
ALONE = 30  # reads of each page with nobody else asking, before the load

PLAN = f"/areas/{AREA}/plans/itf-2014/"
# (name, path, locust weight, whose session reads it); locustfile.py makes its tasks from this.
PAGES = [
    ("task list", PLAN, 2, "member"),
    ("narrative part", PLAN + "parts/vision/", 3, "member"),
    ("schemes (300)", PLAN + "parts/schemes/", 1, "member"),
    ("fund summary", PLAN + "finance/", 2, "member"),
    ("dashboard", "/", 1, "national"),
    ("history (500)", PLAN + "parts/vision/history/", 1, "member"),
]
# Gunicorn as `make run` starts it (its access log goes to a file here rather than the terminal).
GUNICORN = ["--workers", "2", "--threads", "4", "--graceful-timeout", "5"]


def database_urls() -> tuple[str, str]:
    """The server's own database and the benchmark's, on the same server."""
    url = os.environ.get("DATABASE_URL")
    if not url:  # run outside `python -m itf_portal.pgembed`: start the embedded server here
        sys.path.insert(0, str(ROOT))
        from itf_portal import pgembed

        url = pgembed.attach()
    return url, urlunsplit(urlsplit(url)._replace(path=f"/{DATABASE}"))


def database_reset(server_url: str, *, create: bool) -> None:
    import psycopg2

    connection = psycopg2.connect(server_url)
    connection.autocommit = True  # CREATE and DROP DATABASE run outside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            if create:
                cursor.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        connection.close()


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )


def bench_data() -> list[tuple[str, str]]:
    """Plymouth's 300 schemes, its vision's 500 versions, and the users; each user's sessions
    as (area member's, national admin's)."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itf_portal.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from export_excel import scheme_rows  # the 300-scheme plan the Excel benchmark exports

    from finance.services import part_save
    from governance.constants import NATIONAL_ADMIN_GROUP, Role
    from governance.services import membership_add
    from plans.constants import PartStatus
    from plans.models import Area
    from plans.services import plan_current_round, plan_open

    area = Area.objects.get(slug=AREA)
    plan = plan_open(area=area, round=plan_current_round())
    author = get_user_model().objects.get(username=f"{AREA}-commissioner")
    schemes = plan.parts.get(key="schemes")
    part_save(
        part=schemes,
        content={"rows": scheme_rows(plan, plan.round.year_labels)},
        status=PartStatus.COMPLETE,
        base_version=schemes.version,
        user=author,
    )
    vision = plan.parts.get(key="vision")
    text = vision.content["text"]
    for n in range(VERSIONS):
        vision = part_save(
            part=vision,
            content={"text": f"{text}\n\nRevision {n + 1}: the board reworded this."},
            status=PartStatus.COMPLETE,
            base_version=vision.version,
            user=author,
            reason=f"Bench revision {n + 1}",
        )

    users = get_user_model().objects
    organisation = area.partners.order_by("-kind").first()  # as tests.factories.member_make
    national_admins = Group.objects.get(name=NATIONAL_ADMIN_GROUP)
    sessions = []
    for n in range(USERS):
        # No password (unusable): nobody signs in, and no hashing is done making them.
        member = users.create_user(f"bench-editor-{n:03}", f"bench-editor-{n:03}@example.org")
        membership_add(area=area, organisation=organisation, user=member, role=Role.AREA_ADMIN)
        national = users.create_user(f"bench-national-{n:03}", f"bench-national-{n:03}@example.org")
        national.groups.add(national_admins)
        sessions.append((session_for(member), session_for(national)))
    return sessions


def session_for(user) -> str:
    """A signed-in session made directly: password hashing at sign-in is slow by design and
    would otherwise dominate the first seconds of the run."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, session: str = "") -> tuple[int, str, bytes]:
    """One GET, redirects not followed: (status, content type, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "GET", path, headers={"Cookie": f"sessionid={session}"} if session else {}
        )
        reply = connection.getresponse()
        return reply.status, reply.getheader("Content-Type", ""), reply.read()
    finally:
        connection.close()


def serve(app: str, port: int, out: Path, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(VENV / "gunicorn"), app, "--bind", f"127.0.0.1:{port}", *GUNICORN]
        + ["--access-logfile", str(out / f"{app}.access.log"), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    for _ in range(300):
        try:
            get(port, "/accounts/login/")
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"{app} did not start") from None
            time.sleep(0.2)
    raise SystemExit(f"{app} did not answer on port {port}")


def capture(port: int, sessions: list[tuple[str, str]], folder: Path) -> dict[str, int]:
    """Each page's HTML as the app serves it, for the floor to serve; its size by page."""
    member, national = sessions[0]
    manifest, sizes = {}, {}
    for index, (name, path, _, who) in enumerate(PAGES):
        status, content_type, body = get(port, path, member if who == "member" else national)
        if status != 200:
            raise SystemExit(f"{name}: {path} answered {status} before the run")
        (folder / f"{index}.html").write_bytes(body)
        manifest[path] = {"file": f"{index}.html", "content_type": content_type}
        sizes[name] = len(body)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return sizes


def resident_mb(server: subprocess.Popen) -> list[float]:
    import psutil

    workers = psutil.Process(server.pid).children()
    return [round(worker.memory_info().rss / 2**20) for worker in workers]


def one_at_a_time(port: int, sessions: list[tuple[str, str]]) -> dict[str, list[float]]:
    """Each page's response times (ms) read by one person at a time, nobody else asking: what a
    page costs with no queue in front of it, the part of its time no amount of capacity removes."""
    member, national = sessions[0]
    times: dict[str, list[float]] = {}
    for name, path, _, who in PAGES:
        session = member if who == "member" else national
        get(port, path, session)  # the first read warms the worker
        times[name] = []
        for _ in range(ALONE):
            started = time.perf_counter()
            status, _, _ = get(port, path, session)
            times[name].append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise SystemExit(f"{name}: {path} answered {status}")
    return times


def run_locust(target: str, port: int, out: Path, env: dict) -> dict[str, list[float]]:
    """Every response time (ms) by page, after all users have started; any failure stops it."""
    times = out / f"{target}.times.json"
    command = [
        str(VENV / "locust"),
        *("-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless"),
        *("-u", str(USERS), "-r", "25", "-t", f"{SECONDS}s"),
        *("--host", f"http://127.0.0.1:{port}", "--csv", str(out / target)),
        *("--only-summary", "--reset-stats"),
    ]
    with open(out / f"{target}.locust.log", "w") as log:
        subprocess.run(
            command, cwd=ROOT, env={**env, "BENCH_TIMES": str(times)}, stdout=log, stderr=log
        )
    recorded = json.loads(times.read_text())
    if recorded["failures"]:
        raise SystemExit(
            f"{target}: {recorded['failures']} requests failed; see {out}/{target}_failures.csv"
        )
    return recorded["times"]


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def report(run: int, results: dict, sizes: dict, memory: dict) -> None:
    print(
        f"\nRun {run} of {RUNS}: {USERS} users for {SECONDS} s each on loopback, "
        "gunicorn 2 workers x 4 threads (times in ms)"
    )
    print(
        f"{'page':15} {'HTML':>8} | {'app p50':>7} {'p95':>6} {'p99':>6} {'n':>5} "
        f"| {'floor p50':>9} {'p95':>6} {'p99':>6} | ratio p50  p99 "
        f"| alone: {'app':>5} {'floor':>5} ratio"
    )
    for name, *_ in PAGES:
        app, floor = results["app"][name], results["floor"][name]
        (a50, a95, a99), (f50, f95, f99) = percentiles(app), percentiles(floor)
        alone_app = statistics.median(results["app alone"][name])
        alone_floor = statistics.median(results["floor alone"][name])
        print(
            f"{name:15} {sizes[name] / 1024:6.0f} K | {a50:7.1f} {a95:6.1f} {a99:6.1f} "
            f"{len(app):5} | {f50:9.1f} {f95:6.1f} {f99:6.1f} | {a50 / f50:9.1f} {a99 / f99:4.1f} "
            f"| {alone_app:12.1f} {alone_floor:5.1f} {alone_app / alone_floor:5.1f}"
        )
    print(
        f"alone: the median of {ALONE} reads of the page by one person with nobody else asking "
        "(no queue), app and floor, and their ratio"
    )
    print(
        "workers' resident memory after the run (MB): "
        + ", ".join(f"{target} {memory[target]}" for target in ("app", "floor"))
    )


def main() -> None:
    out = Path(tempfile.mkdtemp(prefix="itf-bench-load-"))
    server_url, bench_url = database_urls()
    database_reset(server_url, create=True)
    try:
        env = {**os.environ, "DATABASE_URL": bench_url}
        os.environ["DATABASE_URL"] = bench_url
        manage("migrate", "--noinput", "-v0")
        manage("load_demo", "--drafting")
        started = time.perf_counter()
        sessions = bench_data()
        print(f"Bench data in {DATABASE}: 300 schemes, {VERSIONS} saves, {USERS} users each kind")
        print(f"  ({time.perf_counter() - started:.0f} s; logs and captured pages in {out})")
        from django.db import connections

        connections.close_all()
        pages = out / "pages"
        pages.mkdir()
        env["BENCH_SESSIONS"] = json.dumps(sessions)
        env["BENCH_FLOOR_PAGES"] = str(pages)
        sizes = {}
        for run in range(1, RUNS + 1):
            results, memory = {}, {}
            for target, app in (("app", "itf_portal.wsgi"), ("floor", "benchmarks.floor_wsgi")):
                port = free_port()
                server = serve(app, port, out, env)
                try:
                    if not sizes:
                        sizes = capture(port, sessions, pages)
                    results[f"{target} alone"] = one_at_a_time(port, sessions)
                    results[target] = run_locust(f"{target}{run}", port, out, env)
                    memory[target] = resident_mb(server)
                finally:
                    server.terminate()
                    server.wait(30)
            report(run, results, sizes, memory)
    finally:
        database_reset(server_url, create=False)


if __name__ == "__main__":
    sys.exit(main())

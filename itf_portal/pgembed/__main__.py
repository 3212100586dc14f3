"""Run a command against the embedded PostgreSQL server and stop the server when it ends.

    python -m itf_portal.pgembed gunicorn itf_portal.wsgi

With DATABASE_URL already set the command simply runs against that server.
"""

import os
import signal
import subprocess
import sys

from itf_portal import pgembed


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = pgembed.attach()
    child = subprocess.Popen(argv, env=env)

    def forward(signum, frame):
        # Ctrl-C reaches the whole process group; a signal sent to this process alone is passed on.
        if child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    while True:
        try:
            return child.wait()
        except InterruptedError:
            continue


if __name__ == "__main__":
    # sys.exit runs atexit, which detaches and so stops the server if nobody else uses it.
    sys.exit(main(sys.argv[1:]))

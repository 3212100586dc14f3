"""What the benchmark scripts share: Django set up on import, a throwaway database, medians.

Run from the repository root (`make bench`), each script imports this module first.
"""

import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itf_portal.settings")

import django  # noqa: E402

django.setup()


@contextmanager
def throwaway_database():
    """A test database on the same server for the script's data, dropped when it finishes, so
    the demo data and its Export log are left as they were."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    # Real password hashing is deliberately slow and is not what any benchmark measures.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def median_seconds(call, *, rounds: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)

"""Printing HTML to PDF with WeasyPrint in a child process, capped in time and memory.

A web worker never runs WeasyPrint itself: a large paper can neither keep a worker busy past
`PRINT_SECONDS` nor leave it holding hundreds of megabytes once it is done (the memory goes back
when the child exits). Children are forked from a small server process that has WeasyPrint loaded
already (multiprocessing's forkserver), so a print starts in milliseconds, not the two seconds
that loading WeasyPrint takes; the server is single-threaded, so forking it is safe however many
threads the web worker runs. (Like any forkserver child, a print imports the program's main
module again, as `__mp_main__`: run from a file, never from stdin or `-c`.)

The memory cap is held twice over, because not every machine enforces the first: the child caps
its own address space (`RLIMIT_AS`), and the web worker watches the child's resident memory while
it waits and stops it once it passes the cap (some sandboxed kernels ignore `RLIMIT_AS`).
"""

import multiprocessing
import threading
import time

import psutil

PRINT_SECONDS = 120
PRINT_MEMORY = 2 * 1024**3  # bytes one print may use
WATCH_EVERY = 0.05  # seconds between looks at the child's memory

# One print at a time per web worker, so the worst case is one cap's worth of memory per worker.
_one_at_a_time = threading.Lock()
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["itf_portal.printer"])


class PrintFailed(Exception):
    """The paper could not be printed within the limits; nothing was exported."""


def pdf_print(html: str, stylesheet: str) -> bytes:
    with _one_at_a_time:
        return _print_in_child(html, stylesheet)


def _print_in_child(html: str, stylesheet: str) -> bytes:
    receiver, sender = _context.Pipe(duplex=False)
    child = _context.Process(
        target=_print, args=(html, stylesheet, PRINT_MEMORY, sender), daemon=True
    )
    child.start()
    sender.close()
    try:
        _wait_within_limits(child, receiver)
        ok, result = receiver.recv()
    except EOFError as error:  # the child died without a word (a C library out of memory)
        child.join()
        raise PrintFailed(
            f"the printer stopped (exit {child.exitcode}); it may have run out of memory"
        ) from error
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    if not ok:
        raise PrintFailed(f"the printer stopped: {result}")
    return result


def _wait_within_limits(child, receiver) -> None:
    """Return once the child has answered (or died); stop it past the time or memory cap."""
    deadline = time.monotonic() + PRINT_SECONDS
    try:
        watched = psutil.Process(child.pid)
    except psutil.NoSuchProcess:
        return  # it has already answered and exited
    while not receiver.poll(min(WATCH_EVERY, max(0.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            raise PrintFailed(f"printing took longer than {PRINT_SECONDS} seconds")
        try:
            resident = watched.memory_info().rss
        except psutil.NoSuchProcess:
            continue  # it has just exited: the pipe says so at the next look
        if resident > PRINT_MEMORY:
            megabytes = PRINT_MEMORY // 1024**2
            raise PrintFailed(f"the printer needed more than {megabytes} MB of memory")


def _print(html: str, stylesheet: str, memory: int, sender) -> None:
    # Runs in the child, forked from the server that has already imported the printer; the web
    # worker itself never imports WeasyPrint.
    from itf_portal.printer import print_pdf

    print_pdf(html, stylesheet, memory, sender)

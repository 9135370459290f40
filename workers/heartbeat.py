"""A worker's life: a heartbeat that stops when the process dies, and children that die with it.

Each worker process (and each forked work horse) refreshes a key in Redis from a
thread; the key outlives the last beat by HEARTBEAT_TTL seconds, so the reaper
recovers a dead worker's job within about that, however long the job's timeout.
A work horse asks the kernel to kill it when its worker dies, so a job never runs
on without the worker that answers for it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading

from app.services.queue import RQJobQueue, process_name

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def start_heartbeat(queue: RQJobQueue, ttl: int) -> threading.Thread:
    """Beat now for this process, then every third of ttl from a daemon thread, as long as the process lives."""
    name = process_name()
    queue.beat(name, ttl)  # before the first job is taken, so a claimed job always has a heartbeat

    def loop() -> None:
        stop = threading.Event()
        while not stop.wait(ttl / 3):
            try:
                queue.beat(name, ttl)
            except Exception:  # Redis away for a moment: the next beat tries again
                log.warning("heartbeat of %s failed; trying again in %s s", name, ttl / 3, exc_info=True)

    thread = threading.Thread(target=loop, name="playground-heartbeat", daemon=True)
    thread.start()
    return thread


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux); exit now if it is already gone."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("could not tie process %s to its parent: errno %s", os.getpid(), ctypes.get_errno())
    if os.getppid() != parent:  # the parent died before the kernel was told
        os._exit(1)

"""``python -m bot worker``: Dramatiq worker processes for sends and sequence steps.

The parent starts ``WORKER_PROCESSES`` children (spawned, so each opens its
own database and Redis connections) and restarts any that dies; each child
runs a Dramatiq worker with ``WORKER_THREADS`` threads over one shared
asyncio sender loop, and beats a heartbeat so producers know someone is
listening. SIGTERM stops gracefully: work in hand finishes, the rest stays
queued in Redis for the other workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import sys
import threading
import time
from multiprocessing.process import BaseProcess

import dramatiq

from bot.container import build
from bot.faces.wiring import attach
from bot.loops import start_sandbox
from bot.settings import Settings, load_settings
from engine.broker import SEND_QUEUE, STEP_QUEUE, worker_id

log = logging.getLogger("herald.worker")
BEAT_SECONDS = 5.0


def run_worker_process(settings: Settings, index: int) -> None:
    """One worker process: until SIGTERM or SIGINT."""
    from bot.logs import configure_logging  # noqa: PLC0415

    configure_logging(settings)
    herald = build(settings)
    assert herald.link is not None, "a worker needs Redis"
    attach(herald)  # sends happen here: keep live funnels moving, alert admins
    start_sandbox(herald)
    me = f"{worker_id()}#{index}"
    worker = dramatiq.Worker(
        herald.link.broker,
        queues={SEND_QUEUE, STEP_QUEUE},
        worker_threads=settings.worker_threads,
        worker_timeout=500,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    log.info("worker %s listening (%d threads)", me, settings.worker_threads)
    try:
        while not stop.is_set():
            try:
                herald.link.beat(me)
            except Exception as exc:
                log.warning("heartbeat failed: %s", type(exc).__name__)
            stop.wait(BEAT_SECONDS)
    finally:
        herald.link.leave(me)
        worker.stop(timeout=60_000)
        herald.close()


def _child(index: int) -> None:
    run_worker_process(load_settings(), index)


def run_workers(settings: Settings, processes: int | None = None) -> int:
    """Start the worker processes and keep them alive until interrupted."""
    count = processes or settings.worker_processes
    context = multiprocessing.get_context("spawn")
    children: dict[int, BaseProcess] = {}
    stopping = threading.Event()

    def start(index: int) -> None:
        process = context.Process(target=_child, args=(index,), name=f"herald-worker-{index}")
        process.start()
        children[index] = process

    def stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for index in range(count):
        start(index)
    print(f"herald worker: {count} process(es) × {settings.worker_threads} threads", file=sys.stderr)
    while not stopping.is_set():
        for index, process in list(children.items()):
            if not process.is_alive() and not stopping.is_set():
                log.warning("worker %d exited with %s; restarting it", index, process.exitcode)
                time.sleep(1)
                start(index)
        stopping.wait(1.0)
    for process in children.values():
        if process.pid is not None and process.is_alive():
            process.terminate()
    for process in children.values():
        process.join(timeout=90)
    return 0

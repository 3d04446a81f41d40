"""Background loops of a running process: the scheduler tick and the sandbox's clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from bot.container import Herald
from engine.actor import SYSTEM

log = logging.getLogger("herald.loops")
TICK_SECONDS = 1.0


async def tick_forever(herald: Herald, interval: float = TICK_SECONDS) -> None:
    """Run the tick every ``interval`` seconds until cancelled; a failed pass is logged, not fatal."""
    while True:
        try:
            await herald.db(herald.tick.run)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("tick failed; trying again in %.0f s", interval)
        await asyncio.sleep(interval)


def start_sandbox(herald: Herald) -> None:
    """Let the sandbox emit its status webhooks in real time (on the sender's loop), and give
    a new sandbox install its sample templates so a first broadcast works at once."""
    sandbox = herald.sandbox
    if sandbox is None:
        return
    if not herald.in_db(herald.templates.listed):
        herald.in_db(herald.template_sync.run, by=SYSTEM)

    async def begin() -> None:
        sandbox.start(0.5)

    herald.sender.call(begin())


def run_ticks_in_thread(herald: Herald, stop: threading.Event, interval: float = TICK_SECONDS) -> None:
    """The scheduler process's loop: one tick a second until ``stop`` is set."""
    while not stop.is_set():
        try:
            herald.in_db(herald.tick.run)
        except Exception:
            log.exception("tick failed; trying again in %.0f s", interval)
        stop.wait(interval)


async def cancel(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

"""Run the aiohttp server until interrupted, and say which parts are live."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from aiohttp import web

from bot.container import Herald, build, describe_database
from bot.loops import cancel, start_sandbox, tick_forever
from bot.settings import Settings
from bot.web.app import create_app, server_options


def banner(settings: Settings, mode: str = "") -> list[str]:
    """What is live, one line each; never a secret."""
    whatsapp = (
        f"live (Cloud API at {settings.whatsapp_api_url})"
        if settings.whatsapp_live
        else "sandbox (simulated Cloud API; set WHATSAPP_TOKEN to go live)"
    )
    lines = [
        f"database : {describe_database(settings)}",
        f"whatsapp : {whatsapp}",
        f"slack    : {_slack(settings)}",
        f"rest api : {'on' if settings.api_token else 'refusing all calls (set API_TOKEN)'}",
    ]
    if mode:
        lines.insert(1, f"work     : {mode}")
    return lines


def _slack(settings: Settings) -> str:
    if not settings.slack_enabled:
        return "off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)"
    if not settings.digest_channel:
        return "on at /slack/events (no daily digest: set DIGEST_CHANNEL)"
    return (
        f"on at /slack/events; daily digest in {settings.digest_channel}"
        f" at {settings.digest_time:%H:%M} {settings.timezone}"
    )


def work_mode(herald: Herald) -> str:
    if herald.link is None:
        return "direct processing in this process"
    if not herald.link.ping():
        return "direct processing (Redis does not answer; work runs in this process)"
    if herald.link.workers_alive() == 0:
        return "direct processing (Redis is up but no worker listens; run `python -m bot worker`)"
    return f"Redis at {_safe_redis(herald.settings.redis_url)} with {herald.link.workers_alive()} worker(s)"


def _safe_redis(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


async def run_server(settings: Settings) -> None:
    herald = build(settings)
    app = create_app(herald)
    runner = web.AppRunner(app, access_log=None, **server_options(settings))
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    mode = await asyncio.to_thread(work_mode, herald)
    for line in banner(settings, mode):
        print(f"herald {line}", file=sys.stderr)
    print(f"herald listening on http://{settings.host}:{settings.port}", file=sys.stderr)
    start_sandbox(herald)
    ticking = asyncio.create_task(tick_forever(herald))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await cancel(ticking)
        await runner.cleanup()
        herald.close()

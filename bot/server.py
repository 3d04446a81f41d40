"""Run the aiohttp server until interrupted, and say which parts are live."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from aiohttp import web

from bot.container import build, describe_database
from bot.settings import Settings
from bot.web.app import create_app


def banner(settings: Settings) -> list[str]:
    """What is live, one line each; never a secret."""
    return [
        f"database : {describe_database(settings)}",
        f"whatsapp : {'live (Cloud API at ' + settings.whatsapp_api_url + ')' if settings.whatsapp_live else 'sandbox (simulated Cloud API; set WHATSAPP_TOKEN to go live)'}",
        f"slack    : {'on' if settings.slack_enabled else 'off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)'}",
        f"rest api : {'on' if settings.api_token else 'refusing all calls (set API_TOKEN)'}",
    ]


async def run_server(settings: Settings) -> None:
    herald = build(settings)
    app = create_app(herald)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    for line in banner(settings):
        print(f"herald {line}", file=sys.stderr)
    print(f"herald listening on http://{settings.host}:{settings.port}", file=sys.stderr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        herald.close()

"""``python -m bot <command>``: serve, worker, scheduler, shell, demo, templates, migrate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.errors import SettingsError
from bot.settings import Settings, load_settings
from engine.errors import HeraldError
from storage.errors import StorageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Herald: WhatsApp campaigns run from chat."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    sub.add_parser("serve", help="run the HTTP server (API, webhooks, Slack, health, metrics)")
    sub.add_parser("migrate", help="bring the database schema up to date and exit")
    worker = sub.add_parser("worker", help="run Dramatiq worker processes (sends, sequence steps)")
    worker.add_argument("--processes", type=int, default=None, help="default: WORKER_PROCESSES")
    sub.add_parser("scheduler", help="run the scheduler tick (due broadcasts, watchdog, statuses)")
    sub.add_parser("demo", help="a broadcast and a sequence through the sandbox, in a throwaway database")
    templates = sub.add_parser("templates", help="message templates")
    templates.add_argument("action", choices=["sync", "list"])
    sub.add_parser("shell", help="the chat commands in a terminal (Confirm is a y/N prompt)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"herald: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            return _serve(settings)
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "worker":
            from bot.logs import configure_logging
            from bot.worker import run_workers

            configure_logging(settings)
            return run_workers(settings, args.processes)
        if args.command == "scheduler":
            return _scheduler(settings)
        if args.command == "demo":
            from bot.demo import run_demo

            return run_demo(settings)
        if args.command == "templates":
            return _templates(settings, args.action)
        if args.command == "shell":
            return _shell(settings)
    except (HeraldError, StorageError) as exc:
        print(f"herald: {exc}", file=sys.stderr)
        return 1
    return 2


def _migrate(settings: Settings) -> int:
    from storage.database import open_database, parse_database_url
    from storage.migrations import current_version, migrate

    database = open_database(settings.database_url)
    applied = migrate(database)
    with database.connection_context():
        version = current_version(database)
    where = parse_database_url(settings.database_url).describe()
    print(f"{where}: schema at version {version}" + (f" (applied {applied})" if applied else " (up to date)"))
    return 0


def _serve(settings: Settings) -> int:
    from bot.logs import configure_logging
    from bot.server import run_server

    configure_logging(settings)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is optional off Linux
        pass
    asyncio.run(run_server(settings))
    return 0


def _scheduler(settings: Settings) -> int:
    import signal
    import threading

    from bot.container import build
    from bot.faces.wiring import attach
    from bot.logs import configure_logging
    from bot.loops import run_ticks_in_thread, start_sandbox

    configure_logging(settings)
    herald = build(settings)
    attach(herald)  # due broadcasts start here: their funnels, alerts, the digest, admin commands
    start_sandbox(herald)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print("herald scheduler: ticking every second", file=sys.stderr)
    try:
        run_ticks_in_thread(herald, stop)
    finally:
        herald.close()
    return 0


def _templates(settings: Settings, action: str) -> int:
    import getpass

    from bot.container import build
    from engine.actor import Actor

    herald = build(settings, direct_only=True)
    try:
        if action == "sync":
            report = herald.in_db(herald.template_sync.run, by=Actor("shell", getpass.getuser()))
            print(f"synced {report.synced} templates ({report.approved} approved)")
            for line in report.skipped:
                print(f"  skipped {line}")
        for t in herald.in_db(herald.templates.listed):
            print(f"{t.name:<28} {t.language:<6} {t.category:<15} {t.status}")
    finally:
        herald.close()
    return 0


def _shell(settings: Settings) -> int:
    import getpass
    import threading

    from bot.container import build
    from bot.faces.wiring import attach
    from bot.logs import configure_logging
    from bot.loops import run_ticks_in_thread, start_sandbox
    from bot.shell import Shell, ShellNotifier

    quiet = settings if settings.log_level != "INFO" else settings.model_copy(update={"log_level": "WARNING"})
    configure_logging(quiet)
    herald = build(settings)
    attach(herald)
    herald.notifier.add(ShellNotifier(print))
    start_sandbox(herald)
    stop = threading.Event()  # the shell ticks too, so what it confirms is sent with nothing else running
    ticking = threading.Thread(target=run_ticks_in_thread, args=(herald, stop), name="tick", daemon=True)
    ticking.start()
    try:
        return Shell(herald, read=_read_line, write=print, user=getpass.getuser()).run()
    finally:
        stop.set()
        ticking.join(timeout=10)
        herald.close()


def _read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except (EOFError, KeyboardInterrupt):
        print()
        return None

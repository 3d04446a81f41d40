"""Two schedulers and two workers racing on the same due broadcasts and sequence steps.

Real processes (`python -m bot scheduler` ×2, `python -m bot worker` ×2) on a
private Redis and one database, against the fake Cloud API in this process.
Every broadcast must start once, and every recipient and every sequence step
must be sent exactly once, whoever wins each race.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.container import build
from engine.actor import SYSTEM
from engine.broadcasts import BroadcastSpec
from engine.contacts import ContactRow
from engine.schedule import at_local
from storage.models import AuditLog, Broadcast, Enrollment
from tests.fakes.cloud_api import FakeCloudApi
from tests.helpers import phones, seed_contacts
from tests.live import live_settings, process_env, sync_templates
from tests.services import PrivateRedis, terminate

ROOT = Path(__file__).resolve().parents[2]
SEQUENCE = {
    "name": "race",
    "trigger": {"type": "contact_created"},
    "steps": [
        {"id": "hello", "type": "message", "template": "thank_you"},
        {"id": "pause", "type": "delay", "minutes": 0.05},
        {"id": "code", "type": "message", "template": "login_code", "params": ["424242", "424242"]},
    ],
}


@pytest.mark.slow
async def test_two_schedulers_and_two_workers_send_everything_exactly_once(
    database_url: str, cloud: FakeCloudApi, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    settings = live_settings(database_url, cloud, redis_url=private_redis.url, queue_namespace="race")
    herald = build(settings, direct_only=True)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        await sync_templates(herald)
        numbers = phones(300)
        seed_contacts(herald, [(p, ["vip"] if i % 2 else ["gold"]) for i, p in enumerate(numbers)])
        herald.in_db(herald.sequences.create, SEQUENCE, by=SYSTEM)
        herald.in_db(herald.sequences.activate, "race", by=SYSTEM)
        due = at_local((datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0, tzinfo=None), "UTC")
        for template, tags in (
            ("thank_you", ["vip"]),
            ("order_update", ["gold"]),
            ("login_code", ["vip", "gold"]),
        ):
            params = {"order_update": ["{name}", "HX-1", "ready", "HX-1"], "login_code": ["1", "1"]}.get(
                template
            )
            spec = BroadcastSpec(template=template, tags=tags, schedule=due, params=params)
            herald.in_db(herald.broadcasts.create, spec, by=SYSTEM)
        newcomers = phones(40, prefix="+4479220")
        herald.in_db(
            herald.contacts.write, [ContactRow(phone=p, name="New Person") for p in newcomers], source="test"
        )

        env = process_env(settings, WHATSAPP_MPS="500", WORKER_THREADS="4")
        logs = tmp_path / "logs"
        logs.mkdir()
        for name, args in [
            ("worker-a", ["worker", "--processes", "1"]),
            ("worker-b", ["worker", "--processes", "1"]),
            ("scheduler-a", ["scheduler"]),
            ("scheduler-b", ["scheduler"]),
        ]:
            with (logs / f"{name}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, stdout=log, stderr=log
                    )
                )

        def finished() -> bool:
            broadcasts_done = all(b.status == "completed" for b in Broadcast.select())
            steps_done = Enrollment.select().where(Enrollment.status != "completed").count() == 0
            return broadcasts_done and steps_done

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not herald.in_db(finished):
            await asyncio.sleep(0.3)
        assert herald.in_db(finished), "\n".join(p.read_text()[-2000:] for p in logs.iterdir())
        starts = herald.in_db(lambda: AuditLog.select().where(AuditLog.action == "broadcast.start").count())
        assert starts == 3  # each broadcast started once, whichever scheduler won
    finally:
        terminate(processes)
        herald.close()

    sends: dict[tuple[str, str], int] = {}
    for message in cloud.accepted:
        key = (message.to, message.template or "")
        sends[key] = sends.get(key, 0) + 1
    vip = numbers[1::2]
    gold = numbers[0::2]
    expected = {(p, "thank_you"): 1 for p in vip}
    expected |= {(p, "order_update"): 1 for p in gold}
    expected |= {(p, "login_code"): 1 for p in numbers}
    expected |= {(p, t): 1 for p in newcomers for t in ("thank_you", "login_code")}
    assert sends == expected

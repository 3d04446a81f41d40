"""Dramatiq on Redis: the broker, Herald's actors, and who is listening.

Messages carry ids only (a batch token and row ids); the database says what
is due and what was sent, the queue only says "go look". Actors are declared
against the broker built here, by name, the same way in producers (the tick)
and in worker processes.

Dramatiq's own heartbeats are written by producers too, so "is any worker
listening?" is answered by a heartbeat of Herald's own that only worker
processes write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

log = logging.getLogger("herald.broker")

SEND_QUEUE = "herald_send"
STEP_QUEUE = "herald_steps"
WORKER_TTL = 15.0  # seconds without a beat before a worker counts as gone


class BrokerLink:
    """The Redis broker, Herald's actors on it, and the workers' heartbeat."""

    def __init__(self, url: str, namespace: str = "herald") -> None:
        self.url = url
        self.namespace = namespace
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
        self.broker = RedisBroker(url=url, namespace=namespace, heartbeat_timeout=30000)
        self.broker.client = self.client  # one pool, with the short timeouts above
        self._actors: dict[str, dramatiq.Actor[Any, Any]] = {}
        self._workers_key = f"{namespace}:herald:workers"

    def declare(self, name: str, fn: Callable[..., Any], *, queue: str) -> dramatiq.Actor[Any, Any]:
        """Declare (once) the actor ``name`` running ``fn`` on ``queue``."""
        if name not in self._actors:
            self._actors[name] = dramatiq.Actor(
                fn,
                broker=self.broker,
                actor_name=name,
                queue_name=queue,
                priority=0,
                # Actors are idempotent; the tick's watchdog re-dispatches anything lost,
                # so a few quick retries are enough.
                options={
                    "max_retries": 3,
                    "min_backoff": 500,
                    "max_backoff": 5000,
                    "time_limit": 15 * 60 * 1000,
                },
            )
        return self._actors[name]

    def send(self, name: str, *args: Any) -> None:
        """Enqueue; raises redis / dramatiq connection errors for the caller to fall back."""
        self._actors[name].send(*args)

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def beat(self, worker_id: str) -> None:
        """A worker process says it is alive (called every few seconds)."""
        self.client.zadd(self._workers_key, {worker_id: time.time()})

    def leave(self, worker_id: str) -> None:
        with contextlib.suppress(redis.RedisError):
            self.client.zrem(self._workers_key, worker_id)

    def workers_alive(self) -> int:
        """Worker processes that beat within WORKER_TTL seconds (0 when Redis is down)."""
        try:
            now = time.time()
            self.client.zremrangebyscore(self._workers_key, 0, now - WORKER_TTL * 4)
            return int(self.client.zcount(self._workers_key, now - WORKER_TTL, "+inf"))
        except redis.RedisError:
            return 0

    def close(self) -> None:
        try:
            self.broker.close()
        finally:
            self.client.close()


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"

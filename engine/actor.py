"""Who is acting, and through which face: recorded in the audit log with every change."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    face: str  # slack | whatsapp | shell | api | system
    id: str  # a Slack user id, a masked phone, "api", "scheduler", "meta"


SYSTEM = Actor("system", "scheduler")
API = Actor("api", "api")  # the REST API's caller: one bearer token, no person known
META = Actor("system", "meta")  # what WhatsApp said made the change: a paused template, a refused token
BREAKER = Actor("system", "breaker")  # the circuit breaker paused sending (engine/breaker.py)

"""What the delivery governor tells people: the sentences of its alerts and pause reasons.

Alerts go through ``Notifier.alert(kind, text, broadcast)``; each face adds its own
way to act (Slack a Resume button, WhatsApp "Reply RESUME").
"""

from __future__ import annotations

# alert kinds
BREAKER = "breaker"
TEMPLATE_PAUSED = "template_paused"
TEMPLATE_APPROVED = "template_approved"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def limit_percent(rate: float) -> str:
    return f"{100 * rate:g}%"


def breaker_failures(name: str, failures: int, outcomes: int, counted: int, rate: float) -> str:
    """``counted`` is what the rate was taken over: the outcomes, or the floor for a small broadcast."""
    return (
        f"{failures:,} of the last {outcomes:,} sends of “{name}” failed"
        f" ({percent(failures, counted)}; the breaker allows {limit_percent(rate)})"
    )


def breaker_optouts(name: str, optouts: int, outcomes: int, counted: int, rate: float) -> str:
    return (
        f"{optouts:,} recipients of the last {outcomes:,} sends of “{name}” opted out or blocked"
        f" ({percent(optouts, counted)}; the breaker allows {limit_percent(rate)})"
    )


def breaker_quality(quality: str) -> str:
    return f"Meta rates the business number's quality {quality}"


def breaker_reason(why: str) -> str:
    """A paused broadcast's ``status_reason`` when the breaker paused it."""
    return f"breaker: {why}"


def breaker_paused(name: str, why: str) -> str:
    return (
        f"Circuit breaker: “{name}” is paused, with every other MARKETING broadcast that was"
        f" sending. {why[0].upper()}{why[1:]}. Look at its failures and replies before resuming it."
    )


def template_waits(template: str, why: str, broadcast: str) -> str:
    return (
        f"Template {template} is PAUSED{why}: the sends of “{broadcast}” wait and go on by"
        " themselves when Meta reinstates it."
    )


def template_waits_nowhere(template: str, why: str) -> str:
    return f"Template {template} is PAUSED{why}: nothing is sending it; it waits until Meta reinstates it."


def template_back(template: str, broadcast: str) -> str:
    return f"Template {template} is APPROVED again: the waiting sends of “{broadcast}” go on."


def template_back_nowhere(template: str) -> str:
    return f"Template {template} is APPROVED again."


def template_refused(code: int | None) -> str:
    """What a send's answer said of the template, for the alert."""
    return f" (WhatsApp answered {code} to a send)" if code else ""

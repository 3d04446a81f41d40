"""Answers as plain text: the shell prints these, and the WhatsApp-admin face sends them.

The same content as the Slack views, in the same words (``bot.faces.messages``),
laid out as lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import singledispatch
from typing import Any

from bot.faces import messages
from bot.faces.answers import (
    Answer,
    Asked,
    BroadcastDone,
    BroadcastListing,
    BroadcastPreview,
    BroadcastReport,
    ContactListing,
    ContactReport,
    EnrollmentListing,
    Intent,
    Refused,
    Said,
    SequenceListing,
    SequenceReport,
    StatsReport,
    TemplateListing,
)
from engine.schedule import describe


@singledispatch
def render(answer: Answer) -> str:
    """The answer as text lines (no trailing newline)."""
    raise TypeError(f"no text form for {type(answer).__name__}")


@render.register
def _said(answer: Said) -> str:
    return answer.text


@render.register
def _refused(answer: Refused) -> str:
    return answer.text


@render.register
def _asked(answer: Asked) -> str:
    return answer.text


@render.register
def _preview(answer: BroadcastPreview) -> str:
    b, p = answer.broadcast, answer.preview
    lines = [messages.preview_changed(), ""] if answer.changed else []
    lines += [
        messages.broadcast_title(b["id"], b["name"]),
        f"Template: {messages.template_line(b['template'], b['category'], b['language'])}",
        f"Tags: {messages.tags_line(b['tags'])}",
        f"When: {when(answer)}",
        f"Sending takes {messages.duration(p.seconds)}",
        "",
        *messages.waterfall(p.matched, p.opted_out, p.deleted, p.capped, p.will_send),
        *limit_lines(answer),
    ]
    if p.sample:
        lines += ["", messages.first_recipients(len(p.sample), p.total) + ":"]
        lines += [f"  {messages.recipient(c['name'], c['phone'], c['tags'])}" for c in p.sample]
    if p.will_send == 0:
        lines += ["", messages.nobody_to_send_to()]
    return "\n".join(lines)


def limit_lines(answer: BroadcastPreview) -> list[str]:
    """How the previewed recipients fit the messaging limit, times in the broadcast's zone."""
    fit, tz = answer.preview.limit, answer.broadcast["timezone"]
    if fit is None:
        return []
    first = describe(fit.later_from, tz) if fit.later_from else None
    last = describe(fit.later_until, tz) if fit.later_until else None
    return messages.limit_lines(
        fit.limit, fit.source, used=fit.used, fits_now=fit.fits_now, later=fit.later, first=first, last=last
    )


def when(answer: BroadcastPreview) -> str:
    """When the previewed broadcast goes out, in words."""
    b = answer.broadcast
    if answer.intent is None:
        return messages.when_draft(b["id"])
    if answer.intent is Intent.CONFIRM and b.get("scheduled_for"):
        return str(b["scheduled_for"])
    return messages.when_now()


@render.register
def _done(answer: BroadcastDone) -> str:
    return outcome_text(answer, answer.by.id)


def outcome_text(answer: BroadcastDone, who: str) -> str:
    b = answer.broadcast
    return messages.outcome(
        answer.outcome.value,
        b["id"],
        who,
        status=b["status"],
        when=b.get("scheduled_for"),
        total=b.get("audience_total"),
    )


@render.register
def _report(answer: BroadcastReport) -> str:
    b = answer.broadcast
    funnel = b["funnel"]
    lines = [
        messages.broadcast_title(b["id"], b["name"]),
        messages.status_line(b["status"], b.get("status_reason")),
    ]
    if b.get("scheduled_for"):
        lines.append(f"When: {b['scheduled_for']}")
    lines += funnel_lines(funnel)
    return "\n".join(lines)


def funnel_lines(funnel: Mapping[str, Any]) -> list[str]:
    sent = funnel["sent"]
    done = funnel["total"] - funnel.get("pending", 0)
    lines = [
        f"{messages.progress(done, funnel['total'])} · {messages.sent_of(done, funnel['total'])}",
        " → ".join(
            messages.stage(label, funnel[key], sent)
            for label, key in zip(messages.STAGES, ("sent", "delivered", "read", "replied"), strict=True)
        ),
        messages.failed_line(funnel["failed"]),
    ]
    if funnel.get("failed_reasons"):
        lines.append(f"  {messages.reasons(funnel['failed_reasons'])}")
    lines.append(messages.skipped_line(funnel.get("skipped") or {}))
    if funnel.get("held"):
        lines.append(messages.held_line(funnel["held"]))
    return lines


@render.register
def _listing(answer: BroadcastListing) -> str:
    if not answer.broadcasts:
        return messages.no_broadcasts()
    rows = [
        messages.broadcast_row(b["id"], b["name"], b["status"], b["funnel"]["sent"], b["funnel"]["total"])
        for b in answer.broadcasts
    ]
    return "\n".join([answer.title, *rows])


@render.register
def _templates(answer: TemplateListing) -> str:
    if not answer.templates:
        return messages.no_templates()
    rows = [
        messages.template_row(t["name"], t["language"], t["category"], t["status"]) for t in answer.templates
    ]
    return "\n".join([messages.templates_title(len(rows)), *rows])


@render.register
def _stats(answer: StatsReport) -> str:
    period = answer.period
    current, previous = period.totals, period.previous
    lines = [messages.stats_title(answer.label, answer.timezone)]
    if period.quiet:
        return "\n".join([*lines, messages.quiet_period()])
    lines += [
        messages.metric(label, getattr(current, key), getattr(previous, key))
        for label, key in messages.PERIOD_METRICS
    ]
    lines.append(messages.compared_with(answer.label))
    if period.broadcasts or period.more_broadcasts:
        lines.append(messages.broadcasts_in_period(len(period.broadcasts) + period.more_broadcasts))
        lines += [f"  {messages.broadcast_funnel_line(b, b.name)}" for b in period.broadcasts]
        if period.more_broadcasts:
            lines.append(f"  {messages.more_broadcasts(period.more_broadcasts)}")
    if current.failed_reasons:
        lines += [messages.failures_title(), f"  {messages.reasons(current.failed_reasons)}"]
    return "\n".join(lines)


@render.register
def _sequences(answer: SequenceListing) -> str:
    if not answer.sequences:
        return messages.no_sequences()
    return "\n".join(
        messages.sequence_row(s["name"], s.get("status", ""), str(s.get("trigger", {}).get("type", "")))
        for s in answer.sequences
    )


@render.register
def _sequence(answer: SequenceReport) -> str:
    s = answer.sequence
    lines = [messages.sequence_row(s["name"], s.get("status", ""), str(s.get("trigger", {}).get("type", "")))]
    counts = s.get("enrollments")
    if counts:
        exited = counts.get("exited", 0)
        lines.append(
            messages.enrollment_counts(
                counts.get("enrolled", 0),
                counts.get("active", 0),
                counts.get("completed", 0),
                sum(exited.values()) if isinstance(exited, dict) else int(exited),
            )
        )
    return "\n".join(lines)


@render.register
def _contact(answer: ContactReport) -> str:
    c = answer.contact
    lines = [messages.contact_line(c["name"], c["phone"], c["tags"], c["opted_in"], c["status"])]
    lines += [f"  {_enrollment(e)}" for e in answer.enrollments]
    return "\n".join(lines)


@render.register
def _contacts(answer: ContactListing) -> str:
    if not answer.contacts:
        return messages.no_contacts()
    rows = [
        messages.contact_line(c["name"], c["phone"], c["tags"], c["opted_in"], c["status"])
        for c in answer.contacts
    ]
    return "\n".join([answer.title, *rows, messages.contacts_more(len(rows), answer.total)])


@render.register
def _enrollments(answer: EnrollmentListing) -> str:
    if not answer.enrollments:
        return messages.no_enrollments(answer.who)
    return "\n".join([messages.enrollments_title(answer.who), *(_enrollment(e) for e in answer.enrollments)])


def _enrollment(e: Mapping[str, Any]) -> str:
    return messages.enrollment_row(e["sequence"], e["status"], e.get("current_step"), e.get("exit_reason"))

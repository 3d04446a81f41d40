"""Every sentence the chat faces say that the command language does not (``bot.grammar.messages``).

Functions take plain values (counts, names already escaped for the face that
shows them) and return plain text; backticks mark names, which Slack shows as
code and a terminal shows as written. Slack views and the shell's text
renderer both take their wording from here.
"""

from __future__ import annotations

from bot.grammar.messages import mask_numbers
from engine.funnel import rate
from engine.stats import BroadcastLine, change

# --- refusals -------------------------------------------------------------------------


def forbidden(admins_setting: str) -> str:
    return (
        "Only Herald admins can send, schedule, cancel, pause, resume, enroll or change contacts"
        f" (they are listed in {admins_setting}). You can still list, show, count and see stats."
    )


def unexpected_error() -> str:
    return (
        "Herald hit an unexpected error; nothing was changed."
        " Try again, or ask whoever runs Herald to check its log."
    )


def nothing_to_confirm() -> str:
    return (
        "There is nothing here waiting for a yes."
        " Start with a broadcast, like `broadcast promo tags:vip now`."
    )


def hello() -> str:
    return (
        "Hi! Ask me about broadcasts, sequences, contacts, templates or stats"
        " (“how did yesterday's promo do?”), or say `help`."
    )


def welcome() -> str:
    return "You're welcome."


def dropped() -> str:
    return "OK, dropped; nothing was sent."


def left_as_is() -> str:
    return "OK, I left it as it was; nothing was changed."


def working() -> str:
    return "Working on it…"


# --- broadcasts -----------------------------------------------------------------------


def broadcast_title(broadcast_id: int, name: str) -> str:
    return f"Broadcast #{broadcast_id} · {name}"


def template_line(template: str, category: str, language: str) -> str:
    return f"`{template}` ({category}, {language})"


def tags_line(tags: list[str]) -> str:
    return ", ".join(f"`{t}`" for t in tags)


def waterfall(matched: int, opted_out: int, deleted: int, capped: int, will_send: int) -> list[str]:
    """The exclusion waterfall, one step a line."""
    return [
        f"{matched:,} have the tags",
        f"− {opted_out:,} opted out",
        f"− {deleted:,} deleted",
        f"− {capped:,} frequency-capped (a marketing message in the last 24 h)",
        f"= {will_send:,} will get it",
    ]


def nobody_to_send_to() -> str:
    return "Nobody would get it: every contact with these tags is opted out, deleted or capped."


def first_recipients(shown: int, total: int) -> str:
    return f"First {shown} of {total:,}" if total > shown else f"All {total:,}"


def recipient(name: str, masked: str | None, tags: list[str]) -> str:
    """A preview's line for one recipient: ``masked`` is their masked phone or user id."""
    label = name or "(no name)"
    return f"{label} · {masked or '(no number)'} · {', '.join(tags)}"


def when_now() -> str:
    return "As soon as an admin confirms"


def when_draft(broadcast_id: int) -> str:
    return f"Saved as a draft: send it with `broadcast send {broadcast_id}`"


def duration(seconds: float) -> str:
    """``about 3 minutes``: how long sending takes at the configured rate."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours = seconds / 3600
    return f"about {hours:.1f} hours".replace(".0 ", " ")


def confirm_hint(intent_schedules: bool) -> str:
    if intent_schedules:
        return "Nothing is scheduled until an admin confirms."
    return "Nothing is sent until an admin confirms."


def confirm_label(intent_schedules: bool) -> str:
    return "Confirm and schedule" if intent_schedules else "Confirm and send"


def cancel_label() -> str:
    return "Cancel"


def confirm_question(will_send: int, when: str | None) -> str:
    """The shell's y/N prompt."""
    if when:
        return f"Schedule it for {when} ({will_send:,} contacts)? [y/N] "
    return f"Send it now to {will_send:,} contacts? [y/N] "


def outcome(
    kind: str, broadcast_id: int, who: str, *, status: str, when: str | None, total: int | None
) -> str:
    """What a Confirm, Cancel or action did, by ``who``."""
    if kind == "already_confirmed" and status in ("cancelled", "missed"):
        return f"Broadcast #{broadcast_id} is {status}; there is nothing left to confirm."
    texts = {
        "scheduled": f"Confirmed by {who}: broadcast #{broadcast_id} is scheduled for {when}.",
        "started": f"Confirmed by {who}: broadcast #{broadcast_id} is sending to {total or 0:,} contacts.",
        "cancelled": (
            f"Broadcast #{broadcast_id} was cancelled by {who}; whoever had not been sent to yet won't be."
        ),
        "discarded": f"Cancelled by {who}: broadcast #{broadcast_id} was dropped; nothing was sent.",
        "paused": (
            f"Broadcast #{broadcast_id} was paused by {who}."
            f" Resume it with `broadcast resume {broadcast_id}`."
        ),
        "resumed": f"Broadcast #{broadcast_id} was resumed by {who}.",
        "already_confirmed": (
            f"Broadcast #{broadcast_id} was already confirmed: it is {status}. It goes out once."
        ),
        "not_a_draft": (
            f"Broadcast #{broadcast_id} was already confirmed (it is {status}), so Cancel no longer applies."
            f" Stop it with `broadcast cancel {broadcast_id}`."
        ),
    }
    return texts[kind]


def funnel_follows() -> str:
    return "Its live funnel will be posted in this channel and kept up to date."


def status_line(status: str, reason: str | None) -> str:
    return f"{status.capitalize()}: {reason}" if reason else status.capitalize()


def no_broadcasts() -> str:
    return "No broadcasts yet. Start one with `broadcast <template> tags:<tag> now`."


def none_found(what: str) -> str:
    return f"No broadcast of `{what}` in that period."


def recent_title(status: str | None = None) -> str:
    return f"{status.capitalize()} broadcasts" if status else "Recent broadcasts"


def no_broadcasts_yet() -> str:
    return "There are no broadcasts yet."


def which_broadcast(action: str, rows: list[tuple[int, str, str]]) -> str:
    """ "Which broadcast should I pause? 1) #3 Diwali promo (sending) 2) …"."""
    doing = "do you mean" if action in ("show", "stats") else f"should I {action}"
    listed = " ".join(f"{i}) #{bid} {name} ({status})" for i, (bid, name, status) in enumerate(rows, 1))
    return f"Which broadcast {doing}? {listed}. Answer with its number in this list, or `cancel`."


def found_title(what: str) -> str:
    return f"Broadcasts of `{what}`"


def broadcast_row(broadcast_id: int, name: str, status: str, sent: int, total: int) -> str:
    return f"#{broadcast_id} {name} · {status} · {sent:,}/{total:,} sent"


# --- the funnel -------------------------------------------------------------------------


def progress(done: int, total: int, width: int = 20) -> str:
    """``▓▓▓▓▓░░░░░░░░░░░░░░░ 25%``."""
    share = rate(done, total) if total else 1.0
    filled = round(share * width)
    return f"{'▓' * filled}{'░' * (width - filled)} {share:.0%}"


def sent_of(sent: int, total: int) -> str:
    return f"{sent:,} / {total:,} handled"


def eta(seconds: float) -> str:
    return "finishing" if seconds < 60 else f"{duration(seconds)} left"


def stage(label: str, count: int, of: int) -> str:
    """``Delivered 940 (94%)``: a funnel stage and its share of what was sent."""
    return f"{label} {count:,} ({rate(count, of):.0%})" if of else f"{label} {count:,}"


STAGES = ("Sent", "Delivered", "Read", "Replied")


def failed_line(count: int) -> str:
    return f"Failed {count:,}"


def reasons(counts: dict[str, int]) -> str:
    return "; ".join(f"{label} ×{n:,}" for label, n in counts.items())


def skipped_line(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    parts = ", ".join(f"{reason.replace('_', ' ')} {n:,}" for reason, n in counts.items())
    return f"Skipped {total:,} ({parts})" if counts else "Skipped 0"


HELD_REASONS = {
    "messaging_limit": "messaging limit",
    "template_paused": "template paused by Meta",
    "breaker": "circuit breaker",
    "retry_131049": "per-user marketing limit, retried after 24 h",
    "quiet_hours": "quiet hours",
}


def held_line(counts: dict[str, int]) -> str:
    """``Waiting 150 (messaging limit 150)``: of the pending, rows held by a rule."""
    total = sum(counts.values())
    parts = ", ".join(
        f"{HELD_REASONS.get(reason, reason.replace('_', ' '))} {n:,}" for reason, n in counts.items()
    )
    return f"Waiting {total:,} ({parts})"


def limit_lines(
    limit: int | None,
    source: str,
    *,
    used: int,
    fits_now: int,
    later: int,
    first: str | None,
    last: str | None,
) -> list[str]:
    """How a preview's recipients fit the messaging limit; nothing to say when there is none."""
    if limit is None and source == "unknown":
        return ["Messaging limit: not known yet (Meta has not said); nothing is held back for it"]
    if limit is None:
        return []
    head = f"Messaging limit: {limit:,} people a day; templates reached {used:,} in the last 24 h"
    if not later:
        return [head, f"All {fits_now:,} fit now"]
    until = f"until {last}" if last else "until more than 30 days from now"
    return [head, f"{fits_now:,} go now; {later:,} wait for room and go from {first} {until}"]


def finished(status: str, minutes: float | None) -> str:
    took = f" in {duration(minutes * 60).removeprefix('about ')}" if minutes is not None else ""
    return f"{status.capitalize()}{took}."


def updated_at(local_time: str) -> str:
    return f"updated {local_time}"


def alert(message: str) -> str:
    return f"⚠️ {message}"


# --- contacts, templates, sequences ----------------------------------------------------------


def contact_saved(masked: str, name: str | None, tags: list[str], created: bool) -> str:
    who = f"{masked} ({name})" if name else masked
    tagged = f" with tags {', '.join(tags)}" if tags else ""
    return f"{'Added' if created else 'Updated'} {who}{tagged}."


def tagged(masked: str, tags: list[str]) -> str:
    return f"Tagged {masked}: {', '.join(tags)}."


def untagged(masked: str, tags: list[str]) -> str:
    return f"Removed {', '.join(tags)} from {masked}."


def opted_out(masked: str) -> str:
    return f"{masked} is opted out: Herald will not message them again unless they opt back in."


def counted(tags: list[str], reachable: int, matched: int, opted_out: int, deleted: int) -> str:
    if not tags:
        return (
            f"{matched:,} contacts in all; {reachable:,} can be messaged"
            f" ({opted_out:,} opted out, {deleted:,} deleted)."
        )
    return (
        f"{reachable:,} contacts with {' or '.join(tags)} can be messaged"
        f" ({matched:,} have the tags; {opted_out:,} opted out, {deleted:,} deleted)."
    )


def no_contact_named(name: str) -> str:
    return (
        f"No contact is named like `{mask_numbers(name)}`."
        " Look a contact up by phone number, like +919812345678."
    )


def which_contact(name: str, shown: list[tuple[str, str]]) -> str:
    listed = " ".join(f"{i}) {who or '(no name)'} · {phone}" for i, (who, phone) in enumerate(shown, 1))
    return (
        f"Several contacts are named like `{mask_numbers(name)}`: {listed}."
        " Which one? Answer with its number."
    )


def contacts_title(tags: list[str]) -> str:
    return f"Contacts with {' or '.join(tags)}" if tags else "Contacts"


def contacts_more(shown: int, total: int) -> str:
    return f"Showing {shown:,} of {total:,}." if total > shown else f"{total:,} in all."


def no_contacts() -> str:
    return "No contacts match."


def contact_line(name: str, masked: str, tags: list[str], opted_in: bool, status: str) -> str:
    """``Asha Rao · +91••••••5678 · vip, gold · opted in``."""
    state = "deleted" if status != "active" else ("opted in" if opted_in else "opted out")
    return f"{name or '(no name)'} · {masked} · {', '.join(tags) or 'no tags'} · {state}"


def enrollment_row(sequence: str, status: str, step: str | None, reason: str | None) -> str:
    where = f" at `{step}`" if step and status == "active" else ""
    why = f" ({reason})" if reason else ""
    return f"`{sequence}` · {status}{where}{why}"


def enrollments_title(masked: str) -> str:
    return f"Enrollments of {masked}"


def no_enrollments(masked: str) -> str:
    return f"{masked} is not enrolled in any sequence."


def no_template_like(name: str) -> str:
    return f"No template is named like `{name}`. `templates list` shows them all."


def templates_title(count: int) -> str:
    return f"{count} template{'s' if count != 1 else ''}"


def no_templates() -> str:
    return "No templates yet. Fetch them from WhatsApp with `templates sync`."


def template_row(name: str, language: str, category: str, status: str) -> str:
    return f"`{name}` ({language}) · {category} · {status}"


def synced(count: int, approved: int, skipped: list[str]) -> str:
    text = f"Synced {count} template{'s' if count != 1 else ''} from WhatsApp ({approved} approved)."
    return text + (f" Skipped: {'; '.join(skipped)}." if skipped else "")


def no_sequences() -> str:
    return "No sequences yet."


def sequence_row(name: str, status: str, trigger: str) -> str:
    return f"`{name}` · {status} · trigger: {trigger}"


def sequence_moved(name: str, status: str) -> str:
    return f"Sequence `{name}` is {status}."


def enrolled(masked: str, sequence: str) -> str:
    return f"Enrolled {masked} in `{sequence}`."


def enrollment_counts(enrolled: int, active: int, completed: int, exited: int) -> str:
    return f"{enrolled:,} enrolled · {active:,} active · {completed:,} completed · {exited:,} exited"


# --- stats and the digest ---------------------------------------------------------------


def stats_title(label: str, timezone: str) -> str:
    names = {
        "today": "Today so far",
        "yesterday": "Yesterday",
        "7d": "The last 7 days",
        "this week": "This week so far",
        "last week": "Last week",
        "this month": "This month so far",
    }
    if label.endswith("d") and label[:-1].isdigit():
        return f"The last {label[:-1]} days ({timezone})"
    return f"{names.get(label, label)} ({timezone})"


def digest_title(day: str, timezone: str) -> str:
    return f"Herald daily digest · {day} ({timezone})"


def compared(current: int, previous: int) -> str:
    """``▲ 25%``, ``▼ 10%``, ``= 0%``, or ``new`` when there was nothing before."""
    moved = change(current, previous)
    if moved is None:
        return "new" if current else "–"
    if moved > 0:
        return f"▲ {moved:.0%}"
    if moved < 0:
        return f"▼ {-moved:.0%}"
    return "= 0%"


def metric(label: str, current: int, previous: int) -> str:
    return f"{label} {current:,} ({compared(current, previous)})"


PERIOD_METRICS = (
    ("Sent", "sent"),
    ("Delivered", "delivered"),
    ("Read", "read"),
    ("Replied", "replied"),
    ("Failed", "failed"),
    ("Opt-outs", "opt_outs"),
    ("Frequency-cap skips", "cap_skips"),
    ("Enrolled", "enrolled"),
    ("Completed", "completed"),
    ("Exited", "exited"),
)


def compared_with(label: str) -> str:
    return "Compared with the period before." if label != "yesterday" else "Compared with the day before."


def quiet_period() -> str:
    return "Nothing was sent in this period."


def broadcasts_in_period(count: int) -> str:
    return f"Broadcasts started: {count:,}"


def broadcast_funnel_line(line: BroadcastLine, name: str) -> str:
    """``#12 Diwali promo: 940/1,000 sent · 95% delivered · 60% read · 3 failed``."""
    return (
        f"#{line.id} {name}: {line.sent:,}/{line.total:,} sent · {rate(line.delivered, line.sent):.0%}"
        f" delivered · {rate(line.read, line.sent):.0%} read · {line.failed:,} failed"
    )


def more_broadcasts(count: int) -> str:
    return f"…and {count:,} more (`broadcast list`)."


def failures_title() -> str:
    return "Failures by reason"


def chart_title(timezone: str) -> str:
    return f"Messages per day, last 7 days ({timezone})"


def chart_alt() -> str:
    return "Bar chart of messages sent, delivered, read and failed on each of the last seven days."


def preview_changed() -> str:
    """Shown above a fresh preview when a Confirm came for an earlier one."""
    return (
        "This broadcast changed after the preview you confirmed, so nothing was sent or"
        " scheduled. This is what it is now; confirm again to go ahead."
    )


def preview_replaced() -> str:
    return "This preview was changed; the new one is below."


# --- the shell --------------------------------------------------------------------------------


def shell_banner(timezone: str) -> str:
    return (
        f"Herald shell: the chat commands in a terminal; times are read in {timezone}."
        " Type `help` for the commands, `quit` (or Ctrl-D) to leave."
    )


def not_sent(broadcast_id: int) -> str:
    return f"Not sent; broadcast #{broadcast_id} is as it was."


# --- admins on WhatsApp ---------------------------------------------------------------------


def reply_yes(will_send: int, when: str | None) -> str:
    """What an admin on WhatsApp answers to go ahead with a previewed broadcast."""
    if when:
        return f"Reply *YES* to send to {will_send:,} contacts at {when}. Anything else cancels."
    return f"Reply *YES* to send to {will_send:,} contacts now. Anything else cancels."


def reply_yes_to(command: str) -> str:
    return f"Reply *YES* to run `{command}`. Anything else cancels."


def confirmation_expired(minutes: int) -> str:
    return (
        f"That confirmation expired (it lasts {minutes} minutes); nothing was sent or changed."
        " Send the command again."
    )


def yes_before_question(sent: str, asked: str) -> str:
    """A YES whose own timestamp is before the question it would answer (a late or repeated one)."""
    return (
        f"That YES was sent at {sent}, before the question (asked at {asked}), so it confirms"
        " nothing. Reply *YES* again to go ahead."
    )


def cancelled_confirmation() -> str:
    return "Cancelled; nothing was sent or changed."


# --- the circuit breaker -----------------------------------------------------------------------


def resume_label() -> str:
    return "Resume"


def resume_hint() -> str:
    return "Only an admin can resume it, once the cause is understood."


def reply_resume() -> str:
    """What an admin on WhatsApp answers to a breaker's alert."""
    return "Reply *RESUME* to resume every broadcast the breaker paused."


def resumed_by_breaker_reply(names: list[str]) -> str:
    return "Resumed: " + ", ".join(f"“{n}”" for n in names) + "."


def nothing_held_by_breaker() -> str:
    return "The circuit breaker holds no broadcast; nothing was resumed."


def not_resumed(name: str, why: str) -> str:
    return f"“{name}” stays paused: {why}"

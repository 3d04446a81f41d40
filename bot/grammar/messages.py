"""Every sentence the command language says to a person: usage lines, help, refusals, questions.

Wording is reviewed here and nowhere else; the parser modules only choose which
sentence to say and fill in the blanks. Usage lines are written without the
leading ``/`` because the shell and WhatsApp faces have none; the Slack face
may add it when it shows them.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from engine.phones import mask_phone
from engine.schedule import span

USAGE: dict[str, str] = {
    "broadcast": (
        'broadcast <template> tags:<tag>[,<tag>…] [at <time> | now | draft] [name:"…"] [lang:<code>]'
    ),
    "broadcast list": "broadcast list",
    "broadcast show": "broadcast show <id>",
    "broadcast send": "broadcast send <id>",
    "broadcast cancel": "broadcast cancel <id>",
    "broadcast stats": "broadcast stats <id>",
    "broadcast pause": "broadcast pause <id>",
    "broadcast resume": "broadcast resume <id>",
    "sequence": ("sequence list | show <name> | activate <name> | pause <name> | enroll <name> <phone>"),
    "sequence list": "sequence list",
    "sequence show": "sequence show <name>",
    "sequence activate": "sequence activate <name>",
    "sequence pause": "sequence pause <name>",
    "sequence enroll": "sequence enroll <name> <phone>",
    "contacts": (
        "contacts add <phone> | tag <phone> <tag…> | untag <phone> <tag…> | optout <phone>"
        " | count tags:<tag>[,<tag>…]"
    ),
    "contacts add": 'contacts add <phone> [name:"…"] [tags:<tag>,<tag>]',
    "contacts tag": "contacts tag <phone> <tag> [<tag>…]",
    "contacts untag": "contacts untag <phone> <tag> [<tag>…]",
    "contacts optout": "contacts optout <phone>",
    "contacts count": "contacts count tags:<tag>[,<tag>…]",
    "templates": "templates list | sync",
    "templates list": "templates list",
    "templates sync": "templates sync",
    "stats": (
        "stats [today | yesterday | 7d | this week | last week | last 30 days | this month | <day> to <day>]"
    ),
    "help": "help [broadcast | sequence | contacts | templates | stats | times]",
    "time": ("at 9am | at 18:30 | at tomorrow 9am | at mon 9am | at 2026-12-01 09:00 | at in 2 hours"),
}

BROADCAST_ACTIONS_USAGE = (
    "broadcast list | show <id> | send <id> | cancel <id> | stats <id> | pause <id> | resume <id>"
)

TIME_EXAMPLES = "`9am`, `18:30`, `tomorrow 9am`, `mon 9am`, `2026-12-01 09:00` or `in 2 hours`"

HELP: dict[str | None, str] = {
    None: (
        "Herald runs WhatsApp campaigns from chat. Commands:\n"
        f"• {USAGE['broadcast']}\n"
        f"• {BROADCAST_ACTIONS_USAGE}\n"
        f"• {USAGE['sequence']}\n"
        f"• {USAGE['contacts']}\n"
        f"• {USAGE['templates']}\n"
        f"• {USAGE['stats']}\n"
        "Add `help` after a command (`broadcast help`) or write `help times` for more.\n"
        "In a mention or DM you can also just say it: "
        "“send promo to vip and gold tomorrow at 9”."
    ),
    "broadcast": (
        "Send an approved template to every opted-in contact with ANY of the tags.\n"
        f"• {USAGE['broadcast']}\n"
        "  `broadcast promo tags:vip at 9am` schedules it; `now` shows a preview to confirm;"
        " `draft` saves it for later. Without any of them you get the `now` preview.\n"
        '  `name:"Diwali promo"` names it (otherwise Herald names it after the template and tags);'
        " `lang:en_US` picks the template language.\n"
        f"• {BROADCAST_ACTIONS_USAGE}\n"
        "Nothing is sent until an admin confirms the preview. `help times` explains times."
    ),
    "sequence": (
        "Drip sequences: a trigger, then messages, delays and conditions.\n"
        f"• {USAGE['sequence']}\n"
        "  `sequence enroll onboarding +919812345678` starts one contact on a sequence;"
        " a contact is enrolled at most once per sequence."
    ),
    "contacts": (
        "Contacts are keyed by their phone number in international form (+ and the country code).\n"
        f"• {USAGE['contacts add']}\n"
        f"• {USAGE['contacts tag']}\n"
        f"• {USAGE['contacts untag']}\n"
        f"• {USAGE['contacts optout']}\n"
        f"• {USAGE['contacts count']}"
    ),
    "templates": (
        "Templates are approved by Meta; only APPROVED ones can be sent.\n"
        f"• {USAGE['templates']}\n"
        "  `templates sync` fetches the current list and statuses from WhatsApp."
    ),
    "stats": (
        "Delivery numbers for a period (in your timezone).\n"
        f"• {USAGE['stats']}\n"
        "  `broadcast stats <id>` shows one broadcast's funnel."
    ),
    "times": (
        "Times are read in your timezone and must be in the future.\n"
        "• A time today: `9am`, `9:30pm`, `18:30` (a bare `9` is 09:00, on the 24-hour clock).\n"
        "• A day and a time: `tomorrow 18:30`, `mon 9am` (the next Monday whose 9am is still"
        " ahead), `next mon 9am` (never today), `dec 1 9am`, `2026-12-01 09:00`.\n"
        "• From now: `in 2 hours`, `in 30 minutes`, `in 3 days`.\n"
        "A day without a time, a time that has passed, and a date like `1/12` that reads two"
        " ways are refused with a suggestion."
    ),
    "help": f"{USAGE['help']}\nShows what a command does and how to write it.",
}

HELP_TOPICS = tuple(topic for topic in HELP if topic is not None)


# --- echoing what the person wrote -----------------------------------------------------

MAX_ECHO = 48
_NUMBERISH = re.compile(r"\+?[0-9][0-9 ().\-]*[0-9]", re.ASCII)
_DATEISH = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?: [0-9]{1,2})?|[0-9]{1,2}[.\-][0-9]{1,2}[.\-][0-9]{2,4}",
    re.ASCII,
)


def echo(text: str) -> str:
    """``text`` as it may be shown back: shortened, and with anything that could be a phone
    number masked (a run of 7 or more digits that is not a date), wherever it was written.
    """
    if len(text) > MAX_ECHO:
        text = text[: MAX_ECHO - 1] + "…"
    return mask_numbers(text)


def mask_numbers(text: str) -> str:
    """``text`` with every run of 7 or more digits that is not a date masked like a phone."""
    return _NUMBERISH.sub(_mask_number, text)


def code(text: str) -> str:
    """``text`` echoed as inline code."""
    return f"`{echo(text)}`"


def _mask_number(match: re.Match[str]) -> str:
    found = match.group(0)
    if sum(c.isdigit() for c in found) < 7 or _DATEISH.fullmatch(found):
        return found
    return mask_phone(found)


# --- commands and options -----------------------------------------------------------


def unknown_command(word: str) -> str:
    return f"I don't know the command {code(word)}."


def unknown_subcommand(command: str, word: str) -> str:
    return f"{code(command)} has no {code(word)}."


def unknown_help_topic(word: str) -> str:
    return f"There is no help on {code(word)}."


def needs_subcommand(command: str) -> str:
    return f"{code(command)} needs to know what to do."


def too_long(limit: int) -> str:
    return f"That command is longer than {limit} characters."


def quote_not_closed(quote: str) -> str:
    return f"A {quote} quote is not closed."


def unknown_option(key: str) -> str:
    return f"I don't know the option {code(key + ':')}."


def option_not_here(key: str, form: str) -> str:
    return f"{code(key + ':')} does not apply to {code(form)}."


def option_twice(key: str) -> str:
    return f"{code(key + ':')} is given twice."


def option_empty(key: str) -> str:
    return f"{code(key + ':')} is empty."


def unexpected_words(form: str, words: str) -> str:
    return f"{code(form)} does not take {code(words)}."


def value_too_long(what: str, limit: int) -> str:
    return f"The {what} is longer than {limit} characters."


# --- names -------------------------------------------------------------------------


def needs_template() -> str:
    return "Which template? Name it first, like `broadcast promo tags:vip`."


def bad_template_name(word: str) -> str:
    return f"{code(word)} is not a template name: they use lowercase letters, digits and _."


def unknown_template(word: str) -> str:
    return f"There is no template {code(word)}."


def unknown_tags(words: list[str]) -> str:
    listed = ", ".join(f"{code(w)}" for w in words)
    return f"No contact has the tag {listed}." if len(words) == 1 else f"No contact has the tags {listed}."


def bad_tag(raw: str) -> str:
    return (
        f"The tag {code(raw.strip())} has characters Herald does not accept: use letters, digits"
        " and _ - . : / (at most 64), like `vip` or `diwali-2026`."
    )


def unknown_sequence(word: str) -> str:
    return f"There is no sequence {code(word)}."


def needs_sequence(form: str) -> str:
    return f"{code(form)} needs a sequence name."


def needs_audience(template: str) -> str:
    return f"Who should get {code(template)}? Add the tags, like `tags:vip`."


def needs_tags(form: str) -> str:
    return f"{code(form)} needs at least one tag."


def bad_language(word: str) -> str:
    return f"{code(word)} is not a language code: write it like `en` or `en_US`."


def bad_id(word: str, form: str) -> str:
    return f"{code(word)} is not a broadcast id: {code(form)} takes the number from `broadcast list`."


def needs_id(form: str) -> str:
    return f"{code(form)} needs a broadcast id, the number from `broadcast list`."


def one_name_only(form: str) -> str:
    return f"{code(form)} takes one name; put a name with spaces in quotes."


def needs_phone(form: str) -> str:
    return f"{code(form)} needs a phone number in international form, like +919812345678."


def bad_phone(reason: str) -> str:
    return reason


def name_outside_option(words: str) -> str:
    return f'{code(words)} is not part of a phone number; a name goes in `name:"…"`.'


def unknown_period(word: str) -> str:
    return (
        f"{code(word)} is not a period: use today, yesterday, 7d, this week, last week, last 30 days,"
        " this month, a day like `25 nov`, or `1 nov to 15 nov`."
    )


def backwards_period(written: str) -> str:
    return f"{code(written)} ends before it starts: put the earlier day first."


# --- schedules ---------------------------------------------------------------------


def schedule_conflict() -> str:
    return "Choose one of `at <time>`, `now` or `draft`."


def needs_time_after(word: str) -> str:
    return f"{code(word)} needs a time after it, like {code(word + ' 9am')}."


def unreadable_time(phrase: str) -> str:
    return f"I can't read {code(phrase)} as a time. Try {TIME_EXAMPLES}."


def time_too_long() -> str:
    return f"That is too long to be a time. Try {TIME_EXAMPLES}."


def day_without_time(phrase: str) -> str:
    return f"{code(phrase)} is a day without a time: at what time?"


def not_a_day(phrase: str) -> str:
    return f"{code(phrase)} is not one day. Try {TIME_EXAMPLES}."


def bad_clock(written: str) -> str:
    return f"{code(written)} is not a time of day."


def bad_date(written: str) -> str:
    return f"{code(written)} is not a date on the calendar."


def two_way_date(written: str, first: str, second: str) -> str:
    return (
        f"{code(written)} could be {first} or {second}."
        " Write the month as a word (`1 dec`) or use year-month-day (`2026-12-01`)."
    )


def wrong_weekday(date_text: str, actual: str, written: str) -> str:
    return f"{date_text} is a {actual}, not a {written}."


def too_far(phrase: str) -> str:
    return f"{code(phrase)} is too far ahead."


def time_passed(when: str, now_local: datetime, tz: str) -> str:
    return f"{when} has passed (it is {now_local:%H:%M} {tz})."


def time_in_gap(when: str, tz: str, jump: timedelta) -> str:
    return f"{when} does not exist in {tz}: the clocks jump forward {span(jump)} then."


def time_in_fold(when: str, tz: str, back: timedelta) -> str:
    return (
        f"{when} happens twice in {tz}: the clocks go back {span(back)} then."
        " Pick a time outside the repeated hour."
    )


def ambiguous_zone(abbreviation: str, zones: tuple[str, ...]) -> str:
    listed = " or ".join(zones)
    return f"`{abbreviation}` is used by more than one zone: did you mean {listed}?"


def zone_not_in_use(abbreviation: str, zone: str, offset: timedelta) -> str:
    return (
        f"{abbreviation} is not in use in {zone} then (its clocks are at UTC{utc_offset(offset)}):"
        f" did you mean {zone}'s own time?"
    )


def unknown_place(place: str) -> str:
    return f"I don't know which timezone {code(place)} is in: name it like Asia/Kolkata or `New York time`."


def utc_offset(offset: timedelta) -> str:
    """``+5:30``, ``−4``, ``+0``."""
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}" if rest else f"{sign}{hours}"


# --- conversation (mentions and DMs) ----------------------------------------------------


def not_understood() -> str:
    return (
        "I didn't understand that. Try “send promo to vip tomorrow at 9”, "
        "`broadcast promo tags:vip at 9am`, or `help`."
    )


def too_long_for_words() -> str:
    return (
        "That is more than I read as plain words: say it in a sentence or two,"
        " or use a command like `broadcast promo tags:vip at 9am`."
    )


def nothing_to_change() -> str:
    return "There is no broadcast to change yet: start with one, like `broadcast promo tags:vip`."


def cannot_change() -> str:
    return "I can change the time, the tags, the template or the name of a broadcast."


def ask_audience(template: str, known_tags: list[str]) -> str:
    examples = ", ".join(f"{code(t)}" for t in known_tags[:5]) if known_tags else "`vip` or `vip, gold`"
    return f"Who should get {code(template)}? Tell me the tags, like {examples}."


def ask_time(template: str) -> str:
    return f"When should {code(template)} go out? Say a time like `tomorrow 9am`, or `now`."


def ask_which_template(word: str) -> str:
    return f"Which template did you mean by {code(word)}?"


def ask_sequence_or_tag(sequence: str, tag: str) -> str:
    return f"Should I 1) enroll them in the sequence {code(sequence)}, or 2) tag them {code(tag)}?"


def ask_pause_or_cancel(broadcast_id: int) -> str:
    return f"Should I 1) pause broadcast {broadcast_id} (it can resume later), or 2) cancel it?"


def ask_template(tags: list[str], known: list[str]) -> str:
    to = f" to {listed(tags)}" if tags else ""
    examples = f" Known ones: {listed(known[:6])}." if known else ""
    return f"Which template should I send{to}?{examples}"


def ask_which(written: str) -> str:
    return f"Which one did you mean by {code(written)}?"


def ask_which_broadcast(verb: str) -> str:
    return f"Which broadcast should I {verb}? Give its number (`broadcast list` shows them) or its name."


def ask_which_sequence(verb: str) -> str:
    doing = {"show": "show", "activate": "activate", "resume": "activate"}.get(verb, "pause")
    return f"Which sequence should I {doing}? Give its name (`sequence list` shows them)."


def ask_pause_or_cancel_named(name: str) -> str:
    return f"Should I 1) pause {code(name)} (it can resume later), or 2) cancel it?"


def ask_enroll_where(masked: str, known: list[str]) -> str:
    examples = f" Known ones: {listed(known[:6])}." if known else ""
    return f"Which sequence should I enroll {masked} in?{examples}"


def ask_tags_for(verb: str, masked: str) -> str:
    if verb == "untag":
        return f"Which tags should I remove from {masked}?"
    return f"Which tags should {masked} get? Like `vip` or `vip, gold`."


def ask_phone_for(verb: str, what: str | None = None, tags: list[str] | None = None) -> str:
    """Who a change is for, when the number is missing."""
    number = "Give their phone number with the country code, like +919812345678."
    if verb == "enroll":
        return f"Who should I enroll in {code(what or '')}? {number}"
    if verb == "tag":
        return f"Who should I tag {listed(tags or [])}? {number}"
    if verb == "untag":
        return f"Whose {listed(tags or [])} should I remove? {number}"
    if verb == "optout":
        return f"Who should I opt out? {number}"
    called = f" {what}" if what else ""
    return (
        f"What is the phone number of the new contact{called}?"
        " Write it with the country code, like +919812345678."
    )


def cannot_unenroll(sequence: str) -> str:
    return (
        f"Chat cannot take a contact out of {code(sequence)} early; opting them out"
        " (`contacts optout <phone>`) ends every enrollment they have."
    )


def cannot_move(name: str) -> str:
    return (
        f"Chat cannot move a broadcast that is already scheduled ({code(name)}): cancel it and send"
        " it again at the new time, or change it through the API (`PATCH /api/broadcasts/{id}`)."
    )


def cannot_delete_contact() -> str:
    return (
        "Chat cannot delete a contact; opt them out instead (`contacts optout <phone>`),"
        " or delete them through the API (`DELETE /api/contacts/{id}`)."
    )


def ask_whose_enrollments() -> str:
    return (
        "Whose enrollments? Give a phone number with the country code,"
        " or ask about a sequence (`who is enrolled in onboarding`)."
    )


def sequences_cannot(verb: str) -> str:
    return f"A sequence cannot be {verb}ed; it can be paused or activated (`sequence pause <name>`)."


def ask_pick(count: int) -> str:
    return f"Which one? Answer with a number from 1 to {count}, or `cancel`."


# --- changes read from plain words, shown back before they are done ----------------------


def proposal(what: str, command: str, note: str = "") -> str:
    """``Tag +44••••0001 with vip? …``: a change read from plain words, asked back before it is done."""
    noted = f" {note}." if note else ""
    return f"{what}?{noted} Say yes to go ahead, or no to leave it. (As a command: {code_long(command)}.)"


def consequence(verb: str) -> str:
    """What a change means for the people it reaches, said next to the question."""
    return {
        "cancel": "Whoever has not been sent it yet never will be",
        "pause": "It can resume later",
        "optout": "Herald will not message them again unless they opt back in",
    }.get(verb, "")


def propose_add(masked: str, name: str | None, tags: list[str]) -> str:
    who = f"{masked} as {name}" if name else masked
    return f"Add {who}" + (f" with the tags {listed(tags)}" if tags else "")


def propose_tag(masked: str, tags: list[str]) -> str:
    return f"Tag {masked} with {listed(tags)}"


def propose_untag(masked: str, tags: list[str]) -> str:
    return f"Remove {listed(tags)} from {masked}"


def propose_opt_out(masked: str) -> str:
    return f"Opt out {masked}"


def propose_enroll(masked: str, sequence: str) -> str:
    return f"Enroll {masked} in the sequence {code(sequence)}"


def propose_sequence(verb: str, sequence: str) -> str:
    return f"{verb.capitalize()} the sequence {code(sequence)}"


def propose_broadcast(verb: str, broadcast_id: int, name: str | None = None) -> str:
    what = f"broadcast #{broadcast_id}" + (f" ({name})" if name else "")
    return f"{verb.capitalize()} {what}"


def propose_sync() -> str:
    return "Fetch the templates and their statuses from WhatsApp again"


def listed(names: list[str]) -> str:
    return ", ".join(code(n) for n in names)


def code_long(text: str) -> str:
    """``text`` as inline code, masked but not shortened (a command shown back whole)."""
    return f"`{mask_numbers(text)}`"


# --- rendering helpers ------------------------------------------------------------------


def clock(t: time) -> str:
    """A clock time as people write it and as the parser reads it back: 9am, 9:30pm, 12pm."""
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    if t.second:
        return f"{hour}:{t.minute:02d}:{t.second:02d}{suffix}"
    if t.minute:
        return f"{hour}:{t.minute:02d}{suffix}"
    return f"{hour}{suffix}"


def day_phrase(local: datetime, today_local: datetime) -> str:
    """``today`` / ``yesterday`` / ``tomorrow`` / ``on Sun 29 Nov 2026``, for naming a moment."""
    days = (local.date() - today_local.date()).days
    if days == 0:
        return "today"
    if days == -1:
        return "yesterday"
    if days == 1:
        return "tomorrow"
    return f"on {local:%a} {local.day} {local:%b %Y}"


def moment(local: datetime, now_local: datetime) -> str:
    """``9am today``, ``2:30am on Sun 8 Mar 2026``: a local moment named for the person."""
    return f"{clock(local.time())} {day_phrase(local, now_local)}"

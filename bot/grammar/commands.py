"""What a chat command means, as plain frozen data the faces hand to the engine.

Every face (slash command, mention/DM, admin WhatsApp, shell) gets one of these
from ``parse`` or ``interpret``; none of them carries text still to be read.
Names are normalised (tags lower-case, phones E.164), times are aware UTC with
the IANA zone they were read in, and periods are resolved to UTC windows.

Phone numbers are left out of ``repr`` so a logged command never shows one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from engine.schedule import Schedule as EngineSchedule
from engine.schedule import ScheduleKind as ScheduleKind  # noqa: PLC0414 - re-exported for the grammar

BroadcastVerb = Literal["show", "send", "cancel", "stats", "pause", "resume"]
SequenceVerb = Literal["show", "activate", "pause"]


@dataclass(frozen=True, slots=True)
class Schedule(EngineSchedule):
    """When a broadcast goes out, as read from chat: the engine's value (``kind``, ``timezone``,
    ``at``) and how the person said it.

    ``timezone`` is the IANA zone the time was read in (and is shown in), also for
    now/draft. ``written`` is the phrase as the person wrote it (``"tomorrow 9am"``);
    ``explicit`` is False when no schedule word was given and ``now`` was assumed.
    """

    written: str = ""
    explicit: bool = True


@dataclass(frozen=True, slots=True)
class Window:
    """A period of time: ``start`` inclusive, ``end`` exclusive, both aware UTC.

    ``label`` is how it is named (``today``, ``yesterday``, ``7d``, ``2026-11-27``);
    the day boundaries are local midnights in ``timezone``.
    """

    label: str
    start: datetime
    end: datetime
    timezone: str


@dataclass(frozen=True, slots=True)
class Command:
    """Root of everything the parser produces."""


# --- broadcasts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BroadcastCreate(Command):
    """``broadcast <template> tags:<a,b> [at <time> | now | draft] [name:"…"] [lang:<code>]``.

    ``name`` is None when none was given: the engine names the broadcast (``label``
    is a reasonable default). ``language`` is None when the template has one.
    """

    template: str
    tags: tuple[str, ...]
    schedule: Schedule
    name: str | None = None
    language: str | None = None

    @property
    def label(self) -> str:
        """The name, or ``promo → vip, gold`` when none was given."""
        return self.name or f"{self.template} → {', '.join(self.tags)}"


@dataclass(frozen=True, slots=True)
class BroadcastList(Command):
    """``broadcast list``; ``status`` keeps only those in that state ("which broadcasts are scheduled")."""

    status: str | None = None


@dataclass(frozen=True, slots=True)
class BroadcastAction(Command):
    """``broadcast show|send|cancel|stats|pause|resume <id>``."""

    action: BroadcastVerb
    broadcast_id: int


@dataclass(frozen=True, slots=True)
class BroadcastFind(Command):
    """Broadcasts whose template or name is
    ``template_or_name`` (case-insensitive; then words of it, then a near spelling), started
    within ``window`` (any time when None): the answer to "how did yesterday's promo do?".
    ``action`` is what to do with the one found ("pause the diwali promo").
    """

    template_or_name: str
    window: Window | None = None
    action: BroadcastVerb = "stats"


# --- sequences --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SequenceList(Command):
    """``sequence list``; ``status`` keeps only those in that state ("which sequences are running")."""

    status: str | None = None


@dataclass(frozen=True, slots=True)
class SequenceAction(Command):
    """``sequence show|activate|pause <name>``."""

    action: SequenceVerb
    sequence: str


@dataclass(frozen=True, slots=True)
class SequenceEnroll(Command):
    """``sequence enroll <name> <phone>``; ``phone`` is E.164."""

    sequence: str
    phone: str = field(repr=False)


# --- contacts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactAdd(Command):
    """``contacts add <phone> [name:"…"] [tags:a,b]``; ``phone`` is E.164."""

    phone: str = field(repr=False)
    name: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContactTag(Command):
    """``contacts tag <phone> <tag…>``."""

    phone: str = field(repr=False)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContactUntag(Command):
    """``contacts untag <phone> <tag…>``."""

    phone: str = field(repr=False)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContactOptOut(Command):
    """``contacts optout <phone>``."""

    phone: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class EnrollmentList(Command):
    """Enrollments of a contact (``phone``, E.164), in one ``sequence`` or in any."""

    phone: str = field(repr=False)
    sequence: str | None = None


@dataclass(frozen=True, slots=True)
class ContactCount(Command):
    """``contacts count tags:<a,b>``: opted-in active contacts with ANY of the tags (no tags:
    every contact; only natural phrasings ask that).
    """

    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ContactShow(Command):
    """One contact by phone ("who is +91 98123 45678?")."""

    phone: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ContactFind(Command):
    """Contacts whose name is like ``name`` ("who is Asha?", "find Priya")."""

    name: str


@dataclass(frozen=True, slots=True)
class ContactList(Command):
    """The first contacts with ANY of ``tags`` (every contact when empty), and how many there are."""

    tags: tuple[str, ...] = ()


# --- templates, stats, help -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateList(Command):
    """``templates list``; ``status`` keeps one status (APPROVED…), ``name`` one template's languages."""

    status: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateSync(Command):
    """``templates sync``."""


@dataclass(frozen=True, slots=True)
class Stats(Command):
    """``stats [today | yesterday | 7d]``: delivery numbers for ``window``."""

    window: Window


@dataclass(frozen=True, slots=True)
class Chitchat(Command):
    """A greeting ("hi") or thanks, answered in kind."""

    kind: Literal["hello", "thanks"]


@dataclass(frozen=True, slots=True)
class Help(Command):
    """``help [topic]`` or ``<command> help``; ``topic`` is a key of ``messages.HELP``."""

    topic: str | None = None


# --- conversation (mentions, DMs, admin WhatsApp, shell) --------------------------------


@dataclass(frozen=True, slots=True)
class Confirm(Command):
    """Confirms the preview the person was shown ("yes", "confirm", "go ahead")."""


@dataclass(frozen=True, slots=True)
class Cancel(Command):
    """Drops the preview or question the person was shown ("no", "cancel")."""


@dataclass(frozen=True, slots=True)
class PendingBroadcast:
    """A broadcast still missing its template (None), audience (no ``tags``) or time (``schedule``
    None); ``missing`` names the first piece to ask for.
    """

    template: str | None
    tags: tuple[str, ...] = ()
    schedule: Schedule | None = None
    name: str | None = None
    language: str | None = None

    @property
    def missing(self) -> Literal["template", "tags", "time"]:
        if self.template is None:
            return "template"
        return "tags" if not self.tags else "time"

    def complete(
        self,
        *,
        template: str | None = None,
        tags: tuple[str, ...] | None = None,
        schedule: Schedule | None = None,
    ) -> BroadcastCreate | PendingBroadcast:
        """This broadcast with the given pieces filled in; still pending while one is missing."""
        filled = PendingBroadcast(
            template=template or self.template,
            tags=tags or self.tags,
            schedule=schedule or self.schedule,
            name=self.name,
            language=self.language,
        )
        if filled.template is None or not filled.tags or filled.schedule is None:
            return filled
        return BroadcastCreate(
            template=filled.template,
            tags=filled.tags,
            schedule=filled.schedule,
            name=filled.name,
            language=filled.language,
        )


ChangeVerb = Literal[
    "enroll", "tag", "untag", "optout", "add", "show", "pause", "resume", "cancel", "activate"
]
Piece = Literal["phone", "sequence", "tags", "broadcast"]


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A command about a contact, a sequence or a broadcast still missing one piece
    (``missing``), with the pieces already said kept: "enroll +91… " (which sequence?),
    "enroll in onboarding" (who?), "pause the broadcast" (which one?).
    """

    verb: ChangeVerb
    missing: Piece
    phone: str | None = field(default=None, repr=False)
    sequence: str | None = None
    tags: tuple[str, ...] = ()
    name: str | None = None
    target: Literal["broadcast", "sequence", "contact", "enrollment"] = "contact"


@dataclass(frozen=True, slots=True)
class Question:
    """A clarifying question instead of a command.

    ``choices`` are the candidate interpretations (the person answers with a
    number, or "yes" when there is one); ``pending`` is a command waiting for
    the missing piece the question asks for. ``confirm`` marks a change read from
    plain words, shown back as one choice and done only on a yes. Pass the
    Question back to ``interpret`` as ``previous`` with the person's answer.
    """

    text: str
    choices: tuple[Command, ...] = ()
    pending: PendingBroadcast | PendingChange | None = None
    confirm: bool = False


# --- what a command does ------------------------------------------------------------------

READ_ONLY: tuple[type[Command], ...] = (
    BroadcastList,
    Chitchat,
    ContactCount,
    ContactFind,
    ContactList,
    ContactShow,
    EnrollmentList,
    Help,
    SequenceList,
    Stats,
    TemplateList,
)
READ_VERBS = frozenset({"show", "stats"})


def is_change(command: Command) -> bool:
    """True for every command that changes, sends or schedules something (only admins may)."""
    if isinstance(command, READ_ONLY):
        return False
    if isinstance(command, BroadcastAction | SequenceAction | BroadcastFind):
        return command.action not in READ_VERBS
    return True


def previews(command: Command) -> bool:
    """True for a change whose answer is a preview confirmed on its own (a broadcast to send)."""
    return isinstance(command, BroadcastCreate) or (
        isinstance(command, BroadcastAction | BroadcastFind) and command.action == "send"
    )

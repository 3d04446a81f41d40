"""The shapes the engine answers with: contacts, templates, broadcasts, funnels, sequences.

These are the contract shapes of DESIGN §5 that every face reads (the REST
API sends them as they are; chat faces render them). They are typed dicts, so
a view is a plain dict at no cost, checked by mypy where it is built, and
described once here: the OpenAPI document's response schemas are generated
from these classes (``bot.web.openapi``), with the field descriptions below.
Every view refuses keys it does not declare, so a key added to a view and
not here fails the API's contract test.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

from storage.states import BroadcastStatus, ContactStatus, EnrollmentStatus, SequenceStatus

STRICT = ConfigDict(extra="forbid")
Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
ParameterFormat = Literal["NAMED", "POSITIONAL"]
TriggerType = Literal["tag_added", "contact_created", "manual"]
Counts = dict[str, int]
Phone = Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$", description="E.164")]
Moment = Annotated[str, Field(description="UTC, ISO 8601 (`2026-12-01T03:30:00Z`)")]


@with_config(STRICT)
class Contact(TypedDict):
    id: int
    phone: Annotated[Phone | None, Field(description="E.164; null for a username user known by user id only")]
    wa_user_id: Annotated[
        str | None,
        Field(description="business-scoped user id (`US.13491208655302741918`), null until Meta names it"),
    ]
    username: Annotated[str | None, Field(description="the user's WhatsApp username, when Meta shares it")]
    name: str
    tags: Annotated[list[str], Field(description="lower-case tag names, sorted")]
    opted_in: Annotated[bool, Field(description="false once the contact opted out (STOP, the API…)")]
    status: Annotated[ContactStatus, Field(description="`deleted` contacts are never messaged")]
    attributes: Annotated[dict[str, Any], Field(description="free values, usable as template variables")]


@with_config(STRICT)
class Parameter(TypedDict):
    component: Annotated[str, Field(description="header, body or button")]
    name: Annotated[str, Field(description="`1`, `2`… for positional templates, the name for named ones")]
    index: NotRequired[Annotated[int, Field(description="the button's position")]]
    format: NotRequired[Annotated[str, Field(description="a media header's format (IMAGE, VIDEO…)")]]


@with_config(STRICT)
class Template(TypedDict):
    id: int
    name: str
    language: str
    category: Category
    status: Annotated[str, Field(description="as Meta says: APPROVED, PENDING, REJECTED, PAUSED…")]
    parameter_format: ParameterFormat
    parameters: Annotated[list[Parameter], Field(description="what a send must fill, in order")]
    components: Annotated[list[dict[str, Any]], Field(description="Meta's components, as synced")]


@with_config(STRICT)
class Funnel(TypedDict):
    total: Annotated[int, Field(description="audience members in the ledger")]
    sent: Annotated[int, Field(description="messages WhatsApp accepted")]
    delivered: Annotated[int, Field(description="of those sent, delivered")]
    read: Annotated[int, Field(description="of those delivered, read")]
    replied: Annotated[int, Field(description="recipients who wrote back within 72 hours")]
    failed: int
    skipped: Annotated[Counts, Field(description="by reason: `frequency_cap`, `opted_out`…")]
    failed_reasons: Annotated[Counts, Field(description='by error: `{"131026 Message undeliverable": 3}`')]
    pending: Annotated[int, Field(description="not settled yet: queued, held or being sent")]
    held: Annotated[
        Counts,
        Field(
            description="of the pending, waiting for a later time by rule, by reason: `messaging_limit`,"
            " `template_paused`, `breaker`, `retry_131049`, `quiet_hours`"
        ),
    ]


@with_config(STRICT)
class Broadcast(TypedDict):
    id: int
    name: str
    template: Annotated[str, Field(description="the template's name")]
    language: str
    category: Category
    tags: Annotated[list[str], Field(description="contacts with ANY of these tags")]
    status: BroadcastStatus
    status_reason: Annotated[str | None, Field(description="why it is paused or missed")]
    scheduled_at: Annotated[Moment | None, Field(description="when it is due, UTC")]
    timezone: Annotated[str, Field(description="the IANA zone its time was given in")]
    scheduled_for: Annotated[str | None, Field(description="the time in words, in its zone and UTC")]
    created_by: Annotated[str, Field(description="who created it (a Slack id, a masked phone, api)")]
    face: Annotated[str, Field(description="where it was created: api, slack, whatsapp, shell")]
    notify: Annotated[dict[str, Any], Field(description="where each face reports its progress")]
    audience_total: Annotated[int | None, Field(description="recipients in its ledger, once started")]
    started_at: Moment | None
    completed_at: Moment | None
    funnel: Funnel


@with_config(STRICT)
class Waterfall(TypedDict):
    matched: Annotated[int, Field(description="contacts with any of the tags")]
    opted_out: int
    deleted: int
    eligible: Annotated[int, Field(description="matched, less opted out and deleted")]
    frequency_capped: Annotated[int, Field(description="eligible, but reached by MARKETING in 24 h")]
    will_send: int


LimitSource = Literal["MESSAGING_LIMIT", "meta", "unknown"]


@with_config(STRICT)
class LimitFit(TypedDict):
    limit: Annotated[
        int | None,
        Field(description="unique users templates may reach in 24 hours; null: unlimited or unknown"),
    ]
    source: Annotated[
        LimitSource, Field(description="the MESSAGING_LIMIT setting, what Meta says, or unknown")
    ]
    used: Annotated[int, Field(description="unique users templates reached in the last 24 hours")]
    fits_now: Annotated[int, Field(description="of the recipients, those who go at once")]
    later: Annotated[int, Field(description="those who wait for room in the limit")]
    later_from: Annotated[Moment | None, Field(description="when the first of them would go")]
    later_until: Annotated[Moment | None, Field(description="when the last would; null: more than 30 days")]


@with_config(STRICT)
class Preview(TypedDict):
    total: Annotated[int, Field(description="eligible recipients")]
    capped: Annotated[int, Field(description="of those, held back by the frequency cap")]
    will_send: int
    sample: Annotated[list[Contact], Field(description="the first ten recipients", max_length=10)]
    waterfall: Waterfall
    estimated_seconds: Annotated[float, Field(description="sending time at WHATSAPP_MPS")]
    messaging_limit: Annotated[LimitFit, Field(description="how it fits the business's messaging limit")]


@with_config(STRICT)
class SequenceTrigger(TypedDict):
    type: TriggerType
    tag: NotRequired[str]


@with_config(STRICT)
class SequenceSummary(TypedDict):
    id: int
    name: str
    status: SequenceStatus
    version: Annotated[int, Field(description="the current version")]
    trigger: SequenceTrigger


@with_config(STRICT)
class StepFunnel(TypedDict):
    total: int
    sent: int
    delivered: int
    read: int
    failed: int
    replied: int


@with_config(STRICT)
class VersionStats(TypedDict):
    version: int
    active: Annotated[int, Field(description="enrollments still running on this version")]
    completed: int
    exited: Annotated[Counts, Field(description="by reason: `opted_out`, `deleted`, `archived`")]
    steps: NotRequired[Annotated[dict[str, StepFunnel], Field(description="each message step's funnel")]]


@with_config(STRICT)
class EnrollmentCounts(TypedDict):
    enrolled: int
    active: int
    completed: int
    exited: Annotated[Counts, Field(description="by reason")]


@with_config(STRICT)
class Sequence(SequenceSummary):
    definition: Annotated[dict[str, Any], Field(description="the current version's definition")]
    versions: list[VersionStats]
    enrollments: EnrollmentCounts
    note: NotRequired[Annotated[str, Field(description="after an edit: who continues on which version")]]


@with_config(STRICT)
class Enrollment(TypedDict):
    id: int
    sequence: Annotated[str, Field(description="the sequence's name")]
    contact: Annotated[int, Field(description="the contact's id")]
    version: Annotated[int, Field(description="the version it runs on, to the end")]
    status: EnrollmentStatus
    current_step: Annotated[str | None, Field(description="the step it is at; null once finished")]
    exit_reason: Annotated[str | None, Field(description="why it exited")]
    enrolled_at: Moment


@with_config(STRICT)
class Rejected(TypedDict):
    line: Annotated[int, Field(description="the CSV line, counting the header as 1")]
    reason: str


@with_config(STRICT)
class ImportReport(TypedDict):
    accepted: Annotated[int, Field(description="new contacts")]
    updated: Annotated[int, Field(description="rows that updated a contact")]
    rejected: Annotated[list[Rejected], Field(description="the first 1,000 refused lines")]
    rejected_total: int


@with_config(STRICT)
class SyncReport(TypedDict):
    synced: Annotated[int, Field(description="templates stored")]
    approved: Annotated[int, Field(description="of those, APPROVED (sendable)")]
    skipped: Annotated[list[str], Field(description="`name (language): why`")]

"""The REST API's own shapes around the engine's views: list envelopes and the error body.

Routes build these; ``bot.web.openapi`` generates the document's response
schemas from them and from ``engine.views``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, with_config
from typing_extensions import TypedDict

from engine import views
from engine.views import STRICT


@with_config(STRICT)
class ContactPage(TypedDict):
    contacts: list[views.Contact]
    next: Annotated[int | None, Field(description="pass as `after` for the next page; null at the end")]


@with_config(STRICT)
class TemplateList(TypedDict):
    templates: list[views.Template]


@with_config(STRICT)
class BroadcastList(TypedDict):
    broadcasts: Annotated[list[views.Broadcast], Field(description="newest first")]


@with_config(STRICT)
class SequenceList(TypedDict):
    sequences: Annotated[list[views.SequenceSummary], Field(description="by name")]


@with_config(STRICT)
class EnrollmentList(TypedDict):
    enrollments: list[views.Enrollment]


@with_config(STRICT)
class ErrorDetail(TypedDict):
    code: Annotated[
        str, Field(pattern="^[a-z_]+$", description="stable, for programs: `invalid`, `conflict`…")
    ]
    message: Annotated[str, Field(min_length=1, description="for people: what was wrong, and a hint")]
    field: Annotated[str | None, Field(description="the input at fault, when there is one")]


@with_config(STRICT)
class Error(TypedDict):
    """Every 4xx answer; nothing was changed."""

    error: ErrorDetail

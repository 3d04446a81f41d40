"""Request bodies of the REST API. Unknown fields are refused, so typos never pass silently."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from bot.web.http import MAX_ID

Scalar = str | int | float | bool


def _ref(what: str, text: str, *, max_length: int) -> BeforeValidator:
    """An id (a JSON whole number) or a text reference; anything else is refused with one clear message."""

    def check(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= MAX_ID:
                raise ValueError(f"an id is a whole number from 1 to {MAX_ID}")
            return value
        if isinstance(value, str) and value.strip() and len(value) <= max_length:
            return value
        raise ValueError(
            f"give the {what}'s id (a whole number) or its {text} (1 to {max_length} characters)"
        )

    return BeforeValidator(check)


SequenceRef = Annotated[
    Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
    | Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=r"\S")],
    _ref("sequence", "name", max_length=100),
]
ContactRef = Annotated[
    Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
    | Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"\S")],
    _ref("contact", "phone number", max_length=64),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactIn(Body):
    """A contact by phone, or by ``wa_user_id`` (the business-scoped user id of a WhatsApp
    username user whose number is withheld), or both."""

    phone: str | None = Field(None, min_length=1, max_length=64)
    wa_user_id: str | None = Field(None, min_length=1, max_length=140)
    username: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=100)
    opted_in: StrictBool | None = None
    attributes: dict[str, Scalar] | None = Field(None, max_length=100)


class TagsIn(Body):
    tags: list[str] = Field(min_length=1, max_length=100)


class BroadcastIn(Body):
    name: str | None = Field(None, min_length=1, max_length=200)
    template: str = Field(min_length=1, max_length=512)
    language: str | None = Field(None, min_length=2, max_length=16)
    tags: list[str] = Field(min_length=1, max_length=50)
    schedule: str = Field("draft", min_length=1, max_length=40)
    timezone: str | None = Field(None, min_length=1, max_length=64)
    params: list[str] | dict[str, str] | None = None


class EnrollIn(Body):
    sequence: SequenceRef
    contact: ContactRef

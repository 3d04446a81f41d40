"""Request bodies of the REST API. Unknown fields are refused, so typos never pass silently."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool

Scalar = str | int | float | bool


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactIn(Body):
    phone: str = Field(min_length=1, max_length=64)
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
    sequence: str | int
    contact: str | int

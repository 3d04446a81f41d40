"""Errors the engine raises, one tree, grouped by what the caller does next.

    HeraldError                 something a person can read and act on
    ├── Invalid                 bad input: nothing was changed (HTTP 422)
    │   └── UsageError          a chat command that did not parse; carries the usage line
    ├── NotFound                the named thing does not exist (HTTP 404)
    ├── Conflict                the request clashes with the current state (HTTP 409)
    │   └── Changed             a Confirm for a preview of what the broadcast no longer is
    └── Unavailable             a dependency is down; try again later (HTTP 503)

Cloud API delivery errors live in ``engine.whatsapp.errors``; they are about a
send, not about a person's request.

Every error renders itself for people: ``str(err)`` is the message, ``hint``
says what to do, ``field`` names the input at fault.
"""

from __future__ import annotations


class HeraldError(Exception):
    """Root of every error Herald shows to a person."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint

    def render(self) -> str:
        """The message followed by the hint, as one sentence a person can act on."""
        return f"{self.message} {self.hint}" if self.hint else self.message

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.render(), "field": self.field}


class Invalid(HeraldError):
    code = "invalid"
    status = 422


class UsageError(Invalid):
    """A command that did not parse. ``usage`` is the line to show after the message."""

    code = "usage"

    def __init__(
        self,
        message: str,
        *,
        usage: str = "",
        suggestion: str | None = None,
        field: str | None = None,
    ) -> None:
        hint = f"Did you mean `{suggestion}`?" if suggestion else None
        super().__init__(message, field=field, hint=hint)
        self.usage = usage
        self.suggestion = suggestion

    def render(self) -> str:
        text = super().render()
        return f"{text}\nUsage: {self.usage}" if self.usage else text


class NotFound(HeraldError):
    code = "not_found"
    status = 404


class Conflict(HeraldError):
    code = "conflict"
    status = 409


class Changed(Conflict):
    """The broadcast changed after the preview a Confirm answers; nothing was sent or scheduled."""

    code = "changed"


class Unavailable(HeraldError):
    code = "unavailable"
    status = 503

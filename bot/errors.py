"""Errors of the faces (settings, HTTP bodies), rooted in the engine's HeraldError."""

from __future__ import annotations

from engine.errors import HeraldError, Invalid


class SettingsError(HeraldError):
    """An environment variable has a value Herald cannot use; the message names it."""

    code = "settings"


class MalformedBody(HeraldError):
    code = "malformed_json"
    status = 400


class BodyTooLarge(HeraldError):
    code = "body_too_large"
    status = 413


class BodyStalled(HeraldError):
    """The client stopped sending its body: answered, and the connection closed."""

    code = "body_timeout"
    status = 408


class ClientGone(HeraldError):
    """The client closed the connection before its body arrived: nobody is left to answer."""

    code = "client_gone"
    status = 400


class Unauthorized(HeraldError):
    code = "unauthorized"
    status = 401


class HttpError(HeraldError):
    """An HTTP-level refusal (no such route, wrong method, a crash) in the one error shape."""

    def __init__(self, message: str, *, status: int, code: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code


class UnsupportedMediaType(HeraldError):
    code = "unsupported_media_type"
    status = 415


class UnsupportedEncoding(UnsupportedMediaType):
    """A Content-Encoding other than gzip or deflate."""

    code = "unsupported_encoding"


__all__ = [
    "BodyStalled",
    "BodyTooLarge",
    "ClientGone",
    "HttpError",
    "Invalid",
    "MalformedBody",
    "SettingsError",
    "Unauthorized",
    "UnsupportedEncoding",
    "UnsupportedMediaType",
]

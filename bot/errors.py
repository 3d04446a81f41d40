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


class Unauthorized(HeraldError):
    code = "unauthorized"
    status = 401


class UnsupportedMediaType(HeraldError):
    code = "unsupported_media_type"
    status = 415


__all__ = [
    "BodyTooLarge",
    "Invalid",
    "MalformedBody",
    "SettingsError",
    "Unauthorized",
    "UnsupportedMediaType",
]

"""Request bodies read within bounds: a stall timeout on every read, a limit on what they inflate to.

Herald's server runs with aiohttp's ``auto_decompress`` off (``server_options``),
so a body sent with ``Content-Encoding: gzip`` or ``deflate`` arrives as its
compressed bytes and is inflated here, at most ``PIECE`` bytes a step,
counting: it is refused (413) as soon as its inflated size passes the route's
limit. ``read_body`` inflates twice: once while the bytes arrive, counting and
keeping nothing, and once, when the count fitted, into the bytes it returns,
with no ``await`` between that and the caller's own checks. A body refused
for its size, then, is never held inflated, and one refused for its signature
is dropped before the next request runs; 9 KiB that inflate to 9 MiB cost 9
KiB each, however many arrive at once.

Every read waits at most ``BODY_TIMEOUT_SECONDS`` for the next bytes
(``BodyStalled``, 408, and the connection is closed); a client that closes
the connection mid-body raises ``ClientGone``, which the app logs as one line.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable, Iterator

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from bot.errors import BodyStalled, BodyTooLarge, ClientGone, MalformedBody, UnsupportedEncoding
from bot.web.keys import HERALD
from engine.errors import HeraldError

PIECE = 64 * 1024  # the most one inflate step produces
PIECES_A_TURN = 4  # inflating 256 KiB, then the event loop's other work has a turn
_GZIP = 16 + zlib.MAX_WBITS
WBITS = {"gzip": _GZIP, "x-gzip": _GZIP, "deflate": zlib.MAX_WBITS}
IDENTITY = ("", "identity")


def unreadable_body(exc: Exception) -> MalformedBody:
    return MalformedBody(
        f"the body cannot be read ({str(exc).strip() or type(exc).__name__}).",
        field="body",
        hint="Send it uncompressed, or compressed as its Content-Encoding says.",
    )


def content_encoding(request: web.Request) -> str:
    """The body's Content-Encoding, lower case ("" for none). Raises UnsupportedEncoding.

    "" too when aiohttp has inflated the body already (an app served without
    ``server_options``).
    """
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    if coding in IDENTITY or request.content.total_compressed_bytes is not None:
        return ""
    if coding not in WBITS:
        raise UnsupportedEncoding(
            f"the body's Content-Encoding is {coding[:40]!r}; Herald reads gzip and deflate.",
            field="Content-Encoding",
            hint="Send the body uncompressed, or gzip it.",
        )
    return coding


class Inflater:
    """The bytes a body stands for, from the bytes that arrive, a bounded piece at a time.

    ``feed`` and ``end`` yield pieces of at most ``PIECE`` bytes and raise
    ``too_large()`` as soon as the total passes ``limit``, and MalformedBody
    when the compressed bytes do not decode. With no encoding the bytes
    pass through, counted.
    """

    def __init__(self, encoding: str, limit: int, too_large: Callable[[], HeraldError]) -> None:
        self.encoding = encoding
        self.limit = limit
        self.too_large = too_large
        self.size = 0  # bytes produced so far
        self._wbits = WBITS.get(encoding)
        self._inflate: zlib._Decompress | None = None
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        if self._wbits is None:
            self._count(data)
            yield data
            return
        if self._inflate is None:
            wbits = self._wbits
            if self.encoding == "deflate" and data[0] & 0x0F != 8:
                wbits = -zlib.MAX_WBITS  # raw deflate without the zlib header, as some clients send it
            self._inflate = zlib.decompressobj(wbits)
            self._wbits = wbits
        self._fed = True
        yield from self._pieces(data)

    def end(self) -> Iterator[bytes]:
        """What is left; raises MalformedBody when the compressed body stops short."""
        if self._inflate is None or not self._fed:
            return
        yield from self._pieces(b"")
        if not self._inflate.eof:
            raise MalformedBody(
                f"the {self.encoding} body ends before its compressed stream does.",
                field="body",
                hint="Send the whole body.",
            )

    def _pieces(self, data: bytes) -> Iterator[bytes]:
        assert self._inflate is not None
        while True:
            if self._inflate.eof:
                if not data:
                    return
                if self._wbits != _GZIP:
                    raise MalformedBody(
                        "the body has bytes after the end of its deflate stream.", field="body"
                    )
                self._inflate = zlib.decompressobj(_GZIP)  # gzip members may follow one another
            try:
                out = self._inflate.decompress(data, PIECE)
            except zlib.error as exc:
                raise unreadable_body(exc) from exc
            if out:
                self._count(out)
                yield out
            data = self._inflate.unused_data if self._inflate.eof else self._inflate.unconsumed_tail
            if not data and not self._inflate.eof and len(out) < PIECE:
                return  # everything fed is out; a full piece may have more behind it

    def _count(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise self.too_large()


async def read_chunk(request: web.Request, timeout: float) -> bytes:
    """The next bytes of the body as they arrive (compressed, if it is; b"" at its end), waiting at
    most ``timeout`` s. Raises BodyStalled, ClientGone or MalformedBody (a broken chunked encoding).
    """
    content = request.content
    try:
        data = content.read_nowait()  # what has arrived already needs no timer
        if data or content.at_eof():
            return data
        async with asyncio.timeout(timeout):
            return await content.readany()
    except TimeoutError as exc:
        raise stalled(timeout) from exc
    except ConnectionError as exc:
        raise ClientGone("the client closed the connection before its body arrived.") from exc
    except RequestPayloadError as exc:
        raise unreadable_body(exc) from exc


def stalled(timeout: float) -> BodyStalled:
    return BodyStalled(
        f"no part of the body arrived for {timeout:g} s; the connection is closed.",
        field="body",
        hint="Send the body without pauses.",
    )


async def read_body(request: web.Request, *, limit: int | None = None) -> bytes:
    """The body (inflated, if it was sent compressed), at most ``limit`` bytes (default MAX_BODY_BYTES).

    Raises BodyTooLarge (as soon as the body, or what it inflates to, passes
    ``limit``), UnsupportedEncoding, MalformedBody, BodyStalled or ClientGone.
    """
    settings = request.app[HERALD].settings
    limit = limit or settings.max_body_bytes

    def too_large() -> BodyTooLarge:
        return BodyTooLarge(
            f"the body is larger than {limit:,} bytes.",
            field="body",
            hint="Send less at once (for many contacts, use POST /api/contacts/import).",
        )

    if request.content_length is not None and request.content_length > limit:
        raise too_large()
    encoding = content_encoding(request)
    counted = Inflater(encoding, limit, too_large)
    arrived: list[bytes] = []
    size = 0
    while data := await read_chunk(request, settings.body_timeout_seconds):
        size += len(data)
        if size > limit:
            raise too_large()
        arrived.append(data)
        if encoding:
            for n, _ in enumerate(counted.feed(data), 1):  # counted, not kept
                if n % PIECES_A_TURN == 0:
                    await asyncio.sleep(0)  # let other requests in between (many bombs at once)
    if not encoding:
        return b"".join(arrived)
    for _ in counted.end():
        pass
    inflater = Inflater(encoding, limit, too_large)
    pieces = [piece for data in arrived for piece in inflater.feed(data)]
    pieces.extend(inflater.end())
    return b"".join(pieces)

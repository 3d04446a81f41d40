"""Read a request body line by line from a worker thread, without holding it in memory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from aiohttp import StreamReader
from aiohttp.web_protocol import RequestPayloadError

from bot.errors import BodyTooLarge
from bot.web.http import unreadable_body

CHUNK = 256 * 1024


class StreamLines:
    """Iterate the lines of an aiohttp body from a non-event-loop thread.

    Bytes that are not UTF-8 are kept as surrogate escapes, so the CSV reader
    can refuse that one line instead of the whole file.
    """

    def __init__(self, content: StreamReader, loop: asyncio.AbstractEventLoop, *, limit: int) -> None:
        self._content = content
        self._loop = loop
        self._limit = limit
        self.bytes_read = 0

    def _read(self) -> bytes:
        future = asyncio.run_coroutine_threadsafe(self._content.read(CHUNK), self._loop)
        try:
            data = future.result(timeout=300)
        except RequestPayloadError as exc:  # a Content-Encoding that does not decode, a broken chunk
            raise unreadable_body(exc) from exc
        self.bytes_read += len(data)
        if self.bytes_read > self._limit:
            raise BodyTooLarge(
                f"the upload is larger than {self._limit:,} bytes.",
                field="body",
                hint="Split the file, or raise IMPORT_MAX_BYTES.",
            )
        return data

    def __iter__(self) -> Iterator[str]:
        tail = b""
        while True:
            data = self._read()
            if not data:
                break
            lines = (tail + data).split(b"\n")
            tail = lines.pop()
            for line in lines:
                yield line.decode("utf-8", "surrogateescape") + "\n"
        if tail:
            yield tail.decode("utf-8", "surrogateescape")

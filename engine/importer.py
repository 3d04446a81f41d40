"""CSV import, streamed: rows are read, checked and written a chunk at a time.

A million-row file is never held in memory: ``lines_of`` cuts the bytes into
lines as they arrive, ``chunks`` reads and checks their rows, and each chunk
of ``CHUNK_ROWS`` is one transaction (``Importer.write``) through the same
set-based writer the API uses. The header names the columns; ``phone`` is
required (or ``wa_user_id``, the business-scoped user id of a WhatsApp
username user whose number is withheld; a line may give either or both),
``name``, ``tags`` (separated by ``,`` ``;`` or ``|``) and ``opted_in`` are
optional, and any other column becomes a contact attribute (a template
variable). A line longer than ``MAX_LINE_BYTES`` is refused with its number
and never held; reading is linear in the file's size.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import queue
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine import views
from engine.actor import Actor
from engine.contacts import ContactRow, Contacts
from engine.errors import Invalid
from engine.phones import normalize_phone, normalize_user_id
from engine.tags import split_tags
from storage.sql import sqlite_cache

CHUNK_ROWS = 2000
MAX_LINE_BYTES = 64 * 1024  # a line longer than this is refused (no real contact row comes close)
SQLITE_CACHE_KIB = 16384  # the page cache while importing: memory stays flat under 150 MB
MAX_REPORTED = 1000  # rejected rows listed in the report; the total is always exact
KNOWN = ("phone", "name", "tags", "opted_in", "wa_user_id")
HEADER_HINT = "The first line must name the columns, like: phone,name,tags,opted_in"
_TRUE = frozenset({"true", "yes", "y", "1", "t", "on", "opted_in", "opt-in"})
_FALSE = frozenset({"false", "no", "n", "0", "f", "off", "opted_out", "opt-out"})


@dataclass
class ImportReport:
    accepted: int = 0  # new contacts
    updated: int = 0  # rows that updated an existing contact
    rejected: list[views.Rejected] = field(default_factory=list)
    rejected_total: int = 0

    def reject(self, line: int, reason: str) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append({"line": line, "reason": reason})

    def as_dict(self) -> views.ImportReport:
        return {
            "accepted": self.accepted,
            "updated": self.updated,
            "rejected": self.rejected,
            "rejected_total": self.rejected_total,
        }


class LongLine(str):
    """Stands in for a line longer than ``MAX_LINE_BYTES`` (``length`` bytes), which is not kept.

    As text it is a blank line, so the CSV reader still counts it and every
    later line keeps its number.
    """

    length: int

    def __new__(cls, length: int) -> LongLine:
        line = super().__new__(cls, "\n")
        line.length = length
        return line


def lines_of(pieces: Iterable[bytes], max_line: int = MAX_LINE_BYTES) -> Iterator[str]:
    """The lines of bytes arriving in ``pieces``, each decoded with its newline.

    Bytes that are not UTF-8 are kept as surrogate escapes, so the CSV reader
    can refuse that one line instead of the whole file. A line longer than
    ``max_line`` bytes comes out as a ``LongLine``: its bytes are counted and
    dropped as they arrive. Each byte is looked at a bounded number of times,
    so a file without newlines costs what any file of its size costs.
    """
    head: list[bytes] = []  # the start of the current line, from earlier pieces (while within max_line)
    length = 0  # the current line's bytes so far
    for piece in pieces:
        *ended, rest = piece.split(b"\n")
        for part in ended:
            length += len(part)
            if length > max_line:
                yield LongLine(length)
            else:
                line = b"".join([*head, part]) if head else part
                yield line.decode("utf-8", "surrogateescape") + "\n"
            head, length = [], 0
        length += len(rest)
        if length > max_line:
            head = []
        elif rest:
            head.append(rest)
    if length > max_line:
        yield LongLine(length)
    elif length:
        yield b"".join(head).decode("utf-8", "surrogateescape")


def read_rows(lines: Iterable[str]) -> Iterator[tuple[int, ContactRow | str]]:
    """Yield (line number, row or the reason it is refused) for each record, in line order.

    Raises Invalid before yielding anything when the header has neither ``phone``
    nor ``wa_user_id`` (the business-scoped user id of a WhatsApp username user),
    or is itself too long to read.
    """
    long_lines: list[tuple[int, int]] = []  # (line, length) of lines too long, not reported yet
    reader = csv.reader(_strip_bom(_noting_long_lines(lines, long_lines)))
    layout = _Layout(_header(reader, long_lines))
    while True:
        try:
            record: list[str] | None = next(reader)
            problem = None
        except StopIteration:
            record, problem = None, None
        except csv.Error as exc:  # a stray carriage return or NUL: that line alone is refused
            record, problem = [], f"the line is not valid CSV ({exc})."
        for line, length in long_lines:  # read on the way to this record, so they come before it
            yield line, f"the line is {length:,} bytes long; the limit is {MAX_LINE_BYTES:,}."
        long_lines.clear()
        if record is None:
            return
        if problem is not None:
            yield reader.line_num, problem
            continue
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        yield reader.line_num, layout.row(record)


def _header(reader: Iterator[list[str]], long_lines: list[tuple[int, int]]) -> list[str]:
    """The header's column names, lower case. Raises Invalid naming what is wrong with it."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise Invalid(f"the CSV header cannot be read ({exc}).", field="body", hint=HEADER_HINT) from exc
    if long_lines:
        raise Invalid(
            f"the CSV header is longer than {MAX_LINE_BYTES:,} bytes.", field="body", hint=HEADER_HINT
        )
    if header is None:
        raise Invalid("the CSV is empty.", field="body", hint=HEADER_HINT)
    columns = [c.strip().lower() for c in header]
    if any("\x00" in c for c in columns):
        raise Invalid("the CSV header contains a NUL character.", field="body", hint=HEADER_HINT)
    if "phone" not in columns and "wa_user_id" not in columns:
        raise Invalid("the CSV header has no phone column.", field="body", hint=HEADER_HINT)
    duplicated = {c for c in columns if columns.count(c) > 1 and c}
    if duplicated:
        raise Invalid(
            f"the CSV header names {', '.join(sorted(duplicated))} twice.", field="body", hint=HEADER_HINT
        )
    return columns


def _noting_long_lines(lines: Iterable[str], noted: list[tuple[int, int]]) -> Iterator[str]:
    for number, line in enumerate(lines, 1):
        if isinstance(line, LongLine):
            noted.append((number, line.length))
        yield line


def _strip_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        yield line.removeprefix("\ufeff") if first else line
        first = False


class _Layout:
    """Where each known column is in a record, worked out once per file."""

    def __init__(self, columns: list[str]) -> None:
        self.width = len(columns)
        self.phone = columns.index("phone") if "phone" in columns else None
        self.user_id = columns.index("wa_user_id") if "wa_user_id" in columns else None
        self.name = columns.index("name") if "name" in columns else None
        self.tags = columns.index("tags") if "tags" in columns else None
        self.opted_in = columns.index("opted_in") if "opted_in" in columns else None
        self.attributes = [(i, c) for i, c in enumerate(columns) if c and c not in KNOWN]

    def row(self, record: list[str]) -> ContactRow | str:
        if len(record) != self.width:
            return f"the line has {len(record)} fields; the header has {self.width}."
        text = "".join(record)
        if not text.isascii() and _SURROGATE.search(text):  # bytes that were not UTF-8
            return "the line is not valid UTF-8 text."
        if "\x00" in text:
            return "the line contains a NUL character."
        raw_phone = record[self.phone].strip() if self.phone is not None else ""
        raw_user_id = record[self.user_id].strip() if self.user_id is not None else ""
        try:
            # a username user whose number is withheld has only a business-scoped user id
            phone = normalize_phone(raw_phone) if raw_phone or not raw_user_id else None
            user_id = normalize_user_id(raw_user_id) if raw_user_id else None
            tags = _tags(record[self.tags]) if self.tags is not None else ()
        except Invalid as exc:
            return exc.render()
        opted_in = None
        if self.opted_in is not None:
            raw = record[self.opted_in]
            opted = raw.strip().lower()
            if opted in _TRUE:
                opted_in = True
            elif opted in _FALSE:
                opted_in = False
            elif opted:
                return f"opted_in is {raw!r}; write yes or no."
        name = record[self.name].strip() if self.name is not None else ""
        attributes = {}
        for index, column in self.attributes:
            value = record[index].strip()
            if value:
                attributes[column] = value
        return ContactRow(
            phone=phone,
            name=name or None,
            tags=tags,
            opted_in=opted_in,
            attributes=attributes or None,
            wa_user_id=user_id,
        )


# Any surrogate: a byte that was not UTF-8 (kept as a surrogate escape), or a lone surrogate.
_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.lru_cache(maxsize=4096)
def _tags(text: str) -> tuple[str, ...]:
    """``split_tags``, remembered: a file repeats a few tag lists many times. Raises Invalid."""
    return tuple(split_tags(text))


@dataclass
class Chunk:
    """Up to ``chunk_rows`` rows read and checked, ready to be written in one transaction."""

    rows: list[ContactRow] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line of each row
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) while reading


_DONE = object()


class _Reader:
    """Reads and checks chunks on a thread of its own while the caller writes the one before.

    At most ``depth`` chunks wait, so memory stays flat however long the
    file. The reader's errors (a bad header, a body over the limit) come out
    of ``__iter__`` in order, before any chunk after them.
    """

    def __init__(self, lines: Iterable[str], chunk_rows: int, depth: int = 2) -> None:
        self._lines = lines
        self._chunk_rows = chunk_rows
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="csv-import-reader", daemon=True)

    def __enter__(self) -> _Reader:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # after a failed write, the reader gives up at its next chunk
        if exc[0] is None:
            self._thread.join()

    def __iter__(self) -> Iterator[Chunk]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        try:
            for chunk in chunks(self._lines, self._chunk_rows):
                if not self._put(chunk):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the caller's thread, raised there
            self._put(exc)


def chunks(lines: Iterable[str], chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """The records of ``lines`` read and checked, ``chunk_rows`` good rows a chunk (the refused
    ones ride along). Raises Invalid for a bad header before yielding anything."""
    chunk = Chunk()
    for line, parsed in read_rows(lines):
        if isinstance(parsed, str):
            chunk.refused.append((line, parsed))
            continue
        chunk.rows.append(parsed)
        chunk.lines.append(line)
        if len(chunk.rows) >= chunk_rows:
            yield chunk
            chunk = Chunk()
    if chunk.rows or chunk.refused:
        yield chunk


@contextlib.contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Keep the objects that were alive before the import out of the cyclic collector's scans.

    An import allocates millions of short-lived objects; every so often the
    collector also scans the oldest generation, which is the whole process
    (peewee, the app, the phone metadata). That was ~6 µs of the importer's
    ~22 µs CPU a row. ``gc.freeze`` parks those objects (they are still
    freed by reference counting; only cycles among them wait) until the
    import ends, when ``gc.unfreeze`` hands them back. When something is
    frozen already (another import running, or the host's own use of
    ``gc.freeze``), it is left as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Importer:
    def __init__(self, contacts: Contacts, *, chunk_rows: int = CHUNK_ROWS) -> None:
        self.contacts = contacts
        self.chunk_rows = chunk_rows

    def run(self, lines: Iterable[str], *, by: Actor) -> ImportReport:
        """Import every record on this thread's connection; one transaction per chunk, then the
        audit record of who did.
        Raises Invalid for a bad header.

        The next chunk is read and checked (CSV, phone numbers, tags) on
        another thread while this one writes the last, so parsing overlaps
        the database's work. (The server reads and checks on a thread of its
        own and calls ``write`` per chunk instead: see ``bot.web.streams``.)
        """
        report = ImportReport()
        with older_objects_frozen(), _Reader(lines, self.chunk_rows) as read:
            for chunk in read:
                self.write(chunk, report)
        self.done(report, by=by)
        return report

    def done(self, report: ImportReport, *, by: Actor) -> None:
        """The audit record of an import: who ran it, and what came of it."""
        with self.contacts.db.atomic():
            self.contacts.audit.record(
                face=by.face,
                actor=by.id,
                action="contact.import",
                accepted=report.accepted,
                updated=report.updated,
                rejected=report.rejected_total,
            )

    def write(self, chunk: Chunk, report: ImportReport) -> None:
        """Write one chunk in one transaction on this thread's connection, and count it in ``report``.

        The connection's SQLite page cache is capped meanwhile: an import
        reads every page of the contact indexes once, and left at the usual
        size the cache alone would be most of the importing process's memory.
        """
        with sqlite_cache(self.contacts.db, SQLITE_CACHE_KIB):
            self._flush(chunk, report)

    def _flush(self, chunk: Chunk, report: ImportReport) -> None:
        refused = chunk.refused
        if chunk.rows:
            result = self.contacts.write(chunk.rows, source="import")
            refused = sorted([*refused, *((chunk.lines[i], reason) for i, reason in result.rejected)])
            report.accepted += len(result.created)
            report.updated += len(chunk.rows) - len(result.rejected) - len(result.created)
        for line, reason in refused:  # in line order, so the listed rejects are the first ones
            report.reject(line, reason)

"""The stdio wire's framing: `Content-Length` headers and bodies, read without trusting them.

pygls' reader takes a header line only when it is exactly `Content-Length: <digits>`. After
one that is not (`Content-Length: abc`) it reads that message's body and every later header as
one line and never finds a header again: the stream is lost. `Frames` is fed the bytes as they
arrive and hands out each message's body. A header block without a usable length becomes a
`Bad`: its message is taken to end where the JSON value after it ends, or where the next
header starts, whichever comes first, so the server answers it with an error (to its `id`,
when one can be seen) and reads the next message as sent.

`Outline` follows a JSON text's nesting without parsing it (any depth, as the bytes arrive):
where its first value ends, and the top-level object's `"id"` on the way. It also finds the
id of a body that does not parse (nested too deeply, not JSON), so that a request is
answered rather than left waiting.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_HEADER = 8192  # bytes of one header block
MAX_BODY = 1 << 30  # a larger Content-Length is refused (the body is looked for as after a bad header)
MAX_LOST = 1 << 20  # bytes of an unframed message waited for before it is answered and skipped
# where the next message starts (at most ~60 bytes: searches go on from where the last one ended)
HEADER = re.compile(rb"content-length[ \t]{0,8}:[ \t]{0,8}\d{1,12}[ \t]{0,8}\r\n", re.IGNORECASE)
_OPEN = re.compile(rb"[\[{]+")
_CLOSE = re.compile(rb"[\]}]+")
_OTHER = re.compile(rb'[^"\[\]{}]+')  # punctuation, numbers, literals, whitespace
_STRING_STOP = re.compile(rb'[\\"]')
_INT_ID = re.compile(rb"-?\d{1,18}")
_BLANK = b" \t\r\n"


@dataclass(frozen=True)
class Bad:
    """A message that could not be read: why, and the id it seemed to carry (None: none seen)."""

    reason: str
    id: int | str | None = None


class Outline:
    """A JSON text's nesting, followed as its bytes arrive (`feed` again with more)."""

    def __init__(self) -> None:
        self.at = 0  # offset of the first byte not yet looked at
        self.depth = 0
        self.object = False  # the text is an object (its "id" is looked for)
        self.string = -1  # offset of the opening quote of the string being read, if any
        self.key_id = False  # the last thing at depth 1 was the key "id"
        self.want_id = False  # ... and its ':': the id is the string that follows
        self.id: int | str | None = None
        self.end = -1  # offset just past the first value, once it has closed

    def feed(self, buf: bytes | bytearray, base: int = 0) -> int:
        """Look at `buf[base:]` (the text so far); returns `end` (-1 while the value is open)."""
        n = len(buf)
        i = base + self.at
        if self.at == 0 and i < n:
            self.object = buf[i] == 0x7B  # {
        while i < n and self.end < 0:
            if self.string >= 0:
                m = _STRING_STOP.search(buf, i)
                if m is None:
                    i = n
                elif buf[m.start()] == 0x5C:  # a backslash: skip the escaped byte
                    if m.start() + 1 >= n:
                        i = m.start()
                        break
                    i = m.start() + 2
                else:
                    i = m.end()
                    self._string(buf, base + self.string, i)
                    self.string = -1
                continue
            c = buf[i]
            if c == 0x22:  # "
                self.string = i - base
                i += 1
            elif c in b"[{":
                j = _OPEN.match(buf, i).end()  # type: ignore[union-attr]
                self.depth += j - i
                self.key_id = self.want_id = False
                i = j
            elif c in b"]}":
                j = _CLOSE.match(buf, i).end()  # type: ignore[union-attr]
                if j - i >= self.depth:  # closes the first value (or the text was not one)
                    self.end = i + max(self.depth, 1) - base
                    i = base + self.end
                    break
                self.depth -= j - i
                self.key_id = self.want_id = False
                i = j
            else:
                j = _OTHER.match(buf, i).end()  # type: ignore[union-attr]
                if j == n and self.key_id:
                    break  # the id's number may go on in the next bytes
                if self.key_id and self.depth == 1:
                    self._after_id_key(bytes(buf[i:j]))
                else:
                    self.key_id = self.want_id = False
                i = j
        self.at = i - base
        return self.end

    def _string(self, buf: bytes | bytearray, start: int, end: int) -> None:
        if self.depth != 1 or not self.object:
            return
        if self.want_id:
            self.want_id = False
            if self.id is None and end - start <= 258:
                try:
                    self.id = json.loads(bytes(buf[start:end]))
                except ValueError:
                    pass
            return
        self.key_id = buf[start:end] == b'"id"'

    def _after_id_key(self, run: bytes) -> None:
        self.key_id = False
        run = run.strip(_BLANK)
        if not run.startswith(b":"):
            return
        value = run[1:].split(b",")[0].strip(_BLANK)
        if not value:
            self.want_id = True
        elif self.id is None and _INT_ID.fullmatch(value):
            self.id = int(value)


def id_of(body: bytes) -> int | str | None:
    """The top-level "id" of a JSON-RPC body that may not parse (None: none seen)."""
    start = len(body) - len(body.lstrip(_BLANK))
    if start == len(body) or body[start] != 0x7B:
        return None
    outline = Outline()
    outline.feed(body, start)
    return outline.id


class Frames:
    """Bodies out of a byte stream of `Content-Length` framed messages (`feed`, then `close`)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.pos = 0  # start of what is not handed out yet
        self.need = -1  # the body's length, once its header is read
        self.lost: str | None = None  # why, while looking for where a message without a usable header ends
        self.told = False  # ... and its Bad has been handed out already
        self.outline: Outline | None = None
        self.searched = 0  # the next header is not before here (less a header's length)

    def feed(self, data: bytes) -> list[bytes | Bad]:
        self.buf += data
        out: list[bytes | Bad] = []
        while (item := self._next()) is not None:
            out.append(item)
        if self.pos:
            del self.buf[: self.pos]
            self.searched = max(0, self.searched - self.pos)
            self.pos = 0
        return out

    def close(self) -> list[bytes | Bad]:
        """At the end of the stream: a message without a usable header is answered still."""
        if self.lost is not None and not self.told and self.buf[self.pos :].strip(_BLANK):
            bad = self._found(len(self.buf))
            return [bad] if bad is not None else []
        return []

    def _next(self) -> bytes | Bad | None:
        if self.lost is not None:
            return self._resync()
        buf = self.buf
        if self.need >= 0:
            if len(buf) - self.pos < self.need:
                return None
            body = bytes(buf[self.pos : self.pos + self.need])
            self.pos += self.need
            self.need = -1
            return body
        pos = self.pos
        while pos < len(buf) and buf[pos] in b"\r\n":  # blank lines between messages
            pos += 1
        self.pos = pos
        if pos == len(buf):
            return None
        if not buf[pos : pos + 1].isalpha():  # a header starts with a letter
            return self._lose("a message without a Content-Length header")
        end = buf.find(b"\r\n\r\n", pos, pos + MAX_HEADER + 4)
        if end < 0:
            if len(buf) - pos > MAX_HEADER:
                return self._lose(f"a header block longer than {MAX_HEADER} bytes")
            return None
        length = content_length(bytes(buf[pos:end]))
        if isinstance(length, str) and (header := HEADER.search(buf, pos, end + 2)) is not None:
            self.pos = header.start()  # stray bytes before a good header: skip them, answer nothing to
            return Bad("bytes that are not a message, before a header")
        self.pos = end + 4
        if isinstance(length, str):
            return self._lose(length)
        self.need = length
        return self._next()

    def _lose(self, reason: str) -> bytes | Bad | None:
        self.lost, self.told, self.outline, self.searched = reason, False, None, self.pos
        return self._resync()

    def _resync(self) -> bytes | Bad | None:
        """Find where the message without a usable header ends: the end of the JSON value it
        starts with, else the next header."""
        buf = self.buf
        if self.outline is None:
            pos = self.pos
            while pos < len(buf) and buf[pos] in _BLANK:
                pos += 1
            self.pos = pos
            if pos == len(buf):
                return None
            if not self.told and buf[pos] in b"{[":
                self.outline = Outline()
        end = self.outline.feed(buf, self.pos) if self.outline is not None else -1
        header = HEADER.search(buf, max(self.pos, self.searched - 64))
        # JSON has no header in it (no raw line break in a string, no bare words): a header
        # before the value's end means the value was broken off there
        if end >= 0 and (header is None or self.pos + end <= header.start()):
            return self._found(self.pos + end)
        if header is not None:
            return self._found(header.start())  # (a Content-Type line before it is skipped)
        self.searched = len(buf)
        if self.outline is None or len(buf) - self.pos > MAX_LOST:
            # not JSON, or too long to wait for: answer now, skip to the next header
            bad = None if self.told else Bad(self.lost or "", self.outline.id if self.outline else None)
            self.told, self.outline = True, None
            self.pos = max(self.pos, len(buf) - 64)  # a header may be arriving in pieces
            return bad
        return None

    def _found(self, end: int) -> bytes | Bad | None:
        """The message without a usable header ends at `end`."""
        bad = None if self.told else Bad(self.lost or "", self.outline.id if self.outline else None)
        self.pos, self.lost, self.told, self.outline = end, None, False, None
        if bad is None:  # told already: go on reading
            return self._next()
        return bad


def content_length(header: bytes) -> int | str:
    """The body length a header block gives, or why it gives none."""
    for line in header.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon and name.strip(_BLANK).lower() == b"content-length":
            value = value.strip(_BLANK)
            if not value.isdigit():
                return "the Content-Length header is not a number"
            if len(value) > 12 or int(value) > MAX_BODY:
                return f"the Content-Length header is over the limit of {MAX_BODY} bytes"
            return int(value)
    return "a header block without Content-Length"

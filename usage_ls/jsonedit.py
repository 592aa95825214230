"""Setting one member of a JSON object in the text itself, every other byte kept: another
tool's settings.json stays as its owner laid it out (key order, compact or expanded objects,
indentation, the final newline). A leaf: imports nothing of ours.

The text must be valid JSON (the caller has parsed it). A new member goes after the object's
last one, in the object's own style: on a line of its own at the members' indentation when
they are one per line, inline (`, "key": value`) when the object is written on one line. A
member that is there has its value replaced in place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
_INDENT = re.compile(r"[ \t]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")


@dataclass
class Member:
    key_start: int  # the opening quote of the key
    value_start: int
    value_end: int
    obj: Obj | None  # the value, when it is an object


@dataclass
class Obj:
    start: int  # "{"
    end: int = 0  # "}"
    members: dict[str, Member] = field(default_factory=dict)
    first: Member | None = None
    last: Member | None = None


def _skip(text: str, pos: int) -> int:
    """Past the white space at `pos`."""
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _string(text: str, pos: int) -> tuple[str, int]:
    """(the string starting at `pos`, its end)."""
    match = _STRING.match(text, pos)
    if match is None:
        raise ValueError(f"not a JSON string at offset {pos}")
    return json.loads(match.group(0)), match.end()


def _value(text: str, pos: int) -> tuple[int, Obj | None]:
    """(the end of the value starting at `pos`, the object when it is one)."""
    char = text[pos]
    if char == '"':
        return _string(text, pos)[1], None
    if char == "{":
        return _object(text, pos)
    if char == "[":
        pos = _skip(text, pos + 1)
        if text[pos] == "]":
            return pos + 1, None
        while True:
            pos = _skip(text, _value(text, pos)[0])
            if text[pos] == "]":
                return pos + 1, None
            pos = _skip(text, pos + 1)  # past ","
    match = _SCALAR.match(text, pos)
    if match is None:
        raise ValueError(f"not JSON at offset {pos}")
    return match.end(), None


def _object(text: str, pos: int) -> tuple[int, Obj]:
    obj = Obj(pos)
    pos = _skip(text, pos + 1)
    while text[pos] != "}":
        key_start = pos
        key, pos = _string(text, pos)
        pos = _skip(text, pos)
        value_start = _skip(text, pos + 1)  # past ":"
        value_end, child = _value(text, value_start)
        member = Member(key_start, value_start, value_end, child)
        obj.members[key] = member  # a repeated key: the last one counts, as in json.loads
        obj.first = obj.first or member
        obj.last = member
        pos = _skip(text, value_end)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    obj.end = pos
    return pos + 1, obj


def _line_indent(text: str, pos: int) -> str:
    """The white space that starts the line `pos` is on."""
    start = text.rfind("\n", 0, pos) + 1
    match = _INDENT.match(text, start)
    return match.group(0) if match else ""


def indent_unit(text: str) -> str:
    """The file's indentation step: its first indented line's (two spaces when none is)."""
    match = re.search(r"\n([ \t]+)\S", text)
    return match.group(1) if match else "  "


def _dump(value: Any, unit: str, indent: str, inline: bool) -> str:
    if inline:
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, indent=unit).replace("\n", "\n" + indent)


def set_member(text: str, path: tuple[str, ...], value: Any) -> str:
    """`text` with the member at `path` (objects all the way) set to `value`; objects on the
    path that are missing are added. ValueError when a step of the path is not an object."""
    _, obj = _object(text, _skip(text, 0))
    unit = indent_unit(text)
    for i, key in enumerate(path):
        member = obj.members.get(key)
        if member is None:
            rest: Any = value
            for inner in reversed(path[i + 1 :]):
                rest = {inner: rest}
            return _insert(text, obj, key, rest, unit)
        if i == len(path) - 1:
            inline = "\n" not in text[obj.start : obj.end]
            indent = _line_indent(text, member.key_start)
            return text[: member.value_start] + _dump(value, unit, indent, inline) + text[member.value_end :]
        if member.obj is None:
            raise ValueError(f"`{'.'.join(path[: i + 1])}` is not an object")
        obj = member.obj
    raise ValueError("an empty path")


def _insert(text: str, obj: Obj, key: str, value: Any, unit: str) -> str:
    if obj.first is None or obj.last is None:  # {}: a line of its own, unless the file is one line
        if "\n" not in text.strip():
            item = json.dumps(key, ensure_ascii=False) + ": " + _dump(value, unit, "", True)
            return text[: obj.start + 1] + item + text[obj.end :]
        outer = _line_indent(text, obj.start)
        inline = False
        indent = outer + unit
        item = json.dumps(key, ensure_ascii=False) + ": " + _dump(value, unit, indent, inline)
        return text[: obj.start + 1] + "\n" + indent + item + "\n" + outer + text[obj.end :]
    inline = "\n" not in text[obj.start : obj.first.key_start]
    indent = _line_indent(text, obj.first.key_start)
    item = json.dumps(key, ensure_ascii=False) + ": " + _dump(value, unit, indent, inline)
    where = obj.last.value_end
    return text[:where] + ("," + " " if inline else ",\n" + indent) + item + text[where:]

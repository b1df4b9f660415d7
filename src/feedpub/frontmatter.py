"""Article text → front matter values with their lines, and the Markdown body.

Three forms of front matter are read (SPEC §1, §5):

- YAML between ``---`` lines, read with PyYAML's base loader (its C version
  where present), which resolves no implicit types: every scalar stays text,
  so ``2021-03-30`` is not turned into a date nor ``no`` into a boolean. The
  YAML node tree is walked (in :mod:`feedpub.yaml_fields`) rather than
  constructed by PyYAML, so that duplicate keys, tags that would build objects,
  and alias bombs are refused with the line they are on. Plain front matter is
  read without PyYAML, which is then not even imported.
- TOML between ``+++`` lines (Hugo, Zola), read with :mod:`tomllib`; every
  value is turned back into text (``true``, ``42``, dates as RFC 3339 text).
- A Pelican / MultiMarkdown header: ``Key: value`` lines from the first line
  up to the first blank line, keys lower-cased.

Every pattern that sees a user's text is linear: possessive quantifiers, or
plain string scans, so that no line can make a regular expression backtrack.
Text that YAML or TOML escapes bring back (``"\x01"``) is cleaned of the
characters XML forbids after unescaping, with a warning naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from types import MappingProxyType
from typing import NamedTuple, TypeAlias

from .errors import ArticleError, Problem, Severity

# Characters that XML 1.0 forbids: C0 controls except tab, LF and CR, and the
# non-characters U+FFFE and U+FFFF. (A decoded UTF-8 text holds no surrogates.)
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FENCE = re.compile(r"---[ \t]*+$", re.M)
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*+$", re.M)
_TOML_FENCE = re.compile(r"\+\+\+[ \t]*+$", re.M)
_TOML_CLOSE = re.compile(r"^\+\+\+[ \t]*+$", re.M)
MAX_NODES = 10_000
MAX_DEPTH = 20

Value: TypeAlias = "str | list[Value] | dict[str, Value]"


class Field(NamedTuple):
    """One front matter value, the line it was written on, and the lines of its own keys.

    A tuple: every article makes several, and a tuple is made in a fifth of the time a frozen
    dataclass takes."""

    value: Value
    line: int
    lines: Mapping[str, int] = MappingProxyType({})  # shared, and read only


class Form:
    """The kinds of front matter, as :attr:`Document.form` names them."""

    YAML = "yaml"
    TOML = "toml"
    HEADER = "header"  # Pelican / MultiMarkdown `Key: value` lines


@dataclass(frozen=True, slots=True)
class Document:
    """An article file split into its front matter fields and its body."""

    fields: dict[str, Field]
    body: str
    problems: tuple[Problem, ...]
    form: str = Form.YAML


_BOM = b"\xef\xbb\xbf"
_SPACE_BYTES = frozenset(b" \t\n\r\x0b\x0c")  # what bytes.strip removes


def decode(raw: bytes, path: str) -> str:
    """UTF-8 bytes (with or without a byte-order mark) → text with LF line ends."""
    # The common case first, each test a scan in C that copies nothing: text that starts
    # with something other than a space, is UTF-8, and holds no NUL and no CR.
    start = 3 if raw.startswith(_BOM) else 0
    if len(raw) > start and raw[start] not in _SPACE_BYTES and b"\x00" not in raw:
        try:
            text = raw.decode("utf-8") if start == 0 else raw[3:].decode("utf-8")
        except UnicodeDecodeError:
            pass  # the message below says where
        else:
            if b"\r" in raw:
                return text.replace("\r\n", "\n").replace("\r", "\n")
            return text
    return _decode(raw, path)


def _decode(raw: bytes, path: str) -> str:
    """:func:`decode` for any bytes: the empty, the binary and those that are not UTF-8."""
    if not raw.removeprefix(_BOM).strip():
        raise ArticleError(Problem(path, "the file is empty; expected front matter and a body"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        kind = "binary data" if b"\x00" in raw[:8192] else "text that is not UTF-8"
        raise ArticleError(
            Problem(
                path,
                f"{kind}: byte 0x{raw[error.start]:02x} is not UTF-8; expected a UTF-8 text file",
                line=line,
            )
        ) from None
    sample = text[:8192]
    if sample.count("\x00") > max(16, len(sample) // 100):
        raise ArticleError(Problem(path, "binary data (NUL bytes); expected a UTF-8 text file"))
    return text.replace("\r\n", "\n").replace("\r", "\n")


_C0_BYTES = bytes(code for code in range(32) if code not in b"\t\n\r")
# Each byte → NUL when it is one of _C0_BYTES, else 1: one translation and a search for
# NUL (memchr) are cheaper than deleting them and comparing lengths.
_C0_TO_NUL = bytes(0 if code in _C0_BYTES else 1 for code in range(256))


def xml_clean(raw: bytes) -> bool:
    """True when UTF-8 `raw` holds no character XML 1.0 forbids (checked in C, bytewise)."""
    return b"\x00" not in raw.translate(_C0_TO_NUL) and (
        b"\xef" not in raw  # U+FFFE and U+FFFF start so (rare: this is one memchr)
        or (b"\xef\xbf\xbe" not in raw and b"\xef\xbf\xbf" not in raw)
    )


def remove_forbidden(text: str, path: str) -> tuple[str, list[Problem]]:
    """Drop the characters XML 1.0 forbids, with a warning naming each line they were on."""
    if not FORBIDDEN.search(text):
        return text, []
    problems: list[Problem] = []
    for number, line in enumerate(text.split("\n"), start=1):
        found = sorted(set(FORBIDDEN.findall(line)))
        if found:
            names = ", ".join(f"U+{ord(char):04X}" for char in found)
            problems.append(Problem(
                path, f"removed characters that XML 1.0 forbids ({names})",
                line=number, severity=Severity.WARNING,
            ))  # fmt: skip
    return FORBIDDEN.sub("", text), problems


_OPENING = (
    "expected the file to start with front matter: a '---' line opening YAML, "
    "a '+++' line opening TOML, or 'Key: value' lines (Pelican)"
)


def split(text: str, path: str, *, clean: bool = False) -> Document:
    """Split decoded text into front matter fields and body; raises ArticleError.

    `clean` says the text is known to hold no character XML forbids.
    """
    text, problems = (text, []) if clean else remove_forbidden(text, path)
    for opening, closing, fence, read, form in _FENCED:
        if not opening.match(text):
            continue
        found = _fences(text, closing)
        if found is None:
            raise ArticleError(Problem(
                path, f"the front matter opened on line 1 is never closed by a '{fence}' line",
                line=1,
            ))  # fmt: skip
        opening_end, closing_start, body_start = found
        fields, more = read(text[opening_end:closing_start], path, 2)
        return Document(fields, text[body_start:], (*problems, *more), form)
    header = read_header(text, path)
    if header is None:
        raise ArticleError(Problem(path, _OPENING, line=1))
    fields, body_start = header
    return Document(fields, text[body_start:], tuple(problems), Form.HEADER)


def _fences(text: str, close: re.Pattern[str]) -> tuple[int, int, int] | None:
    """Where the front matter starts and ends and the body starts; None when never closed."""
    opening_end = text.index("\n") + 1 if "\n" in text else len(text)
    closing = close.search(text, opening_end)
    if closing is None:
        return None
    return opening_end, closing.start(), closing.end() + 1


def body_of(text: str) -> str:
    """The body of decoded article text, without reading its front matter ("" if none)."""
    if _FENCE.match(text):
        found = _fences(text, _CLOSE)
        return "" if found is None else text[found[2] :]
    if _TOML_FENCE.match(text):
        found = _fences(text, _TOML_CLOSE)
        return "" if found is None else text[found[2] :]
    end = _header_end(text)
    return "" if end is None else text[end:]


# --- Pelican / MultiMarkdown headers ---------------------------------------------------------
# As Python-Markdown's `meta` extension (which Pelican uses) reads them: up to 3
# spaces, a key of letters, digits, `_` and `-`, a colon, the value; a line
# indented 4 spaces or more continues the value before it; the first blank line,
# or a line of neither kind, ends the header.
_HEADER_KEY = re.compile(r"[ ]{0,3}+([A-Za-z0-9_-]{1,64}+):")
MAX_HEADER_KEYS = 1000


def _header_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, line) of each line of `text`, lazily (a body need not be split)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end
        yield start, end, text[start:end]
        start = end + 1


def _header_end(text: str) -> int | None:
    """Where the body starts after a Pelican header; None when `text` starts with none."""
    if _HEADER_KEY.match(text) is None:
        return None
    for start, end, line in _header_lines(text):
        if not line.strip():
            return end + 1
        if _HEADER_KEY.match(line) is None and not line.startswith("    "):
            return start
    return len(text)


def read_header(text: str, path: str) -> tuple[dict[str, Field], int] | None:
    """The fields of a Pelican header and where the body starts; None when there is none."""
    if _HEADER_KEY.match(text) is None:
        return None
    parts: dict[str, list[str]] = {}  # each value's pieces, joined once (linear time)
    lines: dict[str, int] = {}
    last: list[str] | None = None
    body_start = len(text)
    for number, (start, end, line) in enumerate(_header_lines(text), start=1):
        if not line.strip():
            body_start = end + 1
            break
        match = _HEADER_KEY.match(line)
        if match is None:
            if last is None or not line.startswith("    "):
                body_start = start
                break
            last.append(line.strip())
            continue
        key = match.group(1).lower()
        if key in parts:
            raise ArticleError(Problem(
                path, f"the key is given twice (first on line {lines[key]})",
                line=number, field=key,
            ))  # fmt: skip
        if len(parts) >= MAX_HEADER_KEYS:
            raise ArticleError(
                Problem(path, f"the header has more than {MAX_HEADER_KEYS} keys", line=number)
            )
        last = parts[key] = [line[match.end() :].strip()]
        lines[key] = number
    fields = {
        key: Field(" ".join(piece for piece in pieces if piece), lines[key])
        for key, pieces in parts.items()
    }
    return fields, body_start


# --- TOML ------------------------------------------------------------------------------------
_TOML_AT = re.compile(r"\(at line (\d++), column (\d++)\)")
_TOML_TABLE = re.compile(r"[ \t]*+\[\[?+[ \t]*+([^\]\n]*+)\]\]?+[ \t]*+(?:#[^\n]*+)?\Z")
_TOML_NAME = r"""(?:[A-Za-z0-9_-]++|"[^"\n]*+"|'[^'\n]*+')"""
_TOML_KEY = re.compile(rf"[ \t]*+({_TOML_NAME}(?:[ \t]*+\.[ \t]*+{_TOML_NAME})*+)[ \t]*+=")


def _toml_key_parts(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in text.split(".")]


def _toml_lines(toml_text: str, first_line: int) -> dict[tuple[str, ...], int]:
    """The file line of each table and key of a TOML text, by its dotted path (first wins)."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for index, line in enumerate(toml_text.split("\n")):
        number = first_line + index
        header = _TOML_TABLE.match(line)
        if header is not None:
            table = tuple(_toml_key_parts(header.group(1)))
            for depth in range(1, len(table) + 1):
                lines.setdefault(table[:depth], number)
            continue
        key = _TOML_KEY.match(line)
        if key is not None:
            parts = (*table, *_toml_key_parts(key.group(1)))
            for depth in range(1, len(parts) + 1):
                lines.setdefault(parts[:depth], number)
    return lines


def _toml_text(value: object, counter: list[int], depth: int = 0) -> Value:  # noqa: PLR0911 - one return per TOML type
    """A TOML value as feedpub keeps every value: text, lists and mappings of text."""
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _TooBig(f"the front matter has more than {MAX_NODES} values")
    if depth > MAX_DEPTH:
        raise _TooBig(f"values are nested more than {MAX_DEPTH} deep")
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_toml_text(item, counter, depth + 1) for item in value]
    if isinstance(value, dict):
        return {str(key): _toml_text(item, counter, depth + 1) for key, item in value.items()}
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)  # an integer (floats are read as their text)


class _TooBig(Exception):
    """The front matter exceeds a limit; carries the message."""


def read_toml(toml_text: str, path: str, first_line: int) -> tuple[dict[str, Field], list[Problem]]:
    """The fields of TOML front matter, every value as text; raises ArticleError."""
    import tomllib

    try:
        data = tomllib.loads(toml_text, parse_float=str)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = _TOML_AT.search(message)
        # "(at end of document)" is the closing `+++` line
        at = int(found.group(1)) - 1 if found else toml_text.count("\n")
        line = first_line + at
        what = _TOML_AT.sub("", message).replace("(at end of document)", "at its end").strip()
        raise ArticleError(
            Problem(path, f"front matter is not valid TOML: {what}", line=line)
        ) from None
    except (RecursionError, ValueError):  # nesting or a number beyond what Python reads
        raise ArticleError(Problem(
            path, f"front matter is not valid TOML: values are nested more than {MAX_DEPTH} "
            "deep or a number is too long", line=first_line,
        )) from None  # fmt: skip
    if not data:
        raise ArticleError(
            Problem(
                path, "the front matter is empty; expected title, section and published", line=1
            )
        )
    lines = _toml_lines(toml_text, first_line)
    counter = [0]
    fields: dict[str, Field] = {}
    for key, item in data.items():
        line = lines.get((key,), first_line)
        try:
            value = _toml_text(item, counter)
        except _TooBig as error:
            raise ArticleError(Problem(path, str(error), line=line, field=key)) from None
        nested = (
            {name: lines.get((key, name), line) for name in value}
            if isinstance(value, dict) else {}
        )  # fmt: skip
        fields[key] = Field(value, line, nested)
    return cleaned(fields, path)


def cleaned(fields: dict[str, Field], path: str) -> tuple[dict[str, Field], list[Problem]]:
    """`fields` without the characters XML forbids that escapes brought back, with warnings."""
    problems: list[Problem] = []
    result: dict[str, Field] = {}
    for key, entry in fields.items():
        found: set[str] = set()
        value = _clean_value(entry.value, found)
        name = _clean_value(key, found)
        assert isinstance(name, str)
        if found:
            names = ", ".join(f"U+{ord(char):04X}" for char in sorted(found))
            problems.append(Problem(
                path, f"removed characters that XML 1.0 forbids ({names}), written as escapes",
                line=entry.line, field=name, severity=Severity.WARNING,
            ))  # fmt: skip
        result[name] = Field(value, entry.line, entry.lines) if found else entry
    return result, problems


def _clean_value(value: Value, found: set[str]) -> Value:
    if isinstance(value, str):
        if FORBIDDEN.search(value) is None:
            return value
        found.update(FORBIDDEN.findall(value))
        return FORBIDDEN.sub("", value)
    if isinstance(value, list):
        return [_clean_value(item, found) for item in value]
    cleaned: dict[str, Value] = {}
    for key, item in value.items():
        name = _clean_value(key, found)
        assert isinstance(name, str)
        cleaned[name] = _clean_value(item, found)
    return cleaned


def _read_yaml(
    yaml_text: str, path: str, first_line: int
) -> tuple[dict[str, Field], list[Problem]]:
    simple = read_simple(yaml_text, first_line)
    if simple is not None:  # holds no escapes: nothing to clean
        return simple, []
    from .yaml_fields import read_yaml  # here: plain front matter never needs PyYAML (12 ms)

    return read_yaml(yaml_text, path, first_line)


# The plain YAML most front matter is written in, read without PyYAML: each line
# a `key: value`, a value being plain text, a simple quoted string, a one-line
# list of such, or a block of indented `key: value` lines. A plain value may not
# start with a YAML indicator nor hold ": " or " #". Anything else is left to
# PyYAML; tests check that both read the same text the same way.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*+")


# A `key: value` line as _key_value reads it from its first character (the value unstripped).
_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*+):(?:\Z| (.*+))")


def _key_value(line: str, start: int = 0) -> tuple[str, str] | None:
    """The key and the value text of a `key: value` line from `start`; None for another line.

    A linear scan: no pattern that could backtrack over a long run of spaces.
    """
    match = _NAME.match(line, start)
    if match is None:
        return None
    end = match.end()
    if end >= len(line) or line[end] != ":":
        return None
    rest = line[end + 1 :]
    if rest and rest[0] != " ":
        return None
    return match.group(), rest.strip(" ")


_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_FORBIDDEN = frozenset(",[]{}:?#")
# Tabs, YAML's other line breaks, byte-order marks, and what PyYAML refuses as
# unprintable: front matter holding any of them goes to PyYAML.
_UNUSUAL = re.compile(
    "[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|\u2028|\u2029"
)


def _simple_scalar(text: str, in_list: bool = False) -> str | None:
    """The value of a plain or simply quoted YAML scalar; None when it is anything else."""
    if not text or "\t" in text:
        return None
    first = text[0]
    if first == '"':
        inner = text[1:-1]
        ok = len(text) > 1 and text[-1] == '"' and '"' not in inner and "\\" not in inner
        return inner if ok else None
    if first == "'":
        inner = text[1:-1]
        return inner if len(text) > 1 and text[-1] == "'" and "'" not in inner else None
    if first in _INDICATORS or ": " in text or " #" in text or text[-1] == ":":
        return None
    if in_list and not _FLOW_FORBIDDEN.isdisjoint(text):
        return None
    return text


def _simple_value(text: str) -> Value | None:
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip(" ")
        if not inner:
            return []
        items = [_simple_scalar(item.strip(" "), in_list=True) for item in inner.split(",")]
        return None if any(item is None for item in items) else items  # type: ignore[return-value]
    return _simple_scalar(text)


def read_simple(yaml_text: str, first_line: int) -> dict[str, Field] | None:  # noqa: PLR0911, PLR0912 - each return defers to PyYAML
    """The fields of plain, simple front matter; None when it needs a full YAML parser.

    More than :data:`MAX_NODES` values are left to PyYAML's path, which refuses them.
    """
    lines = yaml_text.split("\n")
    # In ASCII, what _UNUSUAL finds is what str.isprintable refuses (but LF): one C call a line
    if (
        not all(map(str.isprintable, lines)) if yaml_text.isascii()
        else _UNUSUAL.search(yaml_text)
    ):  # fmt: skip
        return None
    fields: dict[str, Field] = {}
    count = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _TOP_KEY.match(line)  # what _key_value reads, in one call
        if match is None:
            stripped = line.strip(" ")
            if not stripped or stripped.startswith("#"):
                index += 1
                continue
            return None
        key = match.group(1)
        if key in fields:
            return None
        text = (match.group(2) or "").strip(" ")
        number = first_line + index
        index += 1
        if text:
            value = _simple_value(text)
            if value is None:
                return None
            count += 1 + (len(value) if isinstance(value, list) else 0)
            if count > MAX_NODES:
                return None
            fields[key] = Field(value, number)
            continue
        nested: dict[str, Value] = {}
        nested_lines: dict[str, int] = {}
        indent = None
        while index < len(lines) and (lines[index][:1] == " " or not lines[index].strip(" ")):
            inner = lines[index]
            index += 1
            stripped = inner.lstrip(" ")
            if not stripped or stripped.startswith("#"):
                continue
            width = len(inner) - len(stripped)
            found = _key_value(inner, width)
            if found is None or (indent is not None and width != indent):
                return None
            indent = width
            name, item = found
            value = _simple_scalar(item) if item else None
            if value is None or name in nested:
                return None
            count += 1
            if count > MAX_NODES:
                return None
            nested[name] = value
            nested_lines[name] = first_line + index - 1
        count += 1
        fields[key] = Field(nested if indent is not None else "", number, nested_lines)
    return fields or None


_Reader = Callable[[str, str, int], tuple[dict[str, Field], list[Problem]]]
# The fenced forms (see split): opening line, closing line, the fence as messages name it,
# the reader of what lies between, and the form.
_FENCED: tuple[tuple[re.Pattern[str], re.Pattern[str], str, _Reader, str], ...] = (
    (_FENCE, _CLOSE, "---", lambda text, path, line: _read_yaml(text, path, first_line=line),
     Form.YAML),
    (_TOML_FENCE, _TOML_CLOSE, "+++", read_toml, Form.TOML),
)  # fmt: skip

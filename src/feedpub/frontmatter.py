"""Article text → front matter values with their lines, and the Markdown body.

The front matter is YAML read with PyYAML's base loader (its C version where
present), which resolves no implicit types: every scalar stays text, so
``2021-03-30`` is not turned into a date nor ``no`` into a boolean. The YAML
node tree is walked here rather than constructed by PyYAML, so that
duplicate keys, tags that would build objects, and alias bombs are refused
with the line they are on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeAlias

import yaml

from .errors import ArticleError, Problem, Severity

_Loader: type[yaml.CBaseLoader | yaml.BaseLoader]
try:
    _Loader = yaml.CBaseLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.BaseLoader

# Characters that XML 1.0 forbids: C0 controls except tab, LF and CR, and the
# non-characters U+FFFE and U+FFFF. (A decoded UTF-8 text holds no surrogates.)
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FENCE = re.compile(r"^---[ \t]*$", re.M)
_CLOSE = re.compile(r"^(---|\.\.\.)[ \t]*$", re.M)
_KEY_LINE = re.compile(r"\s*([A-Za-z_][\w-]*)\s*:")
_QUOTING = (
    "expected one 'key: value' per line; quote a value that holds ': ' or starts with "
    "one of * & ! [ { | > @ %"
)
_PLAIN_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}
MAX_NODES = 10_000
MAX_DEPTH = 20

Value: TypeAlias = "str | list[Value] | dict[str, Value]"


@dataclass(frozen=True, slots=True)
class Field:
    """One front matter value, the line it was written on, and the lines of its own keys."""

    value: Value
    line: int
    lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Document:
    """An article file split into its front matter fields and its body."""

    fields: dict[str, Field]
    body: str
    problems: tuple[Problem, ...]


def decode(raw: bytes, path: str) -> str:
    """UTF-8 bytes (with or without a byte-order mark) → text with LF line ends."""
    if not raw.removeprefix(b"\xef\xbb\xbf").strip():
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


def xml_clean(raw: bytes) -> bool:
    """True when UTF-8 `raw` holds no character XML 1.0 forbids (checked in C, bytewise)."""
    return (
        len(raw.translate(None, _C0_BYTES)) == len(raw)
        and b"\xef\xbf\xbe" not in raw and b"\xef\xbf\xbf" not in raw
    )  # fmt: skip


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


def split(text: str, path: str, *, clean: bool = False) -> Document:
    """Split decoded text into front matter fields and body; raises ArticleError.

    `clean` says the text is known to hold no character XML forbids.
    """
    text, problems = (text, []) if clean else remove_forbidden(text, path)
    if not _FENCE.match(text):
        raise ArticleError(Problem(
            path, "expected the file to start with a '---' line opening the front matter", line=1
        ))  # fmt: skip
    found = _fences(text)
    if found is None:
        raise ArticleError(Problem(
            path, "the front matter opened on line 1 is never closed by a '---' line", line=1
        ))  # fmt: skip
    opening_end, closing_start, body_start = found
    yaml_text = text[opening_end:closing_start]
    fields = _read_yaml(yaml_text, path, first_line=2)
    return Document(fields, text[body_start:], tuple(problems))


def _fences(text: str) -> tuple[int, int, int] | None:
    """Where the front matter starts and ends and the body starts; None when never closed."""
    opening_end = text.index("\n") + 1 if "\n" in text else len(text)
    closing = _CLOSE.search(text, opening_end)
    if closing is None:
        return None
    return opening_end, closing.start(), closing.end() + 1


def body_of(text: str) -> str:
    """The body of decoded article text, without reading its front matter ("" if none)."""
    found = _fences(text) if _FENCE.match(text) else None
    return "" if found is None else text[found[2] :]


def _read_yaml(yaml_text: str, path: str, first_line: int) -> dict[str, Field]:
    simple = read_simple(yaml_text, first_line)
    if simple is not None:
        return simple
    try:
        node = yaml.compose(yaml_text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        # The context (e.g. "while parsing a flow sequence") marks where the
        # broken value starts, which is the line and field a person must fix.
        mark = error.context_mark or error.problem_mark
        line = first_line + mark.line if mark else None
        key = None
        if mark is not None:
            lines = yaml_text.split("\n")
            match = _KEY_LINE.match(lines[mark.line]) if mark.line < len(lines) else None
            key = match.group(1) if match else None
        what = ", ".join(part for part in (error.context, error.problem) if part) or "invalid YAML"
        raise ArticleError(
            Problem(
                path, f"front matter is not valid YAML: {what}; {_QUOTING}", line=line, field=key
            )
        ) from None
    except yaml.YAMLError as error:  # e.g. a character YAML does not accept, at `position`
        position = getattr(error, "position", 0) or 0
        line = first_line + yaml_text.count("\n", 0, position)
        what = str(error).split("\n", 1)[0]
        raise ArticleError(
            Problem(path, f"front matter is not valid YAML: {what}", line=line)
        ) from None
    if node is None:
        raise ArticleError(
            Problem(
                path, "the front matter is empty; expected title, section and published", line=1
            )
        )
    walker = _Walker(path, first_line)
    if not isinstance(node, yaml.MappingNode):
        raise ArticleError(Problem(
            path,
            f"expected the front matter to be a mapping of keys to values, got {walker.kind(node)}",
            line=first_line + node.start_mark.line,
        ))  # fmt: skip
    return walker.mapping_fields(node)


# The plain YAML most front matter is written in, read without PyYAML: each line
# a `key: value`, a value being plain text, a simple quoted string, a one-line
# list of such, or a block of indented `key: value` lines. A plain value may not
# start with a YAML indicator nor hold ": " or " #". Anything else is left to
# PyYAML; tests check that both read the same text the same way.
_SIMPLE_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?:[ ]+(.*?))?[ ]*\Z")
_NESTED_LINE = re.compile(r"([ ]+)([A-Za-z_][A-Za-z0-9_-]*):(?:[ ]+(.*?))?[ ]*\Z")
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


def read_simple(yaml_text: str, first_line: int) -> dict[str, Field] | None:
    """The fields of plain, simple front matter; None when it needs a full YAML parser."""
    if _UNUSUAL.search(yaml_text):
        return None
    fields: dict[str, Field] = {}
    lines = yaml_text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip(" ")
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        match = _SIMPLE_LINE.match(line)
        if match is None or match.group(1) in fields:
            return None
        key, text = match.group(1), match.group(2)
        number = first_line + index
        index += 1
        if text:
            value = _simple_value(text)
            if value is None:
                return None
            fields[key] = Field(value, number)
            continue
        nested: dict[str, Value] = {}
        nested_lines: dict[str, int] = {}
        indent = None
        while index < len(lines) and (lines[index][:1] == " " or not lines[index].strip(" ")):
            inner = lines[index]
            index += 1
            if not inner.strip(" ") or inner.strip(" ").startswith("#"):
                continue
            found = _NESTED_LINE.match(inner)
            if found is None or (indent is not None and found.group(1) != indent):
                return None
            indent = found.group(1)
            name, item = found.group(2), found.group(3)
            value = _simple_scalar(item) if item else None
            if value is None or name in nested:
                return None
            nested[name] = value
            nested_lines[name] = first_line + index - 1
        fields[key] = Field(nested if indent is not None else "", number, nested_lines)
    return fields or None


class _Walker:
    """Turns YAML nodes into plain values, refusing what a safe, text-only reader must."""

    def __init__(self, path: str, first_line: int) -> None:
        self.path = path
        self.first_line = first_line
        self.count = 0
        self.active: set[int] = set()

    def line(self, node: yaml.Node) -> int:
        return self.first_line + node.start_mark.line

    def fail(self, node: yaml.Node, message: str, field: str | None = None) -> ArticleError:
        return ArticleError(Problem(self.path, message, line=self.line(node), field=field))

    @staticmethod
    def kind(node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        return f"the text {node.value!r}"

    def mapping_fields(self, node: yaml.MappingNode, depth: int = 0) -> dict[str, Field]:
        fields: dict[str, Field] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, fields)
            lines = {}
            if isinstance(value_node, yaml.MappingNode):
                lines = {str(k.value): self.line(k) for k, _ in value_node.value}
            value = self.value(value_node, key, depth)
            fields[key] = Field(value, self.line(key_node), lines)
        return fields

    def key(self, key_node: yaml.Node, seen: dict[str, Field]) -> str:
        if not isinstance(key_node, yaml.ScalarNode):
            raise self.fail(key_node, "expected a plain key, got a " + self.kind(key_node)[2:])
        if key_node.tag not in _PLAIN_TAGS:
            raise self.fail(
                key_node, f"YAML tag {key_node.tag!r} is not allowed; expected a plain key"
            )
        key = str(key_node.value)
        if key in seen:
            raise self.fail(
                key_node, f"the key is given twice (first on line {seen[key].line})", key
            )
        return key

    def value(self, node: yaml.Node, field: str, depth: int = 0) -> Value:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, f"the front matter has more than {MAX_NODES} values", field)
        if depth > MAX_DEPTH:
            raise self.fail(node, f"values are nested more than {MAX_DEPTH} deep", field)
        if node.tag not in _PLAIN_TAGS:
            raise self.fail(
                node, f"YAML tag {node.tag!r} is not allowed; expected plain text", field
            )
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        if id(node) in self.active:
            raise self.fail(node, "the value refers to itself", field)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, field, depth + 1) for item in node.value]
            assert isinstance(node, yaml.MappingNode)
            fields = self.mapping_fields(node, depth + 1)
            return {name: entry.value for name, entry in fields.items()}
        finally:
            self.active.discard(id(node))

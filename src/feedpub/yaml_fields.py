"""Front matter that the plain reader (:func:`feedpub.frontmatter.read_simple`) leaves to
PyYAML: composed with libyaml's loader where PyYAML has it, and walked into plain values,
refusing what a safe, text-only reader must (tags, aliases that loop, too many values).

Imported only when an article needs it: plain front matter, most of it, is read without.
"""

from __future__ import annotations

import re

import yaml

from .errors import ArticleError, Problem
from .frontmatter import MAX_DEPTH, MAX_NODES, Field, Value, cleaned

_KEY_LINE = re.compile(r"\s*+([A-Za-z_][\w-]*+)\s*+:")
_QUOTING = (
    "expected one 'key: value' per line; quote a value that holds ': ' or starts with "
    "one of * & ! [ { | > @ %"
)
_PLAIN_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}


_Loader: type[yaml.CBaseLoader | yaml.BaseLoader]
try:
    _Loader = yaml.CBaseLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.BaseLoader


def read_yaml(yaml_text: str, path: str, first_line: int) -> tuple[dict[str, Field], list[Problem]]:
    """The fields of `yaml_text` (front matter starting on line `first_line` of `path`), and
    the problems its values had; raises ArticleError for YAML that cannot be read."""
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
    return cleaned(walker.mapping_fields(node), path)


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

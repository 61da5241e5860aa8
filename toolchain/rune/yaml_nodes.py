"""YAML with a position for every key, value and list item (Runefiles and block manifests).

PyYAML (with libyaml when available) composes the node tree; scalars are then read with the
YAML 1.2 core schema, so `yes`, `no`, `on` and `off` stay strings (labels are often words like
these). Mappings and lists remember where each entry is written:

    data.lc.key("pipeline")    -> (line, column) of the key, counting from 0
    data.lc.value("pipeline")  -> (line, column) of its value
    items.lc.item(3)           -> (line, column) of the fourth item
"""

from __future__ import annotations

import math
import re

MAX_NODES = 200_000  # guards against "billion laughs" alias expansion
MAX_DEPTH = 100  # far beyond any Runefile or manifest, well within Python's recursion limit


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line  # from 0
        self.column = column


class _Positions:
    def __init__(self, line: int, column: int):
        self.line = line
        self.col = column
        self.keys: dict = {}
        self.values: dict = {}
        self.items: list = []

    def key(self, key):
        return self.keys[key]

    def value(self, key):
        return self.values[key]

    def item(self, index: int):
        return self.items[index]


class YamlMap(dict):
    lc: _Positions


class YamlList(list):
    lc: _Positions


_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN = re.compile(r"^\.(nan|NaN|NAN)$")


_CORE_TAGS = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
              "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null")


def _scalar(node):
    text = node.value
    if node.tag.startswith("!") and node.tag not in _CORE_TAGS:
        raise YamlSyntaxError(f"unsupported tag {node.tag}", node.start_mark.line, node.start_mark.column)
    if node.style or node.tag == "tag:yaml.org,2002:str":  # quoted or block scalars are strings
        return text
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text


def load(text: str, duplicates: list[YamlSyntaxError] | None = None):
    """Parse one YAML document into YamlMap / YamlList / plain scalars; raises YamlSyntaxError.

    A key given twice in a mapping is an error; with a `duplicates` list, it is appended there
    instead (the first value is kept) so that a caller can report it with everything else."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = " ".join(str(p) for p in (e.context, e.problem) if p)
        if e.context_mark and e.problem_mark and e.context_mark.line != e.problem_mark.line:
            problem += f" (the construct began on line {e.context_mark.line + 1})"
        raise YamlSyntaxError(problem, mark.line if mark else None, mark.column if mark else None) from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow: it gives an offset, not a mark
        line = text.count("\n", 0, e.position)
        column = e.position - (text.rfind("\n", 0, e.position) + 1)
        code = e.character if isinstance(e.character, int) else e.character[0]
        raise YamlSyntaxError(f"character #x{code:04x} is not allowed in YAML ({e.reason})", line,
                              column) from None
    except yaml.YAMLError as e:
        raise YamlSyntaxError(str(e), 0, 0) from None
    except RecursionError:  # the pure-Python parser, without libyaml, nests by recursion
        raise YamlSyntaxError(f"the document nests more than {MAX_DEPTH} levels deep", 0, 0) from None
    if root is None:
        return None
    return _Converter(duplicates).convert(root, 0)


class _Converter:
    def __init__(self, duplicates: list | None):
        self.duplicates = duplicates
        self.budget = MAX_NODES
        self.active: set = set()  # the collections being converted, to refuse an alias to its own container

    def convert(self, node, depth: int):
        import yaml

        self.budget -= 1
        if self.budget < 0:
            raise YamlSyntaxError("the document is too large (aliases expand to too many nodes)")
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if depth > MAX_DEPTH:  # before recursing deeper than Python allows
            raise YamlSyntaxError(f"the document nests more than {MAX_DEPTH} levels deep", node.start_mark.line,
                                  node.start_mark.column)
        if id(node) in self.active:
            raise YamlSyntaxError("an alias refers to the node that contains it", node.start_mark.line,
                                  node.start_mark.column)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return self.sequence(node, depth)
            return self.mapping(node, depth)
        finally:
            self.active.discard(id(node))

    def sequence(self, node, depth: int) -> YamlList:
        result = YamlList()
        result.lc = _Positions(node.start_mark.line, node.start_mark.column)
        for item in node.value:
            result.append(self.convert(item, depth + 1))
            result.lc.items.append((item.start_mark.line, item.start_mark.column))
        return result

    def mapping(self, node, depth: int) -> YamlMap:
        result = YamlMap()
        result.lc = _Positions(node.start_mark.line, node.start_mark.column)
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlSyntaxError("merge keys (<<) are not supported", key_node.start_mark.line,
                                      key_node.start_mark.column)
            key = self.convert(key_node, depth + 1)
            if isinstance(key, (YamlMap, YamlList)):
                raise YamlSyntaxError("a key must be a plain value", key_node.start_mark.line,
                                      key_node.start_mark.column)
            if key in result:
                first = result.lc.keys[key][0] + 1
                duplicate = YamlSyntaxError(f"duplicate key '{key}' (first given on line {first})",
                                            key_node.start_mark.line, key_node.start_mark.column)
                if self.duplicates is None:
                    raise duplicate
                self.duplicates.append(duplicate)
                continue
            result[key] = self.convert(value_node, depth + 1)
            result.lc.keys[key] = (key_node.start_mark.line, key_node.start_mark.column)
            result.lc.values[key] = (value_node.start_mark.line, value_node.start_mark.column)
        return result

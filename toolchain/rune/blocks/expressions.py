"""Tiny, safe expressions for block manifests: output shapes, types, sizes and argument checks.

    shape: "[input.shape[0], count]"
    type: "input.type"
    scratch_bytes: "fft_size * 4"
    checks: [{expr: "count <= input.size", message: "count exceeds the input's elements"}]

A subset of Python: literals, names, attributes, subscripts, arithmetic, comparisons, boolean
operators, conditional expressions, lists/tuples and a few functions. Nothing else is evaluated.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass, field
from functools import lru_cache


class ExpressionError(ValueError):
    """An expression is not well-formed or cannot be evaluated with the given names."""


@dataclass(frozen=True)
class TensorView:
    """What an expression sees of a tensor: `type` (a name such as "f32"), `shape`, `size`, `rank`,
    and `attributes`, what the block producing it declares about its values (may be empty)."""

    type: str
    shape: list
    size: int
    rank: int
    attributes: dict = field(default_factory=dict, compare=False)


def _ceil_div(a, b):
    return -(-a // b)


FUNCTIONS = {
    "prod": lambda xs: math.prod(xs), "len": len, "min": min, "max": max, "abs": abs, "int": int,
    "float": float, "ceil": math.ceil, "floor": math.floor, "ceil_div": _ceil_div, "log2": math.log2,
    "sum": sum, "list": list, "tuple": tuple,
    "max_len": lambda strings: max((len(s.encode("utf-8")) for s in strings), default=0),
    "pow2_ceil": lambda n: 1 << max(0, math.ceil(math.log2(n))) if n > 0 else 1,
}

_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}


@lru_cache(maxsize=512)
def compile_expression(source: str) -> ast.expr:
    """Parse and validate an expression once; raises ExpressionError for anything not allowed."""
    try:
        tree = ast.parse(str(source), mode="eval").body
    except SyntaxError as e:
        raise ExpressionError(f"cannot parse expression '{source}': {e.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ExpressionError(f"'{node.attr}' cannot be used in an expression")
        allowed = (ast.Constant, ast.Name, ast.Load, ast.Attribute, ast.Subscript, ast.Slice, ast.BinOp,
                   ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.List, ast.Tuple, ast.Call,
                   ast.And, ast.Or, *_BINARY, *_COMPARE, *_UNARY)
        if not isinstance(node, allowed):
            raise ExpressionError(f"'{type(node).__name__}' is not allowed in expression '{source}'")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            raise ExpressionError(f"only these functions can be called: {', '.join(sorted(FUNCTIONS))}")
    return tree


def referenced_names(source: str) -> list[str]:
    """The names an expression uses, in order of appearance."""
    found = []
    for node in ast.walk(compile_expression(source)):
        if isinstance(node, ast.Name) and node.id not in found:
            found.append(node.id)
    return found


def evaluate(source, names: dict):
    """Evaluate an expression (or pass a plain number/list through) with the given names."""
    if not isinstance(source, str):
        return source
    tree = compile_expression(source)
    try:
        return _eval(tree, names)
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError, IndexError, KeyError, AttributeError) as e:
        raise ExpressionError(f"cannot evaluate '{source}': {e}") from None


def _guard_size(op, left, right) -> None:
    """Refuse operations whose result would be absurdly large (a manifest must never hang a build)."""
    if isinstance(op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > 256:
        raise ExpressionError(f"exponent {right} is too large")
    if isinstance(op, ast.Mult) and any(isinstance(v, (list, str)) for v in (left, right)):
        count = right if isinstance(right, int) else left
        if isinstance(count, int) and count > 1_000_000:
            raise ExpressionError("a repeated list or string would be too long")


def _eval(node, names):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        if node.id in FUNCTIONS:
            return FUNCTIONS[node.id]
        raise ExpressionError(f"unknown name '{node.id}' (known: {', '.join(sorted(names))})")
    if isinstance(node, ast.Attribute):
        return getattr(_eval(node.value, names), node.attr)
    if isinstance(node, ast.Subscript):
        target = _eval(node.value, names)
        if isinstance(node.slice, ast.Slice):
            parts = [None if p is None else _eval(p, names) for p in (node.slice.lower, node.slice.upper,
                                                                       node.slice.step)]
            return target[slice(*parts)]
        return target[_eval(node.slice, names)]
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, names), _eval(node.right, names)
        _guard_size(node.op, left, right)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, names))
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, names) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, names)
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, names)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, names) if _eval(node.test, names) else _eval(node.orelse, names)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, names) for e in node.elts]
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](*[_eval(a, names) for a in node.args])
    raise ExpressionError(f"unsupported expression node {type(node).__name__}")

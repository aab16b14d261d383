"""Read text a user supplies (case files, standard input, uploads, numbers) within stated limits.

This module owns the rules every entry point shares for untrusted text: bytes are UTF-8, with or
without a byte-order mark; JSON has no duplicate key, nests at most `MAX_DEPTH` deep and a case is
at most `MAX_CASE_CHARS` characters; a number is written as plain decimal digits (no ``inf``, no
``nan``, no ``3_7``); and anything echoed back is shown as a short, single line of plain text.
"""

from __future__ import annotations

import json
import math
import re
from numbers import Real
from typing import Any

import numpy as np

from model.errors import ArgumentError, CaseError

MAX_CASE_CHARS = 100_000  # a case is a few hundred characters; a JSONL batch line has the same limit
MAX_DEPTH = 10  # a case nests two deep: {"findings": {"fever": true}}
SHOWN_CHARS = 60  # how much of an untrusted word is echoed back in a message
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class NotUtf8(ValueError):
    """Bytes that are not UTF-8 text; ``line`` is the line of the first bad byte (from 1)."""

    def __init__(self, line: int, byte: int) -> None:
        self.line = line
        super().__init__(f"byte 0x{byte:02x} is not UTF-8 text; save the file as UTF-8")


def decode_utf8(data: bytes) -> str:
    r"""Return UTF-8 bytes as text, dropping a byte-order mark.

    Raises
    ------
    NotUtf8
        Naming the line of the first byte that is not UTF-8 (Latin-1, UTF-16 or a binary file).

    Examples
    --------
    >>> decode_utf8(b"\xef\xbb\xbfid,value")
    'id,value'
    >>> decode_utf8(b"ok\ncaf\xe9")
    Traceback (most recent call last):
    model.intake.NotUtf8: byte 0xe9 is not UTF-8 text; save the file as UTF-8
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotUtf8(data[: exc.start].count(b"\n") + 1, data[exc.start]) from None


def _nesting(text: str) -> int:
    """Return how deep the arrays and objects of JSON text nest, without parsing it (strings skipped)."""
    depth = deepest = 0
    for token in _JSON_TOKEN.finditer(text):
        mark = token.group()
        if mark in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif mark in ("]", "}"):
            depth -= 1
    return deepest


def read_case_json(text: str, where: str) -> Any:
    """Decode the JSON text of a case, refusing what would be silently lost or too big to be a case.

    Parameters
    ----------
    text : str
        The JSON text of one case.
    where : str
        Where the text comes from (a file name, ``file, line 3``), named in the error.

    Raises
    ------
    CaseError
        For text over `MAX_CASE_CHARS`, nesting deeper than `MAX_DEPTH`, invalid JSON, or a key
        given twice in one object (JSON would keep only the last).

    Examples
    --------
    >>> read_case_json('{"findings": {"fever": true}}', "case.json")
    {'findings': {'fever': True}}
    >>> read_case_json('{"findings": {"fever": true, "fever": false}}', "case.json")
    Traceback (most recent call last):
    model.errors.CaseError: case.json: the key "fever" is given twice in one object; give it once
    """
    if len(text) > MAX_CASE_CHARS:
        raise CaseError(where, f"is {len(text):,} characters; a case is at most {MAX_CASE_CHARS:,}")
    if _nesting(text) > MAX_DEPTH:
        raise CaseError(where, f"nests more than {MAX_DEPTH} deep; a case is {{'context', 'findings'}}")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in pairs:
            if key in found:
                raise CaseError(
                    where, f"the key {shown(json.dumps(key))} is given twice in one object; give it once"
                )
            found[key] = value
        return found

    try:
        return json.loads(text, object_pairs_hook=unique)
    except json.JSONDecodeError as exc:
        raise CaseError(
            where, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def parse_number(value: Any) -> float:
    """Return a finite number from a number or from plain decimal text.

    Raises
    ------
    ValueError
        For text that is not plain decimal digits (``inf``, ``nan``, ``3_7``, ``0x1``), a boolean,
        or a number that is not finite; the message quotes the value, shortened.

    Examples
    --------
    >>> parse_number(" 0.05 "), parse_number(3), parse_number("1e-3")
    (0.05, 3.0, 0.001)
    >>> parse_number("3_7")
    Traceback (most recent call last):
    ValueError: '3_7' is not a number; write it in decimal digits, e.g. 0.05
    """
    text_number = isinstance(value, str) and _DECIMAL.fullmatch(value.strip())
    if text_number or (isinstance(value, Real) and not isinstance(value, bool)):
        number = float(value)
    else:
        raise ValueError(f"{shown(repr(value))} is not a number; write it in decimal digits, e.g. 0.05")
    if not math.isfinite(number):
        raise ValueError(f"{shown(repr(value))} is not a finite number")
    return number


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    r"""Return untrusted text as one short line: control characters replaced, cut at ``limit``.

    The result is still untrusted: show it as plain text (never as Markdown or HTML).

    Examples
    --------
    >>> shown("fever")
    'fever'
    >>> shown("a\nb" + "x" * 100, limit=10)
    'a bxxxxxxx… (103 characters)'
    """
    one_line = "".join(" " if not ch.isprintable() else ch for ch in str(text))
    if len(one_line) <= limit:
        return one_line
    return f"{one_line[:limit]}… ({len(one_line):,} characters)"


def whole_number(value: Any, argument: str, least: int, most: int | None = None) -> int:
    """Return ``value`` if it is a whole number within the stated limits.

    Raises
    ------
    ArgumentError
        Naming the argument and the allowed range (a boolean or a float is not a whole number).

    Examples
    --------
    >>> whole_number(500, "draws", 1, 20_000)
    500
    >>> whole_number(0, "draws", 1, 20_000)
    Traceback (most recent call last):
    model.errors.ArgumentError: draws: 0 is not a whole number from 1 to 20,000
    """
    allowed = f"from {least:,} to {most:,}" if most is not None else f"of {least:,} or more"
    is_int = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    if not is_int or value < least or (most is not None and value > most):
        raise ArgumentError(argument, f"{shown(repr(value))} is not a whole number {allowed}")
    return int(value)


def fraction(value: Any, argument: str) -> float:
    """Return ``value`` if it is a number from 0 to 1.

    Raises
    ------
    ArgumentError
        Naming the argument.

    Examples
    --------
    >>> fraction(0.25, "answered")
    0.25
    >>> fraction(2, "context_known")
    Traceback (most recent call last):
    model.errors.ArgumentError: context_known: 2 is not a number from 0 to 1
    """
    is_number = isinstance(value, Real) and not isinstance(value, bool)
    number = float(value) if is_number else math.nan
    if not 0 <= number <= 1:
        raise ArgumentError(argument, f"{shown(repr(value))} is not a number from 0 to 1")
    return number

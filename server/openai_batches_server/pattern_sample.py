"""Strings that match a JSON Schema `pattern`, for the fake structured answers.

Only the regular-expression subset that schemas use in practice is understood: literals and escapes, `.`, classes
(`[a-z0-9_]`, `[^,]`, `\\d`, `\\w`, `\\s` and their negations), groups with alternation, the quantifiers `?`, `*`,
`+`, `{n}`, `{n,}`, `{n,m}` (lazy or not) and the `^`/`$` anchors. Anything else (lookarounds, back-references,
inline flags) raises `PatternUnsupported`, and the caller tries a few plain strings instead. Whatever is built, the
caller checks it with `re.search`, as JSON Schema validators do, so an approximation here can cost an answer but can
never produce one that does not match.
"""

from __future__ import annotations

import functools
import random
import string
from dataclasses import dataclass

# Readable characters first: a class that allows letters or digits is sampled from those.
_PREFERRED = string.ascii_letters + string.digits
_ALPHABET = _PREFERRED + "_-. ,:;!?@#$%&*+=/()[]{}<>'\"|~^`\\"
_WORD = frozenset(string.ascii_letters + string.digits + "_")
_DIGITS = frozenset(string.digits)
_SPACE = frozenset(" \t\n\r\f\v")
# A class is matched against characters tried one by one; ranges beyond ASCII contribute at most this many.
_RANGE_SAMPLE = 64


_ESCAPE_CLASSES = {
    "d": "".join(sorted(_DIGITS)),
    "w": "".join(c for c in _ALPHABET if c in _WORD),
    "s": " ",
    "D": "".join(c for c in _ALPHABET if c not in _DIGITS),
    "W": "".join(c for c in _ALPHABET if c not in _WORD),
    "S": _PREFERRED,
}
_ESCAPE_CHARS = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "0": "\0"}


class PatternUnsupported(Exception):
    """The pattern uses a construct this sampler does not build strings for."""


@dataclass(frozen=True)
class _Class:
    """The characters a class can stand for: only its readable ones where it has any."""

    choices: str

    @staticmethod
    def of(members: str) -> _Class:
        readable = "".join(c for c in members if c in _PREFERRED)
        return _Class(readable or members)


@dataclass(frozen=True)
class _Repeat:
    node: _Node
    low: int
    high: int | None


@dataclass(frozen=True)
class _Alternatives:
    branches: tuple[tuple[_Node, ...], ...]


@dataclass(frozen=True)
class _Anchor:
    start: bool


_Node = _Class | _Repeat | _Alternatives | _Anchor | str
_DOT = _Class(_PREFERRED)


def sample(pattern: str, rng: random.Random, extra: int) -> str:
    """A string the pattern matches: every quantifier repeats `extra` times beyond its minimum (within its maximum),
    so raising `extra` lengthens the answer for a `minLength`."""
    out: list[str] = []
    _emit(_parse(pattern), rng, extra, out)
    return "".join(out)


# A batch repeats the same few schemas on every line; a bounded cache keeps their patterns parsed.
@functools.lru_cache(maxsize=256)
def _parse(pattern: str) -> _Alternatives:
    parser = _Parser(pattern)
    tree = parser.alternatives()
    if parser.at < len(pattern):
        raise PatternUnsupported(f"unbalanced ')' at {parser.at}")
    return tree


def anchored_at_end(pattern: str) -> bool:
    """Whether padding after a match could break it (a conservative reading: any `$` counts)."""
    return "$" in pattern


def _emit(node: _Node, rng: random.Random, extra: int, out: list[str]) -> None:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, _Class):
        out.append(node.choices[rng.randrange(len(node.choices))])
    elif isinstance(node, _Repeat):
        count = node.low + extra if node.high is None else min(node.high, node.low + extra)
        for _ in range(count):
            _emit(node.node, rng, extra, out)
    elif isinstance(node, _Alternatives):
        # The first branch keeps answers short and predictable; the caller's match check covers the rest.
        for part in node.branches[0]:
            _emit(part, rng, extra, out)


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.at = 0

    def _peek(self) -> str | None:
        return self.pattern[self.at] if self.at < len(self.pattern) else None

    def _next(self) -> str:
        if self.at >= len(self.pattern):
            raise PatternUnsupported("pattern ends early")
        char = self.pattern[self.at]
        self.at += 1
        return char

    def alternatives(self) -> _Alternatives:
        branches = [self._sequence()]
        while self._peek() == "|":
            self.at += 1
            branches.append(self._sequence())
        return _Alternatives(tuple(branches))

    def _sequence(self) -> tuple[_Node, ...]:
        items: list[_Node] = []
        while (char := self._peek()) is not None and char not in "|)":
            atom = self._atom()
            items.append(self._quantified(atom))
        return tuple(items)

    def _atom(self) -> _Node:
        char = self._next()
        if char == "^":
            return _Anchor(start=True)
        if char == "$":
            return _Anchor(start=False)
        if char == ".":
            return _DOT
        if char == "[":
            return self._class()
        if char == "(":
            return self._group()
        if char == "\\":
            escaped = self._escape()
            return _Class.of(escaped.choices) if isinstance(escaped, _Class) else escaped
        if char in "*+?{":
            # A quantifier with nothing before it: `{` is a literal in ECMA only when no quantifier follows.
            if char == "{":
                return "{"
            raise PatternUnsupported(f"nothing to repeat at {self.at - 1}")
        return char

    def _group(self) -> _Node:
        if self._peek() == "?":
            self.at += 1
            kind = self._next()
            if kind == ":":
                pass
            elif kind == "<" and self._peek() not in ("=", "!"):
                self._skip_name(">")
            elif kind == "P" and self._peek() == "<":
                self.at += 1
                self._skip_name(">")
            else:
                raise PatternUnsupported(f"group '(?{kind}' at {self.at - 3}")
        inner = self.alternatives()
        if self._next() != ")":
            raise PatternUnsupported("unclosed group")
        return inner

    def _skip_name(self, end: str) -> None:
        while self._next() != end:
            pass

    def _quantified(self, atom: _Node) -> _Node:
        char = self._peek()
        if char is None or isinstance(atom, _Anchor):
            return atom
        low: int
        high: int | None
        if char == "?":
            low, high = 0, 1
        elif char == "*":
            low, high = 0, None
        elif char == "+":
            low, high = 1, None
        elif char == "{":
            bounds = self._braces()
            if bounds is None:
                return atom
            low, high = bounds
        else:
            return atom
        self.at += 1
        if self._peek() in ("?", "+"):
            self.at += 1
        if high is not None and high < low:
            raise PatternUnsupported("quantifier bounds out of order")
        return _Repeat(atom, low, high)

    def _braces(self) -> tuple[int, int | None] | None:
        """`{n}`, `{n,}` or `{n,m}` at the cursor, leaving the cursor on the closing brace; None for a literal `{`."""
        end = self.pattern.find("}", self.at)
        if end < 0:
            return None
        body = self.pattern[self.at + 1 : end]
        low_text, comma, high_text = body.partition(",")
        if not low_text.isdigit() or (high_text and not high_text.isdigit()):
            return None
        self.at = end
        low = int(low_text)
        if not comma:
            return low, low
        return low, int(high_text) if high_text else None

    def _escape(self) -> _Node:
        char = self._next()
        if char in _ESCAPE_CLASSES:
            return _Class(_ESCAPE_CLASSES[char])
        if char in _ESCAPE_CHARS:
            return _ESCAPE_CHARS[char]
        if char in "bB":
            # Word boundaries take no characters; the caller's match check settles whether one holds.
            return _Anchor(start=False)
        if char in "ux":
            width = 4 if char == "u" else 2
            digits = self.pattern[self.at : self.at + width]
            if len(digits) != width or any(c not in string.hexdigits for c in digits):
                raise PatternUnsupported(f"escape '\\{char}{digits}'")
            self.at += width
            return chr(int(digits, 16))
        if char.isalnum():
            # Back-references, \p{...} and the like.
            raise PatternUnsupported(f"escape '\\{char}'")
        return char

    def _class(self) -> _Class:
        negated = self._peek() == "^"
        if negated:
            self.at += 1
        members: set[str] = set()
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            char = self._next()
            if char == "]" and not first:
                break
            first = False
            if char == "\\":
                escaped = self._escape()
                if isinstance(escaped, _Class):
                    members.update(escaped.choices)
                    continue
                assert isinstance(escaped, str)
                char = escaped
            if self._peek() == "-" and self.at + 1 < len(self.pattern) and self.pattern[self.at + 1] != "]":
                self.at += 1
                end = self._next()
                if end == "\\":
                    escaped = self._escape()
                    if not isinstance(escaped, str):
                        raise PatternUnsupported("class range ending in a class escape")
                    end = escaped
                if ord(end) < ord(char):
                    raise PatternUnsupported("class range out of order")
                ranges.append((ord(char), ord(end)))
            else:
                members.add(char)

        def inside(c: str) -> bool:
            return c in members or any(low <= ord(c) <= high for low, high in ranges)

        if negated:
            choices = "".join(c for c in _ALPHABET if not inside(c))
        else:
            choices = "".join(c for c in _ALPHABET if inside(c))
            if not choices:
                choices = "".join(sorted(c for c in members if not _surrogate(c)))
                for low, high in ranges:
                    choices += "".join(
                        chr(code)
                        for code in range(low, min(high, low + _RANGE_SAMPLE) + 1)
                        if not _surrogate(chr(code))
                    )
        if not choices:
            raise PatternUnsupported("a character class this sampler cannot fill")
        return _Class.of(choices)


def _surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDFFF

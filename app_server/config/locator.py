"""Where each key sits in a TOML or JSON document, so config problems can name line and column.

Neither `tomllib` nor `json` reports positions of keys, so a small scanner walks the (already
parsed, hence valid) text and records the offset of every key, array element and table header
under its key path. Array-of-tables entries and array elements are indexed by position.
"""

from __future__ import annotations

import bisect
import json
import tomllib
from abc import ABC, abstractmethod
from collections.abc import Sequence

KeyPath = tuple[str | int, ...]

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class KeyPositions:
    """Offsets of keys in one document, answered as 1-based (line, column)."""

    def __init__(self, text: str, offsets: dict[KeyPath, int]) -> None:
        self._offsets = offsets
        self._line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]

    def __contains__(self, path: object) -> bool:
        return path in self._offsets

    def position(self, path: Sequence[str | int]) -> tuple[int, int] | None:
        """Line and column of `path`, or of its longest prefix present in the document."""
        for end in range(len(path), 0, -1):
            offset = self._offsets.get(tuple(path[:end]))
            if offset is not None:
                line = bisect.bisect_right(self._line_starts, offset)
                return line, offset - self._line_starts[line - 1] + 1
        return None


def locate_toml_keys(text: str) -> KeyPositions:
    """Positions of every key in a valid TOML document (validate it with tomllib first)."""
    return KeyPositions(text, _TomlScanner(text).scan())


def locate_json_keys(text: str) -> KeyPositions:
    """Positions of every object key and array element in a valid JSON document."""
    return KeyPositions(text, _JsonScanner(text).scan())


class _Scanner(ABC):
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.offsets: dict[KeyPath, int] = {}

    def record(self, path: KeyPath, offset: int) -> None:
        self.offsets.setdefault(path, offset)

    def peek(self, literal: str) -> bool:
        return self.text.startswith(literal, self.i)

    def at_end(self) -> bool:
        return self.i >= len(self.text)

    def skip_spaces(self) -> None:
        while not self.at_end() and self.text[self.i] in " \t":
            self.i += 1

    def skip_blank(self) -> None:
        """Whitespace, newlines and `#` comments."""
        while not self.at_end():
            char = self.text[self.i]
            if char in " \t\r\n":
                self.i += 1
            elif char == "#":
                end = self.text.find("\n", self.i)
                self.i = len(self.text) if end < 0 else end
            else:
                return

    scalar_end: frozenset[str]
    """Characters that end an unquoted value."""
    quotes: str
    """Characters that open a string."""

    @abstractmethod
    def member(self, path: KeyPath) -> None:
        """Read one `key = value` / `"key": value` of the inline table or object at `path`."""

    def value(self, path: KeyPath) -> None:
        """Skip one value, recording where every key and array element inside it starts."""
        opening = self.text[self.i]
        if opening in "{[":
            self.i += 1
            closing, index = ("}" if opening == "{" else "]"), 0
            while True:
                self.skip_blank()
                if self.peek(closing):
                    self.i += 1
                    return
                if self.peek(","):
                    self.i += 1
                elif opening == "{":
                    self.member(path)
                else:
                    self.record((*path, index), self.i)
                    self.value((*path, index))
                    index += 1
        elif opening in self.quotes:
            self.skip_quoted()
        else:
            while not self.at_end() and self.text[self.i] not in self.scalar_end:
                self.i += 1

    def skip_quoted(self) -> None:
        """One basic, literal or multi-line string starting at the cursor."""
        for delimiter in ('"""', "'''"):
            if self.peek(delimiter):
                self.i += 3
                while not self.peek(delimiter):
                    self.i += 2 if delimiter == '"""' and self.text[self.i] == "\\" else 1
                self.i += 3
                # Up to two quote characters may directly precede the closing delimiter.
                for _ in range(2):
                    if self.peek(delimiter[0]):
                        self.i += 1
                return
        quote = self.text[self.i]
        self.i += 1
        while self.text[self.i] != quote:
            self.i += 2 if quote == '"' and self.text[self.i] == "\\" else 1
        self.i += 1


class _TomlScanner(_Scanner):
    scalar_end = frozenset(",]}\n\r#")
    quotes = "\"'"

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.array_table_counts: dict[KeyPath, int] = {}

    def scan(self) -> dict[KeyPath, int]:
        table: KeyPath = ()
        while True:
            self.skip_blank()
            if self.at_end():
                return self.offsets
            if self.peek("[["):
                self.i += 2
                table = self.array_table_header()
            elif self.peek("["):
                self.i += 1
                table = self.table_header()
            else:
                self.key_value(table)

    def table_header(self) -> KeyPath:
        path = self.header_path(self.dotted_key())
        self.skip_spaces()
        self.i += 1  # ]
        return path

    def array_table_header(self) -> KeyPath:
        parts = self.dotted_key()
        parent = self.header_path(parts[:-1])
        name, offset = parts[-1]
        array = (*parent, name)
        self.record(array, offset)
        index = self.array_table_counts.get(array, -1) + 1
        self.array_table_counts[array] = index
        self.record((*array, index), offset)
        self.skip_spaces()
        self.i += 2  # ]]
        return (*array, index)

    def header_path(self, parts: list[tuple[str, int]]) -> KeyPath:
        """The key path of a header, stepping into the latest entry of any array of tables on the way."""
        path: KeyPath = ()
        for name, offset in parts:
            path = (*path, name)
            self.record(path, offset)
            if path in self.array_table_counts:
                path = (*path, self.array_table_counts[path])
        return path

    def key_value(self, table: KeyPath) -> None:
        path = table
        for name, offset in self.dotted_key():
            path = (*path, name)
            self.record(path, offset)
        self.skip_spaces()
        self.i += 1  # =
        self.skip_spaces()
        self.value(path)

    def dotted_key(self) -> list[tuple[str, int]]:
        parts: list[tuple[str, int]] = []
        while True:
            self.skip_spaces()
            start = self.i
            if self.text[self.i] in "\"'":
                self.skip_quoted()
                name = next(iter(tomllib.loads(self.text[start : self.i] + " = 0")))
            else:
                while self.text[self.i] in _BARE_KEY_CHARS:
                    self.i += 1
                name = self.text[start : self.i]
            parts.append((name, start))
            self.skip_spaces()
            if not self.peek("."):
                return parts
            self.i += 1

    def member(self, path: KeyPath) -> None:
        self.key_value(path)


class _JsonScanner(_Scanner):
    scalar_end = frozenset(",]} \t\n\r")
    quotes = '"'

    def scan(self) -> dict[KeyPath, int]:
        self.skip_blank()
        self.value(())
        return self.offsets

    def value(self, path: KeyPath) -> None:
        self.skip_blank()
        super().value(path)

    def member(self, path: KeyPath) -> None:
        start = self.i
        self.skip_quoted()
        key = (*path, json.loads(self.text[start : self.i]))
        self.record(key, start)
        self.skip_blank()
        self.i += 1  # :
        self.value(key)

"""Writes tests/protocol/codex_wire_keys.json: every key of every Codex type our registry's methods reach.

Reads the TypeScript bindings Codex generates (`codex app-server generate-ts`, in
../shared/protocol/codex-0.169.0/ts): `ClientRequest.ts`, `ServerNotification.ts` and `ServerRequest.ts`
name each method's params type; the result types are named by `protocol/registry.py` (the bindings have
no result registry) and must exist there too. From those roots it follows imports to every reachable
type and writes, per type, its shape:

- an object: `{"required": {key: T}, "optional": {key: T}}`; `name: T` and `name: T | null` are
  required (the key must be on the wire, null or not), `name?: T` optional;
- an object with a map (`{...} & { [key in string]?: T }`): the object with `"rest": T`, the type of
  every key it does not name;
- a union: `{"union": [T, ...]}` (a tagged union's variants are objects whose tag is a literal);
- `{"array": T}` for `Array<T>`, `{"map": T}` for `{ [key in string]?: T }`, `{"literal": "x"}`;
- a type name (a key of `types`) or a TS keyword (`string`, `number`, `boolean`, `bigint`, `null`...).

Intersections (`{...} & ({...} | {...})`) are flattened into a union of objects with merged keys.
Only the syntax the bindings use is parsed; anything else stops the script naming the file.

`python scripts/gen_wire_keys.py` rewrites the JSON; `--check` changes nothing and exits 1 when the
committed file differs from what the bindings give (tests/protocol/test_wire_keys.py runs it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.registry import NOTIFICATIONS, REQUESTS, SERVER_REQUEST_RESULTS

ROOT = Path(__file__).resolve().parent.parent
TS_DIR = ROOT.parent / "shared" / "protocol" / "codex-0.169.0" / "ts"
OUTPUT = ROOT / "tests" / "protocol" / "codex_wire_keys.json"

Shape = Any
"""A parsed type expression in the JSON form the module docstring describes."""

KEYWORDS = frozenset(
    {"string", "number", "boolean", "bigint", "null", "undefined", "unknown", "any", "never"}
)

_TOKEN = re.compile(
    r"""\s+|/\*.*?\*/|//[^\n]*|(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)"""
    r"""|(?P<name>[A-Za-z_$][\w$]*)|(?P<punct>[{}()\[\]<>|&:?,;=])""",
    re.DOTALL,
)
_IMPORT = re.compile(r'^import type \{ (?P<name>\w+) \} from "(?P<path>[^"]+)";$', re.MULTILINE)


class TsSyntaxError(ValueError):
    """A binding file uses syntax this reader does not know."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokens(source: str) -> list[Token]:
    """The tokens of `source`, comments and whitespace dropped. Raises TsSyntaxError on a stray character."""
    found: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise TsSyntaxError(f"unexpected {source[position : position + 20]!r}")
        position = match.end()
        if match.lastgroup is not None:
            found.append(Token(match.lastgroup, match[match.lastgroup]))
    return found


class _Parser:
    """Recursive descent over one type expression's tokens."""

    def __init__(self, found: Sequence[Token]) -> None:
        self._tokens = found
        self._at = 0

    def parse(self) -> Shape:
        shape = self._union()
        if self._at != len(self._tokens):
            raise TsSyntaxError(f"unexpected {self._peek().text!r} after the type")
        return shape

    def _peek(self) -> Token:
        return self._tokens[self._at] if self._at < len(self._tokens) else Token("end", "")

    def _take(self, text: str | None = None) -> Token:
        token = self._peek()
        if token.kind == "end" or (text is not None and token.text != text):
            raise TsSyntaxError(f"expected {text or 'a token'!r}, found {token.text!r}")
        self._at += 1
        return token

    def _skip(self, text: str) -> bool:
        if self._peek().text == text and self._peek().kind == "punct":
            self._at += 1
            return True
        return False

    def _union(self) -> Shape:
        self._skip("|")
        members = [self._intersection()]
        while self._skip("|"):
            members.append(self._intersection())
        return union(members)

    def _intersection(self) -> Shape:
        parts = [self._postfix()]
        while self._skip("&"):
            parts.append(self._postfix())
        if len(parts) == 1:
            return parts[0]
        # `{...} & Name` needs Name's shape, which `collect` resolves once every file is read
        return intersect(parts) if all(_object_alternatives(part) for part in parts) else {"allOf": parts}

    def _postfix(self) -> Shape:
        shape = self._primary()
        while self._peek().text == "[" and self._at + 1 < len(self._tokens):
            if self._tokens[self._at + 1].text != "]":
                break
            self._at += 2
            shape = {"array": shape}
        return shape

    def _primary(self) -> Shape:
        token = self._take()
        if token.text == "(":
            inner = self._union()
            self._take(")")
            return inner
        if token.text == "{":
            return self._object()
        if token.text == "[":
            members = [] if self._skip("]") else self._list("]")
            return {"tuple": members}
        if token.kind == "string":
            return {"literal": json.loads(token.text)}
        if token.kind == "number":
            return {"literal": json.loads(token.text)}
        if token.kind == "name":
            if token.text in ("true", "false"):
                return {"literal": token.text == "true"}
            if self._skip("<"):
                return generic(token.text, self._list(">"))
            return token.text
        raise TsSyntaxError(f"unexpected {token.text!r}")

    def _list(self, closing: str) -> list[Shape]:
        members = [self._union()]
        while self._skip(","):
            if self._peek().text == closing:
                break
            members.append(self._union())
        self._take(closing)
        return members

    def _object(self) -> Shape:
        required: dict[str, Shape] = {}
        optional: dict[str, Shape] = {}
        while not self._skip("}"):
            if self._skip("["):
                # `{ [key in string]?: T }` or `{ [key: string]: T }`: a map from strings to T
                self._take("key")
                if not self._skip(":"):
                    self._take("in")
                self._take("string")
                self._take("]")
                self._skip("?")
                self._take(":")
                value = self._union()
                self._skip(",") or self._skip(";")
                self._take("}")
                if required or optional:
                    raise TsSyntaxError("a map's index signature beside named keys")
                return {"map": value}
            key_token = self._take()
            if key_token.kind not in ("name", "string"):
                raise TsSyntaxError(f"expected a key, found {key_token.text!r}")
            key = json.loads(key_token.text) if key_token.kind == "string" else key_token.text
            target = optional if self._skip("?") else required
            self._take(":")
            target[key] = self._union()
            if not (self._skip(",") or self._skip(";")) and self._peek().text != "}":
                raise TsSyntaxError(f"expected ',' or '}}' after key {key!r}")
        return {"required": required, "optional": optional}


def generic(name: str, arguments: list[Shape]) -> Shape:
    """`Array<T>` and `Record<string, T>` (`Record<string, never>` is the empty object)."""
    if name == "Array" and len(arguments) == 1:
        return {"array": arguments[0]}
    if name == "Record" and len(arguments) == 2 and arguments[0] == "string":
        if arguments[1] == "never":
            return {"required": {}, "optional": {}}
        return {"map": arguments[1]}
    raise TsSyntaxError(f"unknown generic {name}<...>")


def union(members: list[Shape]) -> Shape:
    """One shape for `A | B | ...`, nested unions flattened."""
    flat: list[Shape] = []
    for member in members:
        flat.extend(member["union"] if isinstance(member, dict) and "union" in member else [member])
    return flat[0] if len(flat) == 1 else {"union": flat}


def _is_object(shape: Shape) -> bool:
    return isinstance(shape, dict) and "required" in shape


def _object_alternatives(shape: Shape) -> list[Shape]:
    """The objects `shape` is one of (an object, or a union of objects); empty for anything else.

    A map counts as an object of no named keys whose other keys (`rest`) hold its value type.
    """
    if isinstance(shape, dict) and "map" in shape:
        return [{"required": {}, "optional": {}, "rest": shape["map"]}]
    alternatives = shape["union"] if isinstance(shape, dict) and "union" in shape else [shape]
    return alternatives if all(_is_object(alternative) for alternative in alternatives) else []


def intersect(parts: list[Shape]) -> Shape:
    """`A & B`, where each side is an object or a union of objects: the union of every merged pairing.

    Raises TsSyntaxError for an intersection with anything else.
    """
    combined: list[Shape] = [{"required": {}, "optional": {}}]
    for part in parts:
        alternatives = _object_alternatives(part)
        if not alternatives:
            raise TsSyntaxError("an intersection of something other than objects")
        combined = [_merge_objects(left, right) for left in combined for right in alternatives]
    return union(combined)


def _merge_objects(left: Shape, right: Shape) -> Shape:
    """`left & right` of two objects: the keys of both; `rest` (the type of any other key) where
    either side has one (`{...} & { [key in string]?: T }`, as Codex's `Config`)."""
    merged: Shape = {
        "required": {**left["required"], **right["required"]},
        "optional": {**left["optional"], **right["optional"]},
    }
    rest = right.get("rest", left.get("rest"))
    if rest is not None:
        merged["rest"] = rest
    return merged


@dataclass(frozen=True)
class TsFile:
    """One binding file: the type it exports and where each imported name comes from."""

    path: Path
    name: str
    shape: Shape
    imports: Mapping[str, Path]


_EXPORT = re.compile(r"^export type (?P<name>\w+) =(?P<body>.*)$", re.MULTILINE | re.DOTALL)


def read_ts_file(path: Path) -> TsFile:
    """Parse a binding file (`import type` lines, then one `export type Name = ...;`).

    Raises TsSyntaxError naming the file when it holds anything else.
    """
    source = path.read_text(encoding="utf-8")
    imports = {
        match["name"]: (path.parent / f"{match['path']}.ts").resolve() for match in _IMPORT.finditer(source)
    }
    export = _EXPORT.search(source)
    if export is None:
        raise TsSyntaxError(f"{path}: no `export type`")
    body = export["body"].strip()
    try:
        found = tokens(body)
        if not found or found[-1].text != ";":
            raise TsSyntaxError("the type does not end with ';'")
        shape = _Parser(found[:-1]).parse()
    except TsSyntaxError as error:
        raise TsSyntaxError(f"{path}: {error}") from None
    return TsFile(path.resolve(), export["name"], shape, imports)


def names_in(shape: Shape) -> Iterator[str]:
    """Every type name `shape` refers to (keywords excluded)."""
    if isinstance(shape, str):
        if shape not in KEYWORDS:
            yield shape
    elif isinstance(shape, list):
        for member in shape:
            yield from names_in(member)
    elif isinstance(shape, dict) and "literal" not in shape:
        for value in shape.values():
            yield from names_in(value)


def resolve_intersections(shape: Shape, types: Mapping[str, Shape]) -> Shape:
    """`shape` with every `{"allOf": [...]}` merged, named parts replaced by their shapes first.

    Raises TsSyntaxError when a part is not an object or a union of objects.
    """
    if isinstance(shape, list):
        return [resolve_intersections(member, types) for member in shape]
    if not isinstance(shape, dict) or "literal" in shape:
        return shape
    if "allOf" in shape:
        parts = [types[part] if isinstance(part, str) and part in types else part for part in shape["allOf"]]
        return resolve_intersections(intersect([resolve_intersections(part, types) for part in parts]), types)
    resolved = {key: resolve_intersections(value, types) for key, value in shape.items()}
    return union(resolved["union"]) if "union" in resolved else resolved


def method_params(registry_file: Path) -> dict[str, str | None]:
    """`{method: params type name}` from a registry union (`ClientRequest.ts`, ...); None for `undefined`."""
    shape = read_ts_file(registry_file).shape
    methods: dict[str, str | None] = {}
    for variant in shape["union"]:
        keys = variant["required"]
        params = keys.get("params", "undefined")
        methods[keys["method"]["literal"]] = None if params == "undefined" else params
    return methods


@dataclass(frozen=True)
class Roots:
    """The methods our registry speaks, each with the binding types of its params and result."""

    requests: dict[str, dict[str, str | None]]
    notifications: dict[str, str]
    server_requests: dict[str, dict[str, str | None]]
    not_in_bindings: list[str]


def roots(
    ts_dir: Path,
    requests: Mapping[str, str],
    notifications: Sequence[str],
    server_requests: Mapping[str, str],
) -> Roots:
    """Binding type names for our methods. `requests` and `server_requests` map each method to the
    name of its result type (the bindings do not name results); a method the bindings lack is listed
    in `not_in_bindings` (our documented extensions)."""
    client = method_params(ts_dir / "ClientRequest.ts")
    server_notifications = method_params(ts_dir / "ServerNotification.ts")
    server = method_params(ts_dir / "ServerRequest.ts")
    missing = [
        method
        for method in [*requests, *notifications, *server_requests]
        if method not in client and method not in server_notifications and method not in server
    ]
    notification_params: dict[str, str] = {}
    for method in notifications:
        params = server_notifications.get(method)
        if params is not None:
            notification_params[method] = params
    return Roots(
        requests={
            m: {"params": client[m], "result": result} for m, result in requests.items() if m in client
        },
        notifications=notification_params,
        server_requests={
            m: {"params": server[m], "result": result} for m, result in server_requests.items() if m in server
        },
        not_in_bindings=sorted(missing),
    )


def _root_files(ts_dir: Path) -> dict[str, Path]:
    """Where each params type lives, by the registries' imports (results: `v2/`, then `ts/`)."""
    located: dict[str, Path] = {}
    for registry in ("ClientRequest.ts", "ServerNotification.ts", "ServerRequest.ts"):
        located.update(read_ts_file(ts_dir / registry).imports)
    return located


def collect(ts_dir: Path, wanted: Roots) -> dict[str, Any]:
    """The key list: the methods and every type reachable from them, by name.

    Raises TsSyntaxError for unknown syntax, and SystemExit when a root type is missing or two
    reachable types share a name.
    """
    located = _root_files(ts_dir)
    pending: list[tuple[str, Path]] = []
    names = [params for params in wanted.notifications.values()]
    for spec in [*wanted.requests.values(), *wanted.server_requests.values()]:
        names.extend(name for name in spec.values() if name is not None)
    for name in names:
        path = located.get(name)
        if path is None:
            candidates = [ts_dir / "v2" / f"{name}.ts", ts_dir / f"{name}.ts"]
            path = next((candidate for candidate in candidates if candidate.is_file()), None)
        if path is None:
            raise SystemExit(f"no binding file for type {name}")
        pending.append((name, path.resolve()))

    types: dict[str, dict[str, Any]] = {}
    while pending:
        name, path = pending.pop()
        if name in types:
            if types[name]["file"] != path.relative_to(ts_dir.resolve()).as_posix():
                raise SystemExit(f"two reachable types are named {name}: {types[name]['file']} and {path}")
            continue
        parsed = read_ts_file(path)
        if parsed.name != name:
            raise SystemExit(f"{path} exports {parsed.name}, not {name}")
        types[name] = {"file": path.relative_to(ts_dir.resolve()).as_posix(), "shape": parsed.shape}
        for referenced in sorted(set(names_in(parsed.shape)) - {name}):
            source = parsed.imports.get(referenced)
            if source is None:
                raise SystemExit(f"{path}: {referenced} is used but not imported")
            pending.append((referenced, source))

    shapes = {name: entry["shape"] for name, entry in types.items()}
    for entry in types.values():
        try:
            entry["shape"] = resolve_intersections(entry["shape"], shapes)
        except TsSyntaxError as error:
            raise TsSyntaxError(f"{entry['file']}: {error}") from None
    return {
        "source": f"{ts_dir.resolve().parent.name} TypeScript bindings (codex app-server generate-ts)",
        "generatedBy": "scripts/gen_wire_keys.py",
        "requests": wanted.requests,
        "notifications": wanted.notifications,
        "serverRequests": wanted.server_requests,
        "notInBindings": wanted.not_in_bindings,
        "types": dict(sorted(types.items())),
    }


def registry_roots(ts_dir: Path) -> Roots:
    """The roots for the methods `protocol/registry.py` speaks."""
    return roots(
        ts_dir,
        requests={method: spec.result_ref.partition(":")[2] for method, spec in REQUESTS.items()},
        notifications=list(NOTIFICATIONS),
        server_requests={method: model.__name__ for method, model in SERVER_REQUEST_RESULTS.items()},
    )


def render(key_list: Mapping[str, Any]) -> str:
    """The JSON text written: one key per line, objects' keys in binding order, types sorted by name."""
    return json.dumps(key_list, indent=1, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with --check, verify) the key list; the exit status is 1 when a check finds drift."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    parser.add_argument("--ts", type=Path, default=TS_DIR, help="the bindings' ts/ folder")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the JSON file to write")
    args = parser.parse_args(argv)

    wanted = render(collect(args.ts, registry_roots(args.ts)))
    current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
    if not args.check:
        if wanted != current:
            args.output.write_text(wanted, encoding="utf-8")
        return 0
    if wanted == current:
        return 0
    print(f"{args.output} is stale: run `python scripts/gen_wire_keys.py`.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

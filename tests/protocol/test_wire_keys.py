"""The Codex key list (scripts/gen_wire_keys.py) is current, and our models write every key it requires.

The models are walked alongside the binding types from each method's params or result: a key of a
binding object is matched to the field with that wire name, and nested objects, arrays, maps and
(tagged) unions are followed into the models the field holds. Variants we never build (most
`ThreadItem` kinds) have no model and are skipped; a field typed as raw JSON ends the walk there.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from protocol.initialize import wire_name
from protocol.registry import (
    EXTENSION_NOTIFICATIONS,
    NOTIFICATIONS,
    REQUESTS,
    SERVER_REQUEST_RESULTS,
    SERVER_REQUESTS,
)
from tests.protocol.samples import SAMPLES
from tests.protocol.wire_keys import (
    KEY_LIST_PATH,
    ROOT,
    SCRIPT,
    KeyList,
    Shape,
    is_object,
    key_list,
    load_generator,
    tag_of,
)
from tests.protocol.wire_types import is_handshake_model, public_names

gen = load_generator()


# --- the generator -------------------------------------------------------------------------------


def test_the_committed_key_list_is_what_the_bindings_give() -> None:
    if not gen.TS_DIR.is_dir():
        pytest.skip(f"TS bindings not found at {gen.TS_DIR} (expected ../shared beside the checkout)")
    command = [sys.executable, str(SCRIPT), "--check"]
    checked = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert checked.returncode == 0, f"{KEY_LIST_PATH.name} is stale:\n{checked.stderr}"


def test_check_reports_a_stale_key_list_and_leaves_it_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not gen.TS_DIR.is_dir():
        pytest.skip(f"TS bindings not found at {gen.TS_DIR}")
    output = tmp_path / "keys.json"
    stale = KEY_LIST_PATH.read_text(encoding="utf-8").replace('"historyMode"', '"historyModes"')
    output.write_text(stale, encoding="utf-8")

    assert gen.main(["--check", "--output", str(output)]) == 1
    assert "is stale" in capsys.readouterr().err
    assert output.read_text(encoding="utf-8") == stale

    assert gen.main(["--output", str(output)]) == 0
    assert gen.main(["--check", "--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == KEY_LIST_PATH.read_text(encoding="utf-8")


def test_the_key_list_names_a_binding_type_for_every_method_we_speak_but_our_extension() -> None:
    data = key_list().data

    assert set(data["requests"]) | {"mcpServer/views/read"} == set(REQUESTS)
    assert data["notInBindings"] == sorted(["mcpServer/views/read", *EXTENSION_NOTIFICATIONS])
    assert set(data["notifications"]) | set(EXTENSION_NOTIFICATIONS) == set(NOTIFICATIONS)
    assert set(data["serverRequests"]) == set(SERVER_REQUESTS)
    assert data["requests"]["config/mcpServer/reload"] == {
        "params": None,
        "result": "McpServerRefreshResponse",
    }


def _shape(source: str) -> Shape:
    return gen._Parser(gen.tokens(source.removesuffix(";"))).parse()


def test_required_nullable_and_optional_keys_are_told_apart() -> None:
    shape = _shape('{ /** doc */ id: string, "type": "x", path: string | null, detail?: ImageDetail, }')

    assert shape == {
        "required": {"id": "string", "type": {"literal": "x"}, "path": {"union": ["string", "null"]}},
        "optional": {"detail": "ImageDetail"},
    }


def test_arrays_maps_records_and_keywords_are_read() -> None:
    assert _shape("Array<Turn>") == {"array": "Turn"}
    assert _shape("{ [key in string]?: Tool }") == {"map": "Tool"}
    assert _shape("{ [key: string]: unknown }") == {"map": "unknown"}
    assert _shape("Record<string, never>") == {"required": {}, "optional": {}}
    assert _shape("bigint | null") == {"union": ["bigint", "null"]}


def test_an_intersection_with_a_union_becomes_a_union_of_merged_objects() -> None:
    shape = _shape('{ at?: number } & ({ "type": "a", x: string } | { "type": "b" })')

    assert shape == {
        "union": [
            {"required": {"type": {"literal": "a"}, "x": "string"}, "optional": {"at": "number"}},
            {"required": {"type": {"literal": "b"}}, "optional": {"at": "number"}},
        ]
    }


def test_an_intersection_with_a_named_type_is_merged_once_the_name_is_known() -> None:
    shape = _shape('{ "type": "sleep" } & SleepItem')
    named = {"SleepItem": {"required": {"id": "string"}, "optional": {}}}

    assert shape == {"allOf": [{"required": {"type": {"literal": "sleep"}}, "optional": {}}, "SleepItem"]}
    assert gen.resolve_intersections(shape, named) == {
        "required": {"type": {"literal": "sleep"}, "id": "string"},
        "optional": {},
    }


def test_an_object_and_a_map_merge_into_an_object_whose_other_keys_have_the_map_type() -> None:
    shape = _shape("{ model: string | null } & ({ [key in string]?: number | boolean })")

    assert shape == {
        "required": {"model": {"union": ["string", "null"]}},
        "optional": {},
        "rest": {"union": ["number", "boolean"]},
    }


def test_a_registry_union_gives_each_method_its_params_type(tmp_path: Path) -> None:
    registry = tmp_path / "ClientRequest.ts"
    registry.write_text(
        'import type { A } from "./v2/A";\n\nexport type ClientRequest ={ "method": "a/do", id: RequestId, '
        'params: A, } | { "method": "b/reload", id: RequestId, params: undefined, };\n',
        encoding="utf-8",
    )

    assert gen.method_params(registry) == {"a/do": "A", "b/reload": None}
    assert gen.read_ts_file(registry).imports == {"A": (tmp_path / "v2" / "A.ts").resolve()}


@pytest.mark.parametrize(
    "source", ["Promise<string>", "{ a: string b: number }", "{ a: string } & Named", "`t`"]
)
def test_syntax_the_bindings_do_not_use_is_refused(source: str) -> None:
    with pytest.raises(gen.TsSyntaxError):
        gen.resolve_intersections(_shape(source), {"Named": "string"})


# --- checking values against the key list ---------------------------------------------------------


def test_a_missing_key_is_reported_with_its_path_and_binding_type() -> None:
    turn = {"id": "t", "items": [], "status": "completed", "error": None, "startedAt": None}

    problems = [
        str(problem)
        for problem in key_list().problems({"threadId": "x", "turn": turn}, "TurnStartedNotification")
    ]

    assert "turn: Turn: lacks required key `itemsView`" in problems
    assert "turn: Turn: lacks required key `rootTurnId`" in problems


def test_a_tagged_variant_is_checked_as_the_variant_its_tag_names() -> None:
    item = {"type": "agentMessage", "id": "a", "text": "hi"}

    problems = {str(problem) for problem in key_list().problems(item, "ThreadItem")}

    assert "(top): ThreadItem[type=agentMessage]: lacks required key `phase`" in problems


def test_keys_an_open_object_does_not_name_are_checked_against_its_rest_type() -> None:
    open_object = {"required": {"model": "string"}, "optional": {}, "rest": "number"}
    keys = KeyList({"types": {"Open": {"file": "Open.ts", "shape": open_object}}})

    problems = [str(problem) for problem in keys.problems({"model": "m", "a": 1, "b": "x"}, "Open")]

    assert problems == ['b: Open: str "x" where the binding has number']


def test_null_is_refused_where_the_binding_does_not_allow_it() -> None:
    problems = [
        str(problem)
        for problem in key_list().problems({"name": "n", "inputSchema": {}, "title": None}, "Tool")
    ]

    assert problems == ["title: Tool.title: null where the binding has string"]


# --- our models against the key list -------------------------------------------------------------

Direction = Literal["sent", "received"]


@dataclass(frozen=True)
class _Field:
    """One of a model's fields as the wire sees it."""

    annotation: Any
    required: bool
    omitted_when_none: bool
    default_is_none: bool


def _fields(model: type[Any]) -> dict[str, _Field]:
    """A model's fields by wire name: a WireModel's from pydantic, a handshake dataclass's from its hints."""
    if issubclass(model, BaseModel):
        found: dict[str, _Field] = {}
        for name, info in model.model_fields.items():
            annotation = info.annotation
            found[info.alias or name] = _Field(
                annotation=annotation,
                required=info.is_required(),
                omitted_when_none=info.exclude_if is not None,
                default_is_none=not info.is_required()
                and info.default is None
                and info.default_factory is None,
            )
        return found
    hints = typing.get_type_hints(model)
    return {
        wire_name(field.name): _Field(
            annotation=hints[field.name],
            required=field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING,
            omitted_when_none=False,
            default_is_none=field.default is None,
        )
        for field in dataclasses.fields(model)
    }


def _models_in(annotation: Any) -> list[type[Any]]:
    """The model classes a field's annotation can hold (inside unions, lists, dicts, Annotated)."""
    if isinstance(annotation, type) and (issubclass(annotation, BaseModel) or is_handshake_model(annotation)):
        return [annotation]
    if isinstance(annotation, FieldInfo):
        return []
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_in(get_args(annotation)[0])
    if origin is dict:
        return _models_in(get_args(annotation)[1])
    return [model for argument in get_args(annotation) for model in _models_in(argument)]


def _tag_value(model: type[Any], key: str) -> Any:
    field = _fields(model).get(key)
    if field is None or get_origin(field.annotation) is not Literal:
        return None
    values = get_args(field.annotation)
    return values[0] if len(values) == 1 else None


EXTENSION_OMISSIONS = {("McpServerElicitationRequestParams", "threadId")}
"""(model, key) pairs a sent model may leave out though the binding requires the key: a question
asked during a direct `mcpServer/tool/call` made without a thread (our extension) has no thread."""


class _ModelWalk:
    """Pairs binding objects with the models that write or read them, and finds where they differ."""

    def __init__(self, keys: KeyList, direction: Direction) -> None:
        self._keys = keys
        self._direction = direction
        self._seen: set[tuple[str, type[Any]]] = set()
        self.problems: list[str] = []
        self.paired: set[type[Any]] = set()

    def walk(self, shape: Shape, models: list[type[Any]], label: str) -> None:
        alternatives = list(self._objects(shape, label))
        by_model: dict[type[Any], list[tuple[Shape, str]]] = {}
        for object_shape, object_label in alternatives:
            model = self._match(object_shape, models, single=len(alternatives) == 1)
            if model is not None:
                by_model.setdefault(model, []).append((object_shape, object_label))
        for model, matched in by_model.items():
            if len(matched) == 1:
                self._compare(*matched[0], model)
            else:
                self._compare(_merged([object_shape for object_shape, _ in matched]), label, model)

    def _objects(self, shape: Shape, label: str) -> Iterator[tuple[Shape, str]]:
        """The object shapes a binding type can be, each with a label naming it."""
        if isinstance(shape, str):
            if shape in self._keys.types:
                yield from self._objects(self._keys.types[shape], shape)
        elif isinstance(shape, dict):
            if is_object(shape):
                tag = tag_of(shape)
                yield shape, (f"{label}[{tag[0]}={tag[1]}]" if tag and "[" not in label else label)
            elif "union" in shape:
                for member in shape["union"]:
                    yield from self._objects(member, label)
            elif "array" in shape or "map" in shape:
                yield from self._objects(shape.get("array", shape.get("map")), label)

    def _match(self, shape: Shape, models: list[type[Any]], *, single: bool) -> type[Any] | None:
        tag = tag_of(shape)
        if tag is not None:
            tagged = [model for model in models if _tag_value(model, tag[0]) == tag[1]]
            if tagged:
                return tagged[0]
            if any(_tag_value(model, tag[0]) is not None for model in models):
                return None  # a variant we never build
        if single and len(models) == 1:
            return models[0]
        keyed = [model for model in models if set(shape["required"]) <= set(_fields(model))]
        return keyed[0] if len(keyed) == 1 else None

    def _compare(self, shape: Shape, label: str, model: type[Any]) -> None:
        if (label, model) in self._seen:
            return
        self._seen.add((label, model))
        self.paired.add(model)
        ours = _fields(model)
        where = f"{label} ({model.__name__})"
        for key, key_shape in [*shape["required"].items(), *shape["optional"].items()]:
            required = key in shape["required"]
            field = ours.get(key)
            nullable = self._allows_null(key_shape)
            if field is None:
                if not (self._direction == "received" and not required):
                    self.problems.append(
                        f"{where}: no field for {'required' if required else 'optional'} key `{key}`"
                    )
                continue
            if self._direction == "sent":
                if required and field.omitted_when_none:
                    if (model.__name__, key) in EXTENSION_OMISSIONS:
                        continue
                    self.problems.append(f"{where}: required key `{key}` is left out when None")
                elif required and field.default_is_none and not nullable:
                    self.problems.append(
                        f"{where}: `{key}` is written as null, the binding does not allow null"
                    )
                elif not required and field.default_is_none and not field.omitted_when_none:
                    self.problems.append(
                        f"{where}: optional key `{key}` (`?:`) is written as null, not left out"
                    )
            elif not required and field.required:
                self.problems.append(f"{where}: optional key `{key}` is required here")
            nested = _models_in(field.annotation)
            if nested:
                self.walk(key_shape, nested, f"{label}.{key}")

    def _allows_null(self, shape: Shape) -> bool:
        if shape in ("null", "unknown", "any"):
            return True
        if isinstance(shape, str) and shape in self._keys.types:
            return self._allows_null(self._keys.types[shape])
        if isinstance(shape, dict) and "union" in shape:
            return any(self._allows_null(member) for member in shape["union"])
        return False


def _merged(shapes: list[Shape]) -> Shape:
    """Variants one model writes (e.g. an image given by `url` or by `fileId`) as one object: a key is
    required when every variant requires it; the model's own validation picks the rest per variant."""
    required = [key for key in shapes[0]["required"] if all(key in shape["required"] for shape in shapes)]
    every: dict[str, Shape] = {}
    for shape in shapes:
        every.update({**shape["required"], **shape["optional"]})
    return {
        "required": {key: every[key] for key in required},
        "optional": {key: value for key, value in every.items() if key not in required},
    }


def _root_models(method_table: str, role: str) -> list[tuple[str, list[type[Any]]]]:
    data = key_list().data
    found: list[tuple[str, list[type[Any]]]] = []
    for method, names in data[method_table].items():
        name = names if isinstance(names, str) else names[role]
        if name is None:
            continue
        if method_table == "requests":
            spec = REQUESTS[method]
            ours = spec.result if role == "result" else spec.params
        elif method_table == "notifications":
            ours = NOTIFICATIONS[method]
        else:
            ours = SERVER_REQUESTS[method] if role == "params" else SERVER_REQUEST_RESULTS[method]
        found.append((name, _models_in(ours)))
    return found


def _walk(direction: Direction) -> _ModelWalk:
    walk = _ModelWalk(key_list(), direction)
    if direction == "sent":
        roots = [
            *_root_models("requests", "result"),
            *_root_models("notifications", "params"),
            *_root_models("serverRequests", "params"),
        ]
    else:
        roots = [*_root_models("requests", "params"), *_root_models("serverRequests", "result")]
    for name, models in roots:
        walk.walk(name, models, name)
    return walk


def test_models_we_send_write_every_required_key_and_null_only_where_allowed() -> None:
    walk = _walk("sent")

    assert walk.problems == [], "\n".join(walk.problems)


def test_models_we_read_declare_every_key_and_require_none_the_bindings_make_optional() -> None:
    walk = _walk("received")

    assert walk.problems == [], "\n".join(walk.problems)


def test_the_walk_reaches_the_models_of_every_method() -> None:
    reached = _walk("sent").paired | _walk("received").paired
    names = {model.__name__ for model in reached}

    assert {
        "Thread",
        "Turn",
        "McpToolCallItem",
        "AgentMessageItem",
        "UserMessageItem",
        "McpServerStatus",
    } <= names
    assert {"TextInput", "CollaborationSettings", "WorkspaceWriteSandbox", "ChatgptLogin"} <= names


SENT_TYPES = key_list().reachable(key_list().sent_roots())


@pytest.mark.parametrize(
    ("type_name", "wire"),
    [(name, wire) for name, wire in SAMPLES if name in SENT_TYPES],
    ids=[f"{name}-{i}" for i, (name, _) in enumerate(SAMPLES) if name in SENT_TYPES],
)
def test_every_sample_we_could_send_is_written_with_every_key_its_binding_requires(
    type_name: str, wire: dict[str, Any]
) -> None:
    written = TypeAdapter(public_names()[type_name]).validate_python(wire).to_wire()

    problems = [str(problem) for problem in key_list().problems(written, type_name)]

    assert problems == [], "\n".join(problems)

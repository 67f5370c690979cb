"""A user message's inputs: as recorded with its thread item, and as the model is shown them.

`turn/start` (and `turn/steer`) call `recorded_content` before anything is recorded: a local image
is read there, once, and its data URL stored beside its `localImage` input in the journal, so every
later step and a resumed thread show the model the very image the user attached, even if the
file changed or went away since. The extra key never reaches the wire (`thread/read` validates items
against the protocol models, which drop it).
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio

from app_server.errors import InvalidParams, quoted
from app_server.model.step import InputImage, UserMessage
from protocol.items import LocalImageInput, UserInput

IMAGE_DATA_URL_KEY = "modelImageUrl"
"""The key of a recorded `localImage` input that holds the image read as a data URL."""

MAX_LOCAL_IMAGE_BYTES = 20 * 1024 * 1024
"""The largest image the model providers take."""

IMAGE_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


async def recorded_content(inputs: Sequence[UserInput], cwd: str) -> list[dict[str, Any]]:
    """The wire inputs, each `localImage` with its file read as a data URL (a relative path is taken
    from `cwd`). Raises InvalidParams naming the path when a file is missing, unreadable, too large
    or not an image, so nothing is recorded or sent."""
    content = []
    for part in inputs:
        wire = part.to_wire()
        if isinstance(part, LocalImageInput):
            wire[IMAGE_DATA_URL_KEY] = await _data_url(Path(cwd, part.path))
        content.append(wire)
    return content


async def _data_url(path: Path) -> str:
    mime, _ = mimetypes.guess_type(path.name)
    if mime not in IMAGE_MIME_TYPES:
        raise InvalidParams(f"local image `{quoted(str(path))}` is not a PNG, JPEG, GIF or WebP file")
    try:
        data = await anyio.Path(path).read_bytes()
    except FileNotFoundError:
        raise InvalidParams(f"local image `{quoted(str(path))}` does not exist") from None
    except OSError:
        raise InvalidParams(f"local image `{quoted(str(path))}` cannot be read") from None
    if len(data) > MAX_LOCAL_IMAGE_BYTES:
        raise InvalidParams(f"local image `{quoted(str(path))}` is larger than 20 MiB")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def user_message(content: Iterable[Mapping[str, Any]]) -> UserMessage:
    """A recorded user message as the model sees it: text, and its images as image inputs; other
    inputs (files, skills, mentions) are named, since the model cannot open them."""
    texts: list[str] = []
    images: list[InputImage] = []
    for part in content:
        kind = part.get("type")
        detail = part.get("detail")
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image" and isinstance(part.get("url"), str):
            images.append(InputImage(part["url"], detail))
        elif kind == "localImage" and isinstance(part.get(IMAGE_DATA_URL_KEY), str):
            images.append(InputImage(part[IMAGE_DATA_URL_KEY], detail))
        elif kind == "image" and part.get("fileId"):
            texts.append(f"[image: file {part['fileId']}]")
        elif "path" in part:
            texts.append(f"[{kind}: {part.get('name') or part.get('path')}]")
    return UserMessage("\n".join(texts), tuple(images))

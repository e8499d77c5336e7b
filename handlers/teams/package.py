"""The Teams app package: ``manifest.json`` and two icons in a zip a Teams admin uploads.

Built from settings (the bot's app id, its name) so the package always matches the
running bot. The manifest follows Microsoft's published schema for manifest version 1.17
(https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json):
a personal-scope bot that supports files (the calendar invites) and lists its commands,
and a message action ("Nominate as advocate", ``composeExtensions``).
Its words (descriptions, the commands Teams suggests) are `templates/teams/package/words.json.j2`.

The icons are drawn here, pixel by pixel, into PNGs (zlib and struct, no imaging library):
a 192x192 full-colour icon and a 32x32 outline icon, white on a transparent background,
the sizes and kinds Teams requires.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot import __version__
from bot.config import Settings
from bot.rendering import Renderer
from handlers.teams.message_action import COMMAND_ID

MANIFEST_VERSION = "1.17"
MANIFEST_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json")
COLOR_ICON = ("color.png", 192)
OUTLINE_ICON = ("outline.png", 32)
ACCENT = (0x2E, 0x7D, 0x32)  # the colour behind the icon in Teams' app bar
WHITE = (255, 255, 255)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")

Pixel = tuple[int, int, int, int]


class PackageError(ValueError):
    """The package cannot be built from these settings; the message says what to set."""


def _require_https(name: str, url: str) -> str:
    if not url.startswith("https://") or len(url) > 2048:
        raise PackageError(f"{name} must be an https:// URL (got {url!r})")
    return url


def build_manifest(settings: Settings, *, website_url: str, privacy_url: str | None = None,
                   terms_url: str | None = None, developer_name: str | None = None,
                   version: str = __version__) -> dict[str, Any]:
    """The manifest for this bot. The Teams app id is the bot's own app id, which keeps
    one identity per deployment (Teams allows the two to differ; nothing here needs it)."""
    app_id = settings.microsoft_app_id
    if not _GUID.match(app_id or ""):
        raise PackageError("MicrosoftAppId must be set to the bot's Azure app id (a GUID) "
                           "to build the Teams package")
    if not _SEMVER.match(version):
        raise PackageError(f"the package version must look like 1.2.3 (got {version!r})")
    name = settings.teams_bot_name.strip() or "Advocate Bot"
    website = _require_https("--website-url", website_url)
    words = Renderer().render_json("teams/package/words.json.j2", {"name": name})
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": (developer_name or name)[:32],
            "websiteUrl": website,
            "privacyUrl": _require_https("--privacy-url", privacy_url or website),
            "termsOfUseUrl": _require_https("--terms-url", terms_url or website),
        },
        "name": {"short": name[:30], "full": words["name_full"][:100]},
        "description": {"short": words["description_short"][:80],
                        "full": words["description_full"][:4000]},
        "icons": {"color": COLOR_ICON[0], "outline": OUTLINE_ICON[0]},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [{
            "botId": app_id,
            "scopes": ["personal"],
            "supportsFiles": True,
            "isNotificationOnly": False,
            "commandLists": [{
                "scopes": ["personal"],
                "commands": [{"title": c["title"][:32], "description": c["description"][:128]}
                             for c in words["commands"]],
            }],
        }],
        # "Nominate as advocate" on any message (handlers/teams/message_action.py).
        "composeExtensions": [{
            "botId": app_id,
            "commands": [{
                "id": COMMAND_ID, "type": "action", "context": ["message"],
                "fetchTask": True, "title": words["message_action"]["title"][:32],
                "description": words["message_action"]["description"][:128],
            }],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def write_package(settings: Settings, output: Path, *, force: bool = False,
                  **manifest_options: Any) -> Path:
    """Write the zip (manifest and icons at its root, as Teams expects) to ``output``.

    An admin runs this in a shell they may share with others, so the write is careful:
    an existing file is replaced only with ``force`` (and then atomically, by renaming a
    finished temporary file over it), a symbolic link is never written through (it could
    point anywhere), and a directory, a missing permission or a full disk is reported as
    a ``PackageError`` naming the path instead of a traceback.
    """
    manifest = build_manifest(settings, **manifest_options)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr(COLOR_ICON[0], color_icon())
        archive.writestr(OUTLINE_ICON[0], outline_icon())
    data = buffer.getvalue()
    if output.is_symlink():
        raise PackageError(f"{output} is a symbolic link; give the path of a regular file")
    if output.is_dir():
        raise PackageError(f"{output} is a directory; give a file name such as "
                           f"{output / 'advocate-bot-teams.zip'}")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PackageError(f"cannot create the folder {output.parent}: "
                           f"{error.strerror or error}") from None
    try:
        if force:
            _replace(output, data)
        else:
            _create(output, data)
    except FileExistsError:
        raise PackageError(f"{output} already exists; pass --force to replace it") from None
    except PermissionError:
        raise PackageError(f"cannot write {output}: permission denied") from None
    except OSError as error:
        raise PackageError(f"cannot write {output}: {error.strerror or error}") from None
    return output


def _create(output: Path, data: bytes) -> None:
    """Write a new file; fail if anything (a file, a link, a dangling link) is there."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(output, flags, 0o644)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
    except BaseException:
        output.unlink(missing_ok=True)
        raise


def _replace(output: Path, data: bytes) -> None:
    """Replace ``output`` atomically: a rename swaps the directory entry itself, so a
    link that appeared at ``output`` meanwhile is replaced, never followed."""
    descriptor, temporary = tempfile.mkstemp(prefix=".advocate-bot-", suffix=".zip",
                                             dir=output.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- icons ---------------------------------------------------------------------------------


def color_icon(size: int = COLOR_ICON[1]) -> bytes:
    """The accent colour edge to edge with a white speech bubble: opaque, as Teams wants."""
    return png(size, size, lambda x, y: (*WHITE, 255) if _bubble(x, y, size) else (*ACCENT, 255))


def outline_icon(size: int = OUTLINE_ICON[1]) -> bytes:
    """The same bubble's outline in white on transparency (Teams tints it)."""

    def pixel(x: int, y: int) -> Pixel:
        inside = _bubble(x, y, size)
        edge = inside and not all(_bubble(x + dx, y + dy, size)
                                  for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)))
        return (*WHITE, 255) if edge else (0, 0, 0, 0)

    return png(size, size, pixel)


def _bubble(x: int, y: int, size: int) -> bool:
    """A speech bubble: an ellipse in the upper part and a tail at its lower left."""
    cx, cy = size / 2, size * 0.44
    rx, ry = size * 0.36, size * 0.28
    in_ellipse = ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1
    tail_top, tail_bottom = cy + ry * 0.55, cy + ry * 1.45
    in_tail = tail_top <= y <= tail_bottom and (
        size * 0.30 <= x <= size * 0.30 + (tail_bottom - y) * 0.8)
    return in_ellipse or in_tail


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An 8-bit RGBA PNG of ``pixel(x, y)``."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))

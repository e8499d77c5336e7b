"""``advocate-bot teams package``: the zip a Teams admin uploads, built from settings."""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli_teams import app

APP_ID = "7d3c9a1e-5b2f-4c8d-9e0a-1f2b3c4d5e6f"
runner = CliRunner()


def read_png(data: bytes) -> tuple[int, int, int, list[list[tuple[int, ...]]]]:
    """Width, height, colour type and RGBA rows of an unfiltered 8-bit PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    idat = b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = body
        if kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and color_type == 6
    raw = zlib.decompress(idat)
    stride = 1 + width * 4
    rows = []
    for y in range(height):
        line = raw[y * stride:(y + 1) * stride]
        assert line[0] == 0
        rows.append([tuple(line[1 + x * 4:5 + x * 4]) for x in range(width)])
    return width, height, color_type, rows


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> zipfile.ZipFile:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    monkeypatch.setenv("TEAMS_BOT_NAME", "Acme References")
    out = tmp_path / "teams.zip"
    result = runner.invoke(app, ["package", "--website-url", "https://acme.example/bot",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert APP_ID in result.output
    return zipfile.ZipFile(out)


def test_the_package_holds_a_manifest_and_two_icons_at_its_root(
        package: zipfile.ZipFile) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]


def test_the_manifest_declares_the_bot_from_settings(package: zipfile.ZipFile) -> None:
    manifest = json.loads(package.read("manifest.json"))
    for required in ("manifestVersion", "version", "id", "developer", "name", "description",
                     "icons", "accentColor"):
        assert manifest[required], required
    major, minor = (int(p) for p in manifest["manifestVersion"].split("."))
    assert (major, minor) >= (1, 17)
    assert manifest["id"] == APP_ID
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal"]
    assert bot["supportsFiles"] is True  # calendar invites go through file consent cards
    assert manifest["name"]["short"] == "Acme References"
    assert set(manifest["developer"]) >= {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"}
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert len(manifest["description"]["short"]) <= 80


def test_the_icons_have_the_sizes_teams_requires(package: zipfile.ZipFile) -> None:
    width, height, _, rows = read_png(package.read("color.png"))
    assert (width, height) == (192, 192)
    assert all(pixel[3] == 255 for row in rows for pixel in row)  # full colour, opaque
    width, height, _, rows = read_png(package.read("outline.png"))
    assert (width, height) == (32, 32)
    pixels = [pixel for row in rows for pixel in row]
    assert rows[0][0][3] == 0 and rows[-1][-1][3] == 0  # transparent background
    assert {p for p in pixels if p[3]} == {(255, 255, 255, 255)}  # white outline only
    assert 0 < sum(1 for p in pixels if p[3]) < len(pixels) // 2


def test_without_an_app_id_the_package_is_refused_with_what_to_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    result = runner.invoke(app, ["package", "--website-url", "https://acme.example/bot",
                                 "--output", str(tmp_path / "x.zip")])
    assert result.exit_code == 1
    assert "MicrosoftAppId" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_a_plain_http_website_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    result = runner.invoke(app, ["package", "--website-url", "http://acme.example",
                                 "--output", str(tmp_path / "x.zip")])
    assert result.exit_code == 1
    assert "https://" in result.output


@pytest.mark.skipif(not os.environ.get("TEAMS_MANIFEST_SCHEMA"),
                    reason="set TEAMS_MANIFEST_SCHEMA to Microsoft's v1.17 manifest schema file "
                           "(github.com/OfficeDev/microsoft-teams-app-schema) to validate")
def test_the_manifest_is_valid_against_microsofts_schema(package: zipfile.ZipFile) -> None:
    import jsonschema

    schema = json.loads(Path(os.environ["TEAMS_MANIFEST_SCHEMA"]).read_text())
    manifest = json.loads(package.read("manifest.json"))
    assert schema["properties"]["manifestVersion"]["const"] == manifest["manifestVersion"]
    errors = [f"{list(e.path)}: {e.message}" for e in
              jsonschema.Draft4Validator(schema).iter_errors(manifest)]
    assert not errors, errors


def test_the_manifest_declares_the_nominate_message_action_the_bot_handles(
        package: zipfile.ZipFile) -> None:
    from handlers.teams import message_action

    manifest = json.loads(package.read("manifest.json"))
    (extension,) = manifest["composeExtensions"]
    assert extension["botId"] == APP_ID
    (command,) = extension["commands"]
    assert command["id"] == message_action.COMMAND_ID
    assert (command["type"], command["context"], command["fetchTask"]) == (
        "action", ["message"], True)
    assert 1 <= len(command["title"]) <= 32 and 1 <= len(command["description"]) <= 128
    assert command["title"] == "Nominate as advocate"  # Slack's message shortcut's name
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert "advocates nominate" in titles

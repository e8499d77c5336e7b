"""``manifest.yml`` and the code agree, and the manifest is one Slack would accept.

* Every slash command, event, button and modal the listeners register is declared (or,
  for buttons and modals, named in ``handlers/slack/ids.py``), and nothing is declared
  that no listener handles: a renamed command cannot silently stop answering.
* Every Web API method the Slack code calls has its scope in the manifest, and every scope
  the manifest asks for is used (least privilege: workspace admins read this list).
* Request URLs all end in ``/slack/events``, the route ``handlers.web`` mounts.
* The structure follows Slack's app manifest v1 rules (as published in the
  slackapi/manifest-schema repository): required keys, lengths, patterns, no unknown keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import ids
from handlers.slack.listeners import register_all
from handlers.web import SLACK_EVENTS_PATH

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))

# The scopes each Web API method needs (api.slack.com/methods). A method the code calls
# that is missing here fails the test, so a new call makes someone look its scope up.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "chat_postMessage": frozenset({"chat:write"}),
    "chat_update": frozenset({"chat:write"}),
    "files_upload_v2": frozenset({"files:write"}),
    "users_info": frozenset({"users:read"}),
    "users_lookupByEmail": frozenset({"users:read.email"}),
    "usergroups_users_list": frozenset({"usergroups:read"}),
    "views_open": frozenset(),
    "views_publish": frozenset(),
    "views_update": frozenset(),
    "auth_test": frozenset(),
}
# users.info only returns profile.email with users:read.email; the directory needs it.
IMPLIED_SCOPES = {"users_info": frozenset({"users:read.email"})}


class Recorder:
    """Stands in for Bolt's ``AsyncApp`` while the listener modules register."""

    def __init__(self) -> None:
        self.registered: dict[str, list[str]] = {"command": [], "action": [], "view": [],
                                                 "event": [], "shortcut": []}

    def _record(self, kind: str, name: Any) -> Callable[[Any], Any]:
        assert isinstance(name, str), f"{kind} registered with a non-string matcher {name!r}"
        self.registered[kind].append(name)
        return lambda listener: listener

    def command(self, name: str) -> Callable[[Any], Any]:
        return self._record("command", name)

    def action(self, name: str) -> Callable[[Any], Any]:
        return self._record("action", name)

    def view(self, name: str) -> Callable[[Any], Any]:
        return self._record("view", name)

    def event(self, name: str) -> Callable[[Any], Any]:
        return self._record("event", name)

    def shortcut(self, name: str) -> Callable[[Any], Any]:
        return self._record("shortcut", name)

    def use(self, middleware: Any) -> None:
        """The middleware that hands listeners their dependencies: nothing to record."""


@pytest.fixture(scope="module")
def registered() -> dict[str, list[str]]:
    recorder = Recorder()
    register_all(recorder, SimpleNamespace(ctx=None))  # type: ignore[arg-type]
    return recorder.registered


def constants(prefix: str) -> set[str]:
    return {value for name, value in vars(ids).items() if name.startswith(prefix)}


# --- code ↔ manifest ----------------------------------------------------------------------


def test_every_slash_command_is_both_declared_and_handled(registered: dict) -> None:
    declared = [c["command"] for c in MANIFEST["features"]["slash_commands"]]
    assert sorted(registered["command"]) == sorted(declared)
    assert set(declared) == constants("COMMAND_")


def test_every_shortcut_is_both_declared_and_handled(registered: dict) -> None:
    declared = {s["callback_id"]: s["type"] for s in MANIFEST["features"]["shortcuts"]}
    assert sorted(registered["shortcut"]) == sorted(declared)
    assert set(declared) == constants("SHORTCUT_")
    assert declared == {ids.SHORTCUT_NOMINATE: "message", ids.SHORTCUT_REQUEST: "global"}


def test_every_event_is_both_subscribed_and_handled(registered: dict) -> None:
    assert sorted(registered["event"]) == sorted(
        MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    if "app_home_opened" in registered["event"]:
        assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_every_button_and_modal_id_has_exactly_one_listener(registered: dict) -> None:
    assert sorted(registered["action"]) == sorted(constants("ACTION_"))
    assert sorted(registered["view"]) == sorted(constants("VIEW_"))
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True


def test_every_action_id_a_template_uses_is_handled(registered: dict) -> None:
    used = set()
    for template in (ROOT / "templates" / "slack").rglob("*.j2"):
        used |= set(re.findall(r"ids\.(ACTION_[A-Z_]+)", template.read_text(encoding="utf-8")))
    assert used, "no template names an action: is the templates folder where it should be?"
    assert {getattr(ids, name) for name in used} <= set(registered["action"])


def test_every_request_url_points_at_the_one_events_route() -> None:
    urls = [c["url"] for c in MANIFEST["features"]["slash_commands"]]
    urls.append(MANIFEST["settings"]["event_subscriptions"]["request_url"])
    urls.append(MANIFEST["settings"]["interactivity"]["request_url"])
    assert all(url.endswith(SLACK_EVENTS_PATH) for url in urls), urls
    assert len({url.removesuffix(SLACK_EVENTS_PATH) for url in urls}) == 1


def web_api_calls() -> set[str]:
    """Every ``AsyncWebClient`` method named in a call anywhere in the Slack code."""
    methods = {name for name in dir(AsyncWebClient) if not name.startswith("_")}
    found: set[str] = set()
    sources = [*(ROOT / "handlers" / "slack").rglob("*.py"), ROOT / "bot" / "cli.py"]
    for path in sources:
        for name in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)\(", path.read_text(encoding="utf-8")):
            if name in methods and name not in ("api_call", "token"):
                found.add(name)
    return found


def test_every_web_api_method_the_code_calls_has_its_scope() -> None:
    called = web_api_calls()
    assert {"chat_postMessage", "users_info", "views_open"} <= called  # the scan works
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"look up the scopes of {sorted(unknown)} and add them to METHOD_SCOPES"
    needed = set().union(*(METHOD_SCOPES[m] | IMPLIED_SCOPES.get(m, frozenset())
                           for m in called))
    needed.add("commands")  # slash commands need it whatever they call
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert needed <= declared, f"missing scopes: {sorted(needed - declared)}"
    assert declared <= needed, f"scopes nothing uses: {sorted(declared - needed)}"


# --- the manifest's own structure (Slack's v1 manifest rules) ------------------------------


def check_object(value: Any, where: str, allowed: set[str], required: set[str] = frozenset()
                 ) -> None:
    assert isinstance(value, dict), f"{where} must be an object"
    assert set(value) <= allowed, f"{where} has unknown keys {sorted(set(value) - allowed)}"
    assert required <= set(value), f"{where} lacks {sorted(required - set(value))}"


def check_text(value: Any, where: str, low: int, high: int, pattern: str | None = None) -> None:
    assert isinstance(value, str), f"{where} must be a string"
    assert low <= len(value) <= high, f"{where} must be {low}-{high} characters, is {len(value)}"
    if pattern:
        assert re.search(pattern, value), f"{where} must match {pattern}"


def check_bool(value: Any, where: str) -> None:
    assert isinstance(value, bool), f"{where} must be true or false"


def test_the_manifest_follows_slacks_v1_structure() -> None:
    m = MANIFEST
    check_object(m, "manifest", {"_metadata", "display_information", "features",
                                 "oauth_config", "settings"}, {"display_information"})
    check_object(m["_metadata"], "_metadata",
                 {"schema_version", "min_version", "major_version", "minor_version"})
    assert m["_metadata"]["major_version"] == 1
    assert all(isinstance(v, int) for v in m["_metadata"].values())

    info = m["display_information"]
    check_object(info, "display_information",
                 {"name", "description", "background_color", "long_description"}, {"name"})
    check_text(info["name"], "name", 1, 35)
    check_text(info["description"], "description", 1, 140)
    check_text(info["background_color"], "background_color", 4, 7,
               r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")
    check_text(info["long_description"], "long_description", 175, 4000)

    features = m["features"]
    check_object(features, "features", {"app_home", "bot_user", "shortcuts", "slash_commands",
                                        "unfurl_domains", "workflow_steps", "functions",
                                        "assistant_view", "agent_view"})
    check_object(features["app_home"], "app_home", {
        "home_tab_enabled", "messages_tab_enabled", "messages_tab_read_only_enabled"})
    for key, value in features["app_home"].items():
        check_bool(value, f"app_home.{key}")
    check_object(features["bot_user"], "bot_user", {"display_name", "always_online"},
                 {"display_name"})
    check_text(features["bot_user"]["display_name"], "bot_user.display_name", 1, 80)
    shortcuts = features["shortcuts"]
    assert 1 <= len(shortcuts) <= 10
    for shortcut in shortcuts:
        where = f"shortcut {shortcut.get('callback_id')}"
        check_object(shortcut, where, {"name", "type", "callback_id", "description"},
                     {"name", "type", "callback_id", "description"})
        check_text(shortcut["name"], f"{where} name", 1, 24)
        check_text(shortcut["callback_id"], f"{where} callback_id", 1, 255)
        check_text(shortcut["description"], f"{where} description", 1, 150)
        assert shortcut["type"] in ("message", "global"), where
    commands = features["slash_commands"]
    assert 1 <= len(commands) <= 50
    for command in commands:
        where = f"slash command {command.get('command')}"
        check_object(command, where, {"command", "url", "description", "usage_hint",
                                      "should_escape"}, {"command", "description"})
        check_text(command["command"], where, 2, 32, r"^/")
        check_text(command["url"], f"{where} url", 1, 3000, r"^https?://")
        check_text(command["description"], f"{where} description", 1, 2000)
        check_text(command["usage_hint"], f"{where} usage_hint", 1, 1000)
        check_bool(command["should_escape"], f"{where} should_escape")

    oauth = m["oauth_config"]
    check_object(oauth, "oauth_config", {"redirect_urls", "scopes", "token_management_enabled"})
    check_object(oauth["scopes"], "scopes", {"user", "bot", "user_optional", "bot_optional"})
    bot_scopes = oauth["scopes"]["bot"]
    assert len(bot_scopes) == len(set(bot_scopes)) <= 255
    for scope in bot_scopes:
        check_text(scope, "scope", 1, 50)

    settings = m["settings"]
    check_object(settings, "settings", {
        "allowed_ip_address_ranges", "event_subscriptions", "incoming_webhooks",
        "interactivity", "org_deploy_enabled", "socket_mode_enabled", "is_hosted",
        "token_rotation_enabled", "siws_links", "hermes_app_type", "function_runtime",
        "is_mcp_enabled"})
    events = settings["event_subscriptions"]
    check_object(events, "event_subscriptions", {"request_url", "user_events", "bot_events",
                                                 "metadata_subscriptions"})
    check_text(events["request_url"], "event request_url", 1, 3500, r"^https?://")
    assert len(events["bot_events"]) == len(set(events["bot_events"])) <= 100
    interactivity = settings["interactivity"]
    check_object(interactivity, "interactivity",
                 {"is_enabled", "request_url", "message_menu_options_url"}, {"is_enabled"})
    check_text(interactivity["request_url"], "interactivity request_url", 1, 3500,
               r"^https?://")
    for key in ("org_deploy_enabled", "socket_mode_enabled", "token_rotation_enabled"):
        check_bool(settings[key], f"settings.{key}")


def test_the_structure_check_catches_what_slack_would_refuse() -> None:
    with pytest.raises(AssertionError, match="must be 175-4000"):
        check_text("too short", "long_description", 175, 4000)
    with pytest.raises(AssertionError, match="must match"):
        check_text("reference", "command", 2, 32, r"^/")
    with pytest.raises(AssertionError, match="unknown keys"):
        check_object({"nmae": "typo"}, "display_information", {"name"})

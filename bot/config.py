"""Settings: one typed object, read from the environment and an optional TOML file.

Environment variables win over the TOML file (``ADVOCATE_BOT_CONFIG=path/to/file.toml``;
keys are the lower-case setting names, e.g. ``database_url = "..."``). A bad value stops
start-up with ``SettingsError``, whose message names the setting and the expected form.
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.domain.nomination import ReadinessPolicy
from bot.domain.policy import (
    JobsPolicy,
    LimitPolicy,
    MatchPolicy,
    MatchWeights,
    ProgramPolicy,
)

CONFIG_FILE_ENV = "ADVOCATE_BOT_CONFIG"
DEFAULT_DATABASE_URL = "sqlite:///advocate-bot.db"


class SettingsError(Exception):
    """A setting has a value the bot cannot use; the message says which and what to write."""


#: ``scheme://userinfo@`` in any text: the userinfo is what ``mask_url`` hides.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s]*)@")


def mask_url(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``.

    A ``DATABASE_URL`` carries its password, and a Web API URL may carry a token as its
    user: neither may reach a terminal, a log or an error message. ``user:password@``
    keeps the user (it helps to see which account was tried); a lone ``token@`` is hidden
    whole. Works on text that is not a valid URL too, because that is exactly the text a
    "cannot parse this URL" message would echo.
    """

    def hide(match: re.Match[str]) -> str:
        user, colon, _ = match["userinfo"].partition(":")
        return f"{match['scheme']}{user + ':***' if colon else '***'}@"

    return _URL_USERINFO.sub(hide, text)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", env_ignore_empty=True, frozen=True
    )

    # --- server and storage ---
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="Database URL: sqlite:///path.db or postgresql://user:pw@host:5432/db",
    )
    auto_migrate: bool = Field(
        False, description="Apply pending migrations on start instead of refusing to start"
    )
    host: str = Field("127.0.0.1", description="Address `serve` listens on")
    port: int = Field(3000, ge=1, le=65535, description="Port `serve` listens on")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")

    # --- Slack ---
    slack_bot_token: str = Field("", description="Bot token (xoxb-...); enables Slack")
    slack_signing_secret: str = Field("", description="Signing secret of the Slack app")
    slack_app_token: str = Field("", description="App-level token (xapp-...): Socket Mode")
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (a local fake in tests)"
    )
    slack_team_id: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated Slack workspace ids (T…) the bot serves; empty = the "
                    "bot token's own workspace. Requests from any other workspace are refused",
    )

    # --- Microsoft Teams (the names the Bot Framework samples use) ---
    microsoft_app_id: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppId", "microsoft_app_id"),
        description="Azure bot app id; empty = unauthenticated local mode (Bot Framework Emulator)",
    )
    microsoft_app_password: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppPassword", "microsoft_app_password"),
        description="Client secret of the bot's app registration",
    )
    microsoft_app_type: str = Field(
        "MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "microsoft_app_type"),
        description="MultiTenant, SingleTenant or UserAssignedMSI",
    )
    microsoft_app_tenant_id: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppTenantId", "microsoft_app_tenant_id"),
        description="Tenant id (SingleTenant and UserAssignedMSI)",
    )
    teams_enabled: bool = Field(
        False, description="Serve /api/messages for Teams (on when MicrosoftAppId is set)"
    )
    teams_bot_name: str = Field("Advocate Bot", description="Bot name in the Teams app package")
    sandbox_enabled: bool = Field(
        False, description="Serve the browser sandbox at / even when Slack or Teams is "
                           "configured (it is on anyway when neither is); loopback HOST only")
    rep_teams_group: str = Field(
        "", description="Object id (a GUID) of the Azure AD group the sales reps belong to; "
                        "when set, only its members (nested included) can request "
                        "references on Teams")
    graph_api_url: str = Field("https://graph.microsoft.com/v1.0",
                               description="Microsoft Graph base URL (a local fake in tests)")
    microsoft_login_url: str = Field(
        "https://login.microsoftonline.com",
        description="Azure AD token endpoint base URL (a local fake in tests)")
    teams_allowed_tenants: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated Azure AD tenant ids whose users may use the bot; empty = "
                    "MicrosoftAppTenantId when set, else any tenant",
    )

    # --- program ---
    program_managers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated emails of the program managers",
    )
    rep_email_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated email domains of the sales reps (e.g. example.com); "
                    "empty = every internal person who is not an advocate",
    )
    rep_slack_usergroup: str = Field(
        "", description="Slack user group id (S0…) the sales reps belong to; when set, "
                        "only its members can request references on Slack")
    program_timezone: str = Field("UTC", description="IANA zone for digests and check-ins")
    program_locale: str = Field(
        "en", description="The language of channel posts, and of anyone whose own choice, "
                          "roster Locale and chat platform say none (en, ja, ja-JP ...)")
    program_default_hours: str = Field(
        "Mon-Fri 09:00-18:00", description="When advocates take calls, in their own zone, "
                                           "unless the roster's Call Hours says otherwise")
    program_currency: str = Field(
        "USD", description="ISO 4217 code of the amounts reps enter in outcomes (USD, EUR, "
                           "JPY ...), shown with them and in the program report")
    program_channel: str = Field("", description="Channel for recognition posts")
    require_approval: bool = Field(
        False, description="Ask the account owner before contacting their customer"
    )
    show_prospect_name: bool = Field(
        False, description="Show the prospect's company name to advocates in asks"
    )
    ask_expiry_hours: int = Field(48, ge=1, description="Hours before an unanswered ask expires")
    not_now_snooze_days: int = Field(14, ge=1, description="Days 'Not now' snoozes an advocate")

    # --- burnout limits ---
    limit_max_per_90_days: int = Field(3, ge=1, description="Engagements per rolling 90 days")
    limit_max_per_365_days: int = Field(8, ge=1, description="Engagements per rolling 365 days")
    limit_cooldown_days: int = Field(14, ge=0, description="Days between two engagements")
    limit_max_open_asks: int = Field(2, ge=1, description="Open asks an advocate may hold")
    limit_decline_streak: int = Field(2, ge=1, description="Declines in a row that snooze")
    limit_decline_snooze_days: int = Field(30, ge=1, description="Days the decline streak snoozes")

    # --- nominations: the readiness check (docs/product.md, "Joining") ---
    nominate_min_health_score: int = Field(
        50, ge=0, le=100, description="A nominee's account health score below this is shown")
    nominate_min_nps: int = Field(
        7, ge=0, le=10, description="A nominee's account NPS below this is shown")
    nominate_renewal_caution_days: int = Field(
        60, ge=0, description="A nominee's account renewing this soon is shown")
    nominate_account_max_per_90_days: int = Field(
        6, ge=1, description="A nominee's account with this many engagements in 90 days "
                             "is shown as over-used")
    nominate_min_tenure_days: int = Field(
        90, ge=0, le=36_500, description="A nominee's account that became a customer fewer "
                                         "days ago than this is shown (0: not checked)")
    join_url: str = Field(
        "", description="Where a contact the bot cannot message joins the program (a link "
                        "the nominator passes on); empty = the nominator forwards the text")

    # --- matching ---
    match_top_n: int = Field(3, ge=1, le=10, description="Matches shown to the rep")
    match_renewal_caution_days: int = Field(60, ge=0, description="Renewal this close → caution")
    match_low_health_threshold: int = Field(50, ge=0, le=100, description="Health below → caution")
    match_include_caution: bool = Field(False, description="Offer caution advocates too")
    match_weight_industry: float = Field(3.0, ge=0)
    match_weight_products: float = Field(2.0, ge=0)
    match_weight_use_cases: float = Field(1.5, ge=0)
    match_weight_region: float = Field(1.5, ge=0)
    match_weight_company_size: float = Field(1.0, ge=0)
    match_weight_language: float = Field(1.0, ge=0)
    match_weight_fairness: float = Field(2.0, ge=0)
    match_weight_health: float = Field(1.0, ge=0)

    # --- scheduled work: digest, check-ins, recognition, nudges ---
    digest_day: str = Field("monday", description="Weekday the weekly digest goes out")
    digest_time: str = Field("09:00", description="Local time (HH:MM) of the weekly digest")
    checkin_time: str = Field("09:00", description="Local time (HH:MM) of quarterly check-ins")
    holidays: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated YYYY-MM-DD days that are not business days",
    )
    checkin_reminder_days: int = Field(14, ge=1, description="Days before a check-in reminder")
    catch_up_hours: int = Field(
        24, ge=0, description="How late a missed digest is still sent after a restart"
    )
    points_call: int = Field(10, ge=0, description="Points for a reference call")
    points_video_call: int = Field(10, ge=0, description="Points for a video call")
    points_email: int = Field(5, ge=0, description="Points for an email/written reference")
    points_site_visit: int = Field(25, ge=0, description="Points for a site visit")
    points_speaking: int = Field(30, ge=0, description="Points for a speaking engagement")
    points_case_study: int = Field(40, ge=0, description="Points for a case study")
    tier_silver_points: int = Field(50, ge=1, description="Points that make an advocate Silver")
    tier_gold_points: int = Field(150, ge=1, description="Points that make an advocate Gold")
    recognition_milestones: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [1, 5, 10, 25],
        description="Completed engagements that earn a milestone post",
    )
    request_sla_hours: int = Field(
        72, ge=1, description="Hours a request may wait for an accepted advocate"
    )
    needed_by_warning_hours: int = Field(
        48, ge=1, description="Nudge rep and PM this close to needed_by without an advocate"
    )
    ask_reminder_hours: int = Field(
        12, ge=1, description="Remind an advocate this long before their ask expires"
    )

    @field_validator("digest_day")
    @classmethod
    def _valid_digest_day(cls, value: str) -> str:
        from bot.domain.periods import WEEKDAYS, parse_weekday

        return WEEKDAYS[parse_weekday(value)]

    @field_validator("digest_time", "checkin_time")
    @classmethod
    def _valid_clock_time(cls, value: str) -> str:
        try:
            parsed = time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("expected a time of day like 09:00") from None
        return parsed.strftime("%H:%M")

    @field_validator("holidays", mode="before")
    @classmethod
    def _split_holidays(cls, value: Any) -> Any:
        days = _split_list(value)
        for day in days:
            try:
                date.fromisoformat(str(day))
            except ValueError:
                raise ValueError(f"{day!r} is not a date like 2026-12-25") from None
        return [str(day) for day in days]

    @field_validator("recognition_milestones", mode="before")
    @classmethod
    def _split_milestones(cls, value: Any) -> Any:
        items = _split_list(value)
        try:
            numbers = sorted({int(item) for item in items})
        except (TypeError, ValueError):
            raise ValueError("expected whole numbers like 1,5,10,25") from None
        if any(n < 1 for n in numbers):
            raise ValueError("milestones count engagements: 1 or more")
        return numbers

    @model_validator(mode="after")
    def _tiers_in_order(self) -> Settings:
        if self.tier_gold_points <= self.tier_silver_points:
            raise ValueError("TIER_GOLD_POINTS must be more than TIER_SILVER_POINTS")
        return self

    def jobs_policy(self) -> JobsPolicy:
        """The scheduled-work settings as the services read them."""
        from bot.domain.periods import parse_weekday

        return JobsPolicy(
            digest_weekday=parse_weekday(self.digest_day),
            digest_time=time.fromisoformat(self.digest_time),
            digest_grace_hours=self.catch_up_hours,
            checkin_time=time.fromisoformat(self.checkin_time),
            checkin_reminder_days=self.checkin_reminder_days,
            holidays=tuple(sorted(date.fromisoformat(d) for d in self.holidays)),
            program_channel=self.program_channel,
            milestones=tuple(self.recognition_milestones),
            request_sla_hours=self.request_sla_hours,
            needed_by_warning_hours=self.needed_by_warning_hours,
            ask_reminder_hours=self.ask_reminder_hours,
            tiers=(("bronze", 0), ("silver", self.tier_silver_points),
                   ("gold", self.tier_gold_points)),
        )

    @field_validator("slack_team_id", mode="before")
    @classmethod
    def _split_team_ids(cls, value: Any) -> Any:
        ids = _split_list(value)
        for team in ids:
            if not re.fullmatch(r"[TE][A-Z0-9]{2,}", str(team)):
                raise ValueError(f"{team!r} is not a Slack workspace id like T0123ABCD")
        return ids

    @field_validator("teams_allowed_tenants", mode="before")
    @classmethod
    def _split_tenants(cls, value: Any) -> Any:
        tenants = [str(tenant).lower() for tenant in _split_list(value)]
        for tenant in tenants:
            if not re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", tenant):
                raise ValueError(f"{tenant!r} is not a tenant id (a GUID like "
                                 "72f988bf-86f1-41af-91ab-2d7cd011db47)")
        return tenants

    @field_validator("program_managers", mode="before")
    @classmethod
    def _split_managers(cls, value: Any) -> Any:
        return [email.lower() for email in _split_list(value)]

    @field_validator("rep_email_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: Any) -> Any:
        domains = [str(domain).strip().lower().removeprefix("@") for domain in
                   _split_list(value)]
        for domain in domains:
            if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
                raise ValueError(f"{domain!r} is not an email domain (expected e.g. "
                                 "example.com, without the part before the @)")
        return domains

    @field_validator("rep_slack_usergroup")
    @classmethod
    def _check_usergroup(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"S[A-Z0-9]{2,20}", value):
            raise ValueError(f"{value[:40]!r} is not a Slack user group id (expected e.g. "
                             "S0123ABCD, from the group's profile, not its @handle)")
        return value

    @field_validator("rep_teams_group")
    @classmethod
    def _check_group(cls, value: str) -> str:
        value = value.strip().lower()
        if value and not re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", value):
            raise ValueError(f"{value[:40]!r} is not an Azure AD group object id (a GUID "
                             "like 3f2504e0-4f89-41d3-9a0c-0305e82c3301)")
        return value

    @field_validator("program_default_hours")
    @classmethod
    def _valid_hours(cls, value: str) -> str:
        from bot.domain.errors import InvalidInput
        from bot.domain.hours import WorkingHours

        try:
            return WorkingHours.parse(value).text() if value.strip() else WorkingHours().text()
        except InvalidInput:
            raise ValueError(f"{value[:60]!r} are not hours like 'Mon-Fri 09:00-18:00' or "
                             "'9-17'") from None

    @field_validator("program_currency")
    @classmethod
    def _valid_currency(cls, value: str) -> str:
        from babel.numbers import is_currency

        code = value.strip().upper()
        if not is_currency(code):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code like USD, EUR or JPY")
        return code

    @field_validator("program_locale")
    @classmethod
    def _valid_locale(cls, value: str) -> str:
        from bot.i18n import normalize

        found = normalize(value)
        if found is None:
            raise ValueError(f"{value[:40]!r} is not a language or locale (expected e.g. en, "
                             "ja or ja-JP)")
        return found

    @field_validator("program_timezone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone (expected e.g. Europe/Berlin)"
            ) from None
        return value

    @field_validator("log_level")
    @classmethod
    def _valid_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].split("+", 1)[0].lower()
        if "://" not in value or scheme not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError(
                "expected sqlite:///path/to/file.db or postgresql://user:password@host:5432/db"
            )
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _valid_bot_token(cls, value: str) -> str:
        if value and not value.startswith("xoxb-"):
            raise ValueError("expected a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _valid_app_token(cls, value: str) -> str:
        if value and not value.startswith("xapp-"):
            raise ValueError("expected an app-level token starting with xapp-")
        return value

    @field_validator("join_url")
    @classmethod
    def _valid_join_url(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("expected an https:// link, or nothing")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _valid_api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _slack_settings_together(self) -> Settings:
        if self.slack_bot_token and not (self.slack_signing_secret or self.slack_app_token):
            raise ValueError(
                "SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP mode) nor "
                "SLACK_APP_TOKEN (Socket Mode) is: Slack requests could not be verified"
            )
        if (self.slack_signing_secret or self.slack_app_token) and not self.slack_bot_token:
            raise ValueError("Slack is half-configured: SLACK_BOT_TOKEN is missing")
        return self

    @field_validator("microsoft_app_type")
    @classmethod
    def _valid_app_type(cls, value: str) -> str:
        kinds = {"multitenant": "MultiTenant", "singletenant": "SingleTenant",
                 "userassignedmsi": "UserAssignedMSI"}
        if value.lower() not in kinds:
            raise ValueError("expected MultiTenant, SingleTenant or UserAssignedMSI")
        return kinds[value.lower()]

    @model_validator(mode="after")
    def _teams_settings_together(self) -> Settings:
        if self.microsoft_app_type != "MultiTenant" and self.microsoft_app_id and (
            not self.microsoft_app_tenant_id
        ):
            raise ValueError(
                f"MicrosoftAppType={self.microsoft_app_type} needs MicrosoftAppTenantId"
            )
        if self.microsoft_app_password and not self.microsoft_app_id:
            raise ValueError("MicrosoftAppPassword is set but MicrosoftAppId is missing")
        if self.rep_teams_group and not (self.microsoft_app_id and self.microsoft_app_password
                                         and self.microsoft_app_tenant_id):
            raise ValueError("REP_TEAMS_GROUP needs MicrosoftAppId, MicrosoftAppPassword and "
                             "MicrosoftAppTenantId: the bot reads the group with its own app "
                             "credentials")
        if self.teams_active and not self.microsoft_app_id and not is_loopback(self.host):
            raise ValueError(
                f"HOST={self.host} with Teams in unauthenticated local mode (TEAMS_ENABLED "
                "without MicrosoftAppId): anyone who reached the port could act as any user. "
                "Set MicrosoftAppId and MicrosoftAppPassword, or HOST=127.0.0.1")
        if self.sandbox_enabled and not is_loopback(self.host):
            raise ValueError(
                f"HOST={self.host} with SANDBOX_ENABLED=true: the sandbox has no sign-in (anyone "
                "who reached the port could act as any person), so it only listens on this "
                "machine. Use HOST=127.0.0.1, or leave SANDBOX_ENABLED unset")
        return self

    @property
    def teams_tenants(self) -> frozenset[str]:
        """The tenants whose activities the bot accepts; empty means any tenant.

        ``TEAMS_ALLOWED_TENANTS`` when set, else the app's own tenant when it is known
        (``MicrosoftAppTenantId``): a multi-tenant app registration lets every tenant's
        users message the bot, and roles come from the email Teams reports, which another
        tenant controls.
        """
        if self.teams_allowed_tenants:
            return frozenset(self.teams_allowed_tenants)
        if self.microsoft_app_tenant_id:
            return frozenset({self.microsoft_app_tenant_id.lower()})
        return frozenset()

    @property
    def teams_active(self) -> bool:
        """Teams is served when an app id is set, or explicitly in local (Emulator) mode."""
        return bool(self.microsoft_app_id) or self.teams_enabled

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def sandbox_active(self) -> bool:
        """The browser sandbox is served: asked for, or no chat platform configured, and
        only ever on a loopback HOST (it has no sign-in)."""
        wanted = self.sandbox_enabled or not (self.slack_enabled or self.teams_active)
        return wanted and is_loopback(self.host)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get(CONFIG_FILE_ENV)
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_path)))
        return tuple(sources)

    def program_policy(self) -> ProgramPolicy:
        return ProgramPolicy(
            limits=LimitPolicy(
                max_per_90_days=self.limit_max_per_90_days,
                max_per_365_days=self.limit_max_per_365_days,
                cooldown_days=self.limit_cooldown_days,
                max_open_asks=self.limit_max_open_asks,
                decline_streak=self.limit_decline_streak,
                decline_snooze_days=self.limit_decline_snooze_days,
            ),
            matching=MatchPolicy(
                weights=MatchWeights(
                    industry=self.match_weight_industry,
                    products=self.match_weight_products,
                    use_cases=self.match_weight_use_cases,
                    region=self.match_weight_region,
                    company_size=self.match_weight_company_size,
                    language=self.match_weight_language,
                    fairness=self.match_weight_fairness,
                    health=self.match_weight_health,
                ),
                top_n=self.match_top_n,
                renewal_caution_days=self.match_renewal_caution_days,
                low_health_threshold=self.match_low_health_threshold,
                include_caution=self.match_include_caution,
            ),
            ask_expiry_hours=self.ask_expiry_hours,
            not_now_snooze_days=self.not_now_snooze_days,
            require_approval=self.require_approval,
            readiness=ReadinessPolicy(
                min_health_score=self.nominate_min_health_score,
                min_nps=self.nominate_min_nps,
                renewal_caution_days=self.nominate_renewal_caution_days,
                account_max_per_90_days=self.nominate_account_max_per_90_days,
                min_tenure_days=self.nominate_min_tenure_days,
            ),
            join_url=self.join_url,
            show_prospect_name=self.show_prospect_name,
            default_hours=self.program_default_hours,
            currency=self.program_currency,
            points=(
                ("call", self.points_call),
                ("video_call", self.points_video_call),
                ("email", self.points_email),
                ("site_visit", self.points_site_visit),
                ("speaking", self.points_speaking),
                ("case_study", self.points_case_study),
            ),
            jobs=self.jobs_policy(),
        )


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one readable ``SettingsError``."""
    toml_path = os.environ.get(CONFIG_FILE_ENV)
    if toml_path and not Path(toml_path).is_file():
        raise SettingsError(f"{CONFIG_FILE_ENV}={toml_path}: no such file")
    try:
        return Settings(**overrides)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"])
            message = problem["msg"].removeprefix("Value error, ")
            if not name:  # a rule across several settings; the message names them
                lines.append(f"settings: {message}")
            elif any(word in name for word in ("token", "secret", "password")):
                lines.append(f"setting {name.upper()}: {message}")  # never echo a secret
            else:
                got = mask_url(repr(problem.get("input")))  # a URL's password stays hidden
                lines.append(f"setting {name.upper()}: {message} (got {got})")
        raise SettingsError("\n".join(lines)) from None
    except ValueError as error:  # e.g. a TOML file that does not parse
        raise SettingsError(f"{CONFIG_FILE_ENV}={toml_path}: {mask_url(str(error))}") from None

"""The program's tunable rules, as plain values. Built from settings by ``bot.config``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from bot.domain.nomination import ReadinessPolicy


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    """Burnout limits (docs/product.md, "Burnout limits")."""

    max_per_90_days: int = 3
    max_per_365_days: int = 8
    cooldown_days: int = 14
    max_open_asks: int = 2
    decline_streak: int = 2  # this many declines in a row ...
    decline_snooze_days: int = 30  # ... snooze the advocate this long


@dataclass(frozen=True, slots=True)
class MatchWeights:
    """How much each kind of fit adds to an advocate's score (0 turns a factor off)."""

    industry: float = 3.0
    products: float = 2.0  # per product in common, capped at ``max_overlap``
    use_cases: float = 1.5  # per use case in common, capped at ``max_overlap``
    region: float = 1.5
    company_size: float = 1.0  # same band; half for a neighbouring band
    language: float = 1.0
    fairness: float = 2.0  # least recently used first; unused in a year gets it all
    health: float = 1.0  # scaled by health score / 100
    max_overlap: int = 3


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    weights: MatchWeights = MatchWeights()
    top_n: int = 3
    renewal_caution_days: int = 60  # renewal this close → caution
    low_health_threshold: int = 50  # health below this → caution
    include_caution: bool = False  # caution advocates are excluded unless this is set


DEFAULT_TIERS: tuple[tuple[str, int], ...] = (("bronze", 0), ("silver", 50), ("gold", 150))


@dataclass(frozen=True, slots=True)
class JobsPolicy:
    """The scheduled work (docs/product.md, "Scheduled messages"): when it runs and its numbers.

    Times are wall-clock times in the program's time zone. ``*_grace_hours`` is how late a
    missed run (the bot was down) is still caught up when the bot comes back.
    """

    digest_weekday: int = 0  # Monday
    digest_time: time = time(9, 0)
    digest_grace_hours: int = 24
    checkin_time: time = time(9, 0)
    checkin_grace_hours: int = 7 * 24
    checkin_reminder_days: int = 14
    holidays: tuple[date, ...] = ()
    program_channel: str = ""  # Slack channel id for recognition posts; "" = none
    milestones: tuple[int, ...] = (1, 5, 10, 25)
    top_advocates: int = 5
    recognition_grace_days: int = 7  # completed engagements this recent are recognised
    request_sla_hours: int = 72  # a request without an accepted advocate after this waits
    needed_by_warning_hours: int = 48  # nudge rep and PM this close to needed_by
    ask_reminder_hours: int = 12  # remind an advocate this long before their ask expires
    idle_days: int = 90
    tiers: tuple[tuple[str, int], ...] = field(default=DEFAULT_TIERS)


@dataclass(frozen=True, slots=True)
class ProgramPolicy:
    limits: LimitPolicy = LimitPolicy()
    matching: MatchPolicy = MatchPolicy()
    ask_expiry_hours: int = 48
    not_now_snooze_days: int = 14
    require_approval: bool = False
    readiness: ReadinessPolicy = field(default_factory=ReadinessPolicy)  # for nominations
    join_url: str = ""  # where a contact the bot cannot reach joins (settings JOIN_URL)
    show_prospect_name: bool = False
    # When an advocate takes calls unless their own hours say (``bot.domain.hours``); ""
    # is any time. The product's default, Mon-Fri 09:00-18:00, comes from the settings.
    default_hours: str = ""
    currency: str = "USD"  # ISO 4217: what outcome amounts and the report's money are in
    points: tuple[tuple[str, int], ...] = (
        ("call", 10),
        ("video_call", 10),
        ("email", 5),
        ("site_visit", 25),
        ("speaking", 30),
        ("case_study", 40),
    )
    jobs: JobsPolicy = JobsPolicy()

    def points_for(self, reference_type: str) -> int:
        return dict(self.points).get(reference_type, 0)

"""The sections of config.yaml, one model each: metrics, schedule, channels, files, problems, …

`bot/config.py` joins them into `Settings` and loads the file; a new key goes into its section here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.phones import PhoneError, normalize_phone


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metric(_Strict):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    hi: str
    en: str
    synonyms: list[str] = []
    max_per_day: Annotated[int, Field(gt=0)]

    def label(self, language: str) -> str:
        return self.hi if language == "hi" else self.en


class Campaign(_Strict):
    name: str = "Ayushman card campaign"
    start: dt.date | None = None
    end: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Campaign:
        if self.start and self.end and self.end < self.start:
            raise ValueError("end is before start")
        return self


class Reporting(_Strict):
    backdate_days: Annotated[int, Field(ge=0, le=31)] = 2
    max_message_chars: Annotated[int, Field(ge=50, le=10000)] = 1000


class Reading(_Strict):
    """Words the report parser knows besides the metric names; a state adds its own words here."""

    extra_words: list[str] = []  # carry no value: regional verbs and counting words (8 गो फॉर्म भरल)
    not_value_before: list[str] = []  # a number right after one of these is not a count: वार्ड 5
    not_value_after: list[str] = []  # ... or right before one of these: 10 बजे, 3 घंटे, 5 दिसंबर
    range_words: list[str] = []  # 10 से 5 तक: a number joined by one of these to a non-value is one too
    zero_words: list[str] = []  # with a negation, zero: कार्ड एक भी नहीं, कोई कार्ड नहीं बना
    question_words: list[str] = []  # a message with one of these asks something; it is never a report
    common_words: list[str] = []  # never read as a misspelt metric name (कार्य is not कार्ड)
    endings: list[str] = []  # plural and oblique endings dropped to find a name: वृद्धों -> वृद्ध


class Floods(_Strict):
    """The per-sender flood limit, counted in the database so every process shares it."""

    messages_per_minute: Annotated[int, Field(ge=1, le=1000)] = 30


class FieldHours(_Strict):
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(18, 0)


class Target(_Strict):
    daily: Annotated[int, Field(ge=0)] | None = None
    campaign_total: Annotated[int, Field(ge=0)] | None = None


class Schedule(_Strict):
    """When the scheduler speaks; a job set to null is off."""

    start_message: dt.time | None = dt.time(9, 0)
    reminder: dt.time | None = dt.time(17, 0)
    supervisor_digest: dt.time | None = dt.time(18, 30)
    bmo_digest: dt.time | None = dt.time(19, 0)
    district_digest: dt.time | None = dt.time(20, 0)
    problem_notice: dt.time | None = dt.time(17, 30)
    misfire_grace_minutes: Annotated[int, Field(ge=1, le=720)] = 30


class Sending(_Strict):
    """Channel limits the outbox sender keeps to."""

    telegram_per_second: Annotated[float, Field(gt=0, le=30)] = 30
    telegram_chat_interval_seconds: Annotated[float, Field(ge=0)] = 1
    telegram_group_per_minute: Annotated[int, Field(gt=0, le=20)] = 20
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    whatsapp_per_second: Annotated[float, Field(gt=0, le=80)] = 20
    # Messages of one lane (one bot) awaiting the provider's answer at once. 1: only the message in
    # flight can go twice after a crash; more keeps a lane at its limit when the Bot API is far
    # (a round trip over 30 ms), and up to that many can then go twice.
    in_flight_per_lane: Annotated[int, Field(ge=1, le=16)] = 1


class TelegramBot(_Strict):
    """One Telegram bot of several (one per district or division), its token in the environment."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")]
    token_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")]
    webhook_secret_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")] | None = None
    # Its @username, named to people who write to another district's bot; else what getMe says.
    username: Annotated[str, Field(pattern=r"^@?[A-Za-z0-9_]{5,32}$")] | None = None
    districts: Annotated[list[str], Field(min_length=1)]
    allow_paid_broadcast: bool = False


class Telegram(_Strict):
    """Telegram bots: by default the one bot of TELEGRAM_BOT_TOKEN serves everyone."""

    bots: list[TelegramBot] = []
    # The one bot's @username (without `bots`), for texts that name it.
    username: Annotated[str, Field(pattern=r"^@?[A-Za-z0-9_]{5,32}$")] | None = None
    # Telegram's paid broadcasts (Stars per message past 30 a second): off unless chosen.
    allow_paid_broadcast: bool = False
    paid_per_second: Annotated[float, Field(gt=30, le=1000)] = 1000

    @model_validator(mode="after")
    def _distinct(self) -> Telegram:
        names = [bot.name for bot in self.bots]
        if len(set(names)) != len(names):
            raise ValueError("bots: a bot name appears twice")
        seen: dict[str, str] = {}
        for bot in self.bots:
            for district in bot.districts:
                key = district.strip().casefold()
                if key in seen:
                    raise ValueError(
                        f"bots: district {district!r} is served by both {seen[key]} and {bot.name}"
                    )
                seen[key] = bot.name
        return self


class Presence(_Strict):
    """Field-presence proofs: how a photo and a location pair up, and what they are checked against."""

    pair_minutes: Annotated[int, Field(ge=1, le=120)] = 10
    radius_m: Annotated[float, Field(gt=0)] = 2000
    max_accuracy_m: Annotated[float, Field(gt=0)] = 100
    # A location without accuracy was picked on a map (every WhatsApp pin): it proves nothing.
    flag_no_accuracy: bool = True
    reuse_max_bits: Annotated[int, Field(ge=0, le=32)] = 10
    exif_max_distance_m: Annotated[float, Field(gt=0)] = 500
    exif_max_minutes: Annotated[int, Field(ge=1)] = 30
    max_photo_mb: Annotated[float, Field(gt=0, le=50)] = 10
    max_photo_megapixels: Annotated[float, Field(gt=0, le=200)] = 40
    photo_dir: str = "data/photos"


ContentSid = Annotated[str, Field(pattern=r"^HX[0-9a-fA-F]{32}$")]
# What a template variable may be filled with: the person's name, the message's day, the worker's
# daily target, or the whole message made one line (WhatsApp refuses line breaks in variables).
TemplateValue = Literal["name", "date", "target", "text"]


class WhatsAppTemplate(_Strict):
    """An approved WhatsApp template (Twilio Content) for one scheduled job."""

    content_sid: ContentSid | None = None
    content_sid_en: ContentSid | None = None  # its English twin; people with `en` get it when set
    variables: dict[str, TemplateValue] = {}

    @field_validator("variables")
    @classmethod
    def _numbered(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not key.isdigit() or int(key) < 1:
                raise ValueError(f"variable {key!r}: template variables are numbered 1, 2, 3...")
        return value


class WhatsAppTemplates(_Strict):
    start_message: WhatsAppTemplate = WhatsAppTemplate()
    reminder: WhatsAppTemplate = WhatsAppTemplate()
    supervisor_digest: WhatsAppTemplate = WhatsAppTemplate()
    bmo_digest: WhatsAppTemplate = WhatsAppTemplate()
    district_digest: WhatsAppTemplate = WhatsAppTemplate()
    # Not needed to start: without one, such a message outside the window is marked failed.
    problem_notice: WhatsAppTemplate = WhatsAppTemplate()
    problem_resolved: WhatsAppTemplate = WhatsAppTemplate()
    # Notices that may reach a worker outside the 24-hour window; without a template such a
    # notice is marked failed with the reason, and nothing else waits on it.
    reported_for_you: WhatsAppTemplate = WhatsAppTemplate()
    leave_for_you: WhatsAppTemplate = WhatsAppTemplate()


class WhatsApp(_Strict):
    """WhatsApp through Twilio; on when the TWILIO_* variables are set."""

    media_link_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    templates: WhatsAppTemplates = WhatsAppTemplates()
    # Meta's messaging limit for the business: people it may start conversations with (templates
    # outside the 24-hour window) in a rolling 24 hours, across all its numbers; null: not kept.
    messaging_limit: Annotated[int, Field(ge=1)] | None = None

    def template(self, job: str) -> WhatsAppTemplate | None:
        found = getattr(self.templates, job, None)
        return found if isinstance(found, WhatsAppTemplate) else None


class Retention(_Strict):
    retain_days: Annotated[int, Field(ge=1, le=3650)]


class Privacy(_Strict):
    """Who a worker asks to see or erase what is held about her; shown in /privacy."""

    contact: str = "your supervisor or the district programme management unit (DPMU)"
    contact_hi: str = "अपने सुपरवाइज़र या ज़िला कार्यक्रम प्रबंधन इकाई (DPMU)"


_IGNORED_IN_KEYS = re.compile(r"[\s./_\-:()]")


def header_key(text: str) -> str:
    """A header or role as compared with the alias table: case, spacing, dots and `/` ignored."""
    return _IGNORED_IN_KEYS.sub("", unicodedata.normalize("NFC", text).casefold().lstrip("\ufeff"))


# Every column a roster or villages file may have, by its own name.
FILE_COLUMNS = (
    "name",
    "phone",
    "role",
    "district",
    "block",
    "sector",
    "village",
    "lat",
    "lon",
    "language",
    "worker_id",
    "alt_phones",
    "active",
    "whatsapp_opt_in",
    "villages",
    "district_lgd",
    "block_lgd",
    "village_lgd",
)
ROLES = ("asha", "anm", "supervisor", "bmo", "district_officer", "admin")


class RosterAliases(_Strict):
    """The headers and role values districts write, each mapped to the roster's own name.

    A column's or role's own name always works; these lists add to it."""

    columns: dict[str, list[str]] = {}
    roles: dict[str, list[str]] = {}

    @model_validator(mode="after")
    def _one_meaning(self) -> RosterAliases:
        for part, known in (("columns", FILE_COLUMNS), ("roles", ROLES)):
            table: dict[str, list[str]] = getattr(self, part)
            for name in table:
                if name not in known:
                    raise ValueError(f"{part}.{name}: not one of {', '.join(known)}")
            seen: dict[str, str] = {header_key(k): k for k in table}
            for name, aliases in table.items():
                for alias in aliases:
                    other = seen.setdefault(header_key(alias), name)
                    if other != name:
                        raise ValueError(f"{part}.{name}: {alias!r} already means {other}")
        return self

    def column_map(self) -> dict[str, str]:
        """Every written form of a column (as header_key gives it) -> the column's own name."""
        found = {header_key(c): c for c in FILE_COLUMNS}
        found.update({header_key(a): n for n, aliases in self.columns.items() for a in aliases})
        return found

    def role_map(self) -> dict[str, str]:
        """Every written form of a role -> the role."""
        found = {header_key(r): r for r in ROLES}
        found.update({header_key(a): n for n, aliases in self.roles.items() for a in aliases})
        return found


class Official(_Strict):
    """The official portal's counts (`fieldbot official import`): how a portal report is read."""

    # A wide report's columns (any case and spacing) and the metric each one counts.
    columns: dict[str, str] = {
        "cards approved": "cards",
        "cards generated": "cards",
        "ayushman cards": "cards",
        "कार्ड जारी": "cards",
        "beneficiaries verified": "applications",
        "applications": "applications",
        "आवेदन": "applications",
    }
    district_columns: list[str] = ["district", "district name", "जिला", "जनपद"]
    block_columns: list[str] = ["block", "block name", "ब्लॉक", "प्रखंड", "विकासखंड"]
    date_columns: list[str] = ["date", "report date", "as on", "दिनांक", "तारीख"]
    cumulative: bool = False  # values are to date: the day's count is the difference from the day before
    # Other spellings of district and block names (Hindi, old names) and the roster name they mean.
    aliases: dict[str, str] = {}
    # The district digest flags blocks whose self-reported count over the last 7 days exceeds the
    # portal's by more than this share of the portal's.
    gap_share: Annotated[float, Field(ge=0)] = 0.1
    max_file_mb: Annotated[float, Field(gt=0, le=50)] = 5  # a file sent in chat, larger is refused


class Simulator(_Strict):
    """The chat simulator in `run` (always on in `demo`); when on, it needs its token."""

    enabled: bool = False


class Http(_Strict):
    """Limits on every HTTP request: bodies are counted as they arrive and refused past their cap."""

    # Telegram opens up to 100 webhook connections at once; over this many requests, 503.
    max_concurrent_requests: Annotated[int, Field(ge=1, le=100_000)] = 256
    twilio_form_kb: Annotated[int, Field(ge=1, le=1024)] = 64  # photos come by URL
    telegram_update_kb: Annotated[int, Field(ge=16, le=16 * 1024)] = 1024
    # A photo uploaded from the page, as base64 in JSON: presence.max_photo_mb and a third more.
    simulator_mb: Annotated[float, Field(gt=0, le=100)] = 15
    other_kb: Annotated[int, Field(ge=1, le=1024)] = 64


class Dashboard(_Strict):
    """The officers' dashboard: one-use sign-in links from `/web`, sessions, the map's tiles."""

    link_minutes: Annotated[int, Field(ge=1, le=60)] = 10
    links_per_hour: Annotated[int, Field(ge=1, le=100)] = 5
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 12
    # Map tiles ({z}/{x}/{y}); empty: no tiles, the proofs still show as points on a blank map.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"


class ProblemNotify(_Strict):
    """Who hears of a problem code's new reports, once a day (schedule.problem_notice)."""

    # Officers of these roles whose units hold the place of the problem.
    roles: list[Literal["supervisor", "bmo", "district_officer", "admin"]] = []
    phones: list[str] = []  # these numbers hear of every district's
    district_phones: dict[str, list[str]] = {}  # these of one district's only, by district name

    @field_validator("phones")
    @classmethod
    def _mobiles(cls, value: list[str]) -> list[str]:
        return [_mobile(phone) for phone in value]

    @field_validator("district_phones")
    @classmethod
    def _district_mobiles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {name: [_mobile(phone) for phone in phones] for name, phones in value.items()}


def _mobile(value: str) -> str:
    try:
        return normalize_phone(value)
    except PhoneError:
        raise ValueError(f"{value!r} is not a mobile number") from None


class ProblemCode(_Strict):
    """One kind of problem a worker reports: its labels and the words that name it in a message."""

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    hi: str
    en: str
    words: list[str] = []
    notify: ProblemNotify = ProblemNotify()

    def label(self, language: str) -> str:
        return self.hi if language == "hi" else self.en


OTHER_PROBLEM = "other"


def _default_problem_codes() -> list[ProblemCode]:
    codes = [
        ("operator_id_inactive", "ऑपरेटर आईडी बंद", "Operator ID inactive",
         ["ऑपरेटर आईडी", "ऑपरेटर", "operator id", "operator", "आईडी बंद", "id band", "id inactive",
          "id block", "आईडी ब्लॉक", "लॉगिन नहीं", "login nahi", "login"]),
        ("server_down", "सर्वर डाउन", "Server down",
         ["सर्वर", "server", "पोर्टल बंद", "portal down", "portal band", "साइट नहीं चल", "site down",
          "वेबसाइट", "website", "app nahi chal", "ऐप नहीं चल"]),
        ("samagra_mismatch", "समग्र डेटा मेल नहीं", "Samagra data mismatch",
         ["समग्र", "samagra", "samgra", "family id", "फैमिली आईडी", "परिवार आईडी"]),
        ("aadhaar_mismatch", "आधार मेल नहीं", "Aadhaar mismatch",
         ["आधार", "aadhaar", "aadhar", "adhar", "ekyc", "e-kyc", "केवाईसी", "kyc", "otp", "ओटीपी"]),
        ("no_network", "नेटवर्क नहीं", "No network",
         ["नेटवर्क", "network", "नेट नहीं", "net nahi", "सिग्नल", "signal", "इंटरनेट", "internet"]),
        ("beneficiaries_away", "लाभार्थी घर पर नहीं", "Beneficiaries away",
         ["लाभार्थी", "beneficiary", "beneficiaries", "घर पर नहीं", "not at home", "away",
          "बाहर गए", "बाहर गये", "पलायन", "migrated"]),
        (OTHER_PROBLEM, "अन्य", "Other", []),
    ]  # fmt: skip
    return [ProblemCode(key=key, hi=hi, en=en, words=words) for key, hi, en, words in codes]


class Problems(_Strict):
    """Problems workers report (`/samasya`): the codes, and when an open one is escalated."""

    codes: Annotated[list[ProblemCode], Field(min_length=1)] = Field(
        default_factory=_default_problem_codes
    )
    escalate_after_days: Annotated[int, Field(ge=1, le=60)] = 3  # then in the BMO's digest
    escalate_to_district_after_days: Annotated[int, Field(ge=1, le=120)] = 7

    @model_validator(mode="after")
    def _codes(self) -> Problems:
        keys = [c.key for c in self.codes]
        if len(set(keys)) != len(keys):
            raise ValueError("codes: a problem code appears twice")
        if OTHER_PROBLEM not in keys:
            raise ValueError(f"codes: {OTHER_PROBLEM!r} is needed, for problems no code names")
        if self.escalate_to_district_after_days < self.escalate_after_days:
            raise ValueError("escalate_to_district_after_days is shorter than escalate_after_days")
        return self

    def code(self, key: str) -> ProblemCode:
        for code in self.codes:
            if code.key == key:
                return code
        return self.code(OTHER_PROBLEM)  # a code since taken out of the config


class HolidayEntry(_Strict):
    """A holiday: for the whole state, or one district, or one block of a district."""

    date: dt.date
    name: Annotated[str, Field(min_length=1)]
    district: str | None = None
    block: str | None = None

    @model_validator(mode="after")
    def _block_needs_district(self) -> HolidayEntry:
        if self.block and not self.district:
            raise ValueError("a block's holiday names its district too")
        return self


class LeaveRules(_Strict):
    """How far leave (`छुट्टी`) may reach."""

    max_days: Annotated[int, Field(ge=1, le=366)] = 31  # the longest leave entered at once
    ahead_days: Annotated[int, Field(ge=0, le=366)] = 90  # how far ahead it may start


class Checks(_Strict):
    """Reports stored but to be double-checked: far above her own usual, or impossible together."""

    usual_factor: Annotated[float, Field(gt=1)] = 3  # above this many times her median...
    usual_days: Annotated[int, Field(ge=3, le=60)] = 14  # ...of her last this many reported days
    usual_min_days: Annotated[int, Field(ge=1, le=60)] = 5  # once she has at least this many
    usual_min_value: Annotated[int, Field(ge=0)] = 10  # and the value is above this
    # metric -> the metric it cannot exceed on the same day (cards: applications); empty: no check
    not_above: dict[str, str] = {}


class Questions(_Strict):
    """What the bot waits for a person to answer (its ask-back, menus): how long it waits."""

    ttl_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 120


class Demo(_Strict):
    roster: str = "examples/sample_district.csv"


class Uploads(_Strict):
    """A roster, villages or targets file sent in chat: kept until the officer presses import."""

    # Files waiting for the import button, each readable by this service alone (0600); on two
    # machines, a folder both see (as presence.photo_dir).
    dir: str = "data/uploads"
    max_problems_shown: Annotated[int, Field(ge=1, le=100)] = 20  # the rest come as a file

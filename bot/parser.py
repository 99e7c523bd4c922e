"""Read a daily report, a query or a command from one free-text chat message.

The parser never raises on user text: whatever it cannot read becomes `Unreadable` with a reason,
which the reply turns into a short example of the format.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.numbers import DEVANAGARI_DIGITS, NUMBER_WORDS, match_key

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

COMMAND_WORDS: dict[str, str] = {
    "status": "status",
    "स्थिति": "status",
    "स्तिथि": "status",
    "sthiti": "status",
    "stithi": "status",
    "स्टेटस": "status",
    "missing": "missing",
    "बाकी": "missing",
    "बाक़ी": "missing",
    "baki": "missing",
    "baaki": "missing",
    "pending": "missing",
    "top": "top",
    "rank": "top",
    "ranking": "top",
    "रैंक": "top",
    "रैंकिंग": "top",
    "टॉप": "top",
    "help": "help",
    "मदद": "help",
    "सहायता": "help",
    "madad": "help",
    "?": "help",
    "undo": "undo",
    "वापस": "undo",
    "अनडू": "undo",
    "wapas": "undo",
    "lang": "lang",
    "language": "lang",
    "भाषा": "lang",
    "bhasha": "lang",
    "export": "export",
    "एक्सपोर्ट": "export",
    "start": "start",
    "photos": "photos",
    "फोटो": "photos",
    "फ़ोटो": "photos",
    "photo": "photos",
    "privacy": "privacy",
    "गोपनीयता": "privacy",
    "web": "web",
    "dashboard": "web",
    "डैशबोर्ड": "web",
}
COMMAND_WORDS = {match_key(k): v for k, v in COMMAND_WORDS.items()}

# Words that say "yesterday" / "the day before"; in a report कल can only mean the past.
DAY_WORDS = {
    "कल": 1,
    "kal": 1,
    "kall": 1,
    "yesterday": 1,
    "ystrdy": 1,
    "yday": 1,
    "परसों": 2,
    "parso": 2,
    "parson": 2,
}
DAY_WORDS = {match_key(k): v for k, v in DAY_WORDS.items()}

# Words that carry no value in a report: "आज 25 कार्ड बने", "today I made 20 cards".
FILLER_WORDS = {
    match_key(w)
    for w in """
    आज aaj aj today tdy के का की को में ने से है हैं था थे हुआ हुए हुये हुई बने बना बनी बनाए बनाये
    बनवाए बनवाये किए किये किया गए गये गई दर्ज कुल total tot my mera meri मेरा मेरी मैंने maine
    i we hamne हमने made make done complete completed kiye kiya bane banaye hue hua hain hai
    number no nos num संख्या sankhya रिपोर्ट report rpt daily dainik दैनिक update अपडेट
    today's todays hi hello namaste नमस्ते नमस्कार ji जी sir madam मैडम सर please plz pls kripya
    कृपया से ka ki ke ko me mein se of for in the a an is are was were have has got
    new नए नये naye total: भेजे bheje send sent
    """.split()
}

# "कार्ड 20 नहीं बने" must not be read as 20 cards.
NEGATION_WORDS = {match_key(w) for w in ("नहीं", "नही", "ना", "मत", "nahi", "nahin", "nhi", "not")}

SEPARATOR_WORDS = {match_key(w) for w in ("और", "aur", "or", "and", "&", "तथा", "एवं")}
DATE_LEAD_WORDS = {match_key(w) for w in ("दिनांक", "तारीख", "तिथि", "date", "dt", "dated")}

_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2}|\d{4}))?(?!\d)")
_SLASH_DATE = re.compile(r"(?<!\d)\d{1,2}/\d{1,2}(?:/(?:\d{4}|\d{2}))?(?!\d)")
_DECIMAL = re.compile(r"\d+[.,]\d+")
_TOKEN = re.compile(
    r"""
    (?P<sep>[,;|।॥\n])
  | (?P<neg>(?<![^\s,;:(])-\s?\d+)
  | (?P<num>\+?\s?\d+\+?)
  | (?P<word>[^\s\d,;|।॥:=+\-–—()\[\]{}<>"'“”‘’!?.*#/\\]+|[?])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Entry:
    """One metric's value in a report; `add` means `+5`: add to what is there."""

    metric: str
    value: int
    add: bool = False


@dataclass(frozen=True)
class DayRef:
    """Which day a report is for: `days_back` (0 today, 1 कल) or an explicit day/month[/year]."""

    days_back: int = 0
    day: int | None = None
    month: int | None = None
    year: int | None = None


@dataclass(frozen=True)
class Report:
    entries: tuple[Entry, ...]
    when: DayRef = DayRef()


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unreadable:
    """Not a report or command. `reason` is a code the reply explains; `detail` names the culprit."""

    reason: str
    detail: str = ""


Parsed = Report | Command | Unreadable


@dataclass(frozen=True)
class _Item:
    kind: str  # "metric" | "number" | "sep"
    metric: str = ""
    value: int = 0
    add: bool = False
    text: str = ""


def normalize(text: str) -> str:
    """NFC, zero-width characters dropped, Devanagari digits as ASCII, one kind of space."""
    text = unicodedata.normalize("NFC", text).translate(ZERO_WIDTH).translate(DEVANAGARI_DIGITS)
    return re.sub(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u3000]+", " ", text).strip()


class ReportParser:
    """Parses messages against the configured metrics and their synonyms."""

    def __init__(self, metrics: Sequence[tuple[str, Iterable[str]]]):
        """`metrics`: (key, names) in the configured order; names are every way to write it."""
        self._remembered = functools.lru_cache(maxsize=4096)(self._parse_safely)
        self.order = [key for key, _ in metrics]
        phrases: dict[tuple[str, ...], str] = {}
        for key, names in metrics:
            for name in (key, *names):
                tokens = tuple(self._words(name))
                if tokens:
                    phrases.setdefault(tokens, key)
        self._phrases = phrases
        self._longest = max((len(p) for p in phrases), default=1)

    @staticmethod
    def _words(text: str) -> list[str]:
        """Tokens of a metric name, written the same way message tokens are."""
        norm = normalize(text)
        return [match_key(m.group().replace(" ", "")) for m in _TOKEN.finditer(norm)]

    def parse(self, text: str | None) -> Parsed:
        """Read one message. Never raises.

        The results are immutable and the same for the same text, so the latest few thousand are
        kept: a message is read when it arrives and again where it is stored.
        """
        return self._remembered(text or "")

    def _parse_safely(self, text: str) -> Parsed:
        try:
            return self._parse(text)
        except Exception:  # noqa: BLE001 - user text must never crash the bot
            return Unreadable("not_understood")

    def _parse(self, raw: str) -> Parsed:
        text = normalize(raw)
        if not text:
            return Unreadable("empty")
        if text.startswith("/"):
            head, *rest = text[1:].split()
            name = head.split("@", 1)[0].casefold() if head else ""
            return Command(COMMAND_WORDS.get(match_key(name), name), tuple(rest))
        first, *rest_words = text.split()
        command = COMMAND_WORDS.get(match_key(first.rstrip(":")))
        if command and not any(ch.isdigit() for ch in text):
            return Command(command, tuple(rest_words))

        when, text = self._leading_date(text)
        if isinstance(when, Unreadable):
            return when
        elsewhere = _SLASH_DATE.search(text)
        if elsewhere:
            # A date later in the message ("कार्ड 5 21/11") counts, once.
            if when != DayRef():
                return Unreadable("bad_date", elsewhere.group())
            when, _ = self._leading_date(elsewhere.group())
            if isinstance(when, Unreadable):
                return when
            text = text[: elsewhere.start()] + " " + text[elsewhere.end() :]
        if _DECIMAL.search(text):
            return Unreadable("decimal", _DECIMAL.search(text).group())  # type: ignore[union-attr]

        items, unknown, day_words = self._items(text)
        if isinstance(items, Unreadable):
            return items
        if day_words:
            if when != DayRef() or len(set(day_words)) > 1:
                return Unreadable("bad_date")
            when = DayRef(days_back=day_words[0])

        numbers = [i for i in items if i.kind == "number"]
        metrics = [i for i in items if i.kind == "metric"]
        if not numbers:
            return Unreadable("no_numbers" if metrics else "not_understood")
        if not metrics:
            if unknown:
                return Unreadable("not_understood")
            return self._bare(numbers, when)
        entries = self._pair(items)
        if isinstance(entries, Unreadable):
            return entries
        seen: set[str] = set()
        for entry in entries:
            if entry.metric in seen:
                return Unreadable("duplicate_metric", entry.metric)
            seen.add(entry.metric)
        return Report(tuple(entries), when)

    @staticmethod
    def _leading_date(text: str) -> tuple[DayRef | Unreadable, str]:
        words = text.split(" ", 1)
        if match_key(words[0].rstrip(":")) in DATE_LEAD_WORDS:
            text = words[1] if len(words) > 1 else ""
        match = _DATE.match(text)
        if not match:
            return DayRef(), text
        day, month = int(match.group(1)), int(match.group(2))
        year = match.group(3)
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return Unreadable("bad_date", match.group()), text
        full_year = None
        if year is not None:
            full_year = int(year) + (2000 if len(year) == 2 else 0)
        rest = text[match.end() :].lstrip(" :-,")
        if rest.startswith("को "):
            rest = rest[3:]
        return DayRef(day=day, month=month, year=full_year), rest

    def _items(self, text: str) -> tuple[list[_Item] | Unreadable, list[str], list[int]]:
        tokens: list[tuple[str, str]] = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup or "word"
            value = m.group()
            if kind == "neg":
                return Unreadable("negative", value.replace(" ", "")), [], []
            tokens.append((kind, value.replace(" ", "") if kind == "num" else value))

        items: list[_Item] = []
        unknown: list[str] = []
        day_words: list[int] = []
        keys = [match_key(value) for _, value in tokens]
        i = 0
        while i < len(tokens):
            kind, value = tokens[i]
            phrase = self._match_phrase(tokens, keys, i)
            if phrase:
                length, metric = phrase
                items.append(_Item("metric", metric=metric))
                i += length
                continue
            key = keys[i]
            if kind == "sep" or key in SEPARATOR_WORDS:
                items.append(_Item("sep"))
            elif kind == "num":
                add = value.startswith("+")
                digits = value.strip("+")
                if len(digits) > 7:
                    return Unreadable("too_big", digits), [], []
                items.append(_Item("number", value=int(digits), add=add, text=value))
            elif key in NUMBER_WORDS:
                number = NUMBER_WORDS[key]
                if number == 100 and items and items[-1].kind == "number" and items[-1].value == 1:
                    items.pop()  # "एक सौ"
                items.append(_Item("number", value=number, text=value))
            elif key in NEGATION_WORDS:
                return Unreadable("negation", value), [], []
            elif key in DAY_WORDS:
                day_words.append(DAY_WORDS[key])
            elif key in FILLER_WORDS or key in DATE_LEAD_WORDS:
                pass
            else:
                unknown.append(value)
            i += 1
        return items, unknown, day_words

    def _match_phrase(
        self, tokens: list[tuple[str, str]], keys: list[str], start: int
    ) -> tuple[int, str] | None:
        """The longest metric name starting at token `start`: (its length in tokens, the metric)."""
        for length in range(min(self._longest, len(tokens) - start), 0, -1):
            if any(kind == "sep" for kind, _ in tokens[start : start + length]):
                continue
            metric = self._phrases.get(tuple(keys[start : start + length]))
            if metric is not None:
                return length, metric
        return None

    @staticmethod
    def _pair(items: list[_Item]) -> list[Entry] | Unreadable:
        """Pair metric names with numbers, names first or numbers first, within each segment."""
        entries: list[Entry] = []
        segment: list[_Item] = []
        for item in [*items, _Item("sep")]:
            if item.kind != "sep":
                segment.append(item)
                continue
            if not segment:
                continue
            if len(segment) % 2:
                dangling = next((s for s in segment if s.kind == "number"), segment[0])
                return Unreadable("ambiguous", dangling.text or dangling.metric)
            first_kind = segment[0].kind
            for a, b in zip(segment[0::2], segment[1::2], strict=True):
                if a.kind != first_kind or b.kind == first_kind:
                    return Unreadable("ambiguous", b.text or b.metric)
                metric, number = (a, b) if a.kind == "metric" else (b, a)
                entries.append(Entry(metric.metric, number.value, number.add))
            segment = []
        return entries

    def _bare(self, numbers: list[_Item], when: DayRef) -> Parsed:
        if len(numbers) > len(self.order):
            return Unreadable("too_many_numbers", str(len(numbers)))
        entries = tuple(
            Entry(key, item.value, item.add) for key, item in zip(self.order, numbers, strict=False)
        )
        return Report(entries, when)

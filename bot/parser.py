"""Read a daily report, a query or a command from one free-text chat message.

The parser never raises on user text: whatever it cannot read becomes `Unreadable` with a reason,
which the reply turns into a short example of the format.

A reading is certain, or only likely: a `Report` whose `doubts` say why (bare numbers among other
words), or an `Unreadable` that carries the reading it would have been (`likely`: a misspelt name, a
number that may be paired with the wrong name) or the metrics a word could be (`options`), so that
the reply can ask back instead of guessing.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

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
    number no nos num नं नंबर नम्बर संख्या sankhya रिपोर्ट report rpt daily dainik दैनिक update अपडेट
    today's todays hi hello namaste नमस्ते नमस्कार ji जी sir madam मैडम सर please plz pls kripya
    कृपया से ka ki ke ko me mein se of for in the a an is are was were have has got
    new नए नये naye total: भेजे bheje send sent
    """.split()
}

# "कार्ड 20 नहीं बने" must not be read as 20 cards.
NEGATION_WORDS = {match_key(w) for w in ("नहीं", "नही", "ना", "मत", "nahi", "nahin", "nhi", "not")}

# "वार्ड नंबर 4": words between a place or id word and its number.
NUMBER_LEAD_WORDS = {match_key(w) for w in ("number", "no", "nos", "num", "नं", "नंबर", "नम्बर")}
SEPARATOR_WORDS = {match_key(w) for w in ("और", "aur", "or", "and", "&", "तथा", "एवं")}
DATE_LEAD_WORDS = {match_key(w) for w in ("दिनांक", "तारीख", "तिथि", "date", "dt", "dated")}

_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2}|\d{4}))?(?!\d)")
_SLASH_DATE = re.compile(r"(?<!\d)\d{1,2}/\d{1,2}(?:/(?:\d{4}|\d{2}))?(?!\d)")
_DECIMAL = re.compile(r"\d+[.,]\d+")
# Taken out before anything else is read: emoji, arrows and other pictures between words
# (`घर => 30`, `कार्ड ➡️ 20`, `👍`), and the numbers that are never counts: a clock time, a phone.
_NOT_COUNTS = re.compile(
    r"[\u2190-\u21ff\u2300-\u23ff\u2500-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff]"
    r"|(?<![\d.:])\d{1,2}:\d{2}(?![\d:])"
    r"|(?<![\d+])(?:\+?91[\s-]?|0)?[6-9]\d{4}[\s-]?\d{5}(?!\d)"
)
_CHARACTERS = {**ZERO_WIDTH, **DEVANAGARI_DIGITS, ord("−"): "-"}
# An ASCII minus is a sign only with a space (or the start) before it and a digit right after:
# `कार्ड -5` is refused as negative, while `फॉर्म - 16`, `कार्ड:- 12` and `आवेदन-25` are separators.
_TOKEN = re.compile(
    r"""
    (?P<sep>[,;|।॥\n])
  | (?P<neg>(?<![^\s,;(])-\d+)
  | (?P<num>\+?\s?\d+\+?)
  | (?P<word>[^\s\d,;|।॥:=+\-–—−()\[\]{}<>"'“”‘’!?.*#/\\]+|[?])
    """,
    re.VERBOSE,
)
_TENS_WORDS = {match_key(w) for w in ("twenty thirty forty fifty sixty seventy eighty ninety").split()}


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
class Doubt:
    """Why a reading is only likely.

    `kind`: "typo" (`word` was read as `metrics[0]`, a name it is one letter away from),
    "pairing" (the number `word` was paired with its neighbouring name, not by the message's own
    order), "bare_words" (numbers without names, in the configured order, among other words;
    `word` is the first of them).
    """

    kind: str
    word: str
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    entries: tuple[Entry, ...]
    when: DayRef = DayRef()
    doubts: tuple[Doubt, ...] = ()

    @property
    def certain(self) -> bool:
        return not self.doubts


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unreadable:
    """Not a report or command. `reason` is a code the reply explains; `detail` names the culprit.

    `detail` is the word as written: for "not_understood" the first word not understood (`भ्रमन`).
    `likely` is the reading that would be stored if the worker confirmed it; `options` the metrics a
    misspelt word could be. Neither is ever stored as it is.
    """

    reason: str
    detail: str = ""
    likely: Report | None = None
    options: tuple[str, ...] = ()


Parsed = Report | Command | Unreadable


@dataclass(frozen=True)
class Words:
    """The words of config `reading`: see config.yaml."""

    extra_words: tuple[str, ...] = ()
    not_value_before: tuple[str, ...] = ()
    not_value_after: tuple[str, ...] = ()
    range_words: tuple[str, ...] = ()
    zero_words: tuple[str, ...] = ()
    question_words: tuple[str, ...] = ()
    common_words: tuple[str, ...] = ()
    endings: tuple[str, ...] = ()


class _Token(NamedTuple):
    kind: str  # "sep" | "num" | "neg" | "word"
    text: str  # as written (digits without spaces)
    key: str  # the matching key: a metric name's token when the word is a form of one
    typo: bool = False  # the key was found one letter away
    options: tuple[str, ...] = ()  # a misspelling that could be any of these metrics


class _Item(NamedTuple):
    kind: str  # "metric" | "number" | "zero" | "neg" | "unclear" | "sep"
    metric: str = ""
    value: int = 0
    add: bool = False
    text: str = ""
    name: tuple[str, ...] = ()  # a metric's matched name, as tokens
    typo: str = ""  # a metric read from a misspelt word: that word
    options: tuple[str, ...] = ()


def normalize(text: str) -> str:
    """NFC, zero-width characters dropped, Devanagari digits as ASCII, one kind of space."""
    text = unicodedata.normalize("NFC", text).translate(_CHARACTERS)
    return re.sub(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u3000]+", " ", text).strip()


def loose(key: str) -> str:
    """A key with the spelling variants that never change a word folded: long and short i and u,
    ee/oo/w in Roman, and a letter or matra typed twice (`aavedan`, `आयूष्मान`, `कार्डड`)."""
    key = key.replace("ी", "ि").replace("ू", "ु").replace("ee", "i").replace("oo", "u")
    key = key.replace("w", "v")
    return re.sub(r"(.)\1+", r"\1", key)


def one_edit_apart(a: str, b: str) -> bool:
    """True when `a` becomes `b` by one letter added, dropped, changed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    if a[i + 1 :] == b[i + 1 :]:
        return True
    return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]


class ReportParser:
    """Parses messages against the configured metrics, their synonyms and the `reading` words."""

    def __init__(self, metrics: Sequence[tuple[str, Iterable[str]]], words: Words = Words()):
        """`metrics`: (key, names) in the configured order; names are every way to write it."""
        self._remembered = functools.lru_cache(maxsize=4096)(self._parse_safely)
        self._word = functools.lru_cache(maxsize=8192)(self._word_token)
        self.order = [key for key, _ in metrics]

        def keys(phrases: Iterable[str]) -> set[str]:
            return {match_key(w) for w in phrases}

        self._filler = FILLER_WORDS | keys(words.extra_words)
        self._before = keys(words.not_value_before)
        self._after = keys(words.not_value_after)
        self._range = keys(words.range_words)
        self._markers = self._before | self._after
        self._questions = keys(words.question_words)
        self._endings = sorted(keys(words.endings), key=len, reverse=True)
        self._zero = {tuple(self._words(w)) for w in words.zero_words} - {()}
        self._longest_zero = max((len(z) for z in self._zero), default=0)
        self._zero_starts = {z[0] for z in self._zero}

        phrases: dict[tuple[str, ...], str] = {}
        for key, names in metrics:
            for name in (key, *names):
                tokens = tuple(self._words(name))
                if tokens:
                    phrases.setdefault(tokens, key)
        self._phrases = phrases
        self._longest = max((len(p) for p in phrases), default=1)
        self._starts = {p[0] for p in phrases}
        # A longer name of one metric that ends in another's name: वय वंदना कार्ड ends in कार्ड.
        self._tails: dict[str, set[tuple[str, ...]]] = {}
        for phrase, key in phrases.items():
            for cut in range(1, len(phrase)):
                other = phrases.get(phrase[cut:])
                if other is not None and other != key:
                    self._tails.setdefault(key, set()).add(phrase[cut:])

        # Every word of every name, and which metrics a misspelling of it would mean.
        self._vocabulary: dict[str, tuple[str, ...]] = {}
        for phrase, key in phrases.items():
            for token in phrase:
                single = phrases.get((token,))
                known = self._vocabulary.get(token, ())
                meant = (single,) if single else tuple(dict.fromkeys((*known, key)))
                self._vocabulary[token] = meant
        self._reserved = (
            set(NUMBER_WORDS) | self._filler | NEGATION_WORDS | SEPARATOR_WORDS | set(DAY_WORDS)
            | DATE_LEAD_WORDS | self._before | self._after | self._range | self._questions
            | set(COMMAND_WORDS) | keys(words.common_words)
        )  # fmt: skip
        self._loose: dict[str, str | None] = {}
        for token in self._vocabulary:
            if len(token) >= 4:
                folded = loose(token)
                seen = self._loose.get(folded, token)
                same = seen is not None and self._vocabulary[seen] == self._vocabulary[token]
                self._loose[folded] = seen if same else None

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

    def _word_token(self, text: str) -> _Token:
        key, typo, options = self._canonical_key(match_key(text))
        return _Token("word", text, key, typo, options)

    def _canonical_key(self, key: str) -> tuple[str, bool, tuple[str, ...]]:
        """A word's key as the name token it is a form of: (key, misspelt?, metrics it could be).

        Exact names and every word with a meaning of its own are themselves; then a name with an
        ending (`वृद्धों`), a spelling variant (`kaard`), and, for words of five letters or more,
        a name one letter away — when only one metric is that close.
        """
        if key in self._vocabulary or key in self._reserved:
            return key, False, ()
        for ending in self._endings:
            stem = key[: -len(ending)]
            if key.endswith(ending) and len(stem) >= 2 and stem in self._vocabulary:
                return stem, False, ()
        if len(key) >= 4:
            found = self._loose.get(loose(key))
            if found:
                return found, False, ()
        if len(key) < 5:
            return key, False, ()
        near = [t for t in self._vocabulary if len(t) >= 5 and one_edit_apart(key, t)]
        meant = tuple(dict.fromkeys(m for t in near for m in self._vocabulary[t]))
        if len(meant) == 1:
            return near[0], True, ()
        return key, False, meant

    def _parse(self, raw: str) -> Parsed:
        text = normalize(_NOT_COUNTS.sub(" ", raw))
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
            head = text[: elsewhere.start()].rstrip(" :-,")
            lead = head.rsplit(" ", 1)
            if match_key(lead[-1]) in DATE_LEAD_WORDS:  # `कार्ड 5 तारीख 22/11`: the word goes too
                head = lead[0] if len(lead) > 1 else ""
            text = head + " " + text[elsewhere.end() :]
        if _DECIMAL.search(text):
            return Unreadable("decimal", _DECIMAL.search(text).group())  # type: ignore[union-attr]

        read = self._items(text)
        if isinstance(read, Unreadable):
            return read
        items, unknown, day_words, wordy = read
        if day_words:
            if when != DayRef() or len(set(day_words)) > 1:
                return Unreadable("bad_date")
            when = DayRef(days_back=day_words[0])

        numbers = [i for i in items if i.kind == "number"]
        metrics = [i for i in items if i.kind == "metric"]
        unclear = next((i for i in items if i.kind == "unclear"), None)
        if unclear and numbers:
            return Unreadable("not_understood", unclear.text, options=unclear.options)
        if not metrics:
            negation = next((i for i in items if i.kind == "neg"), None)
            if negation is not None and numbers:
                return Unreadable("negation", negation.text)
            if not numbers:
                return Unreadable("not_understood", unknown[0] if unknown else "")
            return self._bare(numbers, when, unknown, wordy)
        if not numbers and not any(i.kind == "neg" for i in items):
            return Unreadable("no_numbers")
        paired = self._pair(items)
        if isinstance(paired, Unreadable):
            return paired
        entries, pairing = paired
        if not entries:
            return Unreadable("no_numbers")
        seen: set[str] = set()
        for entry in entries:
            if entry.metric in seen:
                return Unreadable("duplicate_metric", entry.metric)
            seen.add(entry.metric)
        typos = tuple(dict.fromkeys(Doubt("typo", i.typo, (i.metric,)) for i in metrics if i.typo))
        report = Report(tuple(entries), when, (*typos, *pairing))
        if pairing:
            return Unreadable("ambiguous", pairing[0].word, likely=report)
        if typos:
            return Unreadable("not_understood", typos[0].word, likely=report)
        return report

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

    def _tokens(self, text: str) -> tuple[list[_Token], bool] | Unreadable:
        """The message's tokens, and whether any marks a number as not a count."""
        tokens: list[_Token] = []
        marked = False
        markers = self._markers
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup or "word"
            value = m.group()
            if kind == "word":
                token = self._word(value)
                if token.key in self._questions or value == "?":
                    return Unreadable("not_understood", value)
                marked = marked or token.key in markers
                tokens.append(token)
            elif kind == "num":
                value = value.replace(" ", "")
                tokens.append(_Token(kind, value, value))
            elif kind == "neg":
                return Unreadable("negative", value)
            else:
                tokens.append(_Token(kind, value, value))
        return tokens, marked

    def _not_values(self, tokens: list[_Token]) -> set[int]:
        """Positions of the numbers that are not counts: `वार्ड 5`, `10 बजे`, `सुबह 10 से 5 तक`."""
        positions = [
            i for i, t in enumerate(tokens) if t.kind == "num" or t.key in NUMBER_WORDS
        ]  # fmt: skip
        found: set[int] = set()
        for i in positions:
            j = i - 1
            while j >= 0 and tokens[j].key in NUMBER_LEAD_WORDS:
                j -= 1
            after = i + 1 < len(tokens) and tokens[i + 1].key in self._after
            if after or (j >= 0 and tokens[j].key in self._before):
                found.add(i)
        # A range has two ends: `सुबह 10 से 5 तक 6 कार्ड` joins 10 and 5, and 6 stays a count.
        ranges = [
            (a, b)
            for a, b in itertools.pairwise(positions)
            if tokens[a + 1 : b] and all(t.key in self._range for t in tokens[a + 1 : b])
        ]
        ends: set[int] = set()
        for _ in range(2):  # forwards, then back
            for a, b in ranges:
                if (a in found or b in found) and not {a, b} & ends:
                    found.update((a, b))
                    ends.update((a, b))
        return found

    def _items(self, text: str) -> tuple[list[_Item], list[str], list[int], bool] | Unreadable:
        """The message as names, numbers, negations and separators; the words not understood; the
        day words; and whether there were other words (fillers, markers, non-value numbers)."""
        read = self._tokens(text)
        if isinstance(read, Unreadable):
            return read
        tokens, marked = read
        not_values = self._not_values(tokens) if marked else set()
        items: list[_Item] = []
        unknown: list[str] = []
        day_words: list[int] = []
        wordy = bool(not_values)
        keys = [t.key for t in tokens]
        name_ends = -1  # the position right after the last metric name
        i = 0
        while i < len(tokens):
            token = tokens[i]
            zero = self._match_zero(keys, i)
            if zero:
                items.append(_Item("zero", text=" ".join(t.text for t in tokens[i : i + zero])))
                i += zero
                continue
            phrase = self._match_phrase(tokens, keys, i)
            if phrase:
                length, metric = phrase
                typo = next((t.text for t in tokens[i : i + length] if t.typo), "")
                name = tuple(keys[i : i + length])
                items.append(_Item("metric", metric=metric, text=token.text, name=name, typo=typo))
                i += length
                name_ends = i
                continue
            key = token.key
            if token.kind == "sep" or key in SEPARATOR_WORDS:
                items.append(_Item("sep"))
            elif i in not_values:
                if name_ends == i:  # `cards 10 week`: the count, or a span?
                    return Unreadable("ambiguous", token.text)
            elif token.kind == "num":
                add = token.text.startswith("+")
                digits = token.text.strip("+")
                if len(digits) > 7:
                    return Unreadable("too_big", digits)
                items.append(_Item("number", value=int(digits), add=add, text=token.text))
            elif key in NUMBER_WORDS:
                number = NUMBER_WORDS[key]
                last = items[-1] if items else None
                if number == 100 and last and last.kind == "number" and last.value == 1:
                    items.pop()  # "एक सौ"
                elif (
                    last and last.kind == "number" and 1 <= number <= 9
                    and match_key(last.text) in _TENS_WORDS and keys[i - 1] == match_key(last.text)
                ):  # fmt: skip
                    items.pop()  # "twenty five"
                    number += last.value
                items.append(_Item("number", value=number, text=token.text))
            elif key in NEGATION_WORDS:
                items.append(_Item("neg", text=token.text))
            elif key in DAY_WORDS:
                day_words.append(DAY_WORDS[key])
            elif key in self._filler or key in DATE_LEAD_WORDS or key in self._range:
                wordy = True
            elif token.options:
                items.append(_Item("unclear", text=token.text, options=token.options))
            else:
                unknown.append(token.text)  # a place or time word (वार्ड, बजे) is not a filler
            i += 1
        return items, unknown, day_words, wordy

    def _match_zero(self, keys: list[str], start: int) -> int:
        if keys[start] not in self._zero_starts:
            return 0
        for length in range(min(self._longest_zero, len(keys) - start), 0, -1):
            if tuple(keys[start : start + length]) in self._zero:
                return length
        return 0

    def _match_phrase(self, tokens: list[_Token], keys: list[str], start: int) -> tuple[int, str] | None:
        """The longest metric name starting at token `start`: (its length in tokens, the metric)."""
        if keys[start] not in self._starts:
            return None
        for length in range(min(self._longest, len(tokens) - start), 0, -1):
            if any(t.kind == "sep" for t in tokens[start : start + length]):
                continue
            metric = self._phrases.get(tuple(keys[start : start + length]))
            if metric is not None:
                return length, metric
        return None

    def _segments(self, items: list[_Item]) -> list[list[_Item]] | Unreadable:
        """The parts between separators, each read down to names and numbers.

        Next to each other, names of one metric are one name (`परिवार भ्रमण 25`); a negation makes
        a part's one name zero (`card nahi bana`) and refuses a part with a number; `एक भी` counts
        only beside a negation; a part with a name alone takes a part with a number alone after it
        (a name on one line, its number on the next).
        """
        segments: list[list[_Item]] = []
        segment: list[_Item] = []
        for item in [*items, _Item("sep")]:
            if item.kind != "sep":
                last = segment[-1] if segment else None
                if last and last.kind == item.kind == "metric" and last.metric == item.metric:
                    name, typo = last.name + item.name, last.typo or item.typo
                    segment[-1] = last._replace(name=name, typo=typo)
                    continue
                segment.append(item)
                continue
            negation = next((s for s in segment if s.kind == "neg"), None)
            if negation is not None:
                if any(s.kind == "number" for s in segment):
                    return Unreadable("negation", negation.text)
                named = [s for s in segment if s.kind == "metric"]
                segment = [named[0], _Item("number", value=0, text=negation.text)] if named else []
                if len(named) > 1:
                    return Unreadable("ambiguous", named[1].text)
            segment = [s for s in segment if s.kind != "zero"]
            if len(segment) % 2:
                segment = self._drop_tail_name(segment)
            if segment:
                segments.append(segment)
            segment = []
        joined: list[list[_Item]] = []
        for part in segments:
            if (
                joined and len(part) == 1 and part[0].kind == "number"
                and len(joined[-1]) == 1 and joined[-1][0].kind == "metric"
            ):  # fmt: skip
                joined[-1] = [*joined[-1], *part]
            else:
                joined.append(part)
        return joined

    def _drop_tail_name(self, segment: list[_Item]) -> list[_Item]:
        """`वृद्धों के 2 कार्ड`: a name that ends a longer name of the metric just before it."""
        for i, item in enumerate(segment):
            if item.kind != "metric":
                continue
            for j in (i - 1, i - 2):
                before = segment[j] if j >= 0 else None
                if (
                    before
                    and before.kind == "metric"
                    and item.name in self._tails.get(before.metric, ())
                ):
                    return segment[:i] + segment[i + 1 :]
        return segment

    def _pair(self, items: list[_Item]) -> tuple[list[Entry], tuple[Doubt, ...]] | Unreadable:
        """Pair metric names with numbers, names first or numbers first, within each part.

        A part in neither order whose numbers each stand next to a name is read that way, as only
        likely: `आवेदन 25 20 कार्ड`.
        """
        segments = self._segments(items)
        if isinstance(segments, Unreadable):
            return segments
        entries: list[Entry] = []
        doubts: list[Doubt] = []
        for segment in segments:
            if len(segment) % 2:
                dangling = next((s for s in segment if s.kind == "number"), segment[0])
                return Unreadable("ambiguous", dangling.text)
            first_kind = segment[0].kind
            ordered = all(
                a.kind == first_kind and b.kind != first_kind
                for a, b in zip(segment[0::2], segment[1::2], strict=True)
            )
            for a, b in zip(segment[0::2], segment[1::2], strict=True):
                if a.kind == b.kind:
                    return Unreadable("ambiguous", b.text)
                metric, number = (a, b) if a.kind == "metric" else (b, a)
                if not ordered and a.kind != first_kind:
                    doubts.append(Doubt("pairing", number.text, (metric.metric,)))
                entries.append(Entry(metric.metric, number.value, number.add))
        return entries, tuple(doubts)

    def _bare(self, numbers: list[_Item], when: DayRef, unknown: list[str], wordy: bool) -> Parsed:
        """Numbers without names, in the configured order.

        Alone (`25 20 40`) they are certain; among fillers only likely, and stored as before; beside
        one word not understood, a question; beside more, a message about something else.
        """
        if len(numbers) > len(self.order):
            return Unreadable("too_many_numbers", str(len(numbers)))
        entries = tuple(
            Entry(key, item.value, item.add) for key, item in zip(self.order, numbers, strict=False)
        )
        if unknown:
            if len(unknown) > 1:
                return Unreadable("not_understood", unknown[0])
            doubt = Doubt("bare_words", unknown[0], tuple(e.metric for e in entries))
            return Unreadable("not_understood", unknown[0], likely=Report(entries, when, (doubt,)))
        if wordy:
            return Report(entries, when, (Doubt("bare_words", "", tuple(e.metric for e in entries)),))
        return Report(entries, when)

"""The words the report parser knows, and how a written word is matched to them.

The fixed tables (command words, day words, fillers, negations, separators), the `Words` a state
adds in its config, and the `Vocabulary` built from them and the metric names: every way to write
each metric, its misspellings one letter away, its endings and spelling variants. `bot/parser.py`
reads a message with it.
"""

from __future__ import annotations

import functools
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
    "samasya": "problem",
    "समस्या": "problem",
    "problem": "problem",
    "problems": "problem",
    "दिक्कत": "problem",
    "hal": "resolve",
    "हल": "resolve",
    "resolve": "resolve",
    "resolved": "resolve",
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
_CHARACTERS = {**ZERO_WIDTH, **DEVANAGARI_DIGITS, ord("−"): "-"}
# An ASCII minus is a sign only with a space (or the start) before it and a digit right after:
# `कार्ड -5` is refused as negative, while `फॉर्म - 16`, `कार्ड:- 12` and `आवेदन-25` are separators.
TOKEN = re.compile(
    r"""
    (?P<sep>[,;|।॥\n])
  | (?P<neg>(?<![^\s,;(])-\d+)
  | (?P<num>\+?\s?\d+\+?)
  | (?P<word>[^\s\d,;|।॥:=+\-–—−()\[\]{}<>"'“”‘’!?.*#/\\]+|[?])
    """,
    re.VERBOSE,
)
TENS_WORDS = {match_key(w) for w in ("twenty thirty forty fifty sixty seventy eighty ninety").split()}


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


class Token(NamedTuple):
    kind: str  # "sep" | "num" | "neg" | "word"
    text: str  # as written (digits without spaces)
    key: str  # the matching key: a metric name's token when the word is a form of one
    typo: bool = False  # the key was found one letter away
    options: tuple[str, ...] = ()  # a misspelling that could be any of these metrics


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


def name_tokens(text: str) -> list[str]:
    """Tokens of a metric name, written the same way message tokens are."""
    norm = normalize(text)
    return [match_key(m.group().replace(" ", "")) for m in TOKEN.finditer(norm)]


class Vocabulary:
    """The metric names and the `reading` words as token keys, and how a written word is matched.

    `token(text)` is one message word with its key: the name token it is a form of (an ending, a
    spelling variant, one letter away), or itself; `match_phrase` and `match_zero` find the longest
    metric name or "nothing" phrase starting at a token.
    """

    def __init__(self, metrics: Sequence[tuple[str, Iterable[str]]], words: Words = Words()):
        """`metrics`: (key, names) in the configured order; names are every way to write it."""
        self.token = functools.lru_cache(maxsize=8192)(self._word_token)

        def keys(phrases: Iterable[str]) -> set[str]:
            return {match_key(w) for w in phrases}

        self.filler = FILLER_WORDS | keys(words.extra_words)
        self.before = keys(words.not_value_before)
        self.after = keys(words.not_value_after)
        self.range = keys(words.range_words)
        self.markers = self.before | self.after
        self.questions = keys(words.question_words)
        self._endings = sorted(keys(words.endings), key=len, reverse=True)
        self._zero = {tuple(name_tokens(w)) for w in words.zero_words} - {()}
        self._longest_zero = max((len(z) for z in self._zero), default=0)
        self._zero_starts = {z[0] for z in self._zero}

        phrases: dict[tuple[str, ...], str] = {}
        for key, names in metrics:
            for name in (key, *names):
                tokens = tuple(name_tokens(name))
                if tokens:
                    phrases.setdefault(tokens, key)
        self._phrases = phrases
        self._longest = max((len(p) for p in phrases), default=1)
        self._starts = {p[0] for p in phrases}
        # A longer name of one metric that ends in another's name: वय वंदना कार्ड ends in कार्ड.
        self.tails: dict[str, set[tuple[str, ...]]] = {}
        for phrase, key in phrases.items():
            for cut in range(1, len(phrase)):
                other = phrases.get(phrase[cut:])
                if other is not None and other != key:
                    self.tails.setdefault(key, set()).add(phrase[cut:])

        # Every word of every name, and which metrics a misspelling of it would mean.
        self._vocabulary: dict[str, tuple[str, ...]] = {}
        for phrase, key in phrases.items():
            for token in phrase:
                single = phrases.get((token,))
                known = self._vocabulary.get(token, ())
                meant = (single,) if single else tuple(dict.fromkeys((*known, key)))
                self._vocabulary[token] = meant
        self._reserved = (
            set(NUMBER_WORDS) | self.filler | NEGATION_WORDS | SEPARATOR_WORDS | set(DAY_WORDS)
            | DATE_LEAD_WORDS | self.before | self.after | self.range | self.questions
            | set(COMMAND_WORDS) | keys(words.common_words)
        )  # fmt: skip
        self._loose: dict[str, str | None] = {}
        for token in self._vocabulary:
            if len(token) >= 4:
                folded = loose(token)
                seen = self._loose.get(folded, token)
                same = seen is not None and self._vocabulary[seen] == self._vocabulary[token]
                self._loose[folded] = seen if same else None

    def _word_token(self, text: str) -> Token:
        key, typo, options = self._canonical_key(match_key(text))
        return Token("word", text, key, typo, options)

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

    def match_zero(self, keys: list[str], start: int) -> int:
        """The length in tokens of the longest `zero_words` phrase starting at `start`, or 0."""
        if keys[start] not in self._zero_starts:
            return 0
        for length in range(min(self._longest_zero, len(keys) - start), 0, -1):
            if tuple(keys[start : start + length]) in self._zero:
                return length
        return 0

    def match_phrase(self, tokens: list[Token], keys: list[str], start: int) -> tuple[int, str] | None:
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

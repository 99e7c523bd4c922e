"""The report parser, on messages written the way ASHAs and ANMs write them."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.core.service import make_parser
from bot.parser import Command, DayRef, Doubt, Entry, Report, ReportParser, Unreadable
from bot.words import Words
from tests.conftest import MESSAGE_TABLE

A, C, H, E, R = "applications", "cards", "households", "elderly_cards", "rejected"

# (message, expected): a dict of metric -> value ("+5" for an add), optionally with a DayRef;
# a Command name as "/name"; or the Unreadable reason as "!reason".
TABLE: list[tuple[str, object]] = [
    # the formats in interface.md
    ("आवेदन 25 कार्ड 20", {A: 25, C: 20}),
    ("25 आवेदन, 20 कार्ड बने", {A: 25, C: 20}),
    ("apps 25 cards 20 ghar 40", {A: 25, C: 20, H: 40}),
    ("आवेदन २५ कार्ड २०", {A: 25, C: 20}),
    ("25 20 40", {A: 25, C: 20, H: 40}),
    # Hindi, as in the field
    ("आज 30 आयुष्मान कार्ड बने", {C: 30}),
    ("आज आयुष्मान कार्ड 12 बने और 3 रिजेक्ट", {C: 12, R: 3}),
    ("कुल आवेदन 40, कार्ड 35, घर 60", {A: 40, C: 35, H: 60}),
    ("घर 45 आवेदन 22 कार्ड 18 रिजेक्ट 2", {H: 45, A: 22, C: 18, R: 2}),
    ("70+ कार्ड 7", {E: 7}),
    ("वय वंदना 5", {E: 5}),
    ("बुजुर्ग कार्ड 4 कार्ड 10", {E: 4, C: 10}),
    ("पच्चीस आवेदन बीस कार्ड", {A: 25, C: 20}),
    ("आवेदन पच्चीस कार्ड बीस", {A: 25, C: 20}),
    ("एक सौ घर", {H: 100}),
    ("गोल्डन कार्ड 9", {C: 9}),
    ("निरस्त 3", {R: 3}),
    ("परिवार 50", {H: 50}),
    ("आवेदन: 25, कार्ड: 20", {A: 25, C: 20}),
    ("आवेदन-25 कार्ड-20", {A: 25, C: 20}),
    ("आवेदन=25\nकार्ड=20", {A: 25, C: 20}),
    ("आवेदन 25। कार्ड 20।", {A: 25, C: 20}),
    ("मैंने आज 40 घरों में सर्वे किया और 15 कार्ड बनाए", {H: 40, C: 15}),
    ("कार्ड 0", {C: 0}),
    ("०", {A: 0}),
    ("आवेदन ३० कार्ड २८ घर ५५", {A: 30, C: 28, H: 55}),
    ("फॉर्म 12 कार्ड 9", {A: 12, C: 9}),
    # English and Hinglish
    ("applications 25 cards 20", {A: 25, C: 20}),
    ("Cards 20, Apps 25", {C: 20, A: 25}),
    ("CARDS: 20", {C: 20}),
    ("20 cards made today", {C: 20}),
    ("today 15 houses visited, 12 cards", {H: 15, C: 12}),
    ("avedan 25 card 20 ghar 40", {A: 25, C: 20, H: 40}),
    ("aaj 18 card bane", {C: 18}),
    ("70+ cards 6", {E: 6}),
    ("elderly 3 rejected 1", {E: 3, R: 1}),
    ("hh 30 apps 10 cards 8", {H: 30, A: 10, C: 8}),
    ("cards20 apps25", {C: 20, A: 25}),
    ("25apps 20cards", {A: 25, C: 20}),
    ("ayushman card 11", {C: 11}),
    # mixed scripts and invisible characters
    ("कार्ड 20 apps 25", {C: 20, A: 25}),
    ("\u200bकार्ड\u200c 20", {C: 20}),
    ("  आवेदन   25   ", {A: 25}),
    ("कार्ड २० apps 2५", {C: 20, A: 25}),
    # adds and days
    ("+5 कार्ड", {C: "+5"}),
    ("कार्ड +5", {C: "+5"}),
    ("cards +3 apps 4", {C: "+3", A: 4}),
    ("कल आवेदन 10 कार्ड 8", ({A: 10, C: 8}, DayRef(days_back=1))),
    ("yesterday cards 7", ({C: 7}, DayRef(days_back=1))),
    ("kal 12 card", ({C: 12}, DayRef(days_back=1))),
    ("परसों कार्ड 5", ({C: 5}, DayRef(days_back=2))),
    ("21/11 कार्ड 5", ({C: 5}, DayRef(day=21, month=11))),
    ("21-11 apps 3", ({A: 3}, DayRef(day=21, month=11))),
    ("दिनांक 20/11/2026 आवेदन 14", ({A: 14}, DayRef(day=20, month=11, year=2026))),
    ("21/11 को 10 कार्ड बने", ({C: 10}, DayRef(day=21, month=11))),
    ("कल 25 20", ({A: 25, C: 20}, DayRef(days_back=1))),
    ("कार्ड 5 21/11", ({C: 5}, DayRef(day=21, month=11))),
    # queries and commands
    ("/status", "/status"),
    ("/status@fieldbot_bot Sandila", "/status"),
    ("स्थिति", "/status"),
    ("बाकी", "/missing"),
    ("रैंक", "/top"),
    ("मदद", "/help"),
    ("/undo", "/undo"),
    ("/lang en", "/lang"),
    ("help", "/help"),
    # refused: nothing stored, a help reply instead
    ("", "!empty"),
    ("नमस्ते मैडम", "!not_understood"),
    ("मेरी तबीयत खराब है 2 दिन से", "!not_understood"),
    ("कार्ड आवेदन 25", "!ambiguous"),
    ("आवेदन 25 20 कार्ड", "!ambiguous"),
    ("कार्ड 20 कार्ड 25", "!duplicate_metric"),
    ("cards 2.5", "!decimal"),
    ("कार्ड -5", "!negative"),
    ("कार्ड 20 नहीं बने", "!negation"),
    ("कार्ड", "!no_numbers"),
    ("25 20 40 5 2 7", "!too_many_numbers"),
    ("32/13 कार्ड 5", "!bad_date"),
    ("कल 21/11 कार्ड 5", "!bad_date"),
    ("कार्ड 123456789012", "!too_big"),
    ("phone 9876543210", "!not_understood"),  # a phone number is not a count
]


@pytest.fixture(scope="module")
def parser(base_settings: Settings) -> ReportParser:
    return make_parser(base_settings)


def test_table_is_large_enough() -> None:
    assert len(TABLE) >= 60


@pytest.mark.parametrize(("message", "expected"), TABLE, ids=[m or "<empty>" for m, _ in TABLE])
def test_message(parser: ReportParser, message: str, expected: object) -> None:
    parsed = parser.parse(message)
    if isinstance(expected, str) and expected.startswith("/"):
        assert isinstance(parsed, Command), parsed
        assert parsed.name == expected[1:]
        return
    if isinstance(expected, str) and expected.startswith("!"):
        assert isinstance(parsed, Unreadable), parsed
        assert parsed.reason == expected[1:]
        return
    values, when = expected if isinstance(expected, tuple) else (expected, DayRef())
    assert isinstance(parsed, Report), parsed
    got = {e.metric: (f"+{e.value}" if e.add else e.value) for e in parsed.entries}
    assert got == values
    assert parsed.when == when


def test_command_arguments_are_kept(parser: ReportParser) -> None:
    parsed = parser.parse("/status@fieldbot_bot Hardoi/Sandila week")
    assert parsed == Command("status", ("Hardoi/Sandila", "week"))


def test_metric_names_come_from_config() -> None:
    parser = ReportParser([("vaccinations", ["टीके", "tike"]), ("visits", ["भ्रमण"])])
    parsed = parser.parse("टीके 12 भ्रमण 4")
    assert isinstance(parsed, Report)
    assert {e.metric: e.value for e in parsed.entries} == {"vaccinations": 12, "visits": 4}
    assert isinstance(parser.parse("कार्ड 20"), Unreadable)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_any_text(text: str) -> None:
    parser = make_parser_cached()
    result = parser.parse(text)
    assert isinstance(result, Report | Command | Unreadable)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from([A, C, H, E, R]), st.integers(0, 999), min_size=1),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_any_report_reads_back(
    values: dict[str, int], numbers_first: bool, hindi: bool, devanagari_digits: bool
) -> None:
    """Whatever the order, script and digits, a well-formed report reads back to its values."""
    names = {
        A: ("आवेदन", "apps"),
        C: ("कार्ड", "cards"),
        H: ("घर", "ghar"),
        E: ("70+ कार्ड", "70+ cards"),
        R: ("रिजेक्ट", "rejected"),
    }
    digits = str.maketrans("0123456789", "०१२३४५६७८९")
    parts = []
    for metric, value in values.items():
        name = names[metric][0 if hindi else 1]
        number = str(value).translate(digits) if devanagari_digits else str(value)
        parts.append(f"{number} {name}" if numbers_first else f"{name} {number}")
    parsed = make_parser_cached().parse(", ".join(parts))
    assert isinstance(parsed, Report), (parts, parsed)
    assert {e.metric: e.value for e in parsed.entries} == values


_PARSER: list[ReportParser] = []


def make_parser_cached() -> ReportParser:
    if not _PARSER:
        from bot.config import load_settings
        from tests.conftest import ROOT

        _PARSER.append(make_parser(load_settings(ROOT / "config.yaml")))
    return _PARSER[0]


# The message table: tests/data/messages.tsv, 300 and more messages as workers write them.
MESSAGES_FILE = Path(__file__).parents[1] / "data" / "messages.tsv"
SHORT = {"a": A, "c": C, "h": H, "e": E, "r": R}
CLASSES = {
    "plain",
    "separators",
    "multiword",
    "nonvalues",
    "typos",
    "nothing",
    "zero",
    "inflected",
    "mixed",
}


def _message_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in MESSAGES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            message, expected, kind = line.split("\t")
            rows.append((message.replace("\\n", "\n"), expected, kind))
    return rows


MESSAGES = _message_rows()


def _outcome(parsed: object) -> str:
    """What a worker would see come of the message, in the table's words."""
    if isinstance(parsed, Report):
        short = {v: k for k, v in SHORT.items()}
        return " ".join(f"{short[e.metric]}={'+' if e.add else ''}{e.value}" for e in parsed.entries)
    if isinstance(parsed, Unreadable):
        return "question" if parsed.likely or parsed.options else "nothing"
    assert isinstance(parsed, Command)
    return f"/{parsed.name}"


def test_message_table_is_large_and_covers_every_class() -> None:
    assert len(MESSAGES) >= 300
    kinds = Counter(kind for _, _, kind in MESSAGES)
    assert set(kinds) == CLASSES
    assert min(kinds.values()) >= 20, kinds
    assert len({m for m, _, _ in MESSAGES}) == len(MESSAGES), "a message appears twice"


@pytest.mark.parametrize(("message", "expected", "kind"), MESSAGES, ids=[m for m, _, _ in MESSAGES])
def test_message_table(parser: ReportParser, message: str, expected: str, kind: str) -> None:
    tally = MESSAGE_TABLE.setdefault(kind, Counter())
    tally["rows"] += 1
    assert _outcome(parser.parse(message)) == expected
    tally["read"] += 1


def test_a_likely_reading_says_why_and_stores_nothing_yet(parser: ReportParser) -> None:
    typo = parser.parse("भ्रमन 25")
    assert typo == Unreadable(
        "not_understood",
        "भ्रमन",
        likely=Report((Entry(H, 25),), doubts=(Doubt("typo", "भ्रमन", (H,)),)),
    )
    paired = parser.parse("आवेदन 25 20 कार्ड")
    assert isinstance(paired, Unreadable) and paired.reason == "ambiguous"
    assert paired.likely == Report((Entry(A, 25), Entry(C, 20)), doubts=(Doubt("pairing", "20", (C,)),))
    words = parser.parse("ward 5 25 20")
    assert isinstance(words, Unreadable) and words.detail == "ward"
    assert words.likely == Report(
        (Entry(A, 25), Entry(C, 20)), doubts=(Doubt("bare_words", "ward", (A, C)),)
    )


def test_bare_numbers_among_fillers_are_stored_but_marked_likely(parser: ReportParser) -> None:
    alone = parser.parse("25 20 40")
    among = parser.parse("नमस्ते मैडम 25 20 40")
    assert isinstance(alone, Report) and alone.certain
    assert isinstance(among, Report) and not among.certain
    assert among.entries == alone.entries
    assert [d.kind for d in among.doubts] == ["bare_words"]


def test_an_unreadable_message_names_the_word_not_understood(parser: ReportParser) -> None:
    assert parser.parse("गुड मॉर्निंग 🙏") == Unreadable("not_understood", "गुड")
    assert parser.parse("आज कितने कार्ड बनाने हैं?") == Unreadable("not_understood", "कितने")
    # A time or place word is not what was misunderstood: the word beside it is.
    assert parser.parse("10 बजे मीटिंग है") == Unreadable("not_understood", "मीटिंग")
    assert parser.parse("3 घंटे नेट नहीं था") == Unreadable("not_understood", "नेट")
    assert parser.parse("मेरी आईडी 44 है") == Unreadable("not_understood", "आईडी")


def test_a_misspelling_of_two_metrics_offers_both() -> None:
    parser = ReportParser([("visits", ["bhraman"]), ("vaccines", ["bhramon"])])
    parsed = parser.parse("bhramen 12")
    assert parsed == Unreadable("not_understood", "bhramen", options=("visits", "vaccines"))
    assert parser.parse("bhramann 12") == Report((Entry("visits", 12),))  # a letter typed twice


def test_a_state_adds_its_words_in_config() -> None:
    metrics = [(A, ["आवेदन"]), (C, ["कार्ड"])]
    plain = ReportParser(metrics)
    local = ReportParser(
        metrics, Words(not_value_before=("पंचायत",), extra_words=("करलक",), endings=("न",))
    )
    assert isinstance(plain.parse("पंचायत 4 कार्ड 10"), Unreadable)
    assert local.parse("पंचायत 4 कार्ड 10") == Report((Entry(C, 10),))
    assert isinstance(plain.parse("25 20 करलक"), Unreadable)
    assert isinstance(local.parse("25 20 करलक"), Report)
    assert local.parse("कार्डन 3") == Report((Entry(C, 3),))


_NAME_SEPARATORS = [" ", " - ", " – ", "—", ": ", ":- ", " => ", "=", " : ", "-"]
_ENTRY_SEPARATORS = [", ", " ", "; ", "। ", "\n", " और ", " | "]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_configured_name_separator_and_digits_read_back(data: st.DataObject) -> None:
    """Every configured name, with any separator and any digits, reads back to its values."""
    config = _config_settings()
    metrics = data.draw(st.lists(st.sampled_from(config.metrics), min_size=1, unique_by=lambda m: m.key))
    values = {m.key: data.draw(st.integers(0, 9_999_999)) for m in metrics}
    digits = str.maketrans("0123456789", "०१२३४५६७८९")
    between = data.draw(st.sampled_from([*_NAME_SEPARATORS, "\n"]))
    joiner = "\n" if between == "\n" else data.draw(st.sampled_from(_ENTRY_SEPARATORS))
    parts = []
    for metric in metrics:
        name = data.draw(st.sampled_from([metric.hi, metric.en, *metric.synonyms]))
        number = str(values[metric.key])
        if data.draw(st.booleans()):
            number = number.translate(digits)
        parts.append(f"{name}{between}{number}")
    message = joiner.join(parts)
    parsed = make_parser_cached().parse(message)
    assert isinstance(parsed, Report) and parsed.certain, (message, parsed)
    assert {e.metric: e.value for e in parsed.entries} == values, message


@functools.cache
def _config_settings() -> Settings:
    from bot.config import load_settings
    from tests.conftest import ROOT

    return load_settings(ROOT / "config.yaml")

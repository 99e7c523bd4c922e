"""Problems field workers report (`/samasya`): reading them from a message, storing, resolving,
and the queries digests, notices and the CSV need. Owns the problem and problem_change tables.

A message tells of a problem when it has a problem word (`समस्या`, `problem`) or, when it is
nothing else the bot can read, one of a code's configured words (`server down`). The words after
the problem word are the problem; a report may stand before them or after them in one message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.config_sections import OTHER_PROBLEM, ProblemCode
from bot.numbers import match_key
from bot.parser import Report, ReportParser
from bot.store.units import Unit
from bot.words import NEGATION_WORDS, loose, normalize
from models import Block, District, Person, Problem, ProblemChange, Sector, Village

PROBLEM_WORDS = frozenset(
    match_key(w)
    for w in "समस्या समस्याएं समस्याएँ samasya samsya problem problems दिक्कत dikkat परेशानी pareshani".split()
)
# "कोई समस्या नहीं", "no problem": a report that says all is well.
NO_WORDS = frozenset(match_key(w) for w in ("कोई", "koi", "no", "none", "कुछ", "kuch"))
_IDLE_WORDS = frozenset(match_key(w) for w in ("है", "हैं", "hai", "h", "thi", "था", "थी", "aaj", "आज"))
_TOKEN = re.compile(r"[\w\u0900-\u097f]+")
MAX_TEXT = 500  # the words of one problem that are kept


def mentions_problem(text: str) -> bool:
    """Whether a message has a problem word (`समस्या`, `problem`): it is more than a report."""
    return any(match_key(m.group()) in PROBLEM_WORDS for m in _TOKEN.finditer(text))


def _key(token: str) -> str:
    return loose(match_key(token))


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


class ProblemWords:
    """The configured codes' words, matched against a message's words (spelling variants folded)."""

    def __init__(self, codes: Sequence[ProblemCode]):
        self.codes = list(codes)
        phrases: list[tuple[tuple[str, ...], int, str]] = []
        for order, code in enumerate(self.codes):
            if code.key == OTHER_PROBLEM:
                continue
            for name in (code.key, code.key.replace("_", " "), code.hi, code.en, *code.words):
                tokens = tuple(_key(m.group()) for m in _tokens(normalize(name)))
                if tokens:
                    phrases.append((tokens, order, code.key))
        # Longest first; among equals, the code listed first in the config.
        self._phrases = sorted(phrases, key=lambda p: (-len(p[0]), p[1]))
        self._exact = {p[0]: p[2] for p in reversed(self._phrases)}
        self._exact[(_key(OTHER_PROBLEM),)] = OTHER_PROBLEM
        self._exact[tuple(_key(m.group()) for m in _tokens(self.code(OTHER_PROBLEM).hi))] = OTHER_PROBLEM
        self._exact[tuple(_key(m.group()) for m in _tokens(self.code(OTHER_PROBLEM).en))] = OTHER_PROBLEM

    def code(self, key: str) -> ProblemCode:
        return next((c for c in self.codes if c.key == key), self.codes[-1])

    def find(self, keys: Sequence[str]) -> tuple[int, int, str] | None:
        """The best code phrase among the words: (first word, after the last, code), or None.

        The longest phrase wins; among phrases of one length, the one written first."""
        best: tuple[int, int, str] | None = None
        for tokens, _, code in self._phrases:
            size = len(tokens)
            if best is not None and size < best[1] - best[0]:
                break
            for i in range(len(keys) - size + 1):
                if tuple(keys[i : i + size]) == tokens:
                    if best is None or i < best[0]:
                        best = (i, i + size, code)
                    break
        return best

    def code_for(self, text: str) -> str:
        """The code a problem's words name; `other` when none does. A lone number is the code's
        place in the menu (`2`)."""
        stripped = normalize(text).strip(" .:-")
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.codes):
            return self.codes[int(stripped) - 1].key
        found = self.find([_key(m.group()) for m in _tokens(normalize(text))])
        return found[2] if found else OTHER_PROBLEM

    def exact(self, words: Sequence[str]) -> tuple[str, int] | None:
        """A code named by the first words exactly (`server_down`, `सर्वर डाउन`): (code, words used)."""
        keys = [_key(m.group()) for w in words for m in _tokens(normalize(w))]
        counts = [len(_tokens(normalize(w))) for w in words]
        for used in range(len(words), 0, -1):
            size = sum(counts[:used])
            code = self._exact.get(tuple(keys[:size]))
            if code is not None:
                return code, used
        return None


@dataclass(frozen=True)
class Told:
    """A message read for a problem: the report written beside it, and the problem's own words."""

    report: str
    problem: str
    keyword: bool  # the problem word was written (else a code's words alone named it)
    none: bool = False  # "कोई समस्या नहीं": the message says there is none


def tell(text: str, words: ProblemWords, parser: ReportParser, *, keyword_only: bool) -> Told | None:
    """The problem a message tells of, with the report beside it; None when it tells of none.

    `keyword_only`: only a problem word counts (the message may still be a report or a query).
    """
    norm = normalize(text)
    lines = norm.split("\n")
    for number, line in enumerate(lines):
        found = _tokens(line)
        keys = [_key(m.group()) for m in found]
        plain = [match_key(m.group()) for m in found]
        anchor = next((i for i, k in enumerate(plain) if k in PROBLEM_WORDS), None)
        if anchor is not None:
            if _all_well(plain[:anchor], plain[anchor + 1 :]):
                first = anchor - 1 if anchor and plain[anchor - 1] in NO_WORDS else anchor
                before = line[: found[first].start()].rstrip(" :-,")
                others = [*lines[:number], before, *lines[number + 1 :]]
                report = "\n".join(o for o in others if o.strip())
                return Told(report=report, problem="", keyword=True, none=True)
            start, cut, keyword = found[anchor].start(), found[anchor].end(), True
        elif keyword_only:
            continue
        else:
            phrase = words.find(keys)
            if phrase is None:
                continue
            start = cut = found[phrase[0]].start()
            keyword = False
        before = line[:start].rstrip(" :-,")
        if start > 0 and line[start - 1] == "/":
            before = before[:-1].rstrip()
        problem = line[cut:].strip(" :-,।.")
        problem, tail = _report_tail(problem, parser)
        others = [*lines[:number], " ".join(p for p in (before, tail) if p), *lines[number + 1 :]]
        report = "\n".join(o for o in others if o.strip())
        return Told(report=report, problem=problem[:MAX_TEXT], keyword=keyword)
    return None


def _all_well(before: Sequence[str], after: Sequence[str]) -> bool:
    """`कोई समस्या नहीं`, `no problem`, `समस्या नहीं है`: nothing to report."""
    rest = [k for k in after if k not in _IDLE_WORDS]
    said_no = bool(before) and before[-1] in NO_WORDS
    return (said_no and not rest) or (bool(rest) and all(k in NEGATION_WORDS for k in rest))


def _report_tail(problem: str, parser: ReportParser) -> tuple[str, str]:
    """A report written after the problem's words on one line: (the problem, the report)."""
    found = _tokens(problem)
    best: tuple[str, str] | None = None
    entries: object = None
    for i in range(1, len(found)):
        tail = problem[found[i].start() :]
        head = problem[: found[i].start()]
        if not any(ch.isdigit() for ch in tail) or any(ch.isdigit() for ch in head):
            break
        parsed = parser.parse(tail)
        if not (isinstance(parsed, Report) and parsed.certain):
            continue
        # Words the report ignores go with the problem: the shortest tail that reads the same.
        if entries is not None and parsed.entries != entries:
            break
        entries, best = parsed.entries, (head.strip(" :-,।."), tail)
    return best or (problem, "")


# ---------------------------------------------------------------- storing and resolving


def _audit(
    session: Session, problem: Problem, by: Person, action: str, channel: str, now: dt.datetime
) -> None:
    assert problem.id is not None and by.id is not None
    session.add(
        ProblemChange(
            problem_id=problem.id,
            person_id=by.id,
            action=action,
            status=problem.status,
            note=problem.note if action == "resolved" else problem.text,
            channel=channel,
            changed_at=now,
        )
    )


def record(
    *,
    session: Session,
    person: Person,
    code: str,
    text: str,
    day: dt.date,
    channel: str,
    now: dt.datetime,
) -> tuple[Problem, bool]:
    """Store a worker's problem, open; (the problem, True), or (the one already open, False).

    One problem of a code stays open per worker (`other` per wording), so telling it again each
    day neither repeats it in the digests nor restarts how long it has been open.
    """
    assert person.id is not None and person.sector_id is not None
    assert person.block_id is not None and person.district_id is not None
    query = select(Problem).where(
        Problem.person_id == person.id, Problem.status == "open", Problem.code == code
    )
    if code == OTHER_PROBLEM:
        query = query.where(Problem.text == text)
    existing = session.exec(query.order_by(col(Problem.id))).first()
    if existing is not None:
        return existing, False
    problem = Problem(
        person_id=person.id,
        day=day,
        reported_at=now,
        district_id=person.district_id,
        block_id=person.block_id,
        sector_id=person.sector_id,
        village_id=person.village_id,
        code=code,
        text=text,
        channel=channel,
    )
    session.add(problem)
    session.flush()
    _audit(session, problem, person, "reported", channel, now)
    return problem, True


def resolve(
    *, session: Session, problem: Problem, by: Person, note: str, channel: str, now: dt.datetime
) -> None:
    """Mark an open problem resolved by an officer, with her note; audited."""
    problem.status = "resolved"
    problem.resolved_by = by.id
    problem.resolved_at = now
    problem.note = note[:MAX_TEXT]
    session.add(problem)
    session.flush()
    _audit(session, problem, by, "resolved", channel, now)


def history(*, session: Session, problem_id: int) -> list[ProblemChange]:
    return list(
        session.exec(
            select(ProblemChange)
            .where(ProblemChange.problem_id == problem_id)
            .order_by(col(ProblemChange.id))
        ).all()
    )


# ---------------------------------------------------------------- reading


def in_units(units: Iterable[Unit]) -> ColumnElement[bool]:
    """Problems whose place lies in any of the units."""
    clauses: list[ColumnElement[bool]] = []
    for unit in units:
        if unit.level == "state":
            return col(Problem.id).is_not(None)
        column = {"district": Problem.district_id, "block": Problem.block_id}.get(
            unit.level, Problem.sector_id
        )
        clauses.append(col(column) == unit.id)
    return or_(*clauses) if clauses else col(Problem.id).is_(None)


@dataclass(frozen=True)
class Row:
    """A problem with the names a reader needs."""

    problem: Problem
    worker: str
    phone: str
    sector: str
    block: str
    district: str
    village: str | None


def _rows(session: Session, query: Select[Problem, Person, Sector, Block, District, str]) -> list[Row]:
    found = session.execute(query).all()
    return [
        Row(problem, person.name, person.phone, sector.name, block.name, district.name, village)
        for problem, person, sector, block, district, village in found
    ]


def _select() -> Select[Problem, Person, Sector, Block, District, str]:
    return (
        sa_select(Problem, Person, Sector, Block, District, col(Village.name))
        .join(Person, col(Person.id) == col(Problem.person_id))
        .join(Sector, col(Sector.id) == col(Problem.sector_id))
        .join(Block, col(Block.id) == col(Problem.block_id))
        .join(District, col(District.id) == col(Problem.district_id))
        .outerjoin(Village, col(Village.id) == col(Problem.village_id))
    )


def open_in(
    *, session: Session, units: Sequence[Unit], code: str | None = None, limit: int | None = None
) -> list[Row]:
    """Open problems in the units, oldest first."""
    query = _select().where(col(Problem.status) == "open", in_units(units))
    if code is not None:
        query = query.where(col(Problem.code) == code)
    query = query.order_by(col(Problem.reported_at), col(Problem.id))
    if limit is not None:
        query = query.limit(limit)
    return _rows(session, query)


def open_by_ids(*, session: Session, ids: Sequence[int], units: Sequence[Unit]) -> list[Row]:
    """The open problems among `ids` that lie in the units."""
    query = _select().where(
        col(Problem.status) == "open", col(Problem.id).in_(list(ids)), in_units(units)
    )
    return _rows(session, query.order_by(col(Problem.id)))


def count_open(*, session: Session, units: Sequence[Unit]) -> int:
    return int(
        session.exec(
            select(func.count()).select_from(Problem).where(Problem.status == "open", in_units(units))
        ).one()
    )


def reported_on(*, session: Session, units: Sequence[Unit], day: dt.date) -> list[Row]:
    """Problems reported on a day in the units, in the order they came."""
    query = _select().where(col(Problem.day) == day, in_units(units))
    return _rows(session, query.order_by(col(Problem.id)))


def opened_before(*, session: Session, units: Sequence[Unit], day: dt.date) -> list[Row]:
    """Problems still open that were reported before `day`, oldest first."""
    query = _select().where(col(Problem.status) == "open", col(Problem.day) < day, in_units(units))
    return _rows(session, query.order_by(col(Problem.day), col(Problem.id)))


def not_notified(*, session: Session) -> list[Row]:
    """Open problems whose code's recipients have not heard of them yet."""
    query = _select().where(col(Problem.status) == "open", col(Problem.notified_at).is_(None))
    return _rows(session, query.order_by(col(Problem.id)))


def mark_notified(*, session: Session, problems: Iterable[Problem], now: dt.datetime) -> None:
    for problem in problems:
        problem.notified_at = now
        session.add(problem)


def between(*, session: Session, start: dt.date, end: dt.date) -> list[Row]:
    """Every problem reported in the range, oldest first (the CSV)."""
    query = _select().where(col(Problem.day) >= start, col(Problem.day) <= end)
    return _rows(session, query.order_by(col(Problem.reported_at), col(Problem.id)))


def people_by_id(*, session: Session, ids: Iterable[int]) -> dict[int, Person]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found = session.exec(select(Person).where(col(Person.id).in_(wanted))).all()
    return {p.id: p for p in found if p.id is not None}


def settings_words(settings: Settings) -> ProblemWords:
    return ProblemWords(settings.problems.codes)

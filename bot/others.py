"""Reports and leave entered for someone else: who may, and which worker a name, phone or id means.

Many ASHAs share a family phone or have none with a chat app; their supervisor (or the ANM of
their sector) reports for them: `सुनीता: आवेदन 12 कार्ड 10`, `/for Sunita आवेदन 12 कार्ड 10`,
`/for 9876543210 ...`, `/for HRD-SDL-0001 ...`. A name is matched within her own sector(s) only,
in either script: `सुनीता` finds Sunita Devi.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.phones import PhoneError, normalize_phone
from bot.store.units import Unit
from models import FIELD_ROLES, DailyReport, Person, Post, ReportChange, Village

# Devanagari consonants by the Latin letter a name's skeleton keeps (aspiration and length dropped).
_CONSONANTS = {
    "k": "कखक़ख़",
    "g": "गघग़",
    "c": "चछ",
    "j": "जझज़",
    "t": "टठतथ",
    "d": "डढदधड़ढ़",
    "n": "णनङञ",
    "p": "पफफ़",
    "b": "बभ",
    "m": "म",
    "y": "य",
    "r": "रऋ",
    "l": "ल",
    "v": "व",
    "s": "शषस",
    "h": "ह",
}
_DEVANAGARI = {
    ch: latin
    for latin, chars in _CONSONANTS.items()
    for ch in unicodedata.normalize("NFD", chars)
    if ch != "\u093c"  # the nukta (ज़ is ज and a dot): not a letter of its own
}
_DEVANAGARI["ं"] = "n"  # anusvara: सुंदर ~ Sundar
_LATIN_PAIRS = (
    ("kh", "k"),
    ("gh", "g"),
    ("ch", "c"),
    ("jh", "j"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "p"),
    ("bh", "b"),
    ("sh", "s"),
    ("w", "v"),
    ("z", "j"),
    ("q", "k"),
    ("f", "p"),
    ("x", "ks"),
)
FOR_COMMANDS = {"/for", "/के_लिए", "/keliye"}
NAME_WORDS_MAX = 4  # a name before `:` has at most this many words


def skeleton(text: str) -> str:
    """A name's consonants as Latin letters, the same for `सुनीता` and `Sunita` (`snt`)."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = unicodedata.normalize("NFD", text)  # nukta forms and accents apart
    out = []
    for ch in text:
        if ch in _DEVANAGARI:
            out.append(_DEVANAGARI[ch])
        elif "a" <= ch <= "z":
            out.append(ch)
    latin = "".join(out)
    for pair, one in _LATIN_PAIRS:
        latin = latin.replace(pair, one)
    latin = re.sub(r"[aeiou]", "", latin)
    latin = re.sub(r"(?<=.)h", "", latin)  # an h after a consonant only aspirates it
    return re.sub(r"(.)\1+", r"\1", latin)


_VOWEL_SIGNS = {
    "ा": "a",
    "ि": "i",
    "ी": "i",
    "ु": "u",
    "ू": "u",
    "े": "e",
    "ै": "e",
    "ो": "o",
    "ौ": "o",
    "ृ": "i",
}
_VOWELS = {
    "अ": "a",
    "आ": "a",
    "इ": "i",
    "ई": "i",
    "उ": "u",
    "ऊ": "u",
    "ए": "e",
    "ऐ": "e",
    "ओ": "o",
    "औ": "o",
}
_HALANT, _NUKTA = "्", "़"


def first_vowel(text: str) -> str:
    """A name's first vowel, long or short alike: `u` for `सुनीता` and `Sunita`, `a` for Shanti."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).casefold())
    for index, ch in enumerate(text):
        if ch in _VOWELS:
            return _VOWELS[ch]
        if ch in _DEVANAGARI and ch != "ं":
            after = text[index + 1 : index + 2]
            if after == _NUKTA:
                after = text[index + 2 : index + 3]
            if after == _HALANT:
                continue
            return _VOWEL_SIGNS.get(after, "a")  # no sign: the consonant's own `a`
        if ch in "aeiou":
            pair = text[index : index + 2]
            return {"ee": "i", "oo": "u", "ai": "e", "au": "o"}.get(pair, ch)
    return ""


def _name_key(text: str) -> tuple[str, str]:
    return skeleton(text), first_vowel(text)


def name_matches(typed: str, name: str) -> bool:
    """Whether `typed` (a first name, a full name, in either script) can mean the person `name`."""
    typed_words, words = typed.casefold().split(), name.casefold().split()
    if not typed_words or not words:
        return False
    if typed_words == words[: len(typed_words)]:
        return True
    key = _name_key(typed)
    if not key[0]:
        return False
    return any(key == _name_key(" ".join(words[:n])) for n in range(1, len(words) + 1))


def entry_sectors(session: Session, person: Person) -> list[int]:
    """The sectors whose workers she may report for: a supervisor's own sectors, an ANM's sector."""
    if person.role == "anm":
        return [person.sector_id] if person.sector_id is not None else []
    if person.role != "supervisor":
        return []
    posts = session.exec(select(Post.sector_id).where(Post.person_id == person.id)).all()
    return sorted({s for s in posts if s is not None})


def sector_workers(session: Session, sectors: list[int]) -> list[Person]:
    if not sectors:
        return []
    return list(
        session.exec(
            select(Person)
            .where(
                col(Person.active).is_(True),
                col(Person.role).in_(FIELD_ROLES),
                col(Person.sector_id).in_(sectors),
            )
            .order_by(col(Person.name), col(Person.id))
        ).all()
    )


def unit_workers(session: Session, unit: Unit) -> list[Person]:
    """The active field workers now in a unit, by name."""
    clauses: list[Any] = [col(Person.active).is_(True), col(Person.role).in_(FIELD_ROLES)]
    if unit.level != "state":
        column = {"district": Person.district_id, "block": Person.block_id}.get(
            unit.level, Person.sector_id
        )
        clauses.append(col(column) == unit.id)
    return list(
        session.exec(select(Person).where(*clauses).order_by(col(Person.name), col(Person.id))).all()
    )


def find_workers(workers: list[Person], who: str) -> list[Person]:
    """The workers `who` (a phone, a worker id or a name) may mean."""
    who = " ".join(who.split())
    if not who:
        return []
    try:
        phone = normalize_phone(who)
    except PhoneError:
        phone = None
    if phone is not None:
        return [w for w in workers if w.phone == phone]
    by_id = [w for w in workers if w.worker_id and w.worker_id.casefold() == who.casefold()]
    if by_id:
        return by_id
    if any(ch.isdigit() for ch in who):
        return []  # a date or a count, not a name
    exact = [w for w in workers if w.name.casefold() == who.casefold()]
    return exact or [w for w in workers if name_matches(who, w.name)]


@dataclass(frozen=True)
class Addressed:
    """A message meant for another worker: who (as written), and the rest of it."""

    who: str
    rest: str
    command: bool  # written as `/for ...` (so it is surely meant so), not `name: ...`


def addressed(text: str) -> Addressed | None:
    """`/for WHO REST` or `WHO: REST`, read without knowing who WHO is (see `for_someone`)."""
    text = unicodedata.normalize("NFC", text).strip()
    first, _, rest = text.partition(" ")
    if first.casefold().split("@", 1)[0] in FOR_COMMANDS:
        return Addressed("", rest.strip(), True)
    name, colon, rest = text.partition(":")
    if not colon or not rest.strip() or rest.lstrip().startswith(("-", "=")):
        return None
    name = name.strip()
    if not name or len(name.split()) > NAME_WORDS_MAX or name.startswith("/"):
        return None
    return Addressed(name, rest.strip(), False)


def split_who(workers: list[Person], words: list[str]) -> tuple[str, str, list[Person]]:
    """`/for`'s words as (who, the report, the workers who means): the longest run of first
    words that names somebody, so `Sunita Devi कार्ड 5` takes both names."""
    for size in range(min(NAME_WORDS_MAX, len(words) - 1), 0, -1):
        who = " ".join(words[:size])
        found = find_workers(workers, who)
        if found:
            return who, " ".join(words[size:]), found
    return (words[0] if words else ""), " ".join(words[1:]), []


def village_names(session: Session, people: list[Person]) -> dict[int, str]:
    ids = sorted({p.village_id for p in people if p.village_id is not None})
    if not ids:
        return {}
    return dict(session.exec(select(Village.id, Village.name).where(col(Village.id).in_(ids))).all())  # type: ignore[arg-type]


def entered_for_others(*, session: Session, report_scope: list[Any], day: dt.date) -> int:
    """How many workers' reports of the day, in the unit, someone else entered (and did not undo)."""
    query = (
        select(func.count(func.distinct(ReportChange.person_id)))
        .join(DailyReport, col(DailyReport.id) == col(ReportChange.report_id))
        .where(
            ReportChange.day == day,
            col(ReportChange.entered_by).is_not(None),
            col(ReportChange.undone).is_(False),
            ReportChange.kind != "undo",
            *report_scope,
        )
    )
    return int(session.exec(query).one())


def reachable(person: Person) -> bool:
    """Whether a message can reach her at all: a Telegram chat, or a phone of her own."""
    return person.telegram_chat_id is not None or bool(person.phone)

"""Personal data: the notice, retention, erasure (`forget`) and access (`access`).

Counts are the department's records and stay; what identifies a woman (name, numbers, Telegram id,
photos, where she walked) is kept no longer than needed and can be erased on request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.i18n import t
from bot.phones import local_phone
from models import (
    ChannelContact,
    DailyReport,
    InboundMessage,
    LiveTrack,
    LoginLink,
    MediaFile,
    Outbox,
    PendingQuestion,
    Person,
    PersonPhone,
    Post,
    PresencePart,
    PrivacyNotice,
    Problem,
    ProblemChange,
    Proof,
    ProofReview,
    ReportChange,
    ReportValue,
    SenderRate,
    TrackPoint,
    WebSession,
)

# ---------------------------------------------------------------- the notice


def notice_text(settings: Settings, language: str) -> str:
    """The short notice a person gets on her first message on a channel."""
    return t(
        language,
        "privacy_notice",
        photo_days=settings.photos.retain_days,
        track_days=settings.tracks.retain_days,
    )


def notice_due(*, session: Session, person_id: int, channel: str) -> bool:
    """Whether this person has not yet been shown the notice on this channel."""
    return session.get(PrivacyNotice, (person_id, channel)) is None


def notices_shown(*, session: Session, person_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(person, channel) pairs among these people that have been shown the notice."""
    ids = sorted(set(person_ids))
    rows = session.exec(
        select(PrivacyNotice.person_id, PrivacyNotice.channel).where(
            col(PrivacyNotice.person_id).in_(ids)
        )
    ).all()
    return {(person_id, channel) for person_id, channel in rows}


def record_notice(*, session: Session, person_id: int, channel: str, now: dt.datetime) -> None:
    session.add(PrivacyNotice(person_id=person_id, channel=channel, shown_at=now))


# ---------------------------------------------------------------- retention


@dataclass
class Swept:
    """What one retention run removed."""

    photos: int = 0  # photo files deleted
    proofs: int = 0  # proofs reduced to verdict, distance and hash
    points: int = 0  # live-location points deleted
    tracks: int = 0
    parts: int = 0  # waiting photo/location halves deleted
    orphans: int = 0  # photo files no stored row named (left by a failed transaction)
    files: list[Path] = field(default_factory=list)


def apply_retention(*, session: Session, settings: Settings, now: dt.datetime) -> Swept:
    """Delete photos and locations past their retention; a proof keeps its verdict, distance and hash.

    Returns the files to delete once the transaction has committed.
    """
    photo_cutoff = now - dt.timedelta(days=settings.photos.retain_days)
    track_cutoff = now - dt.timedelta(days=settings.tracks.retain_days)
    swept = Swept()
    old = session.exec(
        select(Proof).where(
            col(Proof.taken_at) < photo_cutoff,
            or_(col(Proof.photo_path).is_not(None), col(Proof.lat).is_not(None)),
        )
    ).all()
    for proof in old:
        if proof.photo_path:
            swept.files.append(Path(proof.photo_path))
        _strip_proof(proof)
        session.add(proof)
        swept.proofs += 1
    # The point a photo was matched to lives as long as the photo; other points, as long as tracks do.
    result = session.execute(
        delete(TrackPoint).where(
            or_(
                (col(TrackPoint.at) < track_cutoff) & col(TrackPoint.kept).is_(False),
                col(TrackPoint.at) < photo_cutoff,
            )
        )
    )
    swept.points = int(result.rowcount)  # type: ignore[attr-defined]
    emptied = select(TrackPoint.id).where(TrackPoint.track_key == LiveTrack.track_key)
    result = session.execute(
        delete(LiveTrack).where(col(LiveTrack.live_until) < track_cutoff, ~emptied.exists())
    )
    swept.tracks = int(result.rowcount)  # type: ignore[attr-defined]
    parts = session.exec(
        select(PresencePart).where(
            col(PresencePart.sent_at) < track_cutoff, col(PresencePart.status) != "open"
        )
    ).all()
    for part in parts:
        if part.photo_path and part.status != "paired":
            swept.files.append(Path(part.photo_path))
        session.delete(part)
    swept.parts = len(parts)
    # Flood counts older than a day say nothing about anyone's next minute.
    session.execute(delete(SenderRate).where(col(SenderRate.minute) < int(now.timestamp()) // 60 - 1440))
    # A question past its time answers nothing: it goes, with the reading it held.
    session.execute(delete(PendingQuestion).where(col(PendingQuestion.expires_at) <= now))
    session.flush()
    still_needed = _files_in_use(session)
    swept.files = [path for path in set(swept.files) if str(path) not in still_needed]
    swept.photos = len(swept.files)
    return swept


def _strip_proof(proof: Proof) -> None:
    proof.photo_path = None
    proof.lat = proof.lon = proof.accuracy_m = None
    proof.exif_lat = proof.exif_lon = None
    proof.exif_taken_at = None


def _files_in_use(session: Session) -> set[str]:
    proofs = session.exec(select(Proof.photo_path).where(col(Proof.photo_path).is_not(None))).all()
    parts = session.exec(
        select(PresencePart.photo_path).where(
            col(PresencePart.photo_path).is_not(None), PresencePart.status == "open"
        )
    ).all()
    return {p for p in [*proofs, *parts] if p}


# A photo file younger than this may belong to a message still being handled: never swept.
ORPHAN_GRACE = dt.timedelta(hours=1)


def orphan_photos(
    *, session: Session, folder: Path, now: dt.datetime, grace: dt.timedelta = ORPHAN_GRACE
) -> list[Path]:
    """Files in the photo folder that no stored row names, older than the grace period.

    A photo is written before its message's transaction commits; if the commit fails (or the
    process dies), the file is left with no row that retention or erasure would ever find.
    """
    if not folder.is_dir():
        return []
    named: set[str] = set()
    for table in (Proof, PresencePart):
        paths = session.exec(select(table.photo_path).where(col(table.photo_path).is_not(None)))
        named.update(str(Path(p).resolve()) for p in paths if p)
    cutoff = (now - grace).timestamp()
    out = []
    for path in folder.rglob("*"):
        if not path.is_file() or str(path.resolve()) in named:
            continue
        try:
            if path.stat().st_mtime < cutoff:
                out.append(path)
        except FileNotFoundError:
            continue
    return sorted(out)


def remove_files(paths: Iterable[Path]) -> int:
    removed = 0
    for path in paths:
        if path.exists():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# ---------------------------------------------------------------- erasure


class UnknownPerson(Exception):
    pass


@dataclass
class Forgotten:
    person_id: int
    reports: int
    proofs: int
    files: list[Path]


def _scrubbed_key(key: str) -> str:
    return "forgotten:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def _phone_forms(phone: str) -> list[str]:
    """Every way a number shows up in text the bot wrote: +919876543210, 98765 43210, 9876543210."""
    digits = phone.removeprefix("+91")
    return [phone, local_phone(phone), digits, f"0{digits}"]


def forget(*, session: Session, phone: str, now: dt.datetime) -> Forgotten:
    """Erase a person's personal data; her counts stay, as an anonymous worker of the same unit."""
    link = session.get(PersonPhone, phone)
    person = session.get(Person, link.person_id) if link else None
    if person is None:
        person = session.exec(select(Person).where(Person.phone == phone)).first()
    if person is None or person.id is None:
        raise UnknownPerson(phone)
    pid = person.id
    phones = [p.phone for p in session.exec(select(PersonPhone).where(PersonPhone.person_id == pid))]
    phones = sorted({person.phone, *phones})
    name = person.name
    files: list[Path] = []

    proofs = session.exec(select(Proof).where(Proof.person_id == pid)).all()
    for proof in proofs:
        if proof.photo_path:
            files.append(Path(proof.photo_path))
        _strip_proof(proof)
        proof.chat_id = ""
        session.add(proof)
    # A reviewer's note on her proofs may name her; the decision stays with the proof.
    mine = select(Proof.id).where(Proof.person_id == pid)
    session.execute(update(ProofReview).where(col(ProofReview.proof_id).in_(mine)).values(note=""))
    # Her problems keep their code, place and days; her words and the notes on them may name her.
    problems = select(Problem.id).where(Problem.person_id == pid)
    session.execute(update(Problem).where(col(Problem.person_id) == pid).values(text="", note=""))
    session.execute(
        update(ProblemChange).where(col(ProblemChange.problem_id).in_(problems)).values(note="")
    )
    for part in session.exec(select(PresencePart).where(PresencePart.person_id == pid)).all():
        if part.photo_path:
            files.append(Path(part.photo_path))
        session.delete(part)
    tracks = select(LiveTrack.track_key).where(LiveTrack.person_id == pid)
    session.execute(delete(TrackPoint).where(col(TrackPoint.track_key).in_(tracks)))
    session.execute(delete(LiveTrack).where(col(LiveTrack.person_id) == pid))

    # Message keys carry chat and Telegram ids; keep them unique (redeliveries stay no-ops) but opaque.
    for message in session.exec(select(InboundMessage).where(InboundMessage.person_id == pid)).all():
        message.dedup_key = _scrubbed_key(message.dedup_key)
        message.source_key = _scrubbed_key(message.source_key) if message.source_key else None
        message.replies = "[]"
        session.add(message)
    for change in session.exec(select(ReportChange).where(ReportChange.person_id == pid)).all():
        if change.source_key:
            change.source_key = _scrubbed_key(change.source_key)
            session.add(change)
    session.execute(
        update(Outbox)
        .where(col(Outbox.person_id) == pid)
        .values(text="", address=None, attachment=None, attachment_name=None)
    )
    _scrub_texts(session, [name], [form for p in phones for form in _phone_forms(p)])
    session.execute(delete(ChannelContact).where(col(ChannelContact.person_id) == pid))
    session.execute(delete(PrivacyNotice).where(col(PrivacyNotice.person_id) == pid))
    session.execute(delete(PersonPhone).where(col(PersonPhone.person_id) == pid))
    session.execute(delete(WebSession).where(col(WebSession.person_id) == pid))
    session.execute(delete(LoginLink).where(col(LoginLink.person_id) == pid))
    session.execute(delete(PendingQuestion).where(col(PendingQuestion.person_id) == pid))
    # Files made for others (exports) may list her; they expire within hours, and go now.
    session.execute(delete(MediaFile))

    person.name = f"Anonymous {person.role} #{pid}"
    person.phone = f"forgotten:{pid}"
    person.worker_id = None
    person.telegram_user_id = None
    person.telegram_chat_id = None
    person.active = False
    person.updated_at = now
    session.add(person)
    reports = len(session.exec(select(DailyReport.id).where(DailyReport.person_id == pid)).all())
    session.flush()
    in_use = _files_in_use(session)
    return Forgotten(pid, reports, len(proofs), [f for f in set(files) if str(f) not in in_use])


# What may stand inside a word: Python's \w leaves out the vowel signs, viramas and nuktas of Hindi
# (\b finds a word's end in रामेश्वर right after राम), so the Devanagari block and the other Indian
# scripts' blocks count whole, with joiners and combining accents; the dandas (।, ॥) end a sentence.
_WORD = (
    r"\w\u0300-\u036f\u0900-\u0963\u0966-\u097f\u0980-\u0dff"
    r"\u1cd0-\u1cff\ua8e0-\ua8ff\u200c\u200d"
)


def erasing_pattern(names: Iterable[str], numbers: Iterable[str]) -> re.Pattern[str] | None:
    """What `forget` takes out of text: names of any length as whole words, numbers wherever they are."""
    words = {n.strip() for n in names if n.strip()}
    alternatives = [(n, rf"(?<![{_WORD}]){re.escape(n)}(?![{_WORD}])") for n in words]
    alternatives += [(n, re.escape(n)) for n in set(numbers) - words if n]
    if not alternatives:
        return None
    alternatives.sort(key=lambda pair: len(pair[0]), reverse=True)  # "Ram Kumar" before "Ram"
    return re.compile("|".join(pattern for _, pattern in alternatives))


def erase(pattern: re.Pattern[str], value: str) -> str:
    return pattern.sub("•••", value)


def _erase_replies(pattern: re.Pattern[str], replies: str) -> str:
    """Replies are stored as JSON: erase inside each text, not in its escaped form (`\\n` + name)."""
    try:
        items = json.loads(replies)
    except json.JSONDecodeError:
        return erase(pattern, replies)
    if not isinstance(items, list):
        return erase(pattern, replies)
    for item in items:
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str):
                    item[key] = erase(pattern, value)
    return json.dumps(items, ensure_ascii=False)


def _scrub_texts(session: Session, names: list[str], numbers: list[str]) -> None:
    """Take a name and numbers out of messages the bot wrote to others (digests, lists)."""
    pattern = erasing_pattern(names, numbers)
    if pattern is None:
        return
    needles = sorted({n.strip() for n in names if n.strip()} | {n for n in numbers if n})
    clauses = [col(Outbox.text).contains(n, autoescape=True) for n in needles]
    for row in session.exec(select(Outbox).where(or_(*clauses))).all():
        row.text = erase(pattern, row.text)
        session.add(row)
    replies = [col(InboundMessage.replies).contains(n, autoescape=True) for n in needles]
    for message in session.exec(select(InboundMessage).where(or_(*replies))).all():
        message.replies = _erase_replies(pattern, message.replies)
        session.add(message)


def compact(engine: Engine) -> None:
    """After an erasure on SQLite, rewrite the file: no deleted bytes linger in free pages or the WAL."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# ---------------------------------------------------------------- access


def _row(obj: Any, drop: Iterable[str] = ()) -> dict[str, Any]:
    data = obj.model_dump()
    for key in drop:
        data.pop(key, None)
    return {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in data.items()}


def access(*, session: Session, phone: str) -> dict[str, Any]:
    """Everything held about one person, as a document she can be given."""
    link = session.get(PersonPhone, phone)
    person = session.get(Person, link.person_id) if link else None
    if person is None or person.id is None:
        raise UnknownPerson(phone)
    pid = person.id
    reports = session.exec(select(DailyReport).where(DailyReport.person_id == pid)).all()
    values = {
        (v.report_id, v.metric): v.value
        for v in session.exec(
            select(ReportValue).where(col(ReportValue.report_id).in_([r.id for r in reports]))
        ).all()
    }
    tracks = session.exec(select(LiveTrack).where(LiveTrack.person_id == pid)).all()
    points = session.exec(
        select(TrackPoint).where(col(TrackPoint.track_key).in_([t.track_key for t in tracks]))
    ).all()
    return {
        "person": _row(person),
        "phones": [
            p.phone for p in session.exec(select(PersonPhone).where(PersonPhone.person_id == pid))
        ],
        "posts": [_row(p) for p in session.exec(select(Post).where(Post.person_id == pid))],
        "reports": [
            {
                **_row(r),
                "values": {m: v for (rid, m), v in values.items() if rid == r.id},
            }
            for r in reports
        ],
        "report_changes": [
            _row(c) for c in session.exec(select(ReportChange).where(ReportChange.person_id == pid))
        ],
        "proofs": [_row(p) for p in session.exec(select(Proof).where(Proof.person_id == pid))],
        "proof_reviews": [
            _row(r)
            for r in session.exec(
                select(ProofReview).where(
                    col(ProofReview.proof_id).in_(select(Proof.id).where(Proof.person_id == pid))
                )
            )
        ],
        "waiting_photos_and_locations": [
            _row(p) for p in session.exec(select(PresencePart).where(PresencePart.person_id == pid))
        ],
        "live_locations": [_row(t) for t in tracks],
        "live_location_points": [_row(p) for p in points],
        "messages_received": [
            _row(m, drop=["replies"])
            for m in session.exec(select(InboundMessage).where(InboundMessage.person_id == pid))
        ],
        "messages_sent": [
            _row(m, drop=["attachment"])
            for m in session.exec(select(Outbox).where(Outbox.person_id == pid))
        ],
        "channels": [
            _row(c) for c in session.exec(select(ChannelContact).where(ChannelContact.person_id == pid))
        ],
        "privacy_notices": [
            _row(n) for n in session.exec(select(PrivacyNotice).where(PrivacyNotice.person_id == pid))
        ],
        "questions_waiting": [
            _row(q)
            for q in session.exec(select(PendingQuestion).where(PendingQuestion.person_id == pid))
        ],
        "problems": [_row(p) for p in session.exec(select(Problem).where(Problem.person_id == pid))],
    }


def access_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")

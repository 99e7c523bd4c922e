"""Every database query the bot makes, as keyword-only, session-first functions."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.messages import Reply
from models import (
    DailyReport,
    InboundMessage,
    Person,
    PersonPhone,
    ReportChange,
    ReportValue,
    utcnow,
)

# ---------------------------------------------------------------- people


def person_by_phone(*, session: Session, phone: str) -> Person | None:
    """The person any of whose numbers this is."""
    row = session.get(PersonPhone, phone)
    return session.get(Person, row.person_id) if row else None


def person_by_telegram(*, session: Session, telegram_user_id: int) -> Person | None:
    return session.exec(select(Person).where(Person.telegram_user_id == telegram_user_id)).first()


def link_telegram(*, session: Session, person: Person, user_id: int, chat_id: int) -> None:
    """Tie a Telegram account to a roster person; an account moves if it was tied to another."""
    session.execute(
        update(Person)
        .where(col(Person.telegram_user_id) == user_id, col(Person.id) != person.id)
        .values(telegram_user_id=None, telegram_chat_id=None)
    )
    person.telegram_user_id = user_id
    person.telegram_chat_id = chat_id
    person.updated_at = utcnow()
    session.add(person)


def set_language(*, session: Session, person: Person, language: str) -> None:
    person.language = language
    person.updated_at = utcnow()
    session.add(person)


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class Change:
    """One metric changed by one message: old is None where nothing was reported before."""

    day: dt.date
    metric: str
    old: int | None
    new: int | None
    added: int | None = None  # the `+5` that produced `new`


def _lock_report(*, session: Session, person: Person, day: dt.date) -> DailyReport:
    """The person's report row for the day, created if needed and locked for this transaction.

    Two messages from one worker at once (two web processes) serialise on this row.
    """
    assert person.id is not None
    if person.sector_id is None or person.block_id is None or person.district_id is None:
        raise ValueError("a report needs a field worker with a sector")
    now = utcnow()
    values = {
        "person_id": person.id,
        "day": day,
        "district_id": person.district_id,
        "block_id": person.block_id,
        "sector_id": person.sector_id,
        "village_id": person.village_id,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    table = DailyReport.__table__  # type: ignore[attr-defined]
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    session.execute(insert.values(**values).on_conflict_do_nothing())
    query = select(DailyReport).where(DailyReport.person_id == person.id, DailyReport.day == day)
    if dialect == "postgresql":
        query = query.with_for_update()
    report = session.exec(query.execution_options(populate_existing=True)).one()
    return report


def report_values(*, session: Session, person_id: int, day: dt.date) -> dict[str, int]:
    """What a worker has reported for a day, per metric."""
    rows = session.exec(
        select(ReportValue.metric, ReportValue.value)
        .join(DailyReport, col(DailyReport.id) == col(ReportValue.report_id))
        .where(DailyReport.person_id == person_id, DailyReport.day == day)
    ).all()
    return dict(rows)


def has_reported(*, session: Session, person_id: int, day: dt.date) -> bool:
    """A day counts as reported while it holds at least one value (a 0 counts; all undone does not)."""
    return bool(report_values(session=session, person_id=person_id, day=day))


def person_totals(
    *, session: Session, person_id: int, start: dt.date | None = None, end: dt.date | None = None
) -> dict[str, int]:
    """A worker's sums per metric over a range of days (open-ended where not given)."""
    query = (
        select(ReportValue.metric, func.sum(ReportValue.value))
        .join(DailyReport, col(DailyReport.id) == col(ReportValue.report_id))
        .where(DailyReport.person_id == person_id)
        .group_by(col(ReportValue.metric))
    )
    if start is not None:
        query = query.where(DailyReport.day >= start)
    if end is not None:
        query = query.where(DailyReport.day <= end)
    return {metric: int(total or 0) for metric, total in session.exec(query).all()}


def plan_changes(
    current: Mapping[str, int], entries: Iterable[tuple[str, int, bool]], day: dt.date
) -> list[Change]:
    """What a report would change: named values replace, `+n` adds."""
    changes = []
    for metric, value, add in entries:
        old = current.get(metric)
        new = (old or 0) + value if add else value
        changes.append(Change(day, metric, old, new, value if add else None))
    return changes


def _write_value(*, session: Session, report: DailyReport, metric: str, value: int | None) -> None:
    assert report.id is not None
    existing = session.get(ReportValue, (report.id, metric))
    if value is None:
        if existing is not None:
            session.delete(existing)
    elif existing is None:
        session.add(ReportValue(report_id=report.id, metric=metric, value=value))
    else:
        existing.value = value
        session.add(existing)


def apply_changes(
    *,
    session: Session,
    person: Person,
    changes: Sequence[Change],
    kind: str,
    channel: str,
    source_key: str | None,
    group: str | None = None,
) -> str:
    """Write changes and their audit rows as one group; return the group id for /undo."""
    assert person.id is not None
    group = group or uuid.uuid4().hex
    now = utcnow()
    reports: dict[dt.date, DailyReport] = {}
    for change in changes:
        report = reports.get(change.day)
        if report is None:
            report = reports[change.day] = _lock_report(session=session, person=person, day=change.day)
        assert report.id is not None
        _write_value(session=session, report=report, metric=change.metric, value=change.new)
        session.add(
            ReportChange(
                report_id=report.id,
                person_id=person.id,
                day=change.day,
                metric=change.metric,
                old_value=change.old,
                new_value=change.new,
                kind=kind,
                change_group=group,
                source_key=source_key,
                channel=channel,
                changed_at=now,
            )
        )
        report.updated_at = now
        session.add(report)
    return group


def lock_for_report(*, session: Session, person: Person, day: dt.date) -> dict[str, int]:
    """Lock the worker's day and return its current values (the basis of a re-report)."""
    report = _lock_report(session=session, person=person, day=day)
    rows = session.exec(select(ReportValue).where(ReportValue.report_id == report.id)).all()
    return {row.metric: row.value for row in rows}


def undo_last(*, session: Session, person: Person, channel: str) -> list[Change]:
    """Revert the person's most recent change group that is not already undone."""
    assert person.id is not None
    last = session.exec(
        select(ReportChange.change_group)
        .where(
            ReportChange.person_id == person.id,
            col(ReportChange.undone).is_(False),
            ReportChange.kind != "undo",
        )
        .order_by(col(ReportChange.id).desc())
        .limit(1)
    ).first()
    if last is None:
        return []
    rows = session.exec(
        select(ReportChange)
        .where(ReportChange.change_group == last)
        .order_by(col(ReportChange.id).desc())
    ).all()
    reverted: list[Change] = []
    for row in rows:
        _lock_report(session=session, person=person, day=row.day)
        reverted.append(Change(row.day, row.metric, row.new_value, row.old_value))
        row.undone = True
        session.add(row)
    # Oldest first in the reply and the audit, as the worker wrote them.
    reverted.reverse()
    apply_changes(
        session=session,
        person=person,
        changes=reverted,
        kind="undo",
        channel=channel,
        source_key=None,
    )
    return reverted


def changes_from_source(*, session: Session, source_key: str) -> list[ReportChange]:
    """Every live change an original message (and its earlier edits) made, oldest first."""
    return list(
        session.exec(
            select(ReportChange)
            .where(ReportChange.source_key == source_key, col(ReportChange.undone).is_(False))
            .order_by(col(ReportChange.id))
        ).all()
    )


def revert_plan(*, session: Session, person: Person, earlier: Sequence[ReportChange]) -> list[Change]:
    """Changes that take back what an edited message had reported, where nobody changed it since."""
    first_old: dict[tuple[dt.date, str], int | None] = {}
    last_new: dict[tuple[dt.date, str], int | None] = {}
    for row in earlier:
        first_old.setdefault((row.day, row.metric), row.old_value)
        last_new[(row.day, row.metric)] = row.new_value
    plan: list[Change] = []
    assert person.id is not None
    for (day, metric), original in first_old.items():
        current = report_values(session=session, person_id=person.id, day=day).get(metric)
        if current == last_new[(day, metric)] and current != original:
            plan.append(Change(day, metric, current, original))
    return plan


# ---------------------------------------------------------------- inbound messages


def processed_replies(*, session: Session, dedup_key: str) -> list[Reply] | None:
    """The replies already given to this message, if it was processed before."""
    row = session.exec(select(InboundMessage).where(InboundMessage.dedup_key == dedup_key)).first()
    if row is None:
        return None
    return [Reply.from_json(item) for item in json.loads(row.replies)]


def record_inbound(
    *,
    session: Session,
    channel: str,
    dedup_key: str,
    source_key: str | None,
    person_id: int | None,
    sent_at: dt.datetime,
    replies: Sequence[Reply],
) -> None:
    """Mark a message processed, in the same transaction as what it changed."""
    session.add(
        InboundMessage(
            channel=channel,
            dedup_key=dedup_key,
            source_key=source_key,
            person_id=person_id,
            sent_at=sent_at,
            replies=json.dumps([r.to_json() for r in replies], ensure_ascii=False),
        )
    )
    session.flush()


def is_duplicate_error(exc: IntegrityError) -> bool:
    return "dedup_key" in str(exc.orig) or "inbound_message" in str(exc.orig)

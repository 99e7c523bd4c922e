"""The proofs table: reading proofs for a unit and range of days, their counts, and the CSV
of `fieldbot proofs` and the dashboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.store.units import Unit
from models import Block, District, Person, Proof, ProofReview, Sector, Village

# ---------------------------------------------------------------- reading proofs


@dataclass(frozen=True)
class ProofRow:
    proof: Proof
    worker: str
    phone: str
    district: str
    block: str
    sector: str


def proof_scope(unit: Unit) -> list[ColumnElement[bool]]:
    if unit.level == "state":
        return []
    column = {"district": Proof.district_id, "block": Proof.block_id, "sector": Proof.sector_id}[
        unit.level
    ]
    return [col(column) == unit.id]


def proofs(
    *,
    session: Session,
    start: dt.date,
    end: dt.date,
    units: Sequence[Unit] | None = None,
    person_id: int | None = None,
) -> list[ProofRow]:
    """Proofs in a date range, within any of the units (or of one person), oldest first."""
    query = (
        sa_select(
            Proof,
            col(Person.name),
            col(Person.phone),
            col(District.name),
            col(Block.name),
            col(Sector.name),
        )
        .join(Person, col(Person.id) == col(Proof.person_id))
        .join(District, col(District.id) == col(Proof.district_id))
        .join(Block, col(Block.id) == col(Proof.block_id))
        .join(Sector, col(Sector.id) == col(Proof.sector_id))
        .where(col(Proof.day) >= start, col(Proof.day) <= end)
    )
    if person_id is not None:
        query = query.where(col(Proof.person_id) == person_id)
    if units is not None:
        clauses = [and_(*scope) if (scope := proof_scope(unit)) else true() for unit in units]
        query = query.where(or_(*clauses))
    rows = session.execute(query.order_by(col(Proof.taken_at), col(Proof.id))).all()
    return [ProofRow(p, name, phone, d, b, s) for p, name, phone, d, b, s in rows]


def village_name(*, session: Session, village_id: int | None, language: str = "en") -> str | None:
    """The village's name in the reader's language (its Devanagari name for Hindi, where known)."""
    village = session.get(Village, village_id) if village_id is not None else None
    if village is None:
        return None
    return (village.name_hi or village.name) if language == "hi" else village.name


def reused_day(*, session: Session, proof: Proof) -> dt.date | None:
    """The day of the earlier proof this one re-used a photo of."""
    if proof.reused_proof_id is None:
        return None
    earlier = session.get(Proof, proof.reused_proof_id)
    return earlier.day if earlier else None


def proof_counts(*, session: Session, unit: Unit, day: dt.date) -> tuple[int, int]:
    """(proofs, of which needing review) in a unit on a day."""
    rows = session.exec(
        select(Proof.verdict, func.count())
        .where(col(Proof.day) == day, *proof_scope(unit))
        .group_by(col(Proof.verdict))
    ).all()
    counts = dict(rows)
    return sum(counts.values()), counts.get("needs_review", 0)


PROOF_COLUMNS = (
    "date",
    "time",
    "district",
    "block",
    "sector",
    "worker",
    "phone",
    "lat",
    "lon",
    "distance_m",
    "live",
    "verdict",
    "reasons",
    "review",
    "review_note",
)


def proof_table(
    *,
    session: Session,
    settings: Settings,
    start: dt.date,
    end: dt.date,
    units: Sequence[Unit] | None = None,
) -> list[tuple[object, ...]]:
    """The proofs table of interface.md: one row per proof (within `units`), oldest first,
    with the review a supervisor or BMO gave it on the dashboard."""
    out: list[tuple[object, ...]] = []
    found = proofs(session=session, start=start, end=end, units=units)
    ids = [row.proof.id for row in found]
    reviews = {
        r.proof_id: r
        for r in session.exec(select(ProofReview).where(col(ProofReview.proof_id).in_(ids))).all()
    }
    for row in found:
        proof = row.proof
        review = reviews.get(proof.id or 0)
        local = proof.taken_at.astimezone(settings.tz)
        out.append(
            (
                proof.day.isoformat(),
                f"{local:%H:%M}",
                row.district,
                row.block,
                row.sector,
                row.worker,
                row.phone,
                round(proof.lat, 6) if proof.lat is not None else "",
                round(proof.lon, 6) if proof.lon is not None else "",
                round(proof.distance_m) if proof.distance_m is not None else "",
                "true" if proof.live else "false",
                proof.verdict,
                proof.reasons,
                review.decision if review else "",
                review.note if review else "",
            )
        )
    return out

"""Field-presence messages: a photo, a location, a live-location update, and /photos."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot import photos
from bot.config import Settings
from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.i18n import short_date, t
from bot.numbers import indian
from bot.parser import Command, Report
from bot.presence import parts
from bot.presence.proofs import proofs, reused_day, village_name
from bot.presence.rules import Fix
from bot.store.units import home_units
from handlers import reports
from handlers.common import asked_units, read_args
from models import Proof

MAX_LISTED = 30


def _window(ctx: Context) -> dt.timedelta:
    return dt.timedelta(minutes=ctx.settings.presence.pair_minutes)


def _expiry(ctx: Context) -> dt.datetime:
    """When a waiting half gives up: the pairing window, plus a minute for slow deliveries."""
    return ctx.inbound.sent_at + _window(ctx) + dt.timedelta(minutes=1)


def _arrival(ctx: Context) -> parts.Arrival:
    inbound = ctx.inbound
    return parts.Arrival(ctx.person, inbound.channel, inbound.chat_id, inbound.is_group, inbound.sent_at)


def _quiet(ctx: Context, replies: list[Reply]) -> list[Reply]:
    """In a group the bot says verdicts only; prompts and refusals stay out of it."""
    return [] if ctx.inbound.is_group else replies


def photo(ctx: Context) -> list[Reply]:
    """A photo: checked, stored by its hash, then paired with a location or left waiting for one."""
    inbound, settings = ctx.inbound, ctx.settings
    limits = settings.presence
    replies = _caption_report(ctx)
    place = parts.place_of(session=ctx.session, person=ctx.person)
    if place is None:
        return replies + _quiet(ctx, [ctx.say("proof_not_for_role")])
    if inbound.photo_refused or inbound.photo is None:
        return replies + _quiet(ctx, [_refusal(ctx, inbound.photo_refused or "not_image")])
    try:
        facts = photos.inspect(
            inbound.photo,
            max_bytes=int(limits.max_photo_mb * 1024 * 1024),
            max_pixels=int(limits.max_photo_megapixels * 1_000_000),
        )
    except photos.PhotoRefused as refused:
        return replies + _quiet(ctx, [_refusal(ctx, refused.reason)])
    if facts.exif_taken_at is not None and facts.exif_taken_at.tzinfo is None:
        # A camera that wrote no offset wrote local time.
        facts = dataclasses.replace(facts, exif_taken_at=facts.exif_taken_at.replace(tzinfo=settings.tz))
    path = photos.store(settings.resolve_path(limits.photo_dir), facts, inbound.photo)
    parts.lock_person(session=ctx.session, person=ctx.person)
    assert ctx.person.id is not None
    fix = parts.nearest_fix(
        session=ctx.session, person_id=ctx.person.id, at=inbound.sent_at, window=_window(ctx)
    )
    if fix is None:
        part = parts.PhotoPart(facts, path, inbound.photo_file, forwarded=inbound.forwarded)
        parts.save_photo_part(
            session=ctx.session, arrival=_arrival(ctx), photo=part, expires_at=_expiry(ctx)
        )
        # WhatsApp passes no live location to the bot: ask for a pin there.
        key = "photo_waiting_pin" if inbound.channel == "whatsapp" else "photo_waiting"
        return replies + _quiet(ctx, [ctx.say(key, minutes=limits.pair_minutes)])
    proof = parts.make_proof(
        session=ctx.session,
        settings=settings,
        person=ctx.person,
        place=place,
        channel=inbound.channel,
        chat_id=inbound.chat_id,
        taken_at=inbound.sent_at,
        facts=facts,
        photo_path=str(path),
        photo_file=inbound.photo_file,
        fix=fix,
        photo_forwarded=inbound.forwarded,
    )
    return [
        *replies,
        verdict(
            ctx,
            proof,
            village_name(session=ctx.session, village_id=proof.village_id, language=ctx.lang),
        ),
    ]


def _caption_report(ctx: Context) -> list[Reply]:
    """A caption that reads as a report counts as one: a proof never holds up the day's numbers."""
    text = (ctx.inbound.text or "").strip()
    if not text or len(text) > ctx.settings.reporting.max_message_chars:
        return []
    parsed = ctx.parser.parse(text)
    return reports.report(ctx, parsed) if isinstance(parsed, Report) else []


def location(ctx: Context) -> list[Reply]:
    """A location pin or a live location (and its updates): paired with waiting photos, or kept."""
    inbound = ctx.inbound
    where = inbound.location
    assert where is not None and ctx.person.id is not None
    place = parts.place_of(session=ctx.session, person=ctx.person)
    if place is None:
        return [] if inbound.is_edit else _quiet(ctx, [ctx.say("proof_not_for_role")])
    parts.lock_person(session=ctx.session, person=ctx.person)
    # A forwarded location is someone's earlier point, never her live track.
    live = (where.live or inbound.is_edit) and not inbound.forwarded
    fix: Fix
    if live:
        point = parts.add_track_point(
            session=ctx.session,
            track_key=inbound.source_key or inbound.dedup_key,
            person=ctx.person,
            channel=inbound.channel,
            chat_id=inbound.chat_id,
            is_group=inbound.is_group,
            at=inbound.edited_at or inbound.sent_at,
            lat=where.lat,
            lon=where.lon,
            accuracy_m=where.accuracy_m,
            live_period_s=where.live_period_s,
        )
        if point is None:
            return []
        fix = Fix(point.lat, point.lon, point.at, point.accuracy_m, True, point_id=point.id)
    else:
        part = parts.save_location_part(
            session=ctx.session,
            arrival=_arrival(ctx),
            lat=where.lat,
            lon=where.lon,
            accuracy_m=where.accuracy_m,
            expires_at=_expiry(ctx),
            forwarded=inbound.forwarded,
        )
        fix = Fix(
            where.lat,
            where.lon,
            part.sent_at,
            where.accuracy_m,
            False,
            part_id=part.id,
            forwarded=inbound.forwarded,
        )
    waiting = parts.open_photos(
        session=ctx.session, person_id=ctx.person.id, at=fix.at, window=_window(ctx)
    )
    replies = []
    for part in waiting:
        proof = parts.make_proof(
            session=ctx.session,
            settings=ctx.settings,
            person=ctx.person,
            place=place,
            channel=part.channel,
            chat_id=part.chat_id,
            taken_at=part.sent_at,
            facts=parts.photo_facts_of(part),
            photo_path=part.photo_path,
            photo_file=part.photo_file,
            fix=fix,
            photo_forwarded=part.forwarded,
        )
        part.status, part.proof_id = "paired", proof.id
        ctx.session.add(part)
        replies.append(
            verdict(
                ctx,
                proof,
                village_name(session=ctx.session, village_id=proof.village_id, language=ctx.lang),
            )
        )
    if replies or inbound.is_edit:
        return replies
    key = "live_waiting" if live else "location_waiting"
    return _quiet(ctx, [ctx.say(key, minutes=ctx.settings.presence.pair_minutes)])


def _refusal(ctx: Context, reason: str) -> Reply:
    limits = ctx.settings.presence
    if reason == "too_large":
        return ctx.say("photo_too_large", max_mb=indian(round(limits.max_photo_mb)))
    if reason == "too_many_pixels":
        return ctx.say("photo_too_many_pixels", max_mp=indian(round(limits.max_photo_megapixels)))
    if reason == "unavailable":
        return ctx.say("photo_unavailable")
    return ctx.say("photo_not_image")


def distance_text(metres: float, lang: str) -> str:
    """350 मी. / 5.2 कि.मी. — how far, the way a worker says it."""
    if metres < 1000:
        return f"{round(metres)} {'m' if lang == 'en' else 'मी.'}"
    km = f"{metres / 1000:.1f}".replace(".0", "") if metres < 100_000 else indian(round(metres / 1000))
    return f"{km} {'km' if lang == 'en' else 'कि.मी.'}"


def reason_texts(
    proof: Proof, village: str | None, lang: str, settings: Settings, reused_day: dt.date | None
) -> list[str]:
    """Each reason a proof needs review, in words."""
    local = proof.taken_at.astimezone(settings.tz)
    hours = settings.field_hours
    out = []
    for code in filter(None, proof.reasons.split(";")):
        values: dict[str, object] = {}
        if code == "far_from_village":
            values = {
                "village": village or "?",
                "distance": distance_text(proof.distance_m or 0, lang),
                "radius": distance_text(proof.radius_m, lang),
            }
        elif code == "outside_field_hours":
            values = {
                "start": f"{hours.start:%H:%M}",
                "end": f"{hours.end:%H:%M}",
                "time": f"{local:%H:%M}",
            }
        elif code == "reused_photo":
            values = {"date": short_date(reused_day or proof.day, lang)}
        elif code == "low_accuracy":
            values = {"accuracy": distance_text(proof.accuracy_m or 0, lang)}
        out.append(t(lang, f"reason_{code}", **values))
    return out


def verdict(ctx: Context, proof: Proof, village: str | None) -> Reply:
    """One or two lines for the worker; in a group, one line with her name."""
    lang = ctx.lang
    local = proof.taken_at.astimezone(ctx.settings.tz)
    if proof.distance_m is not None and village:
        where = t(lang, "proof_where", village=village, distance=distance_text(proof.distance_m, lang))
    else:
        where = t(lang, "proof_where_unknown")
    reused = reused_day(session=ctx.session, proof=proof)
    reasons = "; ".join(reason_texts(proof, village, lang, ctx.settings, reused))
    if ctx.inbound.is_group:
        if proof.verdict == "verified":
            return ctx.say("proof_group_verified", name=ctx.person.name, where=where)
        return ctx.say("proof_group_review", name=ctx.person.name, reasons=reasons)
    if proof.verdict == "verified":
        return ctx.say("proof_verified", where=where, time=f"{local:%H:%M}")
    return ctx.say("proof_review", reasons=reasons)


def photos_command(ctx: Context, command: Command) -> list[Reply]:
    """/photos: today's proofs in the asker's units, those needing review first."""
    lang, day = ctx.lang, ctx.today
    if ctx.inbound.is_group:
        return [ctx.say("private_only")]  # names and review reasons are not for the whole group
    assert ctx.person.id is not None
    if ctx.person.is_field_worker:
        units = home_units(ctx.session, ctx.person, ctx.settings.state)
        rows = proofs(session=ctx.session, start=day, end=day, person_id=ctx.person.id)
    else:
        _, unit_text = read_args(ctx, command)
        found = asked_units(ctx, unit_text)
        if isinstance(found, Reply):
            return [found]
        units = found
        rows = proofs(session=ctx.session, start=day, end=day, units=units)
    names = ", ".join(u.path for u in units) or ctx.person.name
    if not rows:
        return [ctx.say("photos_none", units=names, date=short_date(day, lang))]
    review = [r for r in rows if r.proof.verdict != "verified"]
    verified = [r for r in rows if r.proof.verdict == "verified"]
    lines = [
        t(
            lang,
            "photos_head",
            units=names,
            date=short_date(day, lang),
            review=indian(len(review)),
            verified=indian(len(verified)),
        )
    ]
    for row in [*review, *verified][:MAX_LISTED]:
        proof = row.proof
        local = proof.taken_at.astimezone(ctx.settings.tz)
        village = village_name(session=ctx.session, village_id=proof.village_id, language=lang)
        if proof.verdict == "verified":
            detail = distance_text(proof.distance_m, lang) if proof.distance_m is not None else ""
            lines.append(f"✅ {row.worker} {local:%H:%M} {detail}".rstrip())
        else:
            reused = reused_day(session=ctx.session, proof=proof)
            why = "; ".join(reason_texts(proof, village, lang, ctx.settings, reused))
            lines.append(f"⚠️ {row.worker} ({row.sector}) {local:%H:%M} — {why}")
    if len(rows) > MAX_LISTED:
        lines.append(t(lang, "photos_more", count=indian(len(rows) - MAX_LISTED)))
    return [Reply("\n".join(lines))]

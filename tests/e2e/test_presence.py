"""Field-presence proofs through the core: pairing, each check, refusals, expiry, /photos, the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import build_core
from bot.config import Settings
from bot.core.messages import Location
from bot.core.service import Fieldbot
from bot.photos import hash_distance, inspect
from models import Outbox, PresencePart, Proof
from scheduler import expire_presence
from tests.conftest import (
    IST,
    RAJESH,
    ROOT,
    SUNITA,
    USHA,
    Chat,
    at,
    child_url,
    import_csv,
)
from tests.images import cropped, photo, recompressed, scene

NASREEN = "08209773026"  # BMO of Bilgram: not Sunita's block
REKHA = "7339325088"  # ASHA, Sandila-1, village Behta Gokul
POOJA = "+91 97697 57560"  # ASHA who reads English
ATWA = (27.095652, 80.484237)  # Sunita's village centre
BEHTA_GOKUL = (27.088357, 80.516651)  # Rekha's village, about 3.3 km east of Atwa
FIVE_KM_NORTH = (27.095652 + 0.0451, 80.484237)
NEAR_ATWA = (27.0961, 80.4846)  # about 60 m from the centre


def here(point: tuple[float, float], accuracy: float | None = 15.0, live: bool = False) -> Location:
    return Location(point[0], point[1], accuracy, live=live)


def proofs_of(engine: Engine) -> list[Proof]:
    with Session(engine) as session:
        return list(session.exec(select(Proof).order_by(Proof.id)).all())  # type: ignore[arg-type]


def send_proof(
    chat: Chat,
    phone: str,
    when: dt.datetime,
    point: tuple[float, float],
    image: bytes,
    **photo_extra: object,
) -> str:
    """A photo, then a location a minute later: the verdict reply."""
    chat.say(phone, None, when, photo=image, **photo_extra)
    return chat.say(phone, None, when + dt.timedelta(minutes=1), location=here(point))


def test_photo_then_location_in_the_village_in_field_hours_is_verified(
    chat: Chat, district: Engine
) -> None:
    waiting = chat.say(SUNITA, None, at(23, 10, 30), photo=photo(1))
    assert "लोकेशन भेजें" in waiting
    reply = chat.say(SUNITA, None, at(23, 10, 33), location=here(NEAR_ATWA))
    assert reply.startswith("✅")
    assert "Atwa" in reply and "मी." in reply and "10:30" in reply
    [proof] = proofs_of(district)
    assert proof.verdict == "verified" and proof.reasons == ""
    assert proof.distance_m is not None and 40 < proof.distance_m < 80
    assert proof.day == dt.date(2026, 11, 23)
    assert not proof.live


def test_location_first_then_photo_makes_the_same_proof(chat: Chat, district: Engine) -> None:
    assert "फ़ोटो भेजें" in chat.say(SUNITA, None, at(23, 11), location=here(NEAR_ATWA))
    assert chat.say(SUNITA, None, at(23, 11, 6), photo=photo(2)).startswith("✅")
    assert [p.verdict for p in proofs_of(district)] == ["verified"]


def test_five_km_away_needs_review_with_the_distance(chat: Chat, district: Engine) -> None:
    reply = send_proof(chat, SUNITA, at(23, 12), FIVE_KM_NORTH, photo(3))
    assert reply.startswith("⚠️")
    assert "5 कि.मी." in reply and "सीमा 2 कि.मी." in reply
    [proof] = proofs_of(district)
    assert proof.verdict == "needs_review" and proof.reasons == "far_from_village"
    assert proof.distance_m is not None and 4900 < proof.distance_m < 5100


def test_the_neighbouring_village_outside_the_radius_needs_review(chat: Chat, district: Engine) -> None:
    send_proof(chat, SUNITA, at(23, 12), BEHTA_GOKUL, photo(4))
    send_proof(chat, REKHA, at(23, 12, 30), BEHTA_GOKUL, photo(5))
    sunita, rekha = proofs_of(district)
    assert sunita.reasons == "far_from_village"
    assert rekha.verdict == "verified"


def test_a_photo_at_nine_at_night_is_outside_field_hours(chat: Chat, district: Engine) -> None:
    reply = send_proof(chat, SUNITA, at(23, 21), NEAR_ATWA, photo(6))
    assert "फ़ील्ड समय 09:00–18:00 के बाहर (21:00)" in reply
    assert proofs_of(district)[0].reasons == "outside_field_hours"


def test_field_hours_come_from_the_config(district: Engine, settings: Settings) -> None:
    data = settings.model_dump()
    data["field_hours"] = {"start": dt.time(8), "end": dt.time(22)}
    data["schedule"] = {
        **data["schedule"],
        "supervisor_digest": dt.time(22, 30),
        "bmo_digest": dt.time(22, 45),
        "district_digest": dt.time(23),
    }
    late = Chat(build_core(Settings.model_validate(data), district, clock=lambda: at(23, 23, 59)))
    assert send_proof(late, SUNITA, at(23, 21), NEAR_ATWA, photo(6)).startswith("✅")


@pytest.mark.parametrize(
    "copy",
    [lambda b: b, recompressed, cropped],
    ids=["same-bytes", "recompressed", "cropped"],
)
def test_another_workers_photo_sent_again_is_caught(chat: Chat, district: Engine, copy: object) -> None:
    original = photo(7)
    send_proof(chat, SUNITA, at(22, 10), NEAR_ATWA, original)
    reply = send_proof(chat, REKHA, at(23, 10), BEHTA_GOKUL, copy(original))  # type: ignore[operator]
    assert "पहले भी भेजी जा चुकी है (22/11)" in reply
    first, second = proofs_of(district)
    assert second.reasons == "reused_photo" and second.reused_proof_id == first.id
    assert second.reuse_bits is not None and second.reuse_bits <= 10


def test_different_photos_are_not_taken_for_reuse(chat: Chat, district: Engine) -> None:
    for n, when in enumerate([at(21, 10), at(22, 10), at(23, 10)]):
        send_proof(chat, SUNITA, when, NEAR_ATWA, photo(20 + n))
    assert [p.verdict for p in proofs_of(district)] == ["verified"] * 3
    hashes = [p.photo_phash for p in proofs_of(district)]
    assert min(hash_distance(a, b) for a in hashes for b in hashes if a != b) > 10


def test_photo_sent_as_a_file_is_checked_against_its_exif(chat: Chat, district: Engine) -> None:
    honest = photo(8, gps=NEAR_ATWA, taken=at(23, 10, 28))
    assert send_proof(chat, SUNITA, at(23, 10, 30), NEAR_ATWA, honest, photo_file=True).startswith("✅")
    elsewhere = photo(9, gps=FIVE_KM_NORTH, taken=at(23, 11, 0))
    reply = send_proof(chat, SUNITA, at(23, 11, 2), NEAR_ATWA, elsewhere, photo_file=True)
    assert "मेल नहीं खाता" in reply
    old = photo(10, gps=NEAR_ATWA, taken=at(20, 10, 0).replace(tzinfo=None))  # no offset: local time
    send_proof(chat, SUNITA, at(23, 12), NEAR_ATWA, old, photo_file=True)
    first, second, third = proofs_of(district)
    assert first.exif_distance_m is not None and first.exif_distance_m < 50
    assert second.reasons == "exif_mismatch"
    assert second.exif_distance_m is not None and second.exif_distance_m > 4900
    assert third.reasons == "exif_mismatch"
    assert third.exif_minutes == pytest.approx(3 * 24 * 60 + 120, abs=1)


def test_exif_is_ignored_when_the_photo_came_compressed(chat: Chat, district: Engine) -> None:
    """A chat app strips EXIF from compressed photos; only a file's EXIF is evidence."""
    tagged = photo(11, gps=FIVE_KM_NORTH, taken=at(20, 10))
    assert send_proof(chat, SUNITA, at(23, 10), NEAR_ATWA, tagged).startswith("✅")
    assert proofs_of(district)[0].exif_distance_m is None


def test_an_imprecise_location_needs_review(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, None, at(23, 10), photo=photo(12))
    reply = chat.say(SUNITA, None, at(23, 10, 1), location=here(NEAR_ATWA, accuracy=1500))
    assert "सटीक नहीं (±2 कि.मी.)" in reply or "सटीक नहीं (±1.5 कि.मी.)" in reply
    [proof] = proofs_of(district)
    assert proof.reasons == "low_accuracy" and proof.accuracy_m == 1500


def test_several_reasons_are_all_given(chat: Chat, district: Engine) -> None:
    reply = send_proof(chat, SUNITA, at(23, 20), FIVE_KM_NORTH, photo(13))
    assert "5 कि.मी." in reply and "20:00" in reply
    assert proofs_of(district)[0].reasons == "far_from_village;outside_field_hours"


def test_a_worker_without_village_coordinates_gets_needs_review(
    chat: Chat, district: Engine, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "name,phone,role,district,block,sector,village,lat,lon,language\n"
        "Kamla Devi,9812345670,asha,Hardoi,Sandila,Sandila-1,Naya Gaon,,,hi\n",
        encoding="utf-8",
    )
    import_csv(district, roster)
    reply = send_proof(chat, "9812345670", at(23, 10), NEAR_ATWA, photo(14))
    assert "रोस्टर में आपके गाँव की लोकेशन नहीं है" in reply
    [proof] = proofs_of(district)
    assert proof.reasons == "no_village_location" and proof.distance_m is None


def test_english_worker_gets_the_verdict_in_english(chat: Chat, district: Engine) -> None:
    reply = send_proof(chat, POOJA, at(23, 19), (27.026813, 80.539021), photo(15))
    assert reply.startswith("⚠️ Field photo saved, but your supervisor will review it")
    assert "outside field hours 09:00–18:00 (19:00)" in reply


# ---------------------------------------------------------------- pairing and waiting


def test_photo_and_location_too_far_apart_in_time_do_not_pair(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, None, at(23, 10), photo=photo(16))
    assert "फ़ोटो भेजें" in chat.say(SUNITA, None, at(23, 10, 25), location=here(NEAR_ATWA))
    assert proofs_of(district) == []


def test_one_location_serves_several_photos_in_its_window(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, None, at(23, 10), location=here(NEAR_ATWA))
    chat.say(SUNITA, None, at(23, 10, 3), photo=photo(17))
    chat.say(SUNITA, None, at(23, 10, 6), photo=photo(18))
    assert [p.verdict for p in proofs_of(district)] == ["verified", "verified"]


def test_a_location_pairs_every_photo_waiting_for_it(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, None, at(23, 10), photo=photo(30))
    chat.say(SUNITA, None, at(23, 10, 2), photo=photo(31))
    replies = chat.send(SUNITA, None, at(23, 10, 4), location=here(NEAR_ATWA))
    assert len(replies) == 2 and all(r.startswith("✅") for r in replies)


def test_parts_of_different_people_never_pair(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, None, at(23, 10), photo=photo(19))
    assert "फ़ोटो भेजें" in chat.say(REKHA, None, at(23, 10, 1), location=here(BEHTA_GOKUL))
    assert proofs_of(district) == []


def test_live_location_uses_the_point_nearest_the_photo(chat: Chat, district: Engine) -> None:
    key = "tg:501:77"
    track = [(at(23, 10, 0), NEAR_ATWA), (at(23, 10, 20), BEHTA_GOKUL), (at(23, 10, 40), FIVE_KM_NORTH)]
    first_at, first_point = track[0]
    live = Location(*first_point, 10.0, live=True, live_period_s=8 * 3600)
    assert "लाइव लोकेशन चालू है" in chat.say(SUNITA, None, first_at, key=key, location=live)
    for n, (moment, point) in enumerate(track[1:], start=1):
        update = Location(*point, 10.0, live=True, live_period_s=8 * 3600)
        quiet = chat.send(
            SUNITA,
            None,
            first_at,
            key=f"{key}:{n}",
            location=update,
            is_edit=True,
            edited_at=moment,
            source_key=key,
        )
        assert quiet == []
    chat.say(SUNITA, None, at(23, 10, 22), photo=photo(21))
    [proof] = proofs_of(district)
    assert proof.live and proof.reasons == "far_from_village"
    assert (proof.lat, proof.lon) == pytest.approx(BEHTA_GOKUL)
    # Long after the last update, a still-live track still places her where she stands.
    chat.say(SUNITA, None, at(23, 13), photo=photo(22))
    assert (proofs_of(district)[1].lat, proofs_of(district)[1].lon) == pytest.approx(FIVE_KM_NORTH)


def test_a_live_location_that_has_ended_is_not_used(chat: Chat, district: Engine) -> None:
    live = Location(*NEAR_ATWA, 10.0, live=True, live_period_s=15 * 60)
    chat.say(SUNITA, None, at(23, 10), key="tg:501:90", source_key="tg:501:90", location=live)
    assert "लोकेशन भेजें" in chat.say(SUNITA, None, at(23, 11), photo=photo(23))
    assert proofs_of(district) == []


def test_waiting_halves_expire_with_one_reminder_each(
    chat: Chat, district: Engine, settings: Settings
) -> None:
    chat.say(SUNITA, None, at(23, 10), photo=photo(24))
    chat.say(REKHA, None, at(23, 10, 5), location=here(BEHTA_GOKUL))
    photo_dir = Path(settings.presence.photo_dir)
    assert len(list(photo_dir.rglob("*.jpg"))) == 1
    assert expire_presence(district, settings, at(23, 10, 10)) == 0  # still inside the window
    assert expire_presence(district, settings, at(23, 10, 30)) == 2
    assert expire_presence(district, settings, at(23, 10, 31)) == 0  # once only
    with Session(district) as session:
        texts = sorted(row.text for row in session.exec(select(Outbox)).all())
        parts = session.exec(select(PresencePart)).all()
    assert any("10:00 बजे की फ़ोटो के साथ लोकेशन नहीं आई" in text for text in texts)
    assert any("10:05 बजे की लोकेशन के साथ कोई फ़ोटो नहीं आई" in text for text in texts)
    assert {p.status for p in parts} == {"expired"}
    assert list(photo_dir.rglob("*.jpg")) == []  # a photo that never became a proof is not kept
    # After expiry, the late location starts afresh instead of pairing.
    assert "फ़ोटो भेजें" in chat.say(SUNITA, None, at(23, 10, 40), location=here(NEAR_ATWA))


# ---------------------------------------------------------------- bad files


def _nothing_stored(engine: Engine, settings: Settings) -> None:
    with Session(engine) as session:
        assert session.exec(select(PresencePart)).all() == []
    folder = Path(settings.presence.photo_dir)
    assert not folder.exists() or [p for p in folder.rglob("*") if p.is_file()] == []


def test_a_file_that_is_not_an_image_is_refused(
    chat: Chat, district: Engine, settings: Settings
) -> None:
    reply = chat.say(SUNITA, None, at(23, 10), photo=b"%PDF-1.7 not a photo", photo_file=True)
    assert "फ़ोटो (JPG/PNG) नहीं है" in reply
    _nothing_stored(district, settings)


def test_an_image_over_the_size_limit_is_refused(
    chat: Chat, district: Engine, settings: Settings
) -> None:
    big = io.BytesIO()
    Image.effect_noise((2600, 2600), 120).convert("RGB").save(big, "PNG")
    assert len(big.getvalue()) > 10 * 1024 * 1024
    reply = chat.say(SUNITA, None, at(23, 10), photo=big.getvalue(), photo_file=True)
    assert "बहुत बड़ी है (अधिकतम 10 MB)" in reply
    _nothing_stored(district, settings)
    declared = chat.say(SUNITA, None, at(23, 10, 1), photo_refused="too_large")
    assert "अधिकतम 10 MB" in declared


def test_a_decompression_bomb_is_refused(chat: Chat, district: Engine, settings: Settings) -> None:
    bomb = io.BytesIO()
    Image.new("L", (20_000, 20_000)).save(bomb, "PNG")  # tiny file, 400 million pixels
    assert len(bomb.getvalue()) < 1024 * 1024
    reply = chat.say(SUNITA, None, at(23, 10), photo=bomb.getvalue(), photo_file=True)
    assert "मेगापिक्सल" in reply
    _nothing_stored(district, settings)


def test_stored_photos_are_named_by_hash_and_private(
    chat: Chat, district: Engine, settings: Settings
) -> None:
    image = photo(25)
    send_proof(chat, SUNITA, at(23, 10), NEAR_ATWA, image)
    [proof] = proofs_of(district)
    assert proof.photo_path is not None
    stored = Path(proof.photo_path)
    assert stored.name == f"{proof.photo_sha256}.jpg"
    assert stored.read_bytes() == image
    assert stored.stat().st_mode & 0o077 == 0


def test_a_caption_report_counts_with_the_photo(chat: Chat, district: Engine) -> None:
    replies = chat.send(SUNITA, "आवेदन 12 कार्ड 9", at(23, 10), photo=photo(26))
    assert "आवेदन: 12" in replies[0] and "कार्ड: 9" in replies[0]
    assert "लोकेशन भेजें" in replies[1]
    refused = chat.send(SUNITA, "कार्ड +1", at(23, 10, 5), photo=b"junk")
    assert "कार्ड: 9 + 1 = 10" in refused[0] and "नहीं है" in refused[1]


def test_officers_photos_are_not_proofs(chat: Chat, district: Engine) -> None:
    assert "आशा, एएनएम और सुपरवाइज़र" in chat.say(RAJESH, None, at(23, 10), photo=photo(27))
    assert proofs_of(district) == []


# ---------------------------------------------------------------- supervisors see them


def test_photos_lists_todays_proofs_review_first_within_scope(chat: Chat, district: Engine) -> None:
    send_proof(chat, SUNITA, at(23, 10), NEAR_ATWA, photo(40))
    send_proof(chat, REKHA, at(23, 11), FIVE_KM_NORTH, photo(41))
    send_proof(chat, SUNITA, at(22, 10), FIVE_KM_NORTH, photo(42))  # yesterday: not listed
    listing = chat.say(USHA, "/photos", at(23, 19)).splitlines()
    assert "जाँच ज़रूरी: 1 · सत्यापित: 1" in listing[1]
    assert listing[2].startswith("⚠️ Rekha Verma (Sandila-1) 11:00")
    assert listing[3].startswith("✅ Sunita Devi 10:00")
    assert len(listing) == 4
    assert "जाँच ज़रूरी: 1" in chat.say(RAJESH, "फ़ोटो", at(23, 19))
    assert "कोई फ़ील्ड फ़ोटो नहीं आई" in chat.say(NASREEN, "/photos", at(23, 19))
    refused = chat.say(NASREEN, "/photos Sandila", at(23, 19))
    assert "सिर्फ़ अपने क्षेत्र (Hardoi/Bilgram)" in refused and "Rekha" not in refused


def test_a_worker_sees_only_her_own_photos(chat: Chat, district: Engine) -> None:
    send_proof(chat, SUNITA, at(23, 10), NEAR_ATWA, photo(43))
    send_proof(chat, REKHA, at(23, 11), FIVE_KM_NORTH, photo(44))
    mine = chat.say(SUNITA, "/photos", at(23, 19))
    assert "Sunita Devi" in mine and "Rekha" not in mine


def test_supervisor_digest_counts_proofs_needing_review(district: Engine, settings: Settings) -> None:
    from bot.digests import supervisor_digests

    chat = Chat(build_core(settings, district, clock=lambda: at(23, 23, 59)))
    send_proof(chat, SUNITA, at(23, 10), NEAR_ATWA, photo(45))
    send_proof(chat, REKHA, at(23, 11), FIVE_KM_NORTH, photo(46))
    with Session(district) as session:
        digests = supervisor_digests(session, settings, dt.date(2026, 11, 23))
    [usha] = [d for d in digests if d.person.phone == "+917285872429"]
    assert "फ़ील्ड फ़ोटो: 2, जाँच ज़रूरी: 1" in usha.text
    assert all("फ़ील्ड फ़ोटो" not in d.text for d in digests if d is not usha)


def test_proofs_command_writes_the_table(chat: Chat, district: Engine, tmp_path: Path) -> None:
    send_proof(chat, SUNITA, at(22, 10), NEAR_ATWA, photo(47))
    send_proof(chat, REKHA, at(23, 21), FIVE_KM_NORTH, photo(48))
    out = tmp_path / "proofs.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "proofs",
            "--from",
            "2026-11-22",
            "--to",
            "2026-11-23",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env={"FIELDBOT_DATABASE_URL": child_url(district), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "2 proofs (1 needing review)" in result.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert list(rows[0]) == [
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
    ]
    assert rows[0]["review"] == "" and rows[0]["review_note"] == ""  # reviewed on the dashboard
    assert rows[0]["date"] == "2026-11-22" and rows[0]["time"] == "10:00"
    assert rows[0]["verdict"] == "verified"
    assert rows[0]["phone"].removeprefix("'") == "+917973321377"  # guarded against formulas
    assert rows[1]["reasons"] == "far_from_village;outside_field_hours"
    assert rows[1]["sector"] == "Sandila-1" and rows[1]["live"] == "false"
    assert 6500 < int(rows[1]["distance_m"]) < 6800  # from her own village, Behta Gokul


def test_photo_facts_read_real_exif() -> None:
    taken = dt.datetime(2026, 11, 23, 10, 15, tzinfo=IST)
    facts = inspect(photo(50, gps=(-12.5, -45.25), taken=taken), max_bytes=10**7, max_pixels=10**8)
    assert facts.exif_lat == pytest.approx(-12.5, abs=1e-4)
    assert facts.exif_lon == pytest.approx(-45.25, abs=1e-4)
    assert facts.exif_taken_at == taken
    png = io.BytesIO()
    scene(51).save(png, "PNG")
    plain = inspect(png.getvalue(), max_bytes=10**7, max_pixels=10**8)
    assert plain.extension == "png" and plain.exif_lat is None and plain.exif_taken_at is None


def test_photo_and_location_arriving_at_once_still_pair(core: Fieldbot, district: Engine) -> None:
    """Two halves handled at the same moment (two threads, or two processes) never both wait unseen."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.core.messages import Inbound

    def half(n: int, **what: object) -> Inbound:
        return Inbound(
            channel="simulator",
            dedup_key=f"race:{n}",
            sent_at=at(23, 10, n),
            chat_id=SUNITA,
            phone=SUNITA,
            **what,  # type: ignore[arg-type]
        )

    for round_ in range(4):
        image = photo(200 + round_)
        pair = [half(2 * round_, photo=image), half(2 * round_ + 1, location=here(NEAR_ATWA))]
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(core.handle, pair))
    assert len(proofs_of(district)) == 4


def test_whatsapp_is_asked_for_a_pin_not_a_live_location(core: Fieldbot) -> None:
    from bot.core.messages import Inbound

    inbound = Inbound(
        channel="whatsapp",
        dedup_key="wa:SMphoto",
        sent_at=at(23, 10),
        chat_id=SUNITA,
        phone=SUNITA,
        photo=photo(300),
    )
    [reply] = core.handle(inbound)
    assert "अभी की लोकेशन भेजें" in reply.text and "लाइव" not in reply.text


def test_a_location_without_accuracy_is_flagged_unless_the_config_turns_it_off(
    district: Engine, settings: Settings
) -> None:
    presence = settings.presence.model_copy(update={"flag_no_accuracy": False})
    trusting = settings.model_copy(update={"presence": presence})
    for config, image, hour in [(settings, photo(201), 10), (trusting, photo(202), 11)]:
        chat = Chat(build_core(config, district, clock=lambda: at(23, 23, 59)))
        chat.say(SUNITA, None, at(23, hour), photo=image)
        chat.say(SUNITA, None, at(23, hour, 1), location=here(ATWA, accuracy=None))
    first, second = proofs_of(district)
    assert (first.verdict, first.reasons) == ("needs_review", "no_accuracy")
    assert (second.verdict, second.reasons) == ("verified", "")


def test_a_forwarded_photo_needs_review(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, None, at(23, 10), photo=photo(203), forwarded=True)
    assert "फ़ॉरवर्ड" in chat.say(SUNITA, None, at(23, 10, 1), location=here(NEAR_ATWA))
    [proof] = proofs_of(district)
    assert (proof.verdict, proof.reasons) == ("needs_review", "forwarded")

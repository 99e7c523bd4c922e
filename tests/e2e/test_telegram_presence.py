"""Field-presence proofs over Telegram: real downloads, live-location edits and group chats."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.app import build_core
from bot.channels.telegram.application import build_application
from bot.config import Settings
from bot.config_sections import Floods
from bot.web import create_app
from models import Proof, TrackPoint
from tests.conftest import SUNITA_TG, at, link_sunita, telegram_settings
from tests.fakes.live import serving
from tests.fakes.telegram_api import (
    FakeTelegramAPI,
    document_update,
    edited_location_update,
    edited_text_update,
    location_update,
    photo_update,
    text_update,
)
from tests.images import photo

NEAR_ATWA = (27.0961, 80.4846)
FIVE_KM_NORTH = (27.095652 + 0.0451, 80.484237)
GROUP = -100_500
STRANGER_TG = 9009


def epoch(day: int, hour: int, minute: int = 0) -> int:
    return int(at(day, hour, minute).timestamp())


def texts_to(api: FakeTelegramAPI, chat_id: int) -> list[str]:
    return [
        str(c.params["text"]) for c in api.calls_for("sendMessage") if c.params.get("chat_id") == chat_id
    ]


def wait_texts(api: FakeTelegramAPI, chat_id: int, count: int, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = texts_to(api, chat_id)
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"expected {count} messages to {chat_id}, got {texts_to(api, chat_id)}")


def proofs(engine: Engine) -> list[Proof]:
    with Session(engine) as session:
        return list(session.exec(select(Proof).order_by(Proof.id)).all())  # type: ignore[arg-type]


def test_photo_downloaded_and_paired_with_a_location(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    image = photo(101)
    polling.add_file("AgACphoto101", image)
    polling.push_update(photo_update("AgACphoto101", user_id=SUNITA_TG, date=epoch(23, 10, 30)))
    assert "लोकेशन भेजें" in wait_texts(polling, SUNITA_TG, 3)[-1]
    polling.push_update(
        location_update(*NEAR_ATWA, horizontal_accuracy=12, user_id=SUNITA_TG, date=epoch(23, 10, 32))
    )
    assert wait_texts(polling, SUNITA_TG, 4)[-1].startswith("✅ फ़ील्ड फ़ोटो सत्यापित")
    assert polling.calls_for("getFile")[0].params["file_id"] == "AgACphoto101"
    [proof] = proofs(district)
    assert proof.verdict == "verified" and proof.photo_path is not None
    with open(proof.photo_path, "rb") as stored:
        assert stored.read() == image


def test_photo_sent_as_a_file_has_its_exif_checked(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    image = photo(102, gps=FIVE_KM_NORTH, taken=at(23, 10, 0))
    polling.add_file("BQACdoc102", image)
    polling.push_update(
        document_update(
            "BQACdoc102",
            user_id=SUNITA_TG,
            file_name="IMG_20261123_100000.jpg",
            mime_type="image/jpeg",
            file_size=len(image),
            date=epoch(23, 10, 1),
        )
    )
    wait_texts(polling, SUNITA_TG, 3)
    polling.push_update(
        location_update(*NEAR_ATWA, horizontal_accuracy=12, user_id=SUNITA_TG, date=epoch(23, 10, 2))
    )
    assert "मेल नहीं खाता" in wait_texts(polling, SUNITA_TG, 4)[-1]
    [proof] = proofs(district)
    assert proof.photo_file and proof.reasons == "exif_mismatch"


def test_a_file_that_is_not_a_photo_is_refused(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    polling.push_update(
        document_update(
            "BQACpdf1",
            user_id=SUNITA_TG,
            file_name="list.pdf",
            mime_type="application/pdf",
            file_size=900,
        )
    )
    assert "पढ़ नहीं सकता" in wait_texts(polling, SUNITA_TG, 3)[-1]
    assert polling.calls_for("getFile") == []


def test_a_photo_over_the_limit_is_not_downloaded(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    polling.push_update(
        photo_update("AgACbig", user_id=SUNITA_TG, date=epoch(23, 10), file_size=25 * 1024 * 1024)
    )
    assert "अधिकतम 10 MB" in wait_texts(polling, SUNITA_TG, 3)[-1]
    assert polling.calls_for("getFile") == []
    assert proofs(district) == []


def test_live_location_edits_move_the_point_used_for_the_photo(
    polling: FakeTelegramAPI, district: Engine
) -> None:
    link_sunita(polling)
    start = epoch(23, 10)
    polling.push_update(
        location_update(
            *NEAR_ATWA,
            horizontal_accuracy=12,
            user_id=SUNITA_TG,
            live_period=3600,
            date=start,
            message_id=7001,
        )
    )
    assert "लाइव लोकेशन" in wait_texts(polling, SUNITA_TG, 3)[-1]
    for minute, point in [(5, (27.0965, 80.4850)), (20, FIVE_KM_NORTH)]:
        polling.push_update(
            edited_location_update(
                *point,
                horizontal_accuracy=12,
                user_id=SUNITA_TG,
                message_id=7001,
                date=start,
                edit_date=epoch(23, 10, minute),
                live_period=3600,
            )
        )
    polling.add_file("AgACphoto103", photo(103))
    polling.push_update(photo_update("AgACphoto103", user_id=SUNITA_TG, date=epoch(23, 10, 6)))
    assert wait_texts(polling, SUNITA_TG, 4)[-1].startswith("✅")
    polling.add_file("AgACphoto104", photo(104))
    polling.push_update(photo_update("AgACphoto104", user_id=SUNITA_TG, date=epoch(23, 10, 21)))
    assert "5 कि.मी." in wait_texts(polling, SUNITA_TG, 5)[-1]
    first, second = proofs(district)
    assert first.live and first.lat == 27.0965
    assert second.live and second.reasons == "far_from_village"
    assert len(texts_to(polling, SUNITA_TG)) == 5  # the edits themselves were answered with nothing


def test_in_a_group_the_bot_says_verdicts_only(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    polling.push_update(text_update("सब लोग 10 बजे तक फ़ोटो डालें", user_id=SUNITA_TG, chat_id=GROUP))
    polling.push_update(text_update("hello", user_id=STRANGER_TG, chat_id=GROUP, first_name="Ravi"))
    polling.add_file("AgACstranger", photo(105))
    polling.push_update(
        photo_update("AgACstranger", user_id=STRANGER_TG, chat_id=GROUP, date=epoch(23, 10))
    )
    polling.add_file("AgACphoto106", photo(106))
    polling.push_update(
        photo_update("AgACphoto106", user_id=SUNITA_TG, chat_id=GROUP, date=epoch(23, 11, 0))
    )
    polling.push_update(
        location_update(
            *NEAR_ATWA, horizontal_accuracy=12, user_id=SUNITA_TG, chat_id=GROUP, date=epoch(23, 11, 1)
        )
    )
    [verdict] = wait_texts(polling, GROUP, 1)
    assert verdict.startswith("✅ Sunita Devi: फ़ोटो सत्यापित")
    assert "\n" not in verdict
    polling.push_update(text_update("/status", user_id=SUNITA_TG, chat_id=GROUP))
    wait_texts(polling, GROUP, 2)
    time.sleep(0.3)
    assert len(texts_to(polling, GROUP)) == 2  # chatter, the stranger and the waiting photo: silence
    assert len(texts_to(polling, STRANGER_TG)) == 0
    [proof] = proofs(district)
    assert proof.chat_id == str(GROUP)


def test_photos_in_a_group_is_refused_like_missing(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    polling.push_update(text_update("/photos", user_id=SUNITA_TG, chat_id=GROUP))
    [reply] = wait_texts(polling, GROUP, 1)
    assert "सिर्फ़ निजी चैट" in reply and "फ़ोटो" not in reply


def test_an_edited_chatter_message_in_a_group_gets_no_reply(
    polling: FakeTelegramAPI, district: Engine
) -> None:
    link_sunita(polling)
    sent = epoch(23, 10)
    polling.push_update(
        text_update("कल मीटिंग है", user_id=SUNITA_TG, chat_id=GROUP, message_id=8101, date=sent)
    )
    polling.push_update(
        edited_text_update(
            "कल मीटिंग 11 बजे है",
            user_id=SUNITA_TG,
            chat_id=GROUP,
            message_id=8101,
            date=sent,
            edit_date=epoch(23, 10, 5),
        )
    )
    polling.push_update(text_update("/status", user_id=SUNITA_TG, chat_id=GROUP))
    [status] = wait_texts(polling, GROUP, 1)
    time.sleep(0.3)
    assert texts_to(polling, GROUP) == [status]  # the chatter and its edit: silence


LIMIT = 5


@pytest.fixture()
def limited(district: Engine, settings: Settings, api: FakeTelegramAPI) -> Iterator[FakeTelegramAPI]:
    """The bot on Telegram with a flood limit of five messages a minute."""
    strict = settings.model_copy(update={"floods": Floods(messages_per_minute=LIMIT)})
    core = build_core(strict, district, clock=lambda: at(23, 10, 30))
    channel = telegram_settings(api, webhook=False)
    application = build_application(core, channel, webhook=False)
    with serving(create_app(core, telegram_app=application, telegram_settings=channel)):
        api.wait_for("getUpdates")
        yield api


def test_live_location_edits_from_an_unknown_account_are_limited(limited: FakeTelegramAPI) -> None:
    start = epoch(23, 10)
    limited.push_update(
        location_update(
            *NEAR_ATWA,
            horizontal_accuracy=12,
            user_id=STRANGER_TG,
            live_period=3600,
            date=start,
            message_id=7101,
        )
    )
    for second in range(1, 4 * LIMIT):
        limited.push_update(
            edited_location_update(
                *NEAR_ATWA,
                horizontal_accuracy=12,
                user_id=STRANGER_TG,
                message_id=7101,
                date=start,
                edit_date=start + second,
                live_period=3600,
            )
        )
    wait_texts(limited, STRANGER_TG, LIMIT + 1)
    time.sleep(0.5)
    replies = texts_to(limited, STRANGER_TG)
    assert len(replies) == LIMIT + 1  # asked for her number five times, told to slow down, then silence
    assert sum("जल्दी-जल्दी" in text for text in replies) == 1


def test_a_known_workers_open_live_track_is_not_limited(
    limited: FakeTelegramAPI, district: Engine
) -> None:
    link_sunita(limited)
    start = epoch(23, 10)
    limited.push_update(
        location_update(
            *NEAR_ATWA,
            horizontal_accuracy=12,
            user_id=SUNITA_TG,
            live_period=3600,
            date=start,
            message_id=7102,
        )
    )
    wait_texts(limited, SUNITA_TG, 3)
    for second in range(1, 4 * LIMIT):
        limited.push_update(
            edited_location_update(
                *NEAR_ATWA,
                horizontal_accuracy=12,
                user_id=SUNITA_TG,
                message_id=7102,
                date=start,
                edit_date=start + second,
                live_period=3600,
            )
        )
    limited.add_file("AgACphoto120", photo(120))
    limited.push_update(photo_update("AgACphoto120", user_id=SUNITA_TG, date=epoch(23, 10, 1)))
    assert wait_texts(limited, SUNITA_TG, 4)[-1].startswith("✅")
    deadline = time.monotonic() + 10
    while points_of(district) < 4 * LIMIT and time.monotonic() < deadline:
        time.sleep(0.05)  # updates are handled concurrently: the last moves may still be in flight
    assert points_of(district) == 4 * LIMIT  # every move kept, none refused
    assert not any("जल्दी-जल्दी" in text for text in texts_to(limited, SUNITA_TG))


def points_of(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(TrackPoint)).one()


def test_an_unknown_persons_photo_is_never_downloaded(
    polling: FakeTelegramAPI, district: Engine
) -> None:
    polling.add_file("AgACstranger2", photo(121))
    polling.push_update(photo_update("AgACstranger2", user_id=STRANGER_TG, date=epoch(23, 10)))
    assert "नंबर" in wait_texts(polling, STRANGER_TG, 1)[0]
    polling.push_update(
        photo_update("AgACstranger2", user_id=STRANGER_TG, chat_id=GROUP, date=epoch(23, 10, 1))
    )
    polling.push_update(
        document_update(
            "AgACstranger2",
            user_id=STRANGER_TG,
            file_name="IMG_1.jpg",
            mime_type="image/jpeg",
            file_size=len(photo(121)),
        )
    )
    wait_texts(polling, STRANGER_TG, 2)
    time.sleep(0.3)  # the group's photo is answered with nothing
    assert polling.calls_for("getFile") == []
    assert proofs(district) == []


def test_a_forwarded_location_needs_review(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    polling.add_file("AgACphoto122", photo(122))
    polling.push_update(photo_update("AgACphoto122", user_id=SUNITA_TG, date=epoch(23, 10, 30)))
    wait_texts(polling, SUNITA_TG, 3)
    pin = location_update(*NEAR_ATWA, horizontal_accuracy=12, user_id=SUNITA_TG, date=epoch(23, 10, 31))
    pin["message"]["forward_origin"] = {
        "type": "user",
        "date": epoch(22, 10),
        "sender_user": {"id": 5002, "is_bot": False, "first_name": "Rekha"},
    }
    polling.push_update(pin)
    assert "फ़ॉरवर्ड" in wait_texts(polling, SUNITA_TG, 4)[-1]
    [proof] = proofs(district)
    assert proof.verdict == "needs_review" and proof.reasons == "forwarded" and not proof.live


def test_a_location_without_accuracy_was_picked_on_a_map(
    polling: FakeTelegramAPI, district: Engine
) -> None:
    link_sunita(polling)
    polling.push_update(location_update(*NEAR_ATWA, user_id=SUNITA_TG, date=epoch(23, 10, 30)))
    wait_texts(polling, SUNITA_TG, 3)
    polling.add_file("AgACphoto123", photo(123))
    polling.push_update(photo_update("AgACphoto123", user_id=SUNITA_TG, date=epoch(23, 10, 31)))
    assert "नक्शे पर" in wait_texts(polling, SUNITA_TG, 4)[-1]
    [proof] = proofs(district)
    assert proof.verdict == "needs_review" and proof.reasons == "no_accuracy"

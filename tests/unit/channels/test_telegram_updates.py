"""Telegram updates, as the Bot API sends them (tests/data/telegram/*.json), read into `Inbound`.

Each file holds one update, the `Inbound` it must become (null: the bot ignores it), whether the
JSON shortcut for plain text reads it too, and what the message says about its files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, Update

from bot.channels.telegram.updates import (
    carries_image,
    plain_text_inbound,
    pressed_inbound,
    table_document,
    to_inbound,
)
from bot.core.messages import Inbound, Location

DATA = Path(__file__).resolve().parents[2] / "data" / "telegram"
CASES = sorted(DATA.glob("*.json"))
TOKEN = "7412093358:AAHf3c0xQ9rWm2Lk8pTz1VbNd4GhJs7YeUo"  # the shape of a token; never used online


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def expected(fields: dict[str, Any], now: dt.datetime) -> Inbound:
    values = dict(fields)
    for name in ("sent_at", "edited_at"):
        if values.get(name) == "now":
            values[name] = now
        elif values.get(name) is not None:
            values[name] = dt.datetime.fromisoformat(values[name])
    if values.get("location") is not None:
        values["location"] = Location(**values["location"])
    if values.get("pressed") is not None:
        values["pressed"] = tuple(values["pressed"])
    return Inbound(**values)


@pytest.fixture(scope="module")
def bot() -> Bot:
    return Bot(TOKEN)


def read(data: dict[str, Any], bot: Bot) -> Update:
    update = Update.de_json(data, bot)
    assert update is not None
    return update


def test_every_kind_is_recorded() -> None:
    names = {path.stem for path in CASES}
    kinds = {"text", "edited_text", "photo", "photo_as_file", "table_document", "location"}
    kinds |= {"live_location_edit", "contact_shared", "group_message", "voice", "button_press"}
    assert kinds <= names


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_update_becomes_inbound(path: Path, bot: Bot) -> None:
    case = load(path)
    before = dt.datetime.now(dt.UTC)
    got = to_inbound(read(case["update"], bot))
    after = dt.datetime.now(dt.UTC)
    if case["inbound"] is None:
        assert got is None, case["about"]
        return
    assert got is not None, case["about"]
    if case["inbound"]["sent_at"] == "now":  # a press carries no time: it counts as made now
        assert before <= got.sent_at <= after
    assert got == expected(case["inbound"], got.sent_at), case["about"]
    assert got.sent_at.tzinfo is not None and (got.edited_at is None or got.edited_at.tzinfo is not None)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_plain_text_is_read_the_same_straight_from_json(path: Path, bot: Bot) -> None:
    case = load(path)
    got = plain_text_inbound(case["update"])
    if not case["plain_text"]:
        assert got is None, f"{path.stem}: not a plain text message, left to python-telegram-bot"
        return
    assert got == to_inbound(read(case["update"], bot))
    assert got == expected(case["inbound"], got.sent_at)


@pytest.mark.parametrize("path", [p for p in CASES if "message" in load(p)], ids=lambda p: p.stem)
def test_files_of_a_message(path: Path, bot: Bot) -> None:
    case = load(path)
    message = read(case["update"], bot).effective_message
    assert message is not None
    assert carries_image(message) is case["message"]["carries_image"]
    assert table_document(message) == case["message"]["table_document"]


def test_press_read_directly_from_the_callback_query(bot: Bot) -> None:
    update = read(load(DATA / "button_press.json")["update"], bot)
    assert update.callback_query is not None
    pressed = pressed_inbound(update.callback_query)
    assert pressed is not None and pressed.pressed == (42, 1)
    assert pressed.dedup_key == "tg:press:4382271734915027113"


def test_press_on_a_group_message_is_a_group_press(bot: Bot) -> None:
    data = load(DATA / "button_press.json")["update"]
    data["callback_query"]["message"]["chat"] = {
        "id": -1002183345120,
        "title": "Sandila",
        "type": "group",
    }
    pressed = to_inbound(read(data, bot))
    assert pressed is not None
    assert pressed.is_group and pressed.chat_id == "-1002183345120"


def test_redelivered_update_has_the_same_key_and_an_edit_a_new_one(bot: Bot) -> None:
    text = load(DATA / "text.json")["update"]
    edit = load(DATA / "edited_text.json")["update"]
    first, again, edited = (to_inbound(read(u, bot)) for u in (text, dict(text), edit))
    assert first is not None and again is not None and edited is not None
    assert first.dedup_key == again.dedup_key
    assert edited.dedup_key != first.dedup_key
    assert edited.source_key == first.source_key  # the edit finds what the original reported


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"caption": "x"}, id="caption"),
        pytest.param(
            {"reply_to_message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}},
            id="reply",
        ),
        pytest.param({"from": {"id": 1, "is_bot": True, "first_name": "B"}}, id="from_a_bot"),
        pytest.param({"text": ""}, id="empty"),
        pytest.param({"message_id": "412"}, id="string_id"),
    ],
)
def test_anything_unusual_is_left_to_python_telegram_bot(change: dict[str, Any]) -> None:
    update = load(DATA / "text.json")["update"]
    update["message"] = {**update["message"], **change}
    assert plain_text_inbound(update) is None


def test_expected_fields_name_only_inbound_fields() -> None:
    names = {f.name for f in dataclasses.fields(Inbound)}
    for path in CASES:
        fields = load(path)["inbound"] or {}
        assert set(fields) <= names, f"{path.name}: {set(fields) - names}"

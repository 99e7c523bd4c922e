"""A plain text update read from its JSON is the same message python-telegram-bot reads."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot, Update

from bot.channels.telegram.updates import plain_text_inbound, to_inbound

BOT = Bot("123:fake")
ids = st.integers(min_value=1, max_value=2**52)
names = st.text(min_size=1, max_size=20)


@st.composite
def plain_updates(draw: st.DrawFn) -> dict[str, Any]:
    user = {"id": draw(ids), "is_bot": False, "first_name": draw(names)}
    if draw(st.booleans()):
        user["last_name"] = draw(names)
    kind = draw(st.sampled_from(["private", "group", "supergroup"]))
    chat_id = user["id"] if kind == "private" else -draw(ids)
    message: dict[str, Any] = {
        "message_id": draw(ids),
        "date": draw(st.integers(min_value=1_600_000_000, max_value=1_900_000_000)),
        "chat": {"id": chat_id, "type": kind},
        "from": user,
        "text": draw(st.text(min_size=1, max_size=60)),
    }
    if draw(st.booleans()):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": 1}]
    return {"update_id": draw(ids), "message": message}


@settings(max_examples=60, deadline=None)
@given(plain_updates())
def test_plain_text_update_reads_as_python_telegram_bot_reads_it(data: dict[str, Any]) -> None:
    update = Update.de_json(data, BOT)
    assert update is not None
    assert plain_text_inbound(data) == to_inbound(update)


@settings(max_examples=30, deadline=None)
@given(
    plain_updates(),
    st.sampled_from(
        [
            ("edit_date", 1_700_000_000),
            ("photo", [{"file_id": "a", "file_unique_id": "b", "width": 1, "height": 1}]),
            ("reply_to_message", {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}}),
            ("caption", "कार्ड 5"),
            ("contact", {"phone_number": "+919876543210", "first_name": "x"}),
            ("sender_chat", {"id": -1, "type": "channel"}),
        ]
    ),
)
def test_anything_beyond_plain_text_is_left_to_python_telegram_bot(
    data: dict[str, Any], extra: tuple[str, Any]
) -> None:
    key, value = extra
    data["message"][key] = value
    assert plain_text_inbound(data) is None


def test_edits_bots_and_strange_shapes_are_not_plain() -> None:
    good = {
        "update_id": 1,
        "message": {
            "message_id": 2,
            "date": 1_700_000_000,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "Sunita"},
            "text": "कार्ड 5",
        },
    }
    assert plain_text_inbound(good) is not None
    assert plain_text_inbound({"update_id": 1, "edited_message": good["message"]}) is None
    robot = {
        **good,
        "message": {**good["message"], "from": {"id": 5, "is_bot": True, "first_name": "b"}},
    }
    assert plain_text_inbound(robot) is None
    for broken in (
        [],
        {"update_id": "1", "message": good["message"]},
        {**good, "message": {**good["message"], "text": ""}},
        {**good, "message": {**good["message"], "chat": None}},
        {**good, "message": {**good["message"], "date": 1.5}},
        {**good, "message": {**good["message"], "from": {"id": 5, "is_bot": False}}},
    ):
        assert plain_text_inbound(broken) is None

"""The fake Bot API server, exercised with the real python-telegram-bot client over HTTP."""

from __future__ import annotations

import datetime as dtm
import threading
from collections.abc import Iterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from tests.fakes.telegram_api import (
    Call,
    FakeTelegramAPI,
    callback_query_update,
    contact_update,
    edited_text_update,
    location_update,
    photo_update,
    sticker_update,
    text_update,
    voice_update,
)

TOKEN = "123:ABC"


@pytest.fixture
def api() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI(token=TOKEN) as fake:
        yield fake
    assert fake.errors == []


def make_bot(api: FakeTelegramAPI, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=api.base_url, base_file_url=api.base_file_url)


@pytest.mark.asyncio
async def test_get_me(api: FakeTelegramAPI) -> None:
    async with make_bot(api) as bot:  # initialize() calls getMe too
        me = await bot.get_me()
    assert me.id == 123
    assert me.is_bot
    assert me.first_name == "Fieldbot"
    assert me.username == "fieldbot_test_bot"
    assert me.can_join_groups and me.can_read_all_group_messages
    assert me.supports_inline_queries is False
    assert [c.method for c in api.calls] == ["getMe", "getMe"]


@pytest.mark.asyncio
async def test_send_message_is_recorded(api: FakeTelegramAPI) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    async with make_bot(api) as bot:
        sent = await bot.send_message(chat_id=42, text="hello", reply_markup=markup)
        await bot.send_message(chat_id=7, text="123")  # a numeric-looking text stays a str

    assert sent.text == "hello"
    assert sent.chat.id == 42
    assert sent.from_user is not None and sent.from_user.id == 123
    assert sent.reply_markup == markup
    call = api.calls_for("sendMessage")[0]
    assert call.params["chat_id"] == 42
    assert call.params["text"] == "hello"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]
    }
    assert api.sent_texts() == ["hello", "123"]
    assert api.sent_texts(chat_id=7) == ["123"]


@pytest.mark.asyncio
async def test_send_document_bytes_and_download(api: FakeTelegramAPI) -> None:
    content = b"district,count\nNorth,12\n\x00\xff\r\n"
    async with make_bot(api) as bot:
        message = await bot.send_document(
            chat_id=42, document=content, filename="report.csv", caption="Daily"
        )
        assert message.document is not None
        assert message.document.file_name == "report.csv"
        assert message.document.file_size == len(content)
        # Uploads become downloadable through getFile + the file URL.
        tg_file = await bot.get_file(message.document.file_id)
        assert tg_file.file_path is not None
        assert tg_file.file_path.startswith(f"{api.base_file_url}{TOKEN}/photos/")
        assert bytes(await tg_file.download_as_bytearray()) == content

    call = api.wait_for("sendDocument")[0]
    assert call.params["document"] == {"filename": "report.csv", "content": content}
    assert call.params["chat_id"] == 42  # JSON-decoded from the multipart field
    assert call.params["caption"] == "Daily"


@pytest.mark.asyncio
async def test_send_photo_multipart_decodes_json_fields(api: FakeTelegramAPI) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    api.add_file("AgACphoto1", b"\xff\xd8jpeg")
    async with make_bot(api) as bot:
        message = await bot.send_photo(chat_id=5, photo=b"\xff\xd8jpeg", reply_markup=markup)
        assert message.photo and message.photo[-1].file_size == 6
        data = await (await bot.get_file("AgACphoto1")).download_as_bytearray()
        assert bytes(data) == b"\xff\xd8jpeg"
    params = api.calls_for("sendPhoto")[0].params
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    assert params["photo"]["content"] == b"\xff\xd8jpeg"


@pytest.mark.asyncio
async def test_application_polling_replies_to_pushed_update(api: FakeTelegramAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome!")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))

    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        first = api.push_update(text_update("/start", user_id=42))
        second = api.push_update(text_update("hi there", user_id=42))
        assert second == first + 1
        await api.wait_for_async("sendMessage", count=2, timeout=5)
        await app.updater.stop()
        await app.stop()

    assert api.sent_texts(chat_id=42) == ["Welcome!", "echo: hi there"]
    assert all(c.params["chat_id"] == 42 for c in api.calls_for("sendMessage"))
    assert api.pending_updates == []  # the final getUpdates confirmed both updates
    assert api.calls[1].method == "deleteWebhook"  # start_polling bootstraps with it


@pytest.mark.asyncio
async def test_wrong_token_is_invalid_token(api: FakeTelegramAPI) -> None:
    bot = make_bot(api, token="999:WRONG")
    with pytest.raises(InvalidToken):
        await bot.initialize()
    with pytest.raises(InvalidToken):
        await bot.get_me()
    await bot.shutdown()
    assert api.calls == []


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_faults(api: FakeTelegramAPI) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)
    api.fail_next("sendMessage", status=500)
    async with make_bot(api) as bot:
        with pytest.raises(RetryAfter) as excinfo:
            await bot.send_message(chat_id=1, text="x")
        assert "Retry in 3" in str(excinfo.value)
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(chat_id=1, text="x")
        await bot.send_message(chat_id=1, text="x")  # faults are one-shot

    statuses = [c.status for c in api.calls_for("sendMessage")]
    assert statuses == [429, 500, 200]
    assert api.sent_texts() == ["x"]


@pytest.mark.asyncio
async def test_502_is_network_error(api: FakeTelegramAPI) -> None:
    api.fail_next("getMe", status=502)
    bot = make_bot(api)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.initialize()
    await bot.shutdown()


@pytest.mark.asyncio
async def test_validation_and_edit(api: FakeTelegramAPI) -> None:
    async with make_bot(api) as bot:
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(chat_id=1, text="x" * 4097)
        sent = await bot.send_message(chat_id=1, text="v1")
        edited = await bot.edit_message_text("v2", chat_id=1, message_id=sent.message_id)
        assert isinstance(edited, type(sent)) and edited.text == "v2"
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("v2", chat_id=1, message_id=sent.message_id)


def test_raw_json_body_query_string_and_webhook(api: FakeTelegramAPI) -> None:
    url = f"{api.base_url}{api.token}"
    r = httpx.post(f"{url}/sendMessage", json={"chat_id": 9, "text": "json body"})
    assert r.json()["result"]["text"] == "json body"
    r = httpx.get(f"{url}/getme")  # method names are case-insensitive
    assert r.json()["result"]["username"] == "fieldbot_test_bot"
    r = httpx.get(f"{url}/getUpdates", params={"offset": 5, "timeout": 0})
    assert r.json() == {"ok": True, "result": []}
    assert api.calls_for("getUpdates")[0].params == {"offset": 5, "timeout": 0}
    assert api.sent_texts(9) == ["json body"]

    httpx.post(f"{url}/setWebhook", data={"url": "https://example.org/hook"})
    info = httpx.get(f"{url}/getWebhookInfo").json()["result"]
    assert info["url"] == "https://example.org/hook"
    conflict = httpx.post(f"{url}/getUpdates")
    assert conflict.status_code == 409
    r = httpx.post(f"{url}/doesNotExist", data={"x": "1"})
    assert r.json() == {"ok": True, "result": True}
    assert api.calls[-1] == Call("doesNotExist", {"x": 1})

    bad = httpx.get(f"{api.base_url}999:NOPE/getMe")
    assert bad.status_code == 401
    assert bad.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_get_updates_offsets_and_long_poll(api: FakeTelegramAPI) -> None:
    url = f"{api.base_url}{api.token}/getUpdates"
    ids = [api.push_update(text_update(f"m{i}", user_id=1)) for i in range(3)]
    r = httpx.post(url, data={"limit": "2"}).json()["result"]
    assert [u["update_id"] for u in r] == ids[:2]
    r = httpx.post(url, data={"offset": str(ids[1] + 1)}).json()["result"]
    assert [u["update_id"] for u in r] == ids[2:]
    assert [u["update_id"] for u in api.pending_updates] == ids[2:]

    start = dtm.datetime.now()
    r = httpx.post(url, data={"offset": str(ids[2] + 1), "timeout": "30"}, timeout=10)
    held = (dtm.datetime.now() - start).total_seconds()
    assert r.json()["result"] == []
    assert 1.8 <= held < 4  # held for min(timeout, 2) seconds
    assert api.pending_updates == []

    # A pushed update releases a held long poll right away.
    timer = threading.Timer(0.2, api.push_update, [text_update("late", user_id=1)])
    timer.start()
    start = dtm.datetime.now()
    r = httpx.post(url, data={"offset": str(ids[2] + 1), "timeout": "30"}, timeout=10)
    timer.join()
    assert (dtm.datetime.now() - start).total_seconds() < 1.5
    assert [u["message"]["text"] for u in r.json()["result"]] == ["late"]


def test_update_builders_parse_with_ptb() -> None:
    bot = Bot(TOKEN)
    ids = iter(range(1, 100))

    def parse(update: dict[str, object]) -> Update:
        # push_update() adds update_id; parse builder output directly here.
        return Update.de_json({"update_id": next(ids), **update}, bot)

    command = parse(text_update("/start abc", user_id=42))
    assert command.message is not None
    assert command.message.chat.id == 42 and command.message.chat.type == "private"
    assert command.message.from_user is not None
    assert command.message.from_user.first_name == "Sunita"
    assert command.message.parse_entities(["bot_command"]) == {command.message.entities[0]: "/start"}
    group = parse(text_update("hi", user_id=42, chat_type="group"))
    assert group.message is not None and group.message.chat.id < 0

    edited = parse(edited_text_update("fixed", user_id=42, message_id=7, date=1_700_000_000))
    assert edited.edited_message is not None and edited.edited_message.edit_date is not None

    contact = parse(contact_update("+919876543210", user_id=42))
    assert contact.message is not None and contact.message.contact is not None
    assert contact.message.contact.user_id == 42

    loc = parse(location_update(12.97, 77.59, user_id=42, live_period=900, horizontal_accuracy=15))
    assert loc.message is not None and loc.message.location is not None
    assert loc.message.location.to_dict()["live_period"] == 900

    photo = parse(photo_update("AgACxyz", user_id=42, caption="proof"))
    assert photo.message is not None
    assert photo.message.photo[-1].file_id == "AgACxyz"
    assert photo.message.caption == "proof"

    voice = parse(voice_update(user_id=42))
    assert voice.message is not None and voice.message.voice is not None
    sticker = parse(sticker_update(user_id=42))
    assert sticker.message is not None and sticker.message.sticker is not None
    press = parse(callback_query_update("yes", user_id=42, message_id=5))
    assert press.callback_query is not None and press.callback_query.data == "yes"

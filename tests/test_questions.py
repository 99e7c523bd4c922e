"""The one pending-question mechanism: stored questions, the answer rule, buttons on every channel."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot import questions
from bot.messages import Inbound, Reply
from bot.service import Context, Fieldbot
from bot.telegram import inline_answer, reply_markup
from bot.web import create_app
from bot.whatsapp import twiml
from models import PendingQuestion, Person, ReportValue
from tests.conftest import SUNITA, SUNITA_TG, USHA, Chat, at, link_sunita
from tests.fakes.live import serving
from tests.fakes.telegram_api import FakeTelegramAPI, callback_query_update, text_update

TYPO = "भ्रमन 25"  # घर भ्रमण misspelt: read as 25 households, only likely
YES, NO = "✅ हाँ, सही है", "✏️ नहीं"


def stored(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.coalesce(func.sum(ReportValue.value), 0))).one())


def open_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(PendingQuestion)).one())


def person_id(engine: Engine, phone: str) -> int:
    with Session(engine) as session:
        person = session.exec(select(Person).where(Person.phone == phone)).one()
        assert person.id is not None
        return person.id


def question(labels: list[str]) -> PendingQuestion:
    """A question as stored, without a database: only its labels matter to `choice`."""
    return PendingQuestion(
        person_id=1, channel="whatsapp", kind="k", labels=json.dumps(labels), expires_at=at(23)
    )


# ---------------------------------------------------------------- which answer a text is


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("✅ हाँ, सही है", 0),
        ("  हाँ, सही है ", 0),
        ("हाँ", 0),
        ("हां", 0),
        ("Haan", 0),
        ("yes", 0),
        ("Y", 0),
        ("1", 0),
        ("१", 0),
        ("हाँ।", 0),
        ("✏️ नहीं", 1),
        ("नहीं", 1),
        ("nahi", 1),
        ("NO", 1),
        ("2", 1),
        ("3", None),
        ("0", None),
        ("हाँ कार्ड 5", None),
        ("कार्ड 5", None),
        ("", None),
    ],
)
def test_choice_reads_labels_numbers_and_yes_no(text: str, index: int | None) -> None:
    assert questions.choice(question([YES, NO]), text) == index


def test_yes_and_no_words_answer_only_a_two_label_question() -> None:
    menu = question(["ऑपरेटर आईडी बंद", "सर्वर बंद", "समग्र मेल नहीं"])
    assert questions.choice(menu, "हाँ") is None
    assert questions.choice(menu, "3") == 2
    assert questions.choice(menu, "सर्वर बंद") == 1
    assert questions.choice(menu, "4") is None


def test_button_data_names_question_and_place() -> None:
    assert questions.read_button_data(questions.button_data(42, 1)) == (42, 1)
    for foreign in (None, "", "q:x:1", "q:1", "other:1:2", "q:1:2:3"):
        assert questions.read_button_data(foreign) is None


# ---------------------------------------------------------------- stored questions


def test_asking_again_replaces_and_a_lapsed_question_is_not_open(district: Engine) -> None:
    pid = person_id(district, "+917973321377")
    now = at(23, 12).astimezone(dt.UTC)
    with Session(district) as session:
        first = questions.ask(
            session, person_id=pid, channel="simulator", kind="k", payload={"a": 1},
            labels=["x", "y"], now=now, ttl=dt.timedelta(minutes=10),
        )  # fmt: skip
        second = questions.ask(
            session, person_id=pid, channel="simulator", kind="k", payload={"a": 2},
            labels=["x", "y"], now=now, ttl=dt.timedelta(minutes=10),
        )  # fmt: skip
        session.commit()
        assert first.id != second.id
        found = questions.open_question(session, person_id=pid, now=now + dt.timedelta(minutes=9))
        assert found is not None and questions.payload(found) == {"a": 2}
        assert questions.labels(found) == ["x", "y"]
        assert (
            questions.open_question(session, person_id=pid, now=now + dt.timedelta(minutes=10)) is None
        )
        assert questions.people_with_questions(session, person_ids=[pid, pid + 1000]) == {pid}
        questions.close(session, found)
        session.commit()
        assert questions.current(session, person_id=pid) is None
    assert open_count(district) == 0


def test_ttl_defaults_to_the_config(core: Fieldbot, district: Engine) -> None:
    pid = person_id(district, "+917973321377")
    now = at(23, 12).astimezone(dt.UTC)
    with Session(district) as session:
        asked = questions.ask(
            session, person_id=pid, channel="whatsapp", kind="k", payload={}, labels=["a"], now=now
        )
        minutes = core.settings.questions.ttl_minutes
        assert asked.expires_at - asked.created_at == dt.timedelta(minutes=minutes)
        session.rollback()


# ---------------------------------------------------------------- the rule, in conversation


def test_unsure_reading_is_asked_and_stored_only_on_yes(chat: Chat, district: Engine) -> None:
    replies = chat.core.handle(chat_inbound(SUNITA, TYPO))
    assert len(replies) == 1 and replies[0].buttons == (YES, NO)
    assert "घर: 25" in replies[0].text and "भ्रमन" in replies[0].text
    assert stored(district) == 0 and open_count(district) == 1
    answer = chat.say(SUNITA, "हाँ")
    assert "घर: 25" in answer and "दर्ज" in answer
    assert stored(district) == 25 and open_count(district) == 0
    # The question is gone: a second हाँ is just a message not understood, and stores nothing.
    assert "समझ" in chat.say(SUNITA, "हाँ")
    assert stored(district) == 25


def test_no_discards_and_shows_the_format(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, TYPO)
    answer = chat.say(SUNITA, "2")
    assert "कुछ दर्ज नहीं" in answer and "आवेदन 25 कार्ड 20" in answer
    assert stored(district) == 0 and open_count(district) == 0


def test_any_other_message_drops_the_question_and_is_handled_as_usual(
    chat: Chat, district: Engine
) -> None:
    chat.say(SUNITA, TYPO)
    assert "कार्ड: 7" in chat.say(SUNITA, "कार्ड 7")
    assert open_count(district) == 0 and stored(district) == 7
    # हाँ after the question was dropped answers nothing, and the reading it had is not stored.
    assert "समझ" in chat.say(SUNITA, "हाँ")
    assert stored(district) == 7


def test_a_new_unsure_report_replaces_the_question(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, TYPO)
    chat.say(SUNITA, "कार्डस 12")
    assert open_count(district) == 1
    assert "कार्ड: 12" in chat.say(SUNITA, "हाँ")
    assert stored(district) == 12


def test_a_lapsed_question_takes_no_answer(core: Fieldbot, district: Engine) -> None:
    asked = at(23, 12)
    Chat(Fieldbot(core.settings, district, clock=lambda: asked)).say(SUNITA, TYPO, when=asked)
    late = asked + dt.timedelta(minutes=core.settings.questions.ttl_minutes + 1)
    answer = Chat(Fieldbot(core.settings, district, clock=lambda: late)).say(SUNITA, "हाँ", when=late)
    assert "घर: 25" not in answer and "समझ" in answer
    assert stored(district) == 0 and open_count(district) == 0


def test_an_answer_refused_by_a_ceiling_closes_the_question(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, "भ्रमन 99999")
    assert open_count(district) == 1
    answer = chat.say(SUNITA, "हाँ")
    assert stored(district) == 0 and open_count(district) == 0
    assert "99,999" in answer


def test_an_officer_is_not_asked(chat: Chat, district: Engine) -> None:
    chat.say(USHA, TYPO)
    assert open_count(district) == 0


def test_a_registered_kind_answers_with_its_handler(chat: Chat, district: Engine) -> None:
    seen: list[tuple[str, int]] = []

    @questions.answers("test_menu")
    def on_answer(ctx: Context, asked: PendingQuestion, index: int) -> list[Reply]:
        seen.append((asked.kind, index))
        return [Reply(f"picked {questions.labels(asked)[index]}")]

    pid = person_id(district, "+917973321377")
    with Session(district) as session:
        questions.ask(
            session, person_id=pid, channel="simulator", kind="test_menu", payload={},
            labels=["लाल", "हरा", "नीला"], now=at(23, 23, 50).astimezone(dt.UTC),
        )  # fmt: skip
        session.commit()
    assert chat.say(SUNITA, "हरा") == "picked हरा"
    assert seen == [("test_menu", 1)] and open_count(district) == 0


def chat_inbound(phone: str, text: str) -> Inbound:
    return Inbound(
        channel="simulator",
        dedup_key=f"test:{uuid.uuid4().hex}",
        sent_at=at(23),
        chat_id=phone,
        phone=phone,
        text=text,
    )


# ---------------------------------------------------------------- how channels show buttons


def test_channels_render_buttons() -> None:
    reply = Reply("पढ़ा: घर भ्रमण 25", buttons=(YES, NO), question=7)
    markup = reply_markup(reply)
    assert markup is not None
    keyboard = markup.to_dict()["inline_keyboard"]
    assert [[b["text"] for b in row] for row in keyboard] == [[YES], [NO]]
    assert [row[0]["callback_data"] for row in keyboard] == ["q:7:0", "q:7:1"]
    call = inline_answer(5001, [reply])
    assert call is not None and call["reply_markup"]["inline_keyboard"] == keyboard
    assert f"1. {YES}\n2. {NO}" in twiml([reply], lambda d: "")
    assert Reply.from_json(reply.to_json()) == reply


# ---------------------------------------------------------------- end to end


def test_telegram_buttons_answer_and_an_old_keyboard_is_closed(
    polling: FakeTelegramAPI, district: Engine
) -> None:
    link_sunita(polling)
    polling.push_update(text_update(TYPO, user_id=SUNITA_TG))
    sent = polling.wait_for("sendMessage", 3)[-1]
    keyboard = sent.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == [YES, NO]
    message_id = polling_message_id(polling, sent.params["text"])
    yes = keyboard[0][0]["callback_data"]
    polling.push_update(callback_query_update(yes, user_id=SUNITA_TG, message_id=message_id))
    confirmation = polling.wait_for("sendMessage", 4)[-1].params["text"]
    assert "घर: 25" in confirmation
    assert polling.wait_for("answerCallbackQuery", 1)
    assert polling.markup_of(SUNITA_TG, message_id) is None  # the keyboard is taken away
    assert stored(district) == 25
    # The same button pressed again (an old keyboard, another phone) changes nothing.
    polling.push_update(callback_query_update(yes, user_id=SUNITA_TG, message_id=message_id))
    closed = polling.wait_for("sendMessage", 5)[-1].params["text"]
    assert "खुला नहीं" in closed
    assert len(polling.wait_for("answerCallbackQuery", 2)) == 2
    assert stored(district) == 25


def test_telegram_no_button_discards(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    polling.push_update(text_update(TYPO, user_id=SUNITA_TG))
    sent = polling.wait_for("sendMessage", 3)[-1]
    no = sent.params["reply_markup"]["inline_keyboard"][1][0]["callback_data"]
    message_id = polling_message_id(polling, sent.params["text"])
    polling.push_update(callback_query_update(no, user_id=SUNITA_TG, message_id=message_id))
    assert "कुछ दर्ज नहीं" in polling.wait_for("sendMessage", 4)[-1].params["text"]
    assert stored(district) == 0 and open_count(district) == 0


def polling_message_id(api: FakeTelegramAPI, text: str) -> int:
    """The id the fake gave the bot's message with this text."""
    with api._cond:  # the fake's own record of what it delivered
        ids = [mid for (_, mid), m in api._messages.items() if m["text"] == text]
    return ids[-1]


@pytest.fixture()
def web(core: Fieldbot) -> Iterator[str]:
    with serving(create_app(core)) as url:
        yield url


def sim(url: str, phone: str, text: str) -> list[dict[str, object]]:
    response = httpx.post(f"{url}/simulator/messages", json={"phone": phone, "text": text}, timeout=10)
    assert response.status_code == 200, response.text
    replies = response.json()["replies"]
    assert isinstance(replies, list)
    return replies


def test_simulator_carries_buttons_and_a_label_answers(web: str, district: Engine) -> None:
    asked = sim(web, SUNITA, TYPO)
    assert asked[0]["buttons"] == [YES, NO]
    assert stored(district) == 0
    answered = sim(web, SUNITA, YES)
    assert "buttons" not in answered[0] and "घर: 25" in str(answered[0]["text"])
    assert stored(district) == 25
    page = httpx.get(web + "/").text
    assert "answers" in page and "m.buttons" in page

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

from bot import privacy
from bot.app import build_core
from bot.channels.telegram.answers import inline_answer, reply_markup
from bot.channels.whatsapp.twiml import twiml
from bot.config import Settings
from bot.core import answering, questions
from bot.core.contracts import Context
from bot.core.messages import Inbound, Reply
from bot.core.service import Fieldbot
from bot.web import create_app
from models import DailyReport, Outbox, PendingQuestion, Person, ReportValue
from scheduler import run_job, run_retention
from tests.conftest import SUNITA, SUNITA_TG, USHA, Chat, at, link_sunita
from tests.fakes.live import serving
from tests.fakes.telegram_api import FakeTelegramAPI, callback_query_update, text_update

REKHA = "7339325088"  # ASHA, Sandila-1
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
    Chat(build_core(core.settings, district, clock=lambda: asked)).say(SUNITA, TYPO, when=asked)
    late = asked + dt.timedelta(minutes=core.settings.questions.ttl_minutes + 1)
    answer = Chat(build_core(core.settings, district, clock=lambda: late)).say(SUNITA, "हाँ", when=late)
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

    @answering.answers("test_menu")
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
    message_id = polling.message_id_of(SUNITA_TG, sent.params["text"])
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
    message_id = polling.message_id_of(SUNITA_TG, sent.params["text"])
    polling.push_update(callback_query_update(no, user_id=SUNITA_TG, message_id=message_id))
    assert "कुछ दर्ज नहीं" in polling.wait_for("sendMessage", 4)[-1].params["text"]
    assert stored(district) == 0 and open_count(district) == 0


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


# ---------------------------------------------------------------- the ask-back on reports


def values(engine: Engine) -> dict[tuple[str, str], int]:
    """Every stored value as (day, metric) -> value."""
    with Session(engine) as session:
        rows = session.exec(
            select(DailyReport.day, ReportValue.metric, ReportValue.value).join(
                ReportValue, ReportValue.report_id == DailyReport.id
            )
        ).all()
    return {(day.isoformat(), metric): value for day, metric, value in rows}


@pytest.mark.parametrize(
    ("message", "why", "stored_as"),
    [
        ("भ्रमन 25", "«भ्रमन» को मैंने «घर» पढ़ा", {"households": 25}),
        ("आवेदन 25 20 कार्ड", "«20» को मैंने «कार्ड» की संख्या पढ़ा", {"applications": 25, "cards": 20}),
        ("सुनीता 25 20", "«सुनीता» समझ नहीं आया; संख्याएँ इस क्रम में पढ़ीं: आवेदन, कार्ड",
         {"applications": 25, "cards": 20}),
        ("आयुषमान कार्ड 9\nआवेदन 12", "«आयुषमान» को मैंने «कार्ड» पढ़ा", {"cards": 9, "applications": 12}),
    ],
)  # fmt: skip
def test_each_unsure_reading_says_why_and_yes_stores_exactly_what_was_shown(
    chat: Chat, district: Engine, message: str, why: str, stored_as: dict[str, int]
) -> None:
    asked = chat.say(SUNITA, message)
    assert why in asked and "अभी कुछ दर्ज नहीं हुआ" in asked and "आज (23/11)" in asked
    assert values(district) == {}
    chat.say(SUNITA, "हाँ")
    assert values(district) == {("2026-11-23", m): v for m, v in stored_as.items()}


def test_yes_stores_for_the_day_the_message_was_written(core: Fieldbot, district: Engine) -> None:
    written = at(23, 23, 50)
    Chat(build_core(core.settings, district, clock=lambda: written)).say(SUNITA, TYPO, when=written)
    answered = at(24, 0, 10)
    reply = Chat(build_core(core.settings, district, clock=lambda: answered)).say(
        SUNITA, "हाँ", when=answered
    )
    assert "23/11" in reply
    assert values(district) == {("2026-11-23", "households"): 25}


def test_a_back_dated_unsure_report_is_asked_for_its_day(chat: Chat, district: Engine) -> None:
    asked = chat.say(SUNITA, "कल भ्रमन 5")
    assert "कल (22/11)" in asked
    chat.say(SUNITA, "1")
    assert values(district) == {("2026-11-22", "households"): 5}


def test_an_unreadable_message_names_the_word_not_understood(chat: Chat, district: Engine) -> None:
    reply = chat.say(SUNITA, "10 बजे मीटिंग है")
    assert "«मीटिंग» समझ नहीं आया" in reply and "आवेदन 25 कार्ड 20" in reply
    assert values(district) == {} and open_count(district) == 0
    # A complaint with a number in it is a problem report, never a figure.
    assert "समस्या दर्ज हुई" in chat.say(SUNITA, "नेटवर्क 3 दिन से खराब")
    assert values(district) == {} and open_count(district) == 0


def test_the_reminder_names_a_report_waiting_for_her_yes(core: Fieldbot, district: Engine) -> None:

    asked = at(23, 16, 30)
    then = Chat(build_core(core.settings, district, clock=lambda: asked))
    then.say(SUNITA, TYPO, when=asked)
    # Another worker reported, and is still waiting on a question: she hears of it too.
    then.say(REKHA, "कार्ड 4", when=asked)
    then.say(REKHA, "कार्डस 5", when=asked)
    run_job(district, core.settings, "reminder", at(23, 17))
    with Session(district) as session:
        rows = session.exec(select(Outbox).where(Outbox.job == "reminder")).all()
        texts = {row.person_id: row.text for row in rows}
    sunita, rekha = person_id(district, "+917973321377"), person_id(district, "+917339325088")
    assert "पुष्टि" in texts[sunita] and "रिपोर्ट" in texts[sunita]
    assert "पुष्टि" in texts[rekha]
    others = [text for pid, text in texts.items() if pid not in (sunita, rekha)]
    assert others and all("पुष्टि" not in text for text in others)


def test_a_question_lapsed_before_the_reminder_is_not_named(core: Fieldbot, district: Engine) -> None:

    asked = at(23, 12)
    Chat(build_core(core.settings, district, clock=lambda: asked)).say(SUNITA, TYPO, when=asked)
    run_job(district, core.settings, "reminder", at(23, 17))
    with Session(district) as session:
        row = session.exec(
            select(Outbox).where(
                Outbox.job == "reminder", Outbox.person_id == person_id(district, "+917973321377")
            )
        ).one()
    assert "पुष्टि" not in row.text


def test_a_group_is_not_asked(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    polling.push_update(text_update(TYPO, user_id=SUNITA_TG, chat_id=-900, chat_type="group"))
    polling.push_update(text_update("कार्ड 3", user_id=SUNITA_TG))
    reply = polling.wait_for("sendMessage", 3)[-1].params
    assert reply["chat_id"] == SUNITA_TG and "कार्ड: 3" in reply["text"]
    assert open_count(district) == 0


def test_simulator_pairing_question_and_no(web: str, district: Engine) -> None:
    asked = sim(web, SUNITA, "आवेदन 25 20 कार्ड")
    assert asked[0]["buttons"] == [YES, NO]
    answered = sim(web, SUNITA, NO)
    assert "कुछ दर्ज नहीं" in str(answered[0]["text"]) and values(district) == {}


def test_a_word_that_could_be_two_metrics_is_asked_as_a_choice(
    settings: Settings, district: Engine
) -> None:
    data = settings.model_dump(exclude={"base_dir"})
    for metric in data["metrics"]:
        if metric["key"] == "households":
            metric["synonyms"].append("bhraman")
        if metric["key"] == "rejected":
            metric["synonyms"].append("bhramon")
    both = Settings.model_validate({**data, "base_dir": settings.base_dir})
    core = build_core(both, district, clock=lambda: at(23, 23, 59))
    replies = core.handle(chat_inbound(SUNITA, "bhramen 12"))
    assert replies[0].buttons == ("घर 12", "रिजेक्ट 12", NO)
    assert "1. घर: 12" in replies[0].text and "2. रिजेक्ट: 12" in replies[0].text
    assert values(district) == {}
    Chat(core).say(SUNITA, "2")
    assert values(district) == {("2026-11-23", "rejected"): 12}


def test_her_question_is_in_access_and_gone_after_forget(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, TYPO)
    with Session(district) as session:
        held = privacy.access(session=session, phone="+917973321377")
        assert [q["kind"] for q in held["questions_waiting"]] == ["report_check"]
        privacy.forget(session=session, phone="+917973321377", now=at(24).astimezone(dt.UTC))
        session.commit()
    assert open_count(district) == 0


def test_the_nightly_sweep_deletes_lapsed_questions(core: Fieldbot, district: Engine) -> None:
    asked = at(23, 12)
    Chat(build_core(core.settings, district, clock=lambda: asked)).say(SUNITA, TYPO, when=asked)
    run_retention(district, core.settings, asked + dt.timedelta(minutes=5))
    assert open_count(district) == 1  # still open: kept
    run_retention(district, core.settings, at(24, 2, 30))
    assert open_count(district) == 0

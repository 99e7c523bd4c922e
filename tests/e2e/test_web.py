"""The simulator page and endpoints, and the health check, over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.app import build_core
from bot.core.service import Fieldbot
from bot.web import create_app
from tests.conftest import RAJESH, SUNITA
from tests.fakes.live import serving


@pytest.fixture()
def web(core: Fieldbot) -> Iterator[str]:
    with serving(create_app(core)) as url:
        yield url


def post(url: str, body: object) -> httpx.Response:
    return httpx.post(f"{url}/simulator/messages", json=body, timeout=10)


def test_page_lists_the_roster_to_pick_from(web: str) -> None:
    page = httpx.get(web + "/")
    assert page.status_code == 200 and "Fieldbot" in page.text
    people = httpx.get(web + "/simulator/people").json()["people"]
    sunita = next(p for p in people if p["name"] == "Sunita Devi")
    assert sunita == {
        "name": "Sunita Devi",
        "phone": "+917973321377",
        "role": "asha",
        "unit": "Hardoi/Sandila/Sandila-1",
        "language": "hi",
        "village": "Atwa",
        "lat": 27.095652,
        "lon": 80.484237,
    }
    assert all(p["name"] != "Pushpa Rawat" for p in people)  # inactive: not offered


def test_report_then_bmo_status_over_http(web: str) -> None:
    reply = post(
        web, {"phone": SUNITA, "text": "आवेदन 25 कार्ड 20", "at": "2026-11-23T11:00:00+05:30"}
    ).json()
    assert reply["replies"][0]["document"] is None
    assert "कार्ड: 20" in reply["replies"][0]["text"]
    status = post(web, {"phone": RAJESH, "text": "/status", "at": "2026-11-23T19:00:00+05:30"})
    assert "कार्ड 20" in status.json()["replies"][0]["text"]


def test_photo_and_location_from_the_page_make_a_proof(web: str) -> None:
    from tests.images import photo

    image = base64.b64encode(photo(60, gps=(27.0957, 80.4843))).decode()
    first = post(web, {"phone": SUNITA, "photo_base64": image, "at": "2026-11-23T10:00:00+05:30"})
    assert "लोकेशन भेजें" in first.json()["replies"][0]["text"]
    pin = {"lat": 27.0957, "lon": 80.4843, "accuracy": 20}
    second = post(web, {"phone": SUNITA, "location": pin, "at": "2026-11-23T10:02:00+05:30"})
    assert second.json()["replies"][0]["text"].startswith("✅ फ़ील्ड फ़ोटो सत्यापित")


def test_export_reply_carries_the_document(web: str) -> None:
    body = post(web, {"phone": RAJESH, "text": "/export", "at": "2026-11-23T19:00:00+05:30"}).json()
    item = body["replies"][0]
    assert item["document"].endswith(".xlsx")
    assert base64.b64decode(item["document_base64"])[:2] == b"PK"  # a zip: an xlsx workbook


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"text": "कार्ड 5"}, "phone"),
        ({"phone": SUNITA, "text": 5}, "text"),
        ({"phone": SUNITA, "text": "कार्ड 5", "at": "yesterday"}, "at"),
        ({"phone": SUNITA, "text": "x", "at": "2026-11-23T10:00:00"}, "at"),
        ({"phone": SUNITA, "location": {"lat": "north"}}, "location"),
        ({"phone": SUNITA, "photo_base64": "!!!"}, "photo_base64"),
        ([1, 2], "object"),
    ],
)
def test_bad_requests_get_a_clear_400(web: str, body: object, error: str) -> None:
    response = post(web, body)
    assert response.status_code == 400
    assert error in response.json()["error"]


def test_not_json_is_refused(web: str) -> None:
    response = httpx.post(
        f"{web}/simulator/messages",
        content=b"\xff\xfe{",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400


def test_same_message_id_is_answered_once(web: str, district: Engine) -> None:
    body = {"phone": SUNITA, "text": "कार्ड +5", "id": "m-1", "at": "2026-11-23T11:00:00+05:30"}
    first, second = post(web, body).json(), post(web, body).json()
    assert first == second
    status = post(web, {"phone": SUNITA, "text": "/status", "at": "2026-11-23T19:00:00+05:30"})
    assert "कार्ड 5" in status.json()["replies"][0]["text"]


def test_healthz_answers_when_the_database_does(web: str) -> None:
    body = httpx.get(web + "/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok"


def test_healthz_is_503_when_the_database_is_gone(settings: object, tmp_path: object) -> None:
    from bot.store.db import make_engine

    engine = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    core = build_core(settings, engine)  # type: ignore[arg-type]
    with serving(create_app(core)) as url:
        response = httpx.get(url + "/healthz", timeout=10)
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


def test_simulator_can_be_turned_off(core: Fieldbot) -> None:
    with serving(create_app(core, simulator=False)) as url:
        assert httpx.get(url + "/").status_code == 404
        assert post(url, {"phone": SUNITA, "text": "कार्ड 5"}).status_code == 404
        assert httpx.get(url + "/healthz").status_code == 200

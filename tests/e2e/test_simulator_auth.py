"""The simulator's lock and the host check, over real HTTP: in-process apps for each rule, and the
real `fieldbot run` / `fieldbot demo` for what each command turns on."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.app import build_core
from bot.config import Settings
from bot.config_sections import Simulator
from bot.core.service import Fieldbot
from bot.delivery import outbox
from bot.guard import COOKIE, own_hosts
from bot.roster.apply import import_roster
from bot.store.db import session_scope, upgrade
from bot.web import create_app
from models import InboundMessage, Person, utcnow
from tests.conftest import SAMPLE, SUNITA
from tests.e2e.test_cli import _site, running
from tests.fakes.live import serving

TOKEN = "tok-" + "x" * 40
BEARER = {"Authorization": f"Bearer {TOKEN}"}
REPORT = {"phone": SUNITA, "text": "कार्ड 5", "at": "2026-11-23T11:00:00+05:30"}
HEALTH_DETAIL = {"database", "outbox_backlog", "scheduler_last_run", "scheduler_holder", "locks"}


def stored(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(InboundMessage)).one())


def routes(url: str, **kw: object) -> dict[str, httpx.Response]:
    """One request to every simulator route."""
    return {
        "page": httpx.get(url + "/", **kw),  # type: ignore[arg-type]
        "people": httpx.get(url + "/simulator/people", **kw),  # type: ignore[arg-type]
        "inbox": httpx.get(url + "/simulator/inbox", params={"phone": SUNITA}, **kw),  # type: ignore[arg-type]
        "messages": httpx.post(url + "/simulator/messages", json=REPORT, **kw),  # type: ignore[arg-type]
    }


@pytest.fixture()
def locked(core: Fieldbot) -> Iterator[str]:
    """The app as `fieldbot run` serves it with `simulator.enabled: true`."""
    with serving(create_app(core, simulator_token=TOKEN)) as url:
        yield url


@pytest.fixture()
def open_demo(core: Fieldbot) -> Iterator[str]:
    """The app as `fieldbot demo` serves it on loopback: no token."""
    with serving(create_app(core)) as url:
        yield url


# ---------------------------------------------------------------- the token


def test_without_the_token_every_simulator_route_is_401(locked: str, district: Engine) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Cookie": f"{COOKIE}=wrong"}):
        answers = routes(locked, headers=headers)
        assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 401)
        assert "token" in answers["page"].text and answers["page"].headers["content-type"].startswith(
            "text/html"
        )
        for name in ("people", "inbox", "messages"):
            assert "token" in answers[name].json()["error"]
            assert "+917973321377" not in answers[name].text
    assert stored(district) == 0


def test_the_bearer_token_opens_every_route(locked: str, district: Engine) -> None:
    answers = routes(locked, headers=BEARER)
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 200)
    assert "कार्ड: 5" in answers["messages"].json()["replies"][0]["text"]
    assert stored(district) == 1


def test_the_token_link_sets_an_httponly_cookie_that_then_works(locked: str) -> None:
    wrong = httpx.get(locked + "/", params={"token": "guess"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers

    opened = httpx.get(locked + "/", params={"token": TOKEN})
    assert opened.status_code == 303 and opened.headers["location"] == "/"  # token out of the bar
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    with httpx.Client(base_url=locked, cookies=opened.cookies) as browser:
        assert browser.get("/").status_code == 200
        assert browser.get("/simulator/people").status_code == 200
        # The page's own fetch: same origin, JSON.
        sent = browser.post("/simulator/messages", json=REPORT, headers={"Origin": locked})
        assert sent.status_code == 200


def test_healthz_tells_the_public_only_its_status(locked: str) -> None:
    direct = httpx.get(locked + "/healthz").json()
    assert direct["status"] == "ok" and set(direct) >= HEALTH_DETAIL  # the machine itself
    for proxy in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}):
        public = httpx.get(locked + "/healthz", headers=proxy)
        assert public.status_code == 200 and public.json() == {"status": "ok"}
        holder = httpx.get(locked + "/healthz", headers={**proxy, **BEARER}).json()
        assert set(holder) >= HEALTH_DETAIL


def test_healthz_down_tells_the_public_only_error(settings: Settings) -> None:
    from bot.store.db import make_engine

    engine = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    with serving(create_app(build_core(settings, engine))) as url:
        public = httpx.get(url + "/healthz", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    assert public.status_code == 503 and public.json() == {"status": "error"}


# ---------------------------------------------------------------- in every mode: host, origin, JSON


def test_a_foreign_host_is_refused_dns_rebinding(open_demo: str, district: Engine) -> None:
    port = open_demo.rsplit(":", 1)[1]
    rebound = {"Host": f"attacker.example:{port}"}
    for answer in routes(open_demo, headers=rebound).values():
        assert answer.status_code == 400 and "host" in answer.json()["error"]
    assert httpx.get(open_demo + "/healthz", headers=rebound).status_code == 400
    assert stored(district) == 0
    assert httpx.get(open_demo + "/simulator/people", headers={"Host": f"localhost:{port}"}).is_success


def test_the_public_urls_host_is_accepted(core: Fieldbot) -> None:
    env = {"FIELDBOT_PUBLIC_URL": "https://bot.example.gov.in", "TELEGRAM_WEBHOOK_URL": ""}
    with serving(create_app(core, simulator=False, hosts=own_hosts("127.0.0.1", env))) as url:
        assert httpx.get(url + "/healthz", headers={"Host": "bot.example.gov.in"}).status_code == 200
        assert httpx.get(url + "/healthz", headers={"Host": "other.example.gov.in"}).status_code == 400


def test_a_foreign_origin_is_refused_on_a_post(open_demo: str, district: Engine) -> None:
    for origin in ("https://attacker.example", "null"):
        refused = httpx.post(open_demo + "/simulator/messages", json=REPORT, headers={"Origin": origin})
        assert refused.status_code == 403 and "cross-site" in refused.json()["error"]
    assert stored(district) == 0
    same = httpx.post(open_demo + "/simulator/messages", json=REPORT, headers={"Origin": open_demo})
    assert same.status_code == 200
    assert httpx.post(open_demo + "/simulator/messages", json={**REPORT, "id": "2"}).status_code == 200


def test_a_form_post_is_refused_as_not_json(open_demo: str, district: Engine) -> None:
    form = httpx.post(open_demo + "/simulator/messages", data={"phone": SUNITA, "text": "कार्ड 5"})
    plain = httpx.post(
        open_demo + "/simulator/messages",
        content=b'{"phone": "7973321377", "text": "x"}',
        headers={"Content-Type": "text/plain"},
    )
    for answer in (form, plain):
        assert answer.status_code == 415 and "JSON" in answer.json()["error"]
    assert stored(district) == 0


def test_refusals_are_logged_without_phone_numbers(
    locked: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fieldbot.guard"):
        httpx.get(locked + "/simulator/inbox", params={"phone": "9876543210"})
        httpx.get(locked + "/simulator/inbox?phone=9876543210", headers={"Host": "attacker.example"})
    lines = [r.getMessage() for r in caplog.records if r.name == "fieldbot.guard"]
    assert len(lines) == 2 and all("/simulator/inbox" in line for line in lines)
    assert not any("9876543210" in line or "543210" in line for line in lines)


# ---------------------------------------------------------------- what each command turns on


def test_run_has_no_simulator_unless_the_config_turns_it_on(base_settings: Settings) -> None:
    assert Simulator().enabled is False and base_settings.simulator.enabled is False


def _sample_roster(data: dict[str, object]) -> None:
    data["demo"] = {"roster": str(SAMPLE)}  # the config is copied away from examples/


def test_run_serves_no_simulator_by_default(tmp_path: Path) -> None:
    with _site("sqlite", tmp_path) as site:
        upgrade(site.engine())
        with running(site, "run", "--no-scheduler") as (port, _):
            url = f"http://127.0.0.1:{port}"
            answers = routes(url, headers=BEARER)
            assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
            assert httpx.get(url + "/healthz").status_code == 200


def test_run_with_the_simulator_prints_a_token_and_needs_it(tmp_path: Path) -> None:
    def enable(data: dict[str, object]) -> None:
        data["simulator"] = {"enabled": True}

    with _site("sqlite", tmp_path, enable) as site:
        upgrade(site.engine())
        with session_scope(site.engine()) as session:
            import_roster(session, SAMPLE, progress=False)
        with running(site, "run", "--no-scheduler") as (port, out):
            said = out.read_text()
            assert "real figures" in said and "training" in said  # it says what it does
            found = re.search(r"/\?token=(\S+) once", said)
            assert found, said
            token = found.group(1)
            url = f"http://127.0.0.1:{port}"
            assert httpx.get(url + "/simulator/people").status_code == 401
            with_token = httpx.get(
                url + "/simulator/people", headers={"Authorization": f"Bearer {token}"}
            )
            assert with_token.status_code == 200 and with_token.json()["people"]


def test_demo_on_loopback_needs_no_token(tmp_path: Path) -> None:
    with _site("sqlite", tmp_path, _sample_roster) as site, running(site, "demo") as (port, out):
        assert "token" not in out.read_text()
        answers = routes(f"http://127.0.0.1:{port}")
        assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 200)


def test_demo_delivers_scheduled_messages_to_the_simulators_inbox(tmp_path: Path) -> None:
    """The sample config leaves the simulator off for `run`; `demo` still shows the day's
    messages (start message, reminders, digests) to the people it speaks as."""
    with _site("sqlite", tmp_path, _sample_roster) as site, running(site, "demo") as (port, _):
        with session_scope(site.engine()) as session:
            sunita = session.exec(select(Person).where(Person.name == "Sunita Devi")).one()
            outbox.enqueue(
                session=session,
                job="start_message",
                day=utcnow().date(),
                messages=[outbox.Message(person=sunita, text="सुप्रभात सुनीता जी")],
                now=utcnow(),
                whatsapp=False,
            )
        url = f"http://127.0.0.1:{port}/simulator/inbox?phone={SUNITA}&after=0"
        deadline = time.monotonic() + 20
        texts: list[str] = []
        while time.monotonic() < deadline and not texts:
            texts = [m["text"] for m in httpx.get(url).json()["messages"]]
            time.sleep(0.3)
        assert texts == ["सुप्रभात सुनीता जी"]


def test_demo_on_every_interface_needs_the_token(tmp_path: Path) -> None:
    env = {"FIELDBOT_SIMULATOR_TOKEN": TOKEN}
    with (
        _site("sqlite", tmp_path, _sample_roster) as site,
        running(site, "demo", "--host", "0.0.0.0", env=env) as (port, out),
    ):
        assert TOKEN not in out.read_text()  # a token from the environment is not printed
        url = f"http://127.0.0.1:{port}"
        assert all(r.status_code == 401 for r in routes(url).values())
        assert all(r.status_code == 200 for r in routes(url, headers=BEARER).values())

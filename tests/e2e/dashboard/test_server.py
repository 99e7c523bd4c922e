"""The dashboard over HTTP on SQLite and PostgreSQL: signing in, scope, figures, reviews, uploads."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.telegram.application import build_application
from bot.cli import main as cli_main
from bot.core.service import Fieldbot
from bot.roster.apply import import_roster
from bot.roster.read import RosterInvalid
from bot.store.db import session_scope
from bot.web import create_app
from models import Outbox, Person, PhoneView, Proof, ProofReview
from tests.conftest import (
    ADMIN,
    RAJESH,
    SECRET,
    SUNITA,
    USHA,
    VIVEK,
    Chat,
    at,
    child_url,
    telegram_settings,
)
from tests.e2e.dashboard.common import ask_web, client_for, csrf_of, link_of, path_of, sign_in
from tests.e2e.test_presence import FIVE_KM_NORTH, send_proof
from tests.fakes.live import serving
from tests.fakes.telegram_api import FakeTelegramAPI, contact_update, text_update
from tests.images import photo

NASREEN = "08209773026"  # BMO Bilgram


@pytest.fixture()
def app(core: Fieldbot) -> Iterator[str]:
    """The web app on a real server on loopback; its base URL."""
    with serving(create_app(core)) as url:
        yield url


def person(engine: Engine, phone_digits: str) -> Person:
    with Session(engine) as session:
        for p in session.exec(select(Person)).all():
            if p.phone.endswith(phone_digits[-10:].replace(" ", "")):
                return p
    raise AssertionError(phone_digits)


# ---------------------------------------------------------------- signing in


def test_web_gives_an_officer_a_one_use_link_without_preview(core: Fieldbot, app: str) -> None:
    replies = ask_web(core, RAJESH)
    assert len(replies) == 1 and not replies[0].preview
    assert "मिनट" in replies[0].text and "साइन इन" in replies[0].text
    path = path_of(link_of(replies))
    client = client_for(app)
    # Opening the link (as a link preview's crawler would) uses nothing up.
    for _ in range(2):
        page = client.get(path)
        assert page.status_code == 200 and 'id="sign-in"' in page.text
    done = client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/dashboard"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    home = client.get("/dashboard")
    assert home.status_code == 200 and "Hardoi/Sandila" in home.text
    # The same link a second time, in another browser: refused.
    other = client_for(app)
    again = other.get(path)
    second = other.post(path, data={"csrf": csrf_of(again.text)}, follow_redirects=False)
    assert second.status_code == 403
    assert "पहले ही इस्तेमाल" in second.text and "already been used" in second.text


def test_sign_in_needs_the_pages_form_token(core: Fieldbot, app: str) -> None:
    path = path_of(link_of(ask_web(core, RAJESH)))
    client = client_for(app)
    client.get(path)
    forged = client.post(path, data={"csrf": "guess"}, follow_redirects=False)
    assert forged.status_code == 403
    # The link was not used up by the forged post.
    page = client.get(path)
    assert (
        client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    )


def test_field_worker_and_group_get_no_link(core: Fieldbot) -> None:
    [worker] = ask_web(core, SUNITA)
    assert "सुपरवाइज़र, BMO" in worker.text and "/dashboard" not in worker.text
    [group] = ask_web(core, RAJESH, group=True)
    assert "निजी चैट" in group.text and "/dashboard" not in group.text


def test_links_are_rate_limited(core: Fieldbot) -> None:
    for _ in range(core.settings.dashboard.links_per_hour):
        link_of(ask_web(core, RAJESH))
    [refused] = ask_web(core, RAJESH)
    assert "/dashboard" not in refused.text and "थोड़ी देर बाद" in refused.text


def test_without_a_session_every_page_says_how_to_get_a_link(app: str) -> None:
    client = client_for(app)
    for path in ("/dashboard", "/dashboard/Hardoi", "/dashboard/-/download/export.xlsx?unit=Hardoi"):
        page = client.get(path)
        assert page.status_code == 401
        assert "/web" in page.text and "डैशबोर्ड खोलने के लिए लिंक चाहिए" in page.text
        assert "You need a link to open the dashboard" in page.text


def test_log_out_ends_the_session(core: Fieldbot, app: str) -> None:
    client = client_for(app)
    home = sign_in(client, core, RAJESH)
    assert client.post("/dashboard/-/logout", data={"csrf": "x"}).status_code == 403
    out = client.post("/dashboard/-/logout", data={"csrf": csrf_of(home.text)})
    assert out.status_code == 200 and "लॉग आउट हो गए" in out.text
    assert client.get("/dashboard").status_code == 401


def test_a_person_made_inactive_loses_access_at_once(core: Fieldbot, app: str, district: Engine) -> None:
    client = client_for(app)
    assert sign_in(client, core, RAJESH).status_code == 200
    with session_scope(district) as session:
        rajesh = session.get_one(Person, person(district, RAJESH).id)
        rajesh.active = False
        session.add(rajesh)
    assert client.get("/dashboard").status_code == 401


# ---------------------------------------------------------------- scope and figures


def test_scope_is_the_same_as_chat(core: Fieldbot, app: str) -> None:
    client = client_for(app)
    sign_in(client, core, RAJESH)  # BMO Sandila
    assert client.get("/dashboard/Hardoi/Sandila/Sandila-1").status_code == 200
    for outside in (
        "/dashboard/Hardoi/Bilgram",
        "/dashboard/Hardoi",
        "/dashboard/Hardoi/Bilgram/Bilgram-1",
    ):
        page = client.get(outside)
        assert page.status_code == 404 and "Bilgram-1" not in page.text
    admin = client_for(app)
    sign_in(admin, core, ADMIN)
    assert admin.get("/dashboard/Uttar Pradesh").status_code == 200
    assert admin.get("/dashboard/Hardoi/Bilgram").status_code == 200


def _status_json(
    engine: Engine,
    unit: str,
    day: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, object]:
    monkeypatch.setenv("FIELDBOT_DATABASE_URL", child_url(engine))
    capsys.readouterr()
    assert cli_main(["status", unit, "--from", day, "--to", day, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_figures_are_those_of_status_json(
    core: Fieldbot,
    app: str,
    chat: Chat,
    district: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chat.say(SUNITA, "आवेदन 15 कार्ड 12", at(23, 12))
    chat.say("7339325088", "कार्ड 30", at(23, 13))
    chat.say("6582022368", "कार्ड 7", at(22, 13))
    expected = _status_json(district, "Hardoi/Sandila", "2026-11-23", monkeypatch, capsys)
    client = client_for(app)
    page = sign_in(client, core, RAJESH).text
    figures = page[page.index('id="figures"') : page.index('id="totals"')]
    assert f"{expected['reported']} / {expected['workers']}" in figures
    totals = expected["totals"]
    assert isinstance(totals, dict)
    assert f"{totals['cards']} / {expected['target']}" in figures
    assert f"{expected['achievement_pct']}%" in figures
    assert "आवेदन <b>15</b>" in page
    # The sectors below, and drilling down to one of them: its workers.
    assert 'href="/dashboard/Hardoi/Sandila/Sandila-1"' in page
    sector = client.get("/dashboard/Hardoi/Sandila/Sandila-1").text
    assert "Sunita Devi" in sector and "Rekha Verma" in sector
    week = client.get("/dashboard/Hardoi/Sandila?period=week").text
    assert "49 / " in week  # 12 + 30 + 7 over the last 7 days


def test_missing_shows_phones_logged_and_never_in_the_projector(
    core: Fieldbot, app: str, district: Engine
) -> None:
    client = client_for(app)
    sign_in(client, core, USHA)
    page = client.get("/dashboard/Hardoi/Sandila/Sandila-1").text
    missing = page[page.index('id="missing"') : page.index('id="proofs"')]
    assert 'href="tel:+917973321377"' in missing and "Sunita Devi" in missing
    with Session(district) as session:
        views = session.exec(select(PhoneView)).all()
    assert [(v.what, v.unit) for v in views][-1] == ("missing", "Hardoi/Sandila/Sandila-1")
    projector = client.get("/dashboard/Hardoi/Sandila/Sandila-1?refresh=60").text
    assert '<meta http-equiv="refresh" content="60">' in projector
    assert "Sunita Devi" in projector
    assert not re.search(r"tel:|\d{5} \d{5}|7973321377", projector)
    assert 'id="logout"' not in projector


def test_pages_carry_a_strict_policy_and_no_inline_script(core: Fieldbot, app: str) -> None:
    client = client_for(app)
    page = sign_in(client, core, RAJESH)
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["referrer-policy"] == "same-origin"
    for tag in re.findall(r"<script[^>]*>", page.text):
        assert "src=" in tag
    for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", page.text, re.S):
        assert 'name="csrf"' in form


# ---------------------------------------------------------------- proofs and reviews


def test_a_proof_reviewed_is_kept_and_the_worker_told(
    core: Fieldbot, app: str, chat: Chat, district: Engine
) -> None:
    send_proof(chat, SUNITA, at(23, 10), FIVE_KM_NORTH, photo(61))
    send_proof(chat, "7339325088", at(23, 11), (27.0884, 80.5167), photo(62))
    client = client_for(app)
    sign_in(client, core, USHA)
    page = client.get("/dashboard/Hardoi/Sandila/Sandila-1").text
    with Session(district) as session:
        proofs = {p.verdict: p for p in session.exec(select(Proof)).all()}
    review_id = proofs["needs_review"].id
    assert f'action="/dashboard/-/review/{review_id}"' in page
    assert "1 सत्यापित · 1 जाँच बाकी" in page
    photo_page = client.get(f"/dashboard/-/photo/{review_id}")
    assert photo_page.status_code == 200 and photo_page.headers["content-type"] == "image/jpeg"
    csrf = csrf_of(page)
    back = "/dashboard/Hardoi/Sandila/Sandila-1"
    forged = client.post(f"/dashboard/-/review/{review_id}", data={"decision": "rejected", "csrf": "x"})
    assert forged.status_code == 403
    done = client.post(
        f"/dashboard/-/review/{review_id}",
        data={"decision": "rejected", "note": "फ़ोटो गाँव की नहीं", "csrf": csrf, "back": back},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith(back)
    after = client.get(done.headers["location"]).text
    assert "फ़ोटो की जाँच दर्ज हुई" in after and "अस्वीकार — Usha Srivastava" in after
    with Session(district) as session:
        review = session.get_one(ProofReview, review_id)
        told = session.exec(select(Outbox).where(Outbox.job == "proof_review")).all()
    assert review.decision == "rejected" and review.note == "फ़ोटो गाँव की नहीं"
    assert [t.text.count("\n") for t in told] == [0]
    assert "अस्वीकार" in told[0].text and "23/11 10:00" in told[0].text
    # Reviewed once only; the proofs CSV carries the review.
    again = client.post(
        f"/dashboard/-/review/{review_id}",
        data={"decision": "accepted", "csrf": csrf, "back": back},
        follow_redirects=True,
    )
    assert "पहले ही हो चुकी" in again.text
    csv_text = client.get(
        "/dashboard/-/download/proofs.csv?unit=Hardoi/Sandila/Sandila-1"
    ).content.decode("utf-8-sig")
    assert "review,review_note" in csv_text.splitlines()[0]
    assert "rejected,फ़ोटो गाँव की नहीं" in csv_text


def test_photos_and_reviews_only_in_scope(
    core: Fieldbot, app: str, chat: Chat, district: Engine
) -> None:
    send_proof(chat, SUNITA, at(23, 10), FIVE_KM_NORTH, photo(63))
    with Session(district) as session:
        [proof] = session.exec(select(Proof)).all()
    client = client_for(app)
    page = sign_in(client, core, NASREEN)  # BMO of Bilgram
    assert client.get(f"/dashboard/-/photo/{proof.id}").status_code == 404
    posted = client.post(
        f"/dashboard/-/review/{proof.id}", data={"decision": "accepted", "csrf": csrf_of(page.text)}
    )
    assert posted.status_code == 404
    officer = client_for(app)
    page = sign_in(
        officer, core, VIVEK
    )  # a district officer sees it, but reviews are for supervisors and BMOs
    sandila = officer.get("/dashboard/Hardoi/Sandila").text
    assert f"/dashboard/-/photo/{proof.id}" in sandila and "/dashboard/-/review/" not in sandila


# ---------------------------------------------------------------- downloads and uploads


def test_excel_download_is_logged(core: Fieldbot, app: str, chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, "कार्ड 12", at(23, 12))
    client = client_for(app)
    sign_in(client, core, RAJESH)
    sheet = client.get("/dashboard/-/download/export.xlsx?unit=Hardoi/Sandila&period=week")
    assert sheet.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(sheet.content))
    assert book.sheetnames == ["block", "sector", "worker"]
    assert client.get("/dashboard/-/download/export.xlsx?unit=Hardoi").status_code == 404
    with Session(district) as session:
        # The block page listed who is missing with their phones; then the sheet with them.
        assert [v.what for v in session.exec(select(PhoneView)).all()] == ["missing", "export"]


def _upload(client: object, page: str, kind: str, name: str, data: bytes, action: str) -> object:
    return client.post(  # type: ignore[attr-defined]
        "/dashboard/-/upload",
        data={"csrf": csrf_of(page), "kind": kind, "action": action, "back": "/dashboard"},
        files={"file": (name, data, "text/csv")},
    )


def test_uploads_give_the_clis_row_numbered_errors(
    core: Fieldbot, app: str, district: Engine, tmp_path: Path
) -> None:
    bad = (
        b"name,phone,role,district,block,sector,village,lat,lon,language\n"
        b"Nayi Asha,12345,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi\n"
        b"Doosri Asha,9811122233,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,xx\n"
    )
    (tmp_path / "bad.csv").write_bytes(bad)
    with Session(district) as session, pytest.raises(RosterInvalid) as cli:
        import_roster(session, tmp_path / "bad.csv", dry_run=True, progress=False)
    client = client_for(app)
    page = sign_in(client, core, VIVEK).text
    answer = _upload(client, page, "roster", "bad.csv", bad, "check")
    assert answer.status_code == 422  # type: ignore[attr-defined]
    for error in cli.value.errors:
        assert str(error) in answer.text.replace("&#39;", "'")  # type: ignore[attr-defined]
    good = (
        b"name,phone,role,district,block,sector,village,lat,lon,language\n"
        b"Nayi Asha,9811122233,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi\n"
    )
    checked = _upload(client, page, "roster", "good.csv", good, "check")
    assert "हर पंक्ति सही है" in checked.text  # type: ignore[attr-defined]
    with Session(district) as session:
        assert not session.exec(select(Person).where(Person.name == "Nayi Asha")).all()
    imported = _upload(client, page, "roster", "good.csv", good, "import")
    assert "1 लोग दर्ज: 1 नए" in imported.text  # type: ignore[attr-defined]
    with Session(district) as session:
        assert session.exec(select(Person).where(Person.name == "Nayi Asha")).one().active
    targets = b"level,district,block,sector,metric,daily,campaign_total,eligible,baseline\n" + (
        b"block,Hardoi,Sandila,,cards,300,18000,50000,1000\nblock,Hardoi,Nowhere,,cards,1,,,\n"
    )
    wrong = _upload(client, page, "targets", "t.csv", targets, "import")
    assert "row 3: no block 'Nowhere' in district Hardoi on the roster" in wrong.text.replace(  # type: ignore[attr-defined]
        "&#39;", "'"
    )


def test_uploads_only_for_district_officers_and_admins_in_their_district(
    core: Fieldbot, app: str
) -> None:
    client = client_for(app)
    page = sign_in(client, core, RAJESH).text
    assert 'id="uploads"' not in page
    csv = b"name,phone,role,district,block,sector,village,lat,lon,language\n"
    assert _upload(client, page, "roster", "r.csv", csv, "check").status_code == 404  # type: ignore[attr-defined]
    officer = client_for(app)
    page = sign_in(officer, core, VIVEK).text
    elsewhere = csv + b"Nayi Asha,9811122233,asha,Lucknow,Mohanlalganj,M-1,Gaon,26.7,80.9,hi\n"
    answer = _upload(officer, page, "roster", "r.csv", elsewhere, "import")
    assert "row 2: Lucknow आपके क्षेत्र (Hardoi) से बाहर है" in answer.text  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the first minute: demo and simulator


def test_demo_prints_links_for_the_district_officer_and_a_bmo(
    core: Fieldbot, app: str, district: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.app import print_dashboard_links

    port = int(app.rsplit(":", 1)[1])
    print_dashboard_links(district, core.settings, "127.0.0.1", port)
    out = capsys.readouterr().out
    links = re.findall(r"dashboard as (.+?) \((\w+)\): (\S+)", out)
    assert [(name, role) for name, role, _ in links] == [
        ("Vivek Tripathi", "district_officer"),
        ("Dr. Rajesh Kumar Singh", "bmo"),
    ]
    client = client_for(app)
    page = client.get(path_of(links[0][2]))
    home = client.post(path_of(links[0][2]), data={"csrf": csrf_of(page.text)}, follow_redirects=True)
    assert home.status_code == 200 and "Vivek Tripathi" in home.text


def test_simulator_opens_the_dashboard_as_an_officer_only(app: str) -> None:
    client = client_for(app)
    answer = client.post("/simulator/dashboard", json={"phone": RAJESH})
    assert answer.status_code == 200 and "/dashboard/-/login/" in answer.json()["url"]
    worker = client.post("/simulator/dashboard", json={"phone": SUNITA})
    assert worker.status_code == 403 and "url" not in worker.json()
    page = client.get("/")
    assert 'id="dashboard"' in page.text and "NotoSansDevanagari-Regular.ttf" in page.text
    font = client.get("/dashboard/-/fonts/NotoSansDevanagari-Regular.ttf")
    assert font.status_code == 200 and len(font.content) > 100_000


def test_an_officer_who_reads_english_gets_the_dashboard_in_english(
    core: Fieldbot, app: str, district: Engine
) -> None:
    with session_scope(district) as session:
        rajesh = session.get_one(Person, person(district, RAJESH).id)
        rajesh.language = "en"
        session.add(rajesh)
    [reply] = ask_web(core, RAJESH)
    assert "Open it and press «Sign in»" in reply.text
    client = client_for(app)
    page = sign_in(client, core, RAJESH).text
    assert "Log out" in page and "Not reported today" in page and "of 19 workers" in page
    assert "लॉग आउट" not in page


@pytest.fixture()
def inline_webhook(core: Fieldbot, api: FakeTelegramAPI) -> Iterator[str]:
    """Telegram in webhook mode, answering in the HTTP response."""
    settings = dataclasses.replace(telegram_settings(api, webhook=True), answer_inline=True)
    application = build_application(core, settings, webhook=True)
    with serving(create_app(core, telegram_app=application, telegram_settings=settings)) as url:
        yield url


def test_the_link_goes_without_preview_even_when_redelivered(inline_webhook: str) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    hook = f"{inline_webhook}/telegram/webhook"
    start = {"update_id": 1, **contact_update("+918124645116", user_id=6001, first_name="Rajesh")}
    assert httpx.post(hook, json=start, headers=headers).status_code == 200
    web = {"update_id": 2, **text_update("/web", user_id=6001, first_name="Rajesh")}
    first = httpx.post(hook, json=web, headers=headers).json()
    again = httpx.post(hook, json=web, headers=headers).json()  # Telegram retried the update
    for call in (first, again):
        assert call["method"] == "sendMessage" and "/dashboard/-/login/" in call["text"]
        assert call["link_preview_options"] == {"is_disabled": True}
    assert again["text"] == first["text"]


def test_erasure_takes_review_notes_and_sessions_and_access_lists_reviews(
    core: Fieldbot, app: str, chat: Chat, district: Engine
) -> None:
    from bot import privacy
    from models import utcnow

    send_proof(chat, "7339325088", at(23, 11), FIVE_KM_NORTH, photo(64))
    with Session(district) as session:
        [proof] = session.exec(select(Proof)).all()
    client = client_for(app)
    page = sign_in(client, core, USHA).text
    client.post(
        f"/dashboard/-/review/{proof.id}",
        data={"decision": "rejected", "note": "Rekha Verma ने पुरानी फ़ोटो भेजी", "csrf": csrf_of(page)},
    )
    with session_scope(district) as session:
        held = privacy.access(session=session, phone="+917339325088")
    assert [r["decision"] for r in held["proof_reviews"]] == ["rejected"]
    with session_scope(district) as session:
        privacy.forget(session=session, phone="+917339325088", now=utcnow())
        privacy.forget(session=session, phone="+917285872429", now=utcnow())  # Usha
    with Session(district) as session:
        review = session.get_one(ProofReview, proof.id)
    assert review.decision == "rejected" and review.note == ""
    assert client.get("/dashboard").status_code == 401


def test_two_presses_at_once_sign_in_once(core: Fieldbot, app: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = path_of(link_of(ask_web(core, RAJESH)))
    clients = [client_for(app) for _ in range(4)]
    forms = [csrf_of(c.get(path).text) for c in clients]

    def press(i: int) -> int:
        return clients[i].post(path, data={"csrf": forms[i]}, follow_redirects=False).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(press, range(4)))
    assert codes == [303, 403, 403, 403]


def test_any_web_process_serves_a_session(core: Fieldbot, app: str) -> None:
    client = client_for(app)
    sign_in(client, core, RAJESH)
    with serving(create_app(core)) as other:
        elsewhere = httpx.Client(base_url=other, cookies=client.cookies, timeout=30)
        page = elsewhere.get("/dashboard")
    assert page.status_code == 200 and "Hardoi/Sandila" in page.text


def test_a_targets_file_checked_then_imported_changes_the_figures(core: Fieldbot, app: str) -> None:
    client = client_for(app)
    page = sign_in(client, core, VIVEK).text
    good = (
        b"level,district,block,sector,metric,daily,campaign_total,eligible,baseline\n"
        b"block,Hardoi,Sandila,,cards,300,18000,50000,1000\n"
    )
    checked = _upload(client, page, "targets", "t.csv", good, "check")
    assert "t.csv: 1 पंक्तियाँ, हर पंक्ति सही है (1 नई" in checked.text  # type: ignore[attr-defined]
    assert "/ 250" in client.get("/dashboard/Hardoi/Sandila").text  # nothing written yet
    imported = _upload(client, page, "targets", "t.csv", good, "import")
    assert "1 लक्ष्य पंक्तियाँ दर्ज: 1 नई" in imported.text  # type: ignore[attr-defined]
    sandila = client.get("/dashboard/Hardoi/Sandila").text
    figures = sandila[sandila.index('id="figures"') : sandila.index('id="totals"')]
    assert "/ 300" in figures and "1,000 / 50,000" in figures  # the target, and coverage


def test_a_chosen_range_and_a_bad_one(core: Fieldbot, app: str, chat: Chat) -> None:
    chat.say(SUNITA, "कार्ड 12", at(21, 12))
    chat.say(SUNITA, "कार्ड 5", at(23, 12))
    client = client_for(app)
    sign_in(client, core, USHA)
    sector = "/dashboard/Hardoi/Sandila/Sandila-1"
    chosen = client.get(f"{sector}?period=range&from=2026-11-20&to=2026-11-22").text
    assert "20/11 – 22/11" in chosen and "12 / 300" in chosen  # 3 days of a 100-a-day target
    later = client.get(f"{sector}?period=range&from=2026-11-22&to=2026-12-30").text
    assert "तारीखें सही नहीं थीं" in later and "5 / 100" in later  # the future: today instead

"""The dashboard in headless Chromium (Debian's chromium and chromium-driver), through Selenium.

One browser for the module; the app is served by uvicorn on loopback, Telegram by the fake Bot API.
Screenshots of the main pages at 360 and 1920 px go to docs/screenshots/.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import build_core
from bot.channels.telegram.application import build_application
from bot.cli import main as cli_main
from bot.config import Settings
from bot.core.service import Fieldbot
from bot.web import create_app
from models import Outbox, Proof, ProofReview
from tests.conftest import ROOT, SUNITA, USHA, VIVEK, Chat, at, child_url, telegram_settings
from tests.e2e.dashboard.common import ask_web, link_of
from tests.e2e.test_presence import FIVE_KM_NORTH, NEAR_ATWA, send_proof
from tests.fakes.live import serving
from tests.fakes.telegram_api import FakeTelegramAPI, contact_update, text_update
from tests.images import photo

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = ROOT / "docs" / "screenshots"
RAJESH_TG = 6001
RAJESH_PHONE = "+918124645116"

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    print("dashboard browser tests skipped: /usr/bin/chromium or /usr/bin/chromedriver is missing")
    pytest.skip(
        "no chromium / chromedriver (apt install chromium chromium-driver)", allow_module_level=True
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager never downloads anything
    profile = tempfile.mkdtemp(prefix="fieldbot-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--window-size=1920,1080",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def width(driver: WebDriver, pixels: int, height: int = 900) -> None:
    """The page as a phone (360 px) or a projector (1920 px) shows it."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": pixels, "height": height, "deviceScaleFactor": 1, "mobile": pixels < 600},
    )


def shot(driver: WebDriver, name: str, at: str | None = None) -> None:
    """A small PNG of the visible page (128 colours), scrolled to the element `at` if given."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if at is not None:
        driver.execute_script("arguments[0].scrollIntoView()", driver.find_element(By.ID, at))
    image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    image.quantize(colors=128).save(SHOTS / f"{name}.png", optimize=True)
    driver.execute_script("window.scrollTo(0, 0)")


def no_horizontal_scroll(driver: WebDriver) -> None:
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 360


def fresh(driver: WebDriver) -> None:
    driver.delete_all_cookies()


def sign_in(driver: WebDriver, url: str) -> None:
    driver.get(url)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 10).until(
        expected_conditions.presence_of_element_located((By.ID, "unit-title"))
    )


# ---------------------------------------------------------------- a campaign week to look at


def busy_week(chat: Chat) -> None:
    """A week of reports in two blocks, and today's proofs: one verified, one needing review."""
    sandila_1 = [SUNITA, "7339325088", "6406628073", "6184653067", "9397001967", "7995292960"]
    sandila_2 = ["6582022368", "8076845023", "+918347525964"]
    bilgram_1 = ["06774096392", "9432421241", "9736820184"]
    for day in range(17, 24):
        for index, phone in enumerate(sandila_1 + sandila_2 + bilgram_1):
            if (day + index) % 4 == 0 and day != 23:
                continue  # some days some workers do not report
            if day == 23 and index % 3 == 2:
                continue
            cards = 6 + (day * 7 + index * 5) % 9
            chat.say(phone, f"आवेदन {cards + 3} कार्ड {cards} घर {cards * 2}", at(day, 12))
    send_proof(chat, SUNITA, at(23, 10), NEAR_ATWA, photo(71))
    send_proof(chat, "7339325088", at(23, 11), FIVE_KM_NORTH, photo(72))


@pytest.fixture()
def quiet_core(district: Engine, settings: Settings) -> Fieldbot:
    """The core with no map tiles configured (an intranet): the proofs must still show as points."""
    data = settings.model_dump(exclude={"base_dir"})
    data["dashboard"] = {**data["dashboard"], "tile_url": ""}
    plain = Settings.model_validate({**data, "base_dir": settings.base_dir})
    return build_core(plain, district, clock=lambda: at(23, 23, 59))


@pytest.fixture()
def site(quiet_core: Fieldbot, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, FakeTelegramAPI]]:
    """`fieldbot run` with Telegram long polling against the fake Bot API; its base URL."""
    with FakeTelegramAPI(max_hold=0.3) as api:
        tg = telegram_settings(api, webhook=False)
        application = build_application(quiet_core, tg, webhook=False)
        with serving(create_app(quiet_core, telegram_app=application, telegram_settings=tg)) as url:
            api.wait_for("getUpdates")
            monkeypatch.setenv("FIELDBOT_PUBLIC_URL", url)
            yield url, api


def status_json(
    engine: Engine, unit: str, day: str, capsys: pytest.CaptureFixture[str]
) -> dict[str, object]:
    os.environ["FIELDBOT_DATABASE_URL"] = child_url(engine)
    try:
        capsys.readouterr()
        assert cli_main(["status", unit, "--from", day, "--to", day, "--json"]) == 0
        return dict(json.loads(capsys.readouterr().out))
    finally:
        del os.environ["FIELDBOT_DATABASE_URL"]


# ---------------------------------------------------------------- the tests


def test_a_bmo_from_the_bot_link_to_a_sector_and_out(
    browser: WebDriver,
    site: tuple[str, FakeTelegramAPI],
    quiet_core: Fieldbot,
    district: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, api = site
    chat = Chat(quiet_core)
    busy_week(chat)
    # An open problem in long unbroken words, and a worker on leave: still no sideways scroll.
    chat.say(
        SUNITA, "समस्या: portal.example.gov.in/ayushman/beneficiary/search/ekyc-otp-नहीं-आ-रहा", at(20, 9)
    )
    chat.say("6406628073", "छुट्टी", at(23, 8))
    api.push_update(text_update("/start", user_id=RAJESH_TG, first_name="Rajesh"))
    api.wait_for("sendMessage", 1)
    api.push_update(contact_update(RAJESH_PHONE, user_id=RAJESH_TG, first_name="Rajesh"))
    api.wait_for("sendMessage", 2)
    api.push_update(text_update("/web", user_id=RAJESH_TG, first_name="Rajesh"))
    sent = api.wait_for("sendMessage", 3)[-1].params
    assert (
        "is_disabled" in str(sent["link_preview_options"])
        and "true" in str(sent["link_preview_options"]).lower()
    )
    link = re.search(r"http://\S+/dashboard/-/login/[\w-]+", str(sent["text"]))
    assert link and link.group(0).startswith(url)

    fresh(browser)
    width(browser, 360)
    browser.get(link.group(0))
    assert browser.find_element(By.ID, "sign-in").is_displayed()
    shot(browser, "signin-360")
    sign_in(browser, link.group(0))
    assert browser.find_element(By.ID, "unit-title").text.startswith("Hardoi/Sandila")
    expected = status_json(district, "Hardoi/Sandila", "2026-11-23", capsys)
    figures = browser.find_element(By.ID, "figures").text
    totals = expected["totals"]
    assert isinstance(totals, dict)
    assert f"{expected['reported']} / {expected['workers']}" in figures
    assert f"{totals['cards']} / {expected['target']}" in figures
    assert f"{expected['achievement_pct']}%" in figures
    no_horizontal_scroll(browser)
    shot(browser, "block-360")
    width(browser, 1920, 1080)
    shot(browser, "block-1920")

    # Down to a sector: its workers, their last report and days reported.
    width(browser, 360)
    browser.find_element(By.LINK_TEXT, "Sandila-1").click()
    WebDriverWait(browser, 10).until(expected_conditions.title_contains("Sandila-1"))
    rows = browser.find_element(By.ID, "below").text
    assert "Sunita Devi" in rows and "Savitri Devi" in rows
    assert browser.find_elements(By.CSS_SELECTOR, "#missing a.tel")
    no_horizontal_scroll(browser)
    shot(browser, "sector-360", at="below")
    problems = browser.find_element(By.ID, "problems").text
    assert "Sunita Devi · Sandila-1 · 20/11" in problems and "3 दिन से खुली" in problems
    assert "7973321377" not in problems and "tel:" not in browser.page_source.split('id="problems"')[1]
    assert "Poonam Yadav" in browser.find_element(By.ID, "leave").text
    shot(browser, "problems-360", at="problems")

    # Another block is not his: not found, and nothing of it shown.
    browser.get(f"{url}/dashboard/Hardoi/Bilgram")
    assert "नहीं मिला" in browser.find_element(By.TAG_NAME, "main").text
    assert "Bilgram-1" not in browser.page_source

    browser.get(f"{url}/dashboard")
    browser.find_element(By.ID, "logout").click()
    WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.CLASS_NAME, "message"))
    )
    browser.get(f"{url}/dashboard")
    assert "You need a link to open the dashboard" in browser.page_source
    # The link from the bot, a second time.
    browser.get(link.group(0))
    browser.find_element(By.ID, "sign-in").click()
    refused = WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.CLASS_NAME, "message"))
    )
    assert "पहले ही इस्तेमाल" in refused.text
    assert "already been used" in browser.find_element(By.TAG_NAME, "main").text


def test_a_supervisor_reviews_a_proof_and_the_worker_is_told(
    browser: WebDriver, site: tuple[str, FakeTelegramAPI], quiet_core: Fieldbot, district: Engine
) -> None:
    busy_week(Chat(quiet_core))
    fresh(browser)
    width(browser, 360)
    sign_in(browser, link_of(ask_web(quiet_core, USHA)))
    # The map has today's two proofs as points, with no tile server configured.
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "map").get_attribute("data-ready"))
    assert browser.find_element(By.ID, "map").get_attribute("data-ready") == "2"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#map path.leaflet-interactive")) == 2
    with Session(district) as session:
        review_id = session.exec(select(Proof.id).where(Proof.verdict == "needs_review")).one()
    item = browser.find_element(By.ID, f"proof-{review_id}")
    assert "Rekha Verma" in item.text
    thumbnail = item.find_element(By.TAG_NAME, "img")
    browser.execute_script("arguments[0].scrollIntoView()", thumbnail)  # it loads lazily
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return arguments[0].naturalWidth", thumbnail) > 0
    )
    browser.execute_script("window.scrollTo(0, 0)")
    no_horizontal_scroll(browser)
    shot(browser, "proofs-360", at="proofs")
    item.find_element(By.NAME, "note").send_keys("गाँव से दूर, अगली बार गाँव में फ़ोटो लें")
    item.find_element(By.CSS_SELECTOR, "button.accept").click()
    notice = WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.ID, "notice"))
    )
    assert "दर्ज हुई" in notice.text
    assert "स्वीकार — Usha Srivastava" in browser.find_element(By.ID, f"proof-{review_id}").text
    with Session(district) as session:
        review = session.get_one(ProofReview, review_id)
        [told] = session.exec(select(Outbox).where(Outbox.job == "proof_review")).all()
    assert review.decision == "accepted" and review.reviewer_id is not None
    assert "स्वीकार" in told.text and "\n" not in told.text and told.address.endswith("7339325088")


def test_no_link_and_the_district_on_a_projector(
    browser: WebDriver, site: tuple[str, FakeTelegramAPI], quiet_core: Fieldbot
) -> None:
    url, _ = site
    busy_week(Chat(quiet_core))
    fresh(browser)
    width(browser, 360)
    browser.get(f"{url}/dashboard/Hardoi")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "डैशबोर्ड खोलने के लिए लिंक चाहिए" in text and "You need a link" in text
    no_horizontal_scroll(browser)
    shot(browser, "how-360")
    sign_in(browser, link_of(ask_web(quiet_core, VIVEK)))
    # The district office's portal release, uploaded from the page: the chart gains its line.
    form = browser.find_element(By.ID, "upload-official")
    form.find_element(By.NAME, "file").send_keys(str(ROOT / "examples" / "sample_portal.csv"))
    form.find_element(By.CSS_SELECTOR, "button[value=import]").click()
    result = (
        WebDriverWait(browser, 30)
        .until(expected_conditions.presence_of_element_located((By.ID, "upload-result")))
        .text
    )
    assert "✅ sample_portal.csv: पोर्टल के 6 आँकड़े दर्ज हुए" in result
    assert "कुल (total) की 1 पंक्तियाँ छोड़ी गईं।" in result
    browser.find_element(By.LINK_TEXT, "← आपकी इकाइयाँ").click()
    point = WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, "svg.chart circle.portal-point[data-day]")
        )
    )
    assert (point.get_attribute("data-day"), point.get_attribute("data-value")) == (
        "2026-11-22",
        "1476",
    )
    no_horizontal_scroll(browser)
    shot(browser, "district-360")
    width(browser, 1920, 1080)
    shot(browser, "district-1920")
    # Printed (A4 landscape): no navigation, no forms.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.find_element(By.ID, "logout").is_displayed()
        assert not browser.find_element(By.ID, "uploads").is_displayed()
        assert browser.find_element(By.ID, "figures").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    browser.get(f"{url}/dashboard/Hardoi/Sandila/Sandila-1?refresh=60")
    page = browser.page_source
    assert (
        browser.find_element(By.CSS_SELECTOR, "meta[http-equiv=refresh]").get_attribute("content")
        == "60"
    )
    assert "Sunita Devi" in page or "Poonam Yadav" in page
    assert not re.search(r"tel:|\b\d{5} ?\d{5}\b", page)
    shot(browser, "projector-1920")


def test_a_field_worker_gets_the_polite_answer(
    site: tuple[str, FakeTelegramAPI], quiet_core: Fieldbot
) -> None:
    [answer] = ask_web(quiet_core, SUNITA)
    assert "सुपरवाइज़र, BMO और ज़िला अधिकारियों के लिए" in answer.text
    assert "/dashboard" not in answer.text

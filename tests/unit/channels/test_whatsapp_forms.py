"""Twilio's WhatsApp webhook form posts (tests/data/twilio/inbound.json) read into `Inbound`.

Each case holds the form as Twilio posts it, the `Inbound` it must become (null: not a message)
and the attachment still to fetch from Twilio (null: nothing to fetch).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from bot.channels.whatsapp.inbound import Media, to_inbound
from bot.channels.whatsapp.routes import Form
from bot.core.messages import Inbound, Location

DATA = Path(__file__).resolve().parents[2] / "data" / "twilio" / "inbound.json"
CASES: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))
RECEIVED = dt.datetime(2026, 11, 23, 14, 5, 12, tzinfo=dt.UTC)


def case(name: str) -> dict[str, Any]:
    return next(c for c in CASES if c["name"] == name)


def expected(fields: dict[str, Any]) -> Inbound:
    values = dict(fields)
    if values.get("sent_at") == "received":
        values["sent_at"] = RECEIVED
    if values.get("location") is not None:
        values["location"] = Location(**values["location"])
    return Inbound(**values)


def translate(form: dict[str, str]) -> tuple[Inbound, Media | None] | None:
    return to_inbound(Form(list(form.items())), RECEIVED)


def test_every_kind_is_recorded() -> None:
    names = {c["name"] for c in CASES}
    kinds = {"text", "image", "location", "table_document", "voice", "numbered_answer", "forwarded"}
    assert kinds <= names


@pytest.mark.parametrize("recorded", CASES, ids=[c["name"] for c in CASES])
def test_form_becomes_inbound(recorded: dict[str, Any]) -> None:
    got = translate(recorded["form"])
    if recorded["inbound"] is None:
        assert got is None, recorded["about"]
        return
    assert got is not None, recorded["about"]
    inbound, media = got
    assert inbound == expected(recorded["inbound"]), recorded["about"]
    assert media == (Media(**recorded["media"]) if recorded["media"] else None), recorded["about"]


def test_redelivered_form_has_the_same_key() -> None:
    first, again = translate(case("text")["form"]), translate(dict(case("text")["form"]))
    other = translate(case("numbered_answer")["form"])
    assert first is not None and again is not None and other is not None
    assert first[0].dedup_key == again[0].dedup_key != other[0].dedup_key


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [("91.5", "80.5"), ("27.3", "-181"), ("nan", "80.5"), ("north", "80.5"), ("", "80.5")],
)
def test_a_coordinate_out_of_range_is_no_location(latitude: str, longitude: str) -> None:
    form = {**case("location")["form"], "Latitude": latitude, "Longitude": longitude}
    got = translate(form)
    assert got is not None
    assert got[0].location is None


def test_a_nul_in_the_body_is_dropped() -> None:
    got = translate({**case("text")["form"], "Body": "25\x00 20 40"})
    assert got is not None
    assert got[0].text == "25 20 40"


def test_media_count_that_is_not_a_number_means_no_media() -> None:
    got = translate({**case("image")["form"], "NumMedia": "one"})
    assert got is not None
    inbound, media = got
    assert media is None and inbound.photo_refused is None
    assert inbound.text == case("image")["inbound"]["text"]


def test_a_form_without_a_sender_is_no_message() -> None:
    form = {k: v for k, v in case("text")["form"].items() if k not in ("From", "WaId")}
    assert translate(form) is None


def test_expected_fields_name_only_inbound_fields() -> None:
    names = {f.name for f in dataclasses.fields(Inbound)}
    for recorded in CASES:
        assert set(recorded["inbound"] or {}) <= names, recorded["name"]

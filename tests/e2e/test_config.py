"""config.yaml: the sample is valid; a bad key or value stops start-up with one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, load_settings
from bot.numbers import indian
from bot.phones import PhoneError, mask_phone, normalize_phone
from tests.conftest import ROOT


def write(tmp_path: Path, change: dict[str, object]) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    for dotted, value in change.items():
        target = data
        *parents, last = dotted.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


DELETE = object()


def test_sample_config_is_valid() -> None:
    settings = load_settings(ROOT / "config.yaml")
    assert settings.primary_metric == "cards"
    assert settings.metric_keys[:2] == ["applications", "cards"]
    assert str(settings.tz) == "Asia/Kolkata"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"metrics.0.max_per_day": -1}, "metrics.0.max_per_day"),
        ({"primary_metric": "vaccines"}, "primary_metric"),
        ({"timezone": "Asia/Bombay_Typo"}, "timezone"),
        ({"reporting.backdate_days": "two"}, "reporting.backdate_days"),
        ({"reporting.backdat_days": 2}, "reporting.backdat_days"),
        ({"colour": "blue"}, "colour"),
        ({"metrics.1.key": "applications"}, "metric key appears twice"),
        ({"campaign.end": "2026-10-01"}, "campaign"),
        ({"targets.block.vaccines": {"daily": 3}}, "targets.block.vaccines"),
        ({"state": DELETE}, "state"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, change: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, change))
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_unreadable_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("state: UP\nmetrics: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "written",
    [
        "9876543210",
        "09876543210",
        "+91 98765 43210",
        "91-98765-43210",
        "+919876543210",
        "(+91) 98765-43210",
        "whatsapp:+919876543210",
        "९८७६५४३२१०",  # Devanagari digits, as a Hindi keyboard types them
        "९८७६5४३२१०",  # one ASCII digit among Devanagari ones
        "+९१ ९८७६५ ४३२१०",
        "091-98765-43210",
        "0091 98765 43210",
        "919876543210",  # how Telegram hands over a shared contact
        "\u200b98765\u200c43210",  # zero-width characters pasted from a chat
    ],
)
def test_indian_mobiles_in_every_common_form(written: str) -> None:
    stored = normalize_phone(written)
    assert stored == "+919876543210"
    assert stored.isascii()


@pytest.mark.parametrize(
    "written",
    [
        "",
        "12345",
        "5876543210",
        "+1 415 555 0100",
        "98765x3210",
        "9876543210123",
        "+91 98765 4321",
        "०५८७६५४३२१०",
        "0044 7911 123456",
        "९८७६५४३२१०९",
    ],
)
def test_not_a_mobile(written: str) -> None:
    with pytest.raises(PhoneError):
        normalize_phone(written)


def test_logs_see_only_the_last_four_digits() -> None:
    assert mask_phone("+919876543210") == "+91******3210"


def test_indian_grouping() -> None:
    assert indian(100000) == "1,00,000"
    assert indian(2895000) == "28,95,000"
    assert indian(999) == "999"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_indian_grouping_of_whole_numbers_is_the_locales(n: int) -> None:
    assert indian(n) == format_decimal(n, locale="en_IN", decimal_quantization=False)
    assert indian(n).replace(",", "") == str(n)

"""The texts' catalogs: complete in every language, with the same fields, and read by `t`."""

from __future__ import annotations

import ast
import shutil
import string
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot import i18n
from bot.i18n import LANGUAGES, t

ROOT = Path(__file__).resolve().parents[2]
CODE = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py"), ROOT / "scheduler.py"]


def read_catalogs(locale_dir: Path) -> dict[str, dict[str, str]]:
    """language -> key -> text, as the catalogs under `locale_dir` hold them (empty ones too)."""
    catalogs: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        path = locale_dir / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
        with path.open("rb") as po:
            catalog = read_po(po, locale=language)
        catalogs[language] = {str(m.id): "" if m.fuzzy else str(m.string) for m in catalog if m.id}
    return catalogs


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def problems(locale_dir: Path) -> list[str]:
    """Everything a translator must fix before the catalogs under `locale_dir` can ship."""
    catalogs = read_catalogs(locale_dir)
    keys = set().union(*(set(texts) for texts in catalogs.values()))
    found: list[str] = []
    for key in sorted(keys):
        for language, texts in catalogs.items():
            if key not in texts:
                found.append(f"{key}: no {language} text")
            elif not texts[key].strip():
                found.append(f"{key}: the {language} text is empty (or fuzzy)")
        present = {lang: texts[key] for lang, texts in catalogs.items() if texts.get(key)}
        shapes = {lang: sorted(fields(text)) for lang, text in present.items()}
        if len({tuple(shape) for shape in shapes.values()}) > 1:
            found.append(f"{key}: the fields differ between languages: {shapes}")
    return found


def keys_named_in_code() -> dict[str, str]:
    """Every key written out as `t(language, "key", ...)` in the code -> where."""
    named: dict[str, str] = {}
    for path in CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "t"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                named.setdefault(node.args[1].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return named


def test_every_text_is_in_every_language_with_the_same_fields() -> None:
    assert problems(i18n.LOCALE_DIR) == []


def test_every_text_the_code_names_is_in_the_catalogs() -> None:
    named = keys_named_in_code()
    assert len(named) > 50  # the scan does find the code's texts
    known = i18n.texts("hi")
    # Dashboard texts are `dashboard_<key>` (bot/dashboard/texts.py); its t falls back to chat's.
    missing = {
        key: where
        for key, where in named.items()
        if key not in known and not (where.startswith("bot/dashboard/") and f"dashboard_{key}" in known)
    }
    assert missing == {}


def test_every_reason_the_parser_gives_has_its_explanation() -> None:
    """`not_understood` in handlers asks for `why_<reason>`, a key no scan of t() calls sees."""
    parser = ast.parse((ROOT / "bot" / "parser.py").read_text(encoding="utf-8"))
    reasons = {
        value.value
        for node in ast.walk(parser)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Unreadable"
        for value in ast.walk(node.args[0])
        if isinstance(value, ast.Constant) and isinstance(value.value, str)
    }
    assert {"not_understood", "no_numbers", "too_big"} <= reasons
    # "not_understood" is answered by the sorry line alone.
    missing = sorted(r for r in reasons - {"not_understood"} if f"why_{r}" not in i18n.texts("hi"))
    assert missing == []


def remove_text(locale_dir: Path, language: str, key: str) -> None:
    path = locale_dir / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    del catalog[key]
    with path.open("wb") as po:
        write_po(po, catalog)


def edit_text(locale_dir: Path, language: str, key: str, text: str) -> None:
    path = locale_dir / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    catalog[key].string = text
    with path.open("wb") as po:
        write_po(po, catalog)


@pytest.fixture
def locale_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, copy)
    assert problems(copy) == []
    return copy


def test_a_text_missing_in_one_language_is_reported(locale_copy: Path) -> None:
    remove_text(locale_copy, "en", "slow_down")
    assert problems(locale_copy) == ["slow_down: no en text"]


def test_an_empty_text_is_reported(locale_copy: Path) -> None:
    edit_text(locale_copy, "hi", "top_more", "")
    assert problems(locale_copy) == ["top_more: the hi text is empty (or fuzzy)"]


def test_a_field_renamed_in_one_language_is_reported(locale_copy: Path) -> None:
    edit_text(locale_copy, "hi", "unknown_phone", "यह नंबर ({number}) सूची में नहीं है।")
    assert problems(locale_copy) == [
        "unknown_phone: the fields differ between languages: {'hi': ['number'], 'en': ['phone']}"
    ]


def test_texts_come_from_the_catalogs_with_their_fields_filled_in() -> None:
    assert t("hi", "top_more", count="1,20,000") == "… 1,20,000 और …"
    assert t("en", "top_more", count="1,20,000") == "… 1,20,000 more …"
    assert t("en", "help_worker", order_example="25 20", order="cards, homes").startswith(
        "Send your daily report in one message, like:\napplications 25 cards 20 households 40\n"
    )


def test_an_unknown_language_gets_hindi_and_an_unknown_key_is_an_error() -> None:
    assert t("ta", "share_contact_button") == "📱 मेरा नंबर भेजें"
    with pytest.raises(KeyError):
        t("en", "no_such_text")


def test_an_installed_package_carries_the_catalogs() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["bot"]
    shipped = {p for pattern in patterns for p in (ROOT / "bot").glob(pattern)}
    catalogs = set(i18n.LOCALE_DIR.rglob("*.po"))
    assert len(catalogs) == len(LANGUAGES)
    assert catalogs <= shipped

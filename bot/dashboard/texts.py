"""The dashboard's words: in the catalogs (bot/locale) as `dashboard_<key>`, beside the chat's."""

from __future__ import annotations

from bot import i18n


def t(lang: str, key: str, **values: object) -> str:
    """A dashboard text (or, failing that, a chat text) in `lang`, Hindi when unknown."""
    own = f"dashboard_{key}"
    return i18n.t(lang, own if own in i18n.texts("hi") else key, **values)

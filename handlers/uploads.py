"""A district file sent in chat by an admin or district officer: a roster, villages, targets or
official counts file (.xlsx or .csv), told apart by its header (bot/uploads.py).

The official counts are imported at once when clean (handlers/official.py). A roster, villages or
targets file is checked whole and answered with the check's summary (people new, updated,
deactivated; every bad row by its number, the first ones in the answer, all of them as a file) and
an import button; nothing changes before the button is pressed."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from bot import uploads
from bot.core import answering, questions
from bot.core.contracts import Context
from bot.core.messages import Document, Reply
from bot.i18n import LANGUAGES, t
from bot.numbers import indian
from bot.official.read import MAX_UNPACKED_BYTES, UPLOADERS, unpacked_size
from handlers.official import import_file
from models import PendingQuestion, utcnow

CSV_TYPE = "text/csv"
log = logging.getLogger("fieldbot")


def _suffix(name: str) -> str | None:
    suffix = Path(name).suffix.casefold()
    return suffix if suffix in uploads.SUFFIXES else None


def upload(ctx: Context) -> list[Reply]:
    """A table file from a private chat: refused politely unless an uploader sent it privately."""
    inbound, person = ctx.inbound, ctx.person
    if person.role not in UPLOADERS:
        # In a group the team shares files among themselves: only an officer is answered there.
        return [] if inbound.is_group else [ctx.say("upload_role")]
    if inbound.is_group:
        return [ctx.say("upload_group")]
    if inbound.document_refused == "too_large":
        return [ctx.say("official_upload_too_large", max=indian(int(ctx.settings.official.max_file_mb)))]
    name = inbound.document_name or ""
    suffix = _suffix(name)
    if inbound.document_refused or inbound.document is None:
        return [ctx.say("official_upload_unavailable")]
    if suffix is None:
        return [ctx.say("upload_kind")]
    with tempfile.TemporaryDirectory(prefix="fieldbot-upload-") as where:
        path = Path(where) / f"upload{suffix}"
        path.write_bytes(inbound.document)
        unpacked = unpacked_size(path)
        if unpacked is not None and unpacked > MAX_UNPACKED_BYTES:
            return [
                ctx.say(
                    "upload_unpacked_too_large",
                    name=name,
                    size=indian(unpacked // 2**20),
                    max=indian(MAX_UNPACKED_BYTES // 2**20),
                )
            ]
        kind = uploads.file_kind(ctx.settings, path)
        if isinstance(kind, list):
            return _refused(ctx, name, uploads.Outcome("file", [e.message for e in kind]))
        if kind is None:
            return [ctx.say("upload_unknown_kind", name=name)]
        if kind == "official":
            return import_file(ctx, path, name)
        outcome = uploads.check(
            session=ctx.session,
            settings=ctx.settings,
            person=person,
            path=path,
            kind=kind,
            lang=ctx.lang,
        )
    if outcome.problems:
        return _refused(ctx, name, outcome)
    # Nothing was written by the check; the file waits, private, for the button.
    now = ctx.now or utcnow()
    uploads.sweep(ctx.session, ctx.settings, now)
    stored = uploads.store(ctx.settings, inbound.document, suffix, now)
    text = "\n".join([*uploads.summary_lines(outcome, name, ctx.lang), t(ctx.lang, "upload_ask")])
    return [_ask_import(ctx, kind, stored, name, text)]


def _refused(ctx: Context, name: str, outcome: uploads.Outcome) -> list[Reply]:
    """Every bad row: the first ones in the answer, and all of them as a file when there are more."""
    lang, problems = ctx.lang, outcome.problems
    shown = ctx.settings.uploads.max_problems_shown
    lines = [t(lang, "official_invalid_head", name=name, count=indian(len(problems)))]
    lines += problems[:shown]
    if len(problems) <= shown:
        return [Reply("\n".join(lines))]
    lines.append(t(lang, "official_invalid_more", count=indian(len(problems) - shown)))
    stem = Path(name).stem or "file"
    sheet = Document(f"{stem}-problems.csv", uploads.problems_file(outcome), CSV_TYPE)
    return [
        Reply("\n".join(lines)),
        Reply(t(lang, "upload_problems_file", count=indian(len(problems))), document=sheet),
    ]


def _ask_import(ctx: Context, kind: str, stored: str, name: str, text: str) -> Reply:
    """The check's summary with its two buttons: import, or leave it."""
    labels = [t(ctx.lang, "upload_button_import"), t(ctx.lang, "upload_button_cancel")]
    payload: dict[str, object] = {"file": stored, "name": name, "kind": kind}
    return ctx.ask(uploads.KIND, payload, text, labels)


def late_answer(ctx: Context, text: str) -> list[Reply]:
    """An import button's words with no question open (pressed twice, or after it expired): said
    so, instead of "not understood"."""
    said = " ".join(text.split()).casefold()
    words = {
        t(lang, key).casefold()
        for lang in LANGUAGES
        for key in ("upload_button_import", "upload_button_cancel")
    }
    return [ctx.say("upload_gone")] if said in words else []


@answering.answers(uploads.KIND)
def on_answer(ctx: Context, question: PendingQuestion, index: int) -> list[Reply]:
    """Import: the kept file checked again (the roster may have changed since) and imported when
    still clean; leave it: nothing changes. Either way the kept file goes."""
    data = questions.payload(question)
    stored, name, kind = (str(data.get(k, "")) for k in ("file", "name", "kind"))
    path = uploads.stored_path(ctx.settings, stored)
    if index != 0:
        replies = [ctx.say("upload_cancelled", name=name)]
    elif path is None or kind not in uploads.IMPORTED:
        replies = [ctx.say("upload_gone")]
    elif ctx.person.role not in UPLOADERS:
        replies = [ctx.say("upload_role")]
    else:
        outcome = uploads.check(
            session=ctx.session,
            settings=ctx.settings,
            person=ctx.person,
            path=path,
            kind=kind,
            lang=ctx.lang,
            write=True,
        )
        if outcome.problems:
            replies = _refused(ctx, name, outcome)
        else:
            replies = [Reply("\n".join(uploads.imported_lines(outcome, name, ctx.lang)))]
            log.info(
                "person #%s imported a %s file sent in chat: %s",
                ctx.person.id,
                kind,
                ", ".join(f"{k} {v}" for k, v in outcome.counts.items()),
            )
    uploads.discard(ctx.settings, stored)
    return replies

"""Problems in chat: a worker reports one (`/samasya`, `समस्या सर्वर डाउन`, with a report beside it);
an officer lists the open ones in her units and resolves them (`/hal 12`, `/hal server_down Sandila`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bot import problems
from bot.config_sections import OTHER_PROBLEM
from bot.core import answering, floods, identity, questions
from bot.core.contracts import Context, Refused
from bot.core.messages import Reply
from bot.delivery import outbox
from bot.i18n import short_date, t
from bot.numbers import indian
from bot.parser import Command, Report, Unreadable
from bot.problems import ProblemWords, Told
from bot.store.units import Unit, resolve_units, scope_units
from handlers import reports
from handlers.replies import not_understood
from models import PendingQuestion, utcnow

LIST_LIMIT = 30  # open problems listed in one reply; the CSV has them all
BUTTONS = 8  # of them, the first few get a button that resolves it
MENU = "problem_menu"  # the pending question of a worker's menu of codes
RESOLVE = "problem_resolve"  # the pending question of an officer's list


def words(ctx: Context) -> ProblemWords:
    return problems.settings_words(ctx.settings)


def told(ctx: Context, found: Told) -> list[Reply]:
    """A message that tells of a problem (or of none), maybe with a report beside it."""
    if not ctx.person.is_field_worker:
        return open_list(ctx, found.problem.split())
    if found.none and not found.report:
        return [ctx.say("problem_none")]
    replies: list[Reply] = []
    refused = False
    if found.report:
        try:
            replies += _report(ctx, found.report)
        except Refused as refusal:
            # The report is refused (a ceiling, a day too old); the problem still counts.
            ctx.session.rollback()
            now = ctx.now or utcnow()
            floods.count(session=ctx.session, sender=identity.sender_key(ctx.inbound), now=now)
            replies += refusal.replies
            refused = True
    if found.none:
        return replies
    if not found.problem:
        return [*replies, menu(ctx)]
    code = words(ctx).code_for(found.problem)
    replies.append(_record(ctx, code, found.problem))
    if refused:
        replies.append(ctx.say("problem_kept_report_refused"))
    return replies


def _report(ctx: Context, text: str) -> list[Reply]:
    parsed = ctx.parser.parse(text)
    if isinstance(parsed, Report):
        return reports.report(ctx, parsed)
    if isinstance(parsed, Unreadable) and any(ch.isdigit() for ch in text):
        return [not_understood(ctx, parsed)]
    return []  # a few words around the problem (`आज`), nothing to report


def menu(ctx: Context) -> Reply:
    """The configured codes as the answers of a question, in her language (Telegram: buttons;
    WhatsApp: numbered lines; the simulator: `buttons`); in a group, a numbered list."""
    labels = [c.label(ctx.lang) for c in ctx.settings.problems.codes]
    if ctx.inbound.is_group:
        lines = "\n".join(f"{n}. {label}" for n, label in enumerate(labels, 1))
        return Reply(f"{t(ctx.lang, 'problem_menu')}\n{lines}")
    return ctx.ask(MENU, {}, t(ctx.lang, "problem_menu"), labels)


@answering.answers(MENU)
def on_menu(ctx: Context, question: PendingQuestion, index: int) -> list[Reply]:
    """A code chosen from the menu is stored as her problem; `other` asks for her words."""
    codes = ctx.settings.problems.codes
    if index >= len(codes):
        return [menu(ctx)]
    code = codes[index]
    if code.key == OTHER_PROBLEM:
        return [ctx.say("problem_other_words")]
    return [_record(ctx, code.key, code.label(ctx.lang))]


def _record(ctx: Context, code: str, text: str) -> Reply:
    assert ctx.now is not None
    problem, new = problems.record(
        session=ctx.session,
        person=ctx.person,
        code=code,
        text=text,
        day=ctx.today,
        channel=ctx.inbound.channel,
        now=min(ctx.inbound.sent_at, ctx.now),
    )
    label = ctx.settings.problems.code(code).label(ctx.lang)
    if not new:
        return ctx.say(
            "problem_already", id=problem.id, label=label, date=short_date(problem.day, ctx.lang)
        )
    shown = f"{label}: {text}" if code == OTHER_PROBLEM and text else label
    return ctx.say("problem_saved", id=problem.id, label=shown)


def command(ctx: Context, cmd: Command) -> list[Reply]:
    """/samasya: a worker's menu or her problem in words; an officer's list of open ones."""
    if not ctx.person.is_field_worker:
        return open_list(ctx, list(cmd.args))
    text = " ".join(cmd.args).strip(" :-,")
    if not text:
        return [menu(ctx)]
    return told(ctx, Told(report="", problem=text, keyword=True))


def _unit_arg(ctx: Context, own: Sequence[Unit], text: str) -> list[Unit] | Reply:
    found = resolve_units(ctx.session, text, ctx.settings.state)
    if not found:
        return ctx.say("unit_not_found", name=text, example_unit=own[0].name if own else "Sandila")
    allowed = [u for u in found if any(o.contains(u) for o in own)]
    if not allowed:
        return ctx.say("out_of_scope", unit=", ".join(o.path for o in own))
    if len(allowed) > 1:
        return ctx.say("unit_ambiguous", name=text, options="\n".join(f"• {u.path}" for u in allowed))
    return allowed


def _filters(ctx: Context, args: Sequence[str]) -> tuple[str | None, list[Unit]] | Reply:
    """(code, units) from an officer's words: a code, a unit, either or both."""
    own = scope_units(ctx.session, ctx.person, ctx.settings.state)
    code = None
    rest = list(args)
    named = words(ctx).exact(rest)
    if named is not None:
        code, used = named
        rest = rest[used:]
    if not rest:
        return code, own
    units = _unit_arg(ctx, own, " ".join(rest))
    return units if isinstance(units, Reply) else (code, units)


def open_list(ctx: Context, args: Sequence[str]) -> list[Reply]:
    """The open problems in the officer's units (or the code and unit she names), oldest first."""
    filters = _filters(ctx, args)
    if isinstance(filters, Reply):
        return [filters]
    code, units = filters
    lang = ctx.lang
    total = problems.count_open(session=ctx.session, units=units)
    rows = problems.open_in(session=ctx.session, units=units, code=code, limit=LIST_LIMIT + 1)
    if not rows:
        return [ctx.say("problems_none_open", unit=", ".join(u.path_in(lang) for u in units))]
    by_code: dict[str, list[problems.Row]] = defaultdict(list)
    for row in rows[:LIST_LIMIT]:
        by_code[row.problem.code].append(row)
    lines = [ctx.say("problems_open_head", count=indian(total)).text]
    for key, found in sorted(by_code.items(), key=lambda item: -len(item[1])):
        lines.append(f"\n{ctx.settings.problems.code(key).label(lang)} ({indian(len(found))}):")
        lines += [_row_line(ctx, row) for row in found]
    if len(rows) > LIST_LIMIT:
        lines.append(ctx.say("problems_more", shown=LIST_LIMIT).text)
    example = rows[0].problem
    lines.append("\n" + ctx.say("problems_how_to_resolve", id=example.id, code=example.code,
                                unit=rows[0].block).text)  # fmt: skip
    text = "\n".join(lines)
    if ctx.inbound.is_group:
        return [Reply(text)]
    # The first few as buttons that resolve them (no note; `/hal N note` gives one).
    shown = rows[:BUTTONS]
    labels = [t(lang, "problem_resolve_button", id=r.problem.id, name=r.worker) for r in shown]
    payload: dict[str, object] = {"ids": [r.problem.id for r in shown], "args": list(args)}
    return [ctx.ask(RESOLVE, payload, text, labels)]


@answering.answers(RESOLVE)
def on_resolve(ctx: Context, question: PendingQuestion, index: int) -> list[Reply]:
    """A resolve button: that problem is resolved (if it is still open here), then the list again."""
    data = questions.payload(question)
    ids = [int(i) for i in data.get("ids", [])]
    if ctx.person.is_field_worker or index >= len(ids):
        return [ctx.say("question_closed")]
    own = scope_units(ctx.session, ctx.person, ctx.settings.state)
    found = problems.open_by_ids(session=ctx.session, ids=[ids[index]], units=own)
    if not found:
        return [ctx.say("problem_not_found", ids=f"#{ids[index]}")]
    done = _resolved(ctx, found, "", [])
    return [done, *open_list(ctx, [str(a) for a in data.get("args", [])])]


def _row_line(ctx: Context, row: problems.Row) -> str:
    assert ctx.now is not None
    problem = row.problem
    days = (ctx.today - problem.day).days
    since = t(ctx.lang, "problem_since", date=short_date(problem.day, ctx.lang), days=indian(days))
    text = f" «{problem.text}»" if problem.code == OTHER_PROBLEM and problem.text else ""
    return f"#{problem.id} {row.worker} · {row.sector} · {since}{text}"


def resolve(ctx: Context, cmd: Command) -> list[Reply]:
    """/hal 12 [note], /hal 12 13 [note], /hal server_down Sandila [note]."""
    if ctx.person.is_field_worker:
        return [ctx.say("problem_resolve_officers")]
    args = list(cmd.args)
    if not args:
        return [ctx.say("problem_resolve_usage")]
    own = scope_units(ctx.session, ctx.person, ctx.settings.state)
    ids = []
    while args and args[0].lstrip("#").isdigit():
        ids.append(int(args.pop(0).lstrip("#")))
    if ids:
        found = problems.open_by_ids(session=ctx.session, ids=ids, units=own)
        missing = sorted(set(ids) - {row.problem.id for row in found})
        if missing and not found:
            return [ctx.say("problem_not_found", ids=", ".join(f"#{i}" for i in missing))]
        note = " ".join(args)
    else:
        named = words(ctx).exact(args)
        if named is None:
            return [ctx.say("problem_resolve_usage")]
        code, used = named
        args = args[used:]
        if not args:
            return [ctx.say("problem_resolve_needs_unit", code=code)]
        units = _unit_arg(ctx, own, args[0])
        if isinstance(units, Reply):
            return [units]
        note = " ".join(args[1:])
        found = problems.open_in(session=ctx.session, units=units, code=code)
        missing = []
        if not found:
            return [ctx.say("problems_none_open", unit=units[0].path_in(ctx.lang))]
    return [_resolved(ctx, found, note, missing)]


def _resolved(ctx: Context, rows: Sequence[problems.Row], note: str, missing: Sequence[int]) -> Reply:
    """Resolve the rows, tell each worker, and say what was done."""
    assert ctx.now is not None
    settings = ctx.settings
    people = problems.people_by_id(session=ctx.session, ids=[r.problem.person_id for r in rows])
    messages = []
    for row in rows:
        problem = row.problem
        problems.resolve(
            session=ctx.session,
            problem=problem,
            by=ctx.person,
            note=note,
            channel=ctx.inbound.channel,
            now=ctx.now,
        )
        worker = people[problem.person_id]
        lang = worker.language
        text = t(
            lang,
            "problem_resolved_notice",
            label=settings.problems.code(problem.code).label(lang),
            date=short_date(problem.day, lang),
            by=ctx.person.name,
            note=t(lang, "problem_note", note=note) if note else "",
        )
        messages.append(outbox.Message(worker, text, key=f"problem_resolved:{problem.id}"))
    outbox.enqueue(
        session=ctx.session, job="problem_resolved", day=ctx.today, messages=messages, now=ctx.now
    )
    names = ", ".join(f"#{r.problem.id} {r.worker}" for r in rows)
    text = ctx.say("problems_resolved", count=indian(len(rows)), names=names).text
    if missing:
        text += "\n" + ctx.say("problem_not_found", ids=", ".join(f"#{i}" for i in missing)).text
    return Reply(text)

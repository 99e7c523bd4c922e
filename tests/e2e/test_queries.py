"""What supervisors, BMOs and officers see when they ask, and what they may not see."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.core.messages import Inbound
from tests.conftest import ADMIN, NASREEN, RAJESH, SUNITA, USHA, VIVEK, Chat, at

REKHA = "7339325088"  # ASHA, Sandila-1
POOJA = "+91 97697 57560"  # ASHA, Sandila-2, English
BILGRAM_ASHA = None


def bilgram_asha(chat: Chat) -> str:
    """Some ASHA of Bilgram block, from the sample roster."""
    from bot.roster.read import read_table
    from tests.conftest import SAMPLE

    table = read_table(SAMPLE)
    assert not isinstance(table, list)
    for _, row in table:
        if row["block"] == "Bilgram" and row["role"] == "asha" and row["active"] == "true":
            return row["phone"]
    raise AssertionError("no Bilgram ASHA in the sample")


def test_bmo_status_shows_her_workers_numbers(chat: Chat) -> None:
    chat.say(SUNITA, "आवेदन 25 कार्ड 20", at(23, 11))
    chat.say(REKHA, "कार्ड 10", at(23, 12))
    reply = chat.say(RAJESH, "/status", at(23, 19))
    assert "Hardoi/Sandila" in reply
    assert "रिपोर्ट भेजी: 2/19" in reply  # 20 on the roster, one inactive
    assert "कार्ड 30" in reply and "आवेदन 25" in reply
    assert "1. Sandila-1 — कार्ड 30 (2/9)" in reply
    assert "लक्ष्य (कार्ड): 30/250 = 12.0%" in reply


def test_hindi_query_word_works_like_the_command(chat: Chat) -> None:
    chat.say(SUNITA, "कार्ड 20", at(23))
    assert chat.say(RAJESH, "स्थिति", at(23, 19)) == chat.say(RAJESH, "/status", at(23, 19))


def test_status_of_a_named_unit_inside_scope(chat: Chat) -> None:
    chat.say(SUNITA, "कार्ड 20", at(23))
    reply = chat.say(RAJESH, "/status Sandila-1", at(23, 19))
    assert "Hardoi/Sandila/Sandila-1" in reply
    assert "Sunita Devi — कार्ड 20 ✓" in reply


def test_bmo_cannot_read_another_block(chat: Chat) -> None:
    reply = chat.say(RAJESH, "/status Bilgram", at(23, 19))
    assert "सिर्फ़ अपने क्षेत्र" in reply
    assert "रिपोर्ट भेजी" not in reply
    assert "सिर्फ़ अपने क्षेत्र" in chat.say(NASREEN, "/missing Sandila-1", at(23, 19))


def test_unknown_unit_is_named_back(chat: Chat) -> None:
    reply = chat.say(VIVEK, "/status Lucknow", at(23, 19))
    assert "«Lucknow»" in reply and "नहीं मिली" in reply


def test_district_officer_sees_blocks_ranked(chat: Chat) -> None:
    chat.say(SUNITA, "कार्ड 20", at(23))
    chat.say(bilgram_asha(chat), "कार्ड 35", at(23))
    reply = chat.say(VIVEK, "/status", at(23, 19))
    assert "📊 Hardoi —" in reply
    lines = reply.splitlines()
    # Each block against its daily target of 250 cards.
    first = lines.index("1. Bilgram — कार्ड 35 (1/20) · 14.0%")
    assert first < lines.index("2. Sandila — कार्ड 20 (1/19) · 8.0%")


def test_supervisor_with_two_sectors_gets_both(chat: Chat) -> None:
    replies = chat.send(USHA, "/status", at(23, 19))
    assert len(replies) == 2
    assert "Sandila-1" in replies[0] and "Sandila-2" in replies[1]


def test_missing_lists_names_and_phones_to_call(chat: Chat) -> None:
    chat.say(SUNITA, "कार्ड 20", at(23))
    replies = chat.send(USHA, "/missing", at(23, 19))
    sandila1 = replies[0]
    assert "8 कार्यकर्ताओं की रिपोर्ट बाकी है (1/9 ने भेजी)" in sandila1
    assert "Rekha Verma (Behta Gokul) — 73393 25088" in sandila1
    assert "Sunita Devi" not in sandila1
    assert "Pushpa Rawat" not in sandila1  # inactive people leave every count


def test_missing_at_district_level_counts_per_block(chat: Chat) -> None:
    reply = chat.say(VIVEK, "/missing", at(23, 19))
    assert "• Bilgram: 20" in reply and "• Sandila: 19" in reply
    assert "Rekha Verma" not in reply


def test_missing_is_never_posted_in_a_group(chat: Chat) -> None:
    inbound = Inbound(
        channel="simulator",
        dedup_key="g1",
        sent_at=at(23, 19),
        chat_id="-100",
        phone=RAJESH,
        text="/missing",
        is_group=True,
    )
    reply = chat.core.handle(inbound)[0].text
    assert "निजी चैट" in reply and "98" not in reply


def test_worker_sees_only_her_own_numbers(chat: Chat) -> None:
    chat.say(SUNITA, "कार्ड 20", at(23))
    chat.say(REKHA, "कार्ड 31", at(23))
    status = chat.say(SUNITA, "/status", at(23, 19))
    assert "Sunita Devi" in status and "कार्ड 20" in status
    assert "Rekha" not in status and "31" not in status
    top = chat.say(SUNITA, "/top", at(23, 19))
    assert "2/9" in top and "◀ आप" in top and "Rekha" not in top
    assert "सिर्फ़ अपने क्षेत्र" not in chat.say(SUNITA, "/status Bilgram", at(23, 19))
    assert "Bilgram" not in chat.say(SUNITA, "/status Bilgram", at(23, 19))


def test_top_ranks_with_ties_and_marks_own_unit(chat: Chat) -> None:
    chat.say(SUNITA, "कार्ड 20", at(23))
    chat.say(REKHA, "कार्ड 20", at(23))
    chat.say(POOJA, "cards 25", at(23))
    replies = chat.send(RAJESH, "/top", at(23, 19))
    district_rank = replies[0]
    assert "1. Sandila — 65 · 26.0% ◀ आपका" in district_rank  # 65 of the block's 250
    assert "2. Bilgram — 0 · 0.0%" in district_rank
    sectors = replies[1]
    assert "1. Sandila-1 — 40" in sectors and "2. Sandila-2 — 25" in sectors
    supervisor = chat.send(USHA, "/top", at(23, 19))
    workers = next(r for r in supervisor if "Hardoi/Sandila/Sandila-1 —" in r and "Rekha" in r)
    # equal counts share a rank and are listed by name
    assert "1. Rekha Verma — 20" in workers and "1. Sunita Devi — 20" in workers


def test_week_and_campaign_periods(chat: Chat) -> None:
    chat.say(SUNITA, "कार्ड 5", at(21))
    chat.say(SUNITA, "कार्ड 7", at(23))
    assert "कार्ड 7 ·" in chat.say(RAJESH, "/status", at(23, 19)).replace("\n", " ·")
    week = chat.say(RAJESH, "/status week", at(23, 19))
    assert "पिछले 7 दिन" in week and "कार्ड 12" in week
    campaign = chat.say(RAJESH, "/status अभियान", at(23, 19))
    assert "अभियान (01/11–23/11)" in campaign and "कार्ड 12" in campaign


def test_admin_sees_the_state(chat: Chat) -> None:
    chat.say(SUNITA, "कार्ड 20", at(23))
    reply = chat.say(ADMIN, "/status", at(23, 19))
    assert "📊 Uttar Pradesh" in reply and "1. Hardoi — कार्ड 20" in reply


def test_export_sends_an_excel_file_of_the_scope(chat: Chat) -> None:
    chat.say(SUNITA, "आवेदन 25 कार्ड 20", at(23))
    inbound = Inbound(
        channel="simulator",
        dedup_key="x1",
        sent_at=at(23, 19),
        chat_id=RAJESH,
        phone=RAJESH,
        text="/export",
    )
    replies = chat.core.handle(inbound)
    document = replies[0].document
    assert document is not None and document.filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(document.content))
    assert book.sheetnames == ["block", "sector", "worker"]
    worker = list(book["worker"].iter_rows(values_only=True))
    header = worker[0]
    assert header[:8] == (
        "date",
        "district",
        "block",
        "sector",
        "worker",
        "phone",
        "workers",
        "reported",
    )
    sunita = [r for r in worker if r[4] == "Sunita Devi" and r[0] == "2026-11-23"]
    assert len(sunita) == 1 and sunita[0][header.index("cards")] == 20
    assert all(r[2] == "Sandila" for r in worker[1:])  # nothing from another block
    assert book["worker"].freeze_panes == "A2"


def test_english_officer_reads_english(chat: Chat) -> None:
    chat.say(RAJESH, "/lang en", at(23, 18))
    reply = chat.say(RAJESH, "/status", at(23, 19))
    assert "Reported: 0/19 workers" in reply and "By sector:" in reply

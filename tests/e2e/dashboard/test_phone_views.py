"""Who saw phone numbers on the dashboard is logged (PRIVACY.md): every page or download that
shows them, and nothing for a page that shows none (the projector view, a district's counts)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.service import Fieldbot
from bot.web import create_app
from models import Person, PhoneView
from tests.conftest import SUNITA, USHA, VIVEK, Chat, at
from tests.e2e.dashboard.common import client_for, sign_in
from tests.e2e.test_presence import NEAR_ATWA, send_proof
from tests.fakes.live import serving
from tests.images import photo

PHONE = re.compile(r"tel:|\b\d{5} \d{5}\b")


@pytest.fixture()
def app(core: Fieldbot) -> Iterator[str]:
    with serving(create_app(core)) as url:
        yield url


def views(engine: Engine) -> list[tuple[str, str, str]]:
    """(who, what, which unit) of every logged view, in order."""
    with Session(engine) as session:
        names = {p.id: p.name for p in session.exec(select(Person)).all()}
        rows = session.exec(select(PhoneView).order_by(PhoneView.id)).all()  # type: ignore[arg-type]
        return [(names[v.person_id], v.what, v.unit) for v in rows]


def test_views_and_downloads_with_phones_are_logged_and_no_others(
    core: Fieldbot, app: str, chat: Chat, district: Engine
) -> None:
    send_proof(chat, SUNITA, at(23, 10), NEAR_ATWA, photo(81))
    sector = "Hardoi/Sandila/Sandila-1"
    supervisor = client_for(app)
    sign_in(supervisor, core, USHA)  # her home page: her sectors' missing workers, with phones
    assert views(district) == [("Usha Srivastava", "missing", "Hardoi/Sandila/Sandila-1")]
    projector = supervisor.get(f"/dashboard/{sector}?refresh=60").text
    assert "Sunita Devi" in projector and not PHONE.search(projector)
    assert len(views(district)) == 1  # no phones shown, nothing logged
    proofs = supervisor.get(f"/dashboard/-/download/proofs.csv?unit={sector}")
    assert proofs.status_code == 200
    table = list(csv.DictReader(io.StringIO(proofs.content.decode("utf-8-sig"))))
    # (a leading + is quoted, so no spreadsheet reads the cell as a formula)
    assert [(r["worker"], r["phone"]) for r in table] == [("Sunita Devi", "'+917973321377")]
    assert views(district)[-1] == ("Usha Srivastava", "proofs_csv", sector)

    # A district officer's district shows counts per block, no numbers: nothing is logged.
    officer = client_for(app)
    page = sign_in(officer, core, VIVEK).text
    assert not PHONE.search(page) and len(views(district)) == 2
    block = officer.get("/dashboard/Hardoi/Sandila").text
    assert 'href="tel:+917973321377"' in block
    assert views(district)[-1] == ("Vivek Tripathi", "missing", "Hardoi/Sandila")

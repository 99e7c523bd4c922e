"""The simulator's routes: its page, the people it can speak as, their inbox, their messages."""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from bot.core.messages import Inbound, Location
from bot.core.service import Fieldbot
from bot.delivery.outbox import inbox as outbox_inbox
from bot.guard import SimulatorGate
from bot.phones import PhoneError, normalize_phone
from bot.store.units import ROLE_ORDER, home_units
from models import Person, Village

STATIC = Path(__file__).resolve().parents[2] / "static"


def _json_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _parse_at(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return dt.datetime.now(dt.UTC)
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else None


def routes(core: Fieldbot, gate: SimulatorGate) -> list[Route]:
    """`GET /`, `/simulator/people`, `/simulator/inbox` and `POST /simulator/messages`, behind the
    simulator's token."""

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "simulator.html", media_type="text/html; charset=utf-8")

    async def people(request: Request) -> Response:
        def listing() -> list[dict[str, Any]]:
            state = core.settings.state
            with Session(core.engine) as session:
                rows = session.exec(select(Person).where(col(Person.active).is_(True))).all()
                villages = {v.id: v for v in session.exec(select(Village)).all()}
                out = []
                for person in rows:
                    village = villages.get(person.village_id)
                    out.append(
                        {
                            "name": person.name,
                            "phone": person.phone,
                            "role": person.role,
                            "unit": ", ".join(u.path for u in home_units(session, person, state)),
                            "language": person.language,
                            # The page offers "share location" at the village centre.
                            "village": village.name if village else None,
                            "lat": village.lat if village else None,
                            "lon": village.lon if village else None,
                        }
                    )
            rank = {role: i for i, role in enumerate(ROLE_ORDER)}
            return sorted(out, key=lambda p: (rank.get(p["role"], 99), p["unit"], p["name"]))

        return JSONResponse({"people": await asyncio.to_thread(listing)})

    async def inbox(request: Request) -> Response:
        """Messages the scheduler delivered to a phone, for the simulator page to show."""
        phone = request.query_params.get("phone", "")
        try:
            after = int(request.query_params.get("after", "0"))
            e164 = normalize_phone(phone)
        except (ValueError, PhoneError):
            return _json_error("phone and a numeric after are required")

        def read() -> list[dict[str, Any]]:
            with Session(core.engine) as session:
                return [
                    {
                        "id": row.id,
                        "text": row.text,
                        "document": row.attachment_name,
                        "document_base64": base64.b64encode(row.attachment).decode()
                        if row.attachment
                        else None,
                    }
                    for row in outbox_inbox(session=session, phone=e164, after=after)
                ]

        return JSONResponse({"messages": await asyncio.to_thread(read)})

    async def simulator_message(request: Request) -> Response:
        body = await request.body()  # bot.limits caps it as it arrives
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # nested past Python's depth
            return _json_error("body is not JSON")
        if not isinstance(data, dict):
            return _json_error("body must be a JSON object")
        phone = data.get("phone")
        if not isinstance(phone, str) or not phone.strip():
            return _json_error("phone is required")
        text_value = data.get("text")
        if text_value is not None and not isinstance(text_value, str):
            return _json_error("text must be a string")
        at = _parse_at(data.get("at"))
        if at is None:
            return _json_error("at must be an ISO time with a zone, e.g. 2026-11-23T10:00:00+05:30")
        location = None
        if data.get("location") is not None:
            loc = data["location"]
            try:
                location = Location(
                    float(loc["lat"]),
                    float(loc["lon"]),
                    float(loc["accuracy"]) if loc.get("accuracy") else None,
                    live=bool(loc.get("live", False)),
                )
            except (TypeError, KeyError, ValueError):
                return _json_error("location needs numeric lat and lon")
        photo = None
        if data.get("photo_base64"):
            try:
                photo = base64.b64decode(str(data["photo_base64"]), validate=True)
            except (binascii.Error, ValueError):
                return _json_error("photo_base64 is not base64")
        document, document_name, document_refused = None, None, None
        if data.get("document_base64") is not None:
            name = data.get("document_name")
            if not isinstance(name, str) or not name.strip():
                return _json_error("document_name is required with document_base64")
            try:
                document = base64.b64decode(str(data["document_base64"]), validate=True)
            except (binascii.Error, ValueError):
                return _json_error("document_base64 is not base64")
            document_name = name.strip()
            if len(document) > core.settings.official.max_file_mb * 1024 * 1024:
                document, document_refused = None, "too_large"
        message_id = data.get("id")
        dedup = (
            f"sim:{message_id}"
            if isinstance(message_id, str) and message_id
            else f"sim:{uuid.uuid4().hex}"
        )
        inbound = Inbound(
            channel="simulator",
            dedup_key=dedup,
            source_key=dedup,
            sent_at=at,
            chat_id=phone,
            phone=phone,
            text=text_value,
            location=location,
            photo=photo,
            photo_file=photo is not None,  # the page uploads the file as it is, EXIF and all
            document=document,
            document_name=document_name,
            document_refused=document_refused,
        )
        replies = await asyncio.to_thread(core.handle, inbound)
        out = []
        for reply in replies:
            item: dict[str, Any] = {
                "text": reply.text,
                "document": reply.document.filename if reply.document else None,
            }
            if reply.document is not None:
                item["document_base64"] = base64.b64encode(reply.document.content).decode()
            if reply.buttons:
                item["buttons"] = list(reply.buttons)  # sending a label's text answers it
            out.append(item)
        return JSONResponse({"replies": out})

    return [
        Route("/", gate.protect(page, page=True)),
        Route("/simulator/people", gate.protect(people)),
        Route("/simulator/inbox", gate.protect(inbox)),
        Route("/simulator/messages", gate.protect(simulator_message), methods=["POST"]),
    ]

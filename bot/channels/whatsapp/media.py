"""Files both ways: the links Twilio fetches what the bot sends from, and a person's media fetched
from Twilio (and removed there once it is here).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
from urllib.parse import quote, urlsplit

import httpx
from sqlalchemy import delete
from sqlmodel import Session, col
from twilio.base.exceptions import TwilioException

from bot.channels.whatsapp.inbound import PHOTO_TYPES, Media
from bot.channels.whatsapp.settings import MEDIA_PATH, TwilioSettings, make_client
from bot.core.messages import Document
from models import MediaFile

log = logging.getLogger("fieldbot.whatsapp")
PURGE_AFTER = dt.timedelta(days=1)
MAX_REDIRECTS = 3


def store_media(
    *, session: Session, document: Document, now: dt.datetime, ttl: dt.timedelta
) -> MediaFile:
    """Keep a file for Twilio to fetch until `now + ttl`; files long expired are dropped."""
    session.execute(delete(MediaFile).where(col(MediaFile.expires_at) < now - PURGE_AFTER))
    row = MediaFile(
        filename=document.filename,
        mime_type=document.mime_type,
        content=document.content,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    return row


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def media_token(key: bytes, file_id: int, expires_at: dt.datetime) -> str:
    """`<id>.<expiry>.<hmac>`: names one file until it expires; nobody can forge or extend it."""
    payload = f"{file_id}.{int(expires_at.timestamp())}"
    return f"{payload}.{_b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())}"


def read_media_token(key: bytes, token: str, now: dt.datetime) -> tuple[int | None, bool]:
    """(file id, expired) for a genuine token; (None, False) for anything else."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None, False
    payload = f"{parts[0]}.{parts[1]}"
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), parts[2].encode()):
        return None, False
    return int(parts[0]), now.timestamp() >= int(parts[1])


def media_url(twilio: TwilioSettings, row: MediaFile) -> str:
    assert row.id is not None
    return f"{twilio.public_url}{MEDIA_PATH}/{media_token(twilio.media_key, row.id, row.expires_at)}"


def content_disposition(filename: str) -> str:
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


async def fetch_photo(
    twilio: TwilioSettings,
    media: Media,
    max_bytes: int,
    timeout: float = 10.0,
    types: frozenset[str] = PHOTO_TYPES,
) -> tuple[bytes | None, str | None]:
    """(bytes, None), or (None, refusal): the photo fetched with the account's credentials.

    The size is checked before the body is read, and again while it is read; the type Twilio
    serves must be a photo too. Credentials go only to Twilio's own API host: the redirect it
    answers with (to its CDN) is followed without them.
    """
    if not _same_origin(media.url, twilio.api_base_url):
        log.warning("media URL outside %s refused", twilio.api_base_url)
        return None, "unavailable"
    auth: tuple[str, str] | None = (twilio.account_sid, twilio.auth_token)
    url = media.url
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            for _ in range(MAX_REDIRECTS + 1):
                response = await client.send(client.build_request("GET", url), auth=auth, stream=True)
                if not response.is_redirect:
                    break
                await response.aclose()
                url, auth = str(response.url.join(response.headers.get("location", ""))), None
            else:
                log.warning("media fetch: too many redirects")
                return None, "unavailable"
            try:
                return await _read_photo(response, max_bytes, types)
            finally:
                await response.aclose()
    except httpx.HTTPError as exc:
        log.warning("media fetch failed: %s", type(exc).__name__)
        return None, "unavailable"


TWILIO_MEDIA = re.compile(r"/Accounts/([^/]+)/Messages/([^/]+)/Media/([^/?.]+)")


def delete_media(twilio: TwilioSettings, media: Media) -> bool:
    """Remove a person's photo from Twilio once it is here: it is kept in one place, ours."""
    match = TWILIO_MEDIA.search(urlsplit(media.url).path)
    if match is None:
        return False
    client = make_client(twilio)
    try:
        return bool(
            client.api.v2010.accounts(match.group(1))
            .messages(match.group(2))
            .media(match.group(3))
            .delete()
        )
    except TwilioException as exc:
        log.warning("media could not be deleted at Twilio: %s", type(exc).__name__)
        return False


async def _read_photo(
    response: httpx.Response, max_bytes: int, types: frozenset[str] = PHOTO_TYPES
) -> tuple[bytes | None, str | None]:
    if response.status_code != 200:
        log.warning("media fetch answered %s", response.status_code)
        return None, "unavailable"
    served = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if served not in types:
        return None, "not_image"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None, "too_large"
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > max_bytes:
            return None, "too_large"
    return bytes(data), None

"""Getting a dashboard session the way an officer does: /web in chat, open the link, press Sign in."""

from __future__ import annotations

import re
import uuid

import httpx

from bot.core.messages import Inbound, Reply
from bot.core.service import Fieldbot
from tests.conftest import at

LINK = re.compile(r"https?://\S+/dashboard/-/login/[\w-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def ask_web(core: Fieldbot, phone: str, *, group: bool = False) -> list[Reply]:
    """`/web` from a phone (in a private chat unless `group`)."""
    inbound = Inbound(
        channel="simulator",
        dedup_key=f"test:{uuid.uuid4().hex}",
        sent_at=at(23, 11),
        chat_id="-100200" if group else phone,
        phone=phone,
        text="/web",
        is_group=group,
    )
    return core.handle(inbound)


def link_of(replies: list[Reply]) -> str:
    found = LINK.search(replies[0].text)
    assert found, replies[0].text
    return found.group(0)


def path_of(url: str) -> str:
    return httpx.URL(url).path


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no form token on the page"
    return found.group(1)


def sign_in(client: httpx.Client, core: Fieldbot, phone: str) -> httpx.Response:
    """The whole sign-in: /web, GET the link (the button), POST it; the dashboard page."""
    path = path_of(link_of(ask_web(core, phone)))
    page = client.get(path)
    assert page.status_code == 200, page.text
    done = client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    return client.get("/dashboard")


def client_for(base_url: str) -> httpx.Client:
    """A browser of its own (its own cookies) for the app served at `base_url`."""
    return httpx.Client(base_url=base_url, timeout=30)

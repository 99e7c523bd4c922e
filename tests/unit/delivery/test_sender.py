"""The sender's rate limits: overall per second, per chat, per group and minute."""

from __future__ import annotations

import pytest

from bot.delivery.sender import Limits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def limits(
    clock: Clock, per_second: float = 30, chat_interval: float = 1, group_per_minute: int = 20
) -> Limits:
    return Limits(per_second, chat_interval, group_per_minute, clock=clock)


def test_a_first_message_goes_at_once(clock: Clock) -> None:
    assert limits(clock).wait_for("6021443871", is_group=False) == 0


def test_the_overall_rate_holds_until_the_oldest_send_is_a_second_old(clock: Clock) -> None:
    lim = limits(clock, per_second=3, chat_interval=0)
    for chat in ("a", "b", "c"):
        lim.record(chat, is_group=False)
    clock.now += 0.25
    assert lim.wait_for("d", is_group=False) == pytest.approx(0.75)
    clock.now += 0.75
    assert lim.wait_for("d", is_group=False) == 0


def test_one_chat_waits_its_interval_and_others_do_not(clock: Clock) -> None:
    lim = limits(clock, chat_interval=1.0)
    lim.record("a", is_group=False)
    clock.now += 0.25
    assert lim.wait_for("a", is_group=False) == pytest.approx(0.75)
    assert lim.wait_for("b", is_group=False) == 0


def test_a_group_gets_at_most_its_messages_a_minute(clock: Clock) -> None:
    lim = limits(clock, chat_interval=0, group_per_minute=2)
    lim.record("-100", is_group=True)
    clock.now += 10
    lim.record("-100", is_group=True)
    clock.now += 5
    assert lim.wait_for("-100", is_group=True) == pytest.approx(45)
    assert lim.wait_for("-200", is_group=True) == 0  # another group has its own minute
    clock.now += 45
    assert lim.wait_for("-100", is_group=True) == 0


def test_a_private_chat_is_not_held_to_the_group_limit(clock: Clock) -> None:
    lim = limits(clock, chat_interval=0, group_per_minute=1)
    lim.record("a", is_group=False)
    lim.record("a", is_group=False)
    assert lim.wait_for("a", is_group=False) == 0


def test_messages_on_their_way_count_until_answered(clock: Clock) -> None:
    lim = limits(clock, per_second=2, chat_interval=0)
    lim.start("a")
    assert lim.wait_for("a", is_group=False) > 0  # the one before to her is still on its way
    assert lim.wait_for("b", is_group=False) == 0
    lim.start("b")
    assert lim.wait_for("c", is_group=False) > 0  # two in flight fill the second
    lim.finish("a", is_group=False)
    lim.finish("b", is_group=False)
    assert lim.flying == 0 and not lim.in_flight
    assert len(lim.sent) == 2  # answered: now they are sends of this second
    clock.now += 1
    assert lim.wait_for("a", is_group=False) == 0


def test_two_in_flight_to_one_chat_are_both_counted(clock: Clock) -> None:
    lim = limits(clock, chat_interval=0)
    lim.start("a")
    lim.start("a")
    lim.finish("a", is_group=False)
    assert lim.wait_for("a", is_group=False) > 0
    lim.finish("a", is_group=False)
    assert "a" not in lim.in_flight

"""Simulated recipients answer like SendGrid would, at their arm's true rates, the same per seed."""

import json
from datetime import datetime

import pytest

from activation.experiments.simulated_responses import ArmBehaviour, sendgrid_events_for
from activation.feedback import FeedbackType, parse_sendgrid_events

SENT_AT = datetime(2026, 3, 2, 9, 30, 0, 250_000)
BEHAVIOUR = ArmBehaviour(open_rate=0.5, click_given_open=0.4, order_given_click=0.5)


def _messages(count):
    return [
        {"message_id": f"m{i:05d}", "profile_id": f"p{i}", "address": f"p{i}@example.com",
         "variant": "a", "sent_at": SENT_AT}
        for i in range(count)
    ]  # fmt: skip


def _events(seed, count=4000):
    return [
        event
        for message in _messages(count)
        for event in sendgrid_events_for(message, BEHAVIOUR, "exp", seed)
    ]


def test_the_webhook_parser_reads_every_simulated_event_after_the_send():
    batch = parse_sendgrid_events(json.dumps(_events(seed=1, count=500)).encode())
    assert not batch.rejected
    assert all(e.is_matched and e.occurred_at > SENT_AT for e in batch.events)
    kinds = {e.event_type for e in batch.events}
    assert {FeedbackType.DELIVERED, FeedbackType.OPEN, FeedbackType.CLICK} <= kinds


def test_same_seed_same_responses_another_seed_others():
    assert _events(seed=7, count=300) == _events(seed=7, count=300)
    assert _events(seed=7, count=300) != _events(seed=8, count=300)


def test_rates_follow_the_arm_behaviour():
    events = _events(seed=3)
    delivered = sum(e["event"] == "delivered" for e in events)
    clicked = sum(e["event"] == "click" for e in events)
    assert delivered == 4000
    assert clicked / 4000 == pytest.approx(BEHAVIOUR.click_rate, abs=0.02)


def test_a_rate_outside_zero_and_one_is_refused_by_name():
    with pytest.raises(ValueError, match="open_rate must be a probability"):
        ArmBehaviour(open_rate=1.5, click_given_open=0.1, order_given_click=0.1)

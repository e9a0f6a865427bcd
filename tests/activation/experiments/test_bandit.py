"""A bandit experiment: Thompson sampling per wave, with a floor, recorded and reproducible.

The allocation is checked on its own (same seed, same decision; the floor holds; over
waves of recipients simulated as in the demo, the share moves to the truly better arm) and
through the engine into a real SMTP sink: each run is one wave of at most `wave_size` new
members, nobody is messaged twice, and every decision is in the ops store and the warehouse.
"""

import pytest
from sqlalchemy import select

from activation.experiments.bandit import thompson_allocation
from activation.experiments.config import BanditConfig, ExperimentConfig
from activation.experiments.simulated_responses import ArmBehaviour, sendgrid_events_for
from connectors.ops_store.bandit_allocations import BanditAllocation
from tests.activation.audience import add_many
from tests.activation.conftest import define, make_engine
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING

FLAT = {"plain": (1.0, 1.0), "friendly": (1.0, 1.0), "bold": (1.0, 1.0)}
BANDIT = BanditConfig(wave_size=100, waves=5, floor=0.05, seed=11, draws=20_000)


def test_the_same_seed_and_wave_give_the_same_decision():
    posterior = {"plain": (4.0, 30.0), "friendly": (7.0, 28.0), "bold": (5.0, 31.0)}
    first = thompson_allocation(posterior, BANDIT, wave=2)
    assert first == thompson_allocation(posterior, BANDIT, wave=2)
    other_seed = BANDIT.model_copy(update={"seed": 12})
    assert first != thompson_allocation(posterior, other_seed, wave=2)
    assert sum(d.share for d in first) == pytest.approx(1.0)
    assert [d.arm for d in first] == ["plain", "friendly", "bold"]
    assert all(d.seed == 11 and d.draws == 20_000 and d.wave == 2 for d in first)


def test_a_hopeless_arm_keeps_the_floor():
    posterior = {"plain": (20.0, 400.0), "friendly": (300.0, 120.0), "bold": (25.0, 390.0)}
    decisions = {d.arm: d for d in thompson_allocation(posterior, BANDIT, wave=3)}
    assert decisions["plain"].probability_best == 0
    assert decisions["plain"].share == pytest.approx(0.05)
    assert decisions["friendly"].share == pytest.approx(0.95 - 0.05)
    assert (decisions["plain"].alpha, decisions["plain"].beta) == (20.0, 400.0)


def test_flat_posteriors_split_evenly():
    shares = [d.share for d in thompson_allocation(FLAT, BANDIT, wave=1)]
    assert shares == pytest.approx([1 / 3] * 3, abs=0.02)


TRUE_ARMS = {
    "plain": ArmBehaviour(open_rate=0.30, click_given_open=0.20, order_given_click=0.3),
    "friendly": ArmBehaviour(open_rate=0.50, click_given_open=0.40, order_given_click=0.3),
    "bold": ArmBehaviour(open_rate=0.35, click_given_open=0.20, order_given_click=0.3),
}


def test_allocation_moves_to_the_truly_better_arm_over_simulated_waves():
    """Recipients answer as the demo's do (SendGrid events from `sendgrid_events_for`)."""
    from datetime import datetime

    posterior = dict(FLAT)
    shares_by_wave = []
    sent_at = datetime(2026, 3, 2, 9, 0)
    for wave in range(1, 7):
        decisions = thompson_allocation(posterior, BANDIT, wave)
        shares_by_wave.append({d.arm: d.share for d in decisions})
        start = 0
        for d in decisions:
            count = round(d.share * 200)
            for i in range(start, start + count):
                message = {"message_id": f"w{wave}m{i}", "profile_id": f"p{wave}_{i}",
                           "address": f"p{wave}_{i}@example.com", "sent_at": sent_at}  # fmt: skip
                events = sendgrid_events_for(message, TRUE_ARMS[d.arm], "subject_bandit", seed=5)
                clicked = any(e["event"] == "click" for e in events)
                alpha, beta = posterior[d.arm]
                posterior[d.arm] = (alpha + clicked, beta + (not clicked))
            start += count
    assert shares_by_wave[0]["friendly"] == pytest.approx(1 / 3, abs=0.02)
    assert shares_by_wave[-1]["friendly"] > 0.85
    assert shares_by_wave[-1]["friendly"] > shares_by_wave[1]["friendly"]
    assert min(min(s.values()) for s in shares_by_wave) >= 0.05 - 1e-12


def test_bandit_settings_are_checked_by_name():
    variants = [{"name": "plain"}, {"name": "friendly", "subject": "Hi"}]
    with pytest.raises(ValueError, match="mode 'bandit' needs 'bandit' settings"):
        ExperimentConfig(id="bb", variants=variants, mode="bandit")
    with pytest.raises(ValueError, match="yes/no primary metric"):
        ExperimentConfig(
            id="bb", variants=variants, mode="bandit", primary_metric="revenue",
            bandit={"wave_size": 10},
        )  # fmt: skip
    with pytest.raises(ValueError, match="no holdout"):
        ExperimentConfig(
            id="bb", variants=variants, mode="bandit", holdout_percent=10,
            bandit={"wave_size": 10},
        )  # fmt: skip
    with pytest.raises(ValueError, match="adds up to more than the whole wave"):
        ExperimentConfig(
            id="bb", variants=variants, mode="bandit", bandit={"wave_size": 10, "floor": 0.6}
        )
    with pytest.raises(ValueError, match="need mode 'bandit'"):
        ExperimentConfig(id="bb", variants=variants, bandit={"wave_size": 10})


EXPERIMENT = {
    "id": "subject_bandit",
    "variants": [
        {"name": "plain"},
        {"name": "friendly", "subject": "{{ first_name }}, a little welcome gift"},
    ],
    "primary_metric": "click",
    "mode": "bandit",
    "bandit": {"wave_size": 20, "waves": 3, "floor": 0.1, "seed": 3},
}


@pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)
def test_each_run_sends_one_wave_to_new_members_and_records_its_decision(
    settings, warehouse, sessions, sink
):
    add_many(warehouse, 70)
    define(sessions, experiment=EXPERIMENT)
    engine = make_engine(settings, warehouse, sessions)

    dry = engine.dry_run("welcome", requested_by="test")
    assert dry.plan.planned == 20
    with sessions() as session:
        assert session.scalars(select(BanditAllocation)).all() == []

    sent_per_run = []
    for _ in range(4):  # three waves of 20, then the remaining 10 at once
        report = engine.run("welcome", requested_by="test")
        assert report.status == "completed"
        sent_per_run.append(report.counts.get("sent", 0))
    assert sent_per_run == [20, 20, 20, 10]
    recipients = [rcpt for mail in sink.received for rcpt in mail.rcpt_tos]
    assert len(recipients) == len(set(recipients)) == 70

    with sessions() as session:
        decisions = session.scalars(
            select(BanditAllocation).order_by(BanditAllocation.wave, BanditAllocation.arm)
        ).all()
    assert [(d.wave, d.arm) for d in decisions] == [
        (w, arm) for w in (1, 2, 3, 4) for arm in ("friendly", "plain")
    ]
    assert all(d.share >= 0.1 and d.seed == 3 for d in decisions)
    mirrored = warehouse.query_arrow(
        "select wave, arm, alpha, beta, probability_best, share, seed, run_id "
        "from tidemark.bandit_allocations order by wave, arm"
    ).to_pylist()
    assert [(r["wave"], r["arm"], r["share"], r["run_id"]) for r in mirrored] == [
        (d.wave, d.arm, d.share, d.run_id) for d in decisions
    ]
    arms = warehouse.query_arrow(
        "select variant, count(*) as n from tidemark.experiment_assignments group by variant"
    ).to_pylist()
    assert {r["variant"] for r in arms} == {"plain", "friendly"}
    assert sum(r["n"] for r in arms) == 70


def test_posteriors_come_from_the_experiment_models_or_the_flat_prior(warehouse):
    from activation.experiments.bandit import posteriors

    experiment = ExperimentConfig.model_validate(EXPERIMENT)
    assert posteriors(warehouse, experiment) == {"plain": (1.0, 1.0), "friendly": (1.0, 1.0)}
    warehouse.execute("create schema if not exists analytics")
    warehouse.execute(
        "create table analytics.experiment_variant_stats (experiment_id varchar, "
        "variant varchar, metric varchar, users bigint, count bigint)"
    )
    warehouse.execute(
        "insert into analytics.experiment_variant_stats values "
        "('subject_bandit', 'plain', 'click', 40, 4), "
        "('subject_bandit', 'plain', 'conversion', 40, 1), "
        "('other', 'friendly', 'click', 40, 30)"
    )
    assert posteriors(warehouse, experiment) == {"plain": (5.0, 37.0), "friendly": (1.0, 1.0)}

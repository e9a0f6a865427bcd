"""Activations, declared in dbt or created through the API, and what each last did."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from activation.catalog import get_activation, list_activations
from activation.definition import ActivationDefinition
from api.reads.runs import RunProgress, recent_runs

if TYPE_CHECKING:
    from api.state import AppState

RECENT_RUNS = 20


class ActivationSummary(BaseModel):
    name: str
    segment: str
    destination: str
    channel: str
    mode: str
    schedule: str
    declared_in: str
    description: str
    owner: str | None
    last_run: RunProgress | None


class ActivationList(BaseModel):
    data: list[ActivationSummary]
    count: int


class ActivationDetail(BaseModel):
    definition: ActivationDefinition
    runs: list[RunProgress]


def _summary(definition: ActivationDefinition, last_run: RunProgress | None) -> ActivationSummary:
    return ActivationSummary(
        name=definition.name,
        segment=definition.segment,
        destination=definition.destination,
        channel=definition.channel.value,
        mode=definition.mode.value,
        schedule=definition.schedule,
        declared_in=definition.declared_in,
        description=definition.description,
        owner=definition.owner,
        last_run=last_run,
    )


def read_activations(state: AppState) -> ActivationList:
    manifest = state.manifest()
    with state.sessions() as session:
        definitions = list_activations(manifest, session)
        last = {
            d.name: next(
                iter(recent_runs(session, state.ledger_counts, activation=d.name, limit=1).data),
                None,
            )
            for d in definitions
        }
    data = [_summary(d, last[d.name]) for d in definitions]
    return ActivationList(data=data, count=len(data))


def read_activation(state: AppState, name: str) -> ActivationDetail:
    """One activation and its recent runs; `UnknownActivationError` names the known ones."""
    manifest = state.manifest()
    with state.sessions() as session:
        definition = get_activation(name, manifest, session)
        runs = recent_runs(session, state.ledger_counts, activation=name, limit=RECENT_RUNS).data
    return ActivationDetail(definition=definition, runs=runs)

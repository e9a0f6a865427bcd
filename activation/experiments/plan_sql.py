"""The experiment's part of the plan statement: each eligible member's arm and send delay.

The plan's `deduplicated` rows get a `variant`: the arm already recorded for the profile in
`tidemark.experiment_assignments`, else the arm its hash bucket falls in. Without an
experiment every message is the `default` variant. Holdout members become exclusions with
reason `holdout` (recorded, never sent).
"""

from __future__ import annotations

from activation.definition import ActivationDefinition
from activation.experiments.assignment import arm_sql, bucket_sql, digest_sql
from activation.experiments.config import HOLDOUT_ARM
from activation.experiments.content import DEFAULT_VARIANT
from activation.experiments.tables import ASSIGNMENTS


def assigned_cte(definition: ActivationDefinition, wave_cap: int | None = None) -> str:
    """`assigned`: the rows of `deduplicated` with their `variant` and `wanted_now`.

    `wanted_now` is `wanted` narrowed to this run (a bandit's wave); a new column rather than a
    replaced `wanted`, because `select * replace` is DuckDB's alone.

    With `wave_cap` (a bandit's wave) at most that many sendable members are wanted in this
    run: those already assigned (by a dry run) first, then in the order of a second hash, so
    the pick is independent of the arm; the others stay unplanned, for the next wave.
    """
    experiment = definition.experiment
    if experiment is None:
        return (
            f"assigned as (select d.*, d.wanted as wanted_now, '{DEFAULT_VARIANT}' as variant "
            "from deduplicated as d)"
        )
    salt = experiment.assignment_salt.replace("'", "''")
    if wave_cap is not None:
        return _wave_cte(definition, salt, wave_cap)
    return f"""
    hashed as (
        select d.*, {digest_sql(f"'{salt}'", "d.profile_id")} as assignment_digest
        from deduplicated as d
    ),
    assigned as (
        select h.*, h.wanted as wanted_now,
               coalesce(a.variant, {arm_sql(experiment, bucket_sql("h.assignment_digest"))})
                   as variant
        from hashed as h
        left join {ASSIGNMENTS} as a
            on a.experiment_id = '{experiment.id}' and a.profile_id = h.profile_id
    )"""


def _wave_cte(definition: ActivationDefinition, salt: str, wave_cap: int) -> str:
    experiment = definition.experiment
    assert experiment is not None
    sendable = "h.wanted and h.reason is null"
    ranked = f"""
    hashed as (
        select d.*, {digest_sql(f"'{salt}'", "d.profile_id")} as assignment_digest,
               {digest_sql(f"'{salt}/wave'", "d.profile_id")} as wave_digest
        from deduplicated as d
    ),
    ranked as (
        select h.*, a.variant as assigned_variant,
               case when {sendable} then row_number() over (
                   partition by {sendable}
                   order by a.variant is null, h.wave_digest) end as wave_rank
        from hashed as h
        left join {ASSIGNMENTS} as a
            on a.experiment_id = '{experiment.id}' and a.profile_id = h.profile_id
    )"""
    arm = arm_sql(experiment, bucket_sql("r.assignment_digest"))
    in_wave = f"coalesce(r.wave_rank <= {int(wave_cap)}, true)"
    return f"""{ranked},
    assigned as (
        select r.*, r.wanted and {in_wave} as wanted_now,
               coalesce(r.assigned_variant, {arm}) as variant
        from ranked as r
    )"""


def holdout_reason_sql(column: str) -> str:
    return f"case when {column} = '{HOLDOUT_ARM}' then '{HOLDOUT_ARM}' end"


def delayed_sql(definition: ActivationDefinition, send_after: str, variant: str) -> str:
    """`send_after` moved later by the variant's send delay, when any variant has one."""
    experiment = definition.experiment
    delayed = [v for v in experiment.variants if v.send_delay_hours] if experiment else []
    if not delayed:
        return send_after
    cases = " ".join(
        f"when '{v.name}' then {send_after} + interval '{v.send_delay_hours} hours'"
        for v in delayed
    )
    return f"case {variant} {cases} else {send_after} end"

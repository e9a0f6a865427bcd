"""Plan a run in the warehouse: diff, guardrails, quiet hours, message ids — one SQL set.

Nothing about the audience leaves the warehouse here. The segment's rows are diffed by
primary key and row hash against the activation's last delivered snapshot; the rows the
mode wants are checked against consent, suppressions (the dbt model and the ops store's
immediate ones), the rolling frequency cap and address duplicates; what passes gets a
deterministic message id and a `send_after` (now or the recipient's recommended local hour,
moved to the end of their quiet hours when it falls in them, in their own time zone).
Exclusions keep their reason. Re-planning the same run replaces its rows, so a crashed plan
is simply run again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from activation.definition import ActivationDefinition, Mode
from activation.experiments.plan_sql import assigned_cte, delayed_sql, holdout_reason_sql
from activation.experiments.tables import (
    ensure_experiment_tables,
    record_assignments,
    register_experiment,
)
from activation.quiet_hours import send_after_sql, window_ends
from activation.segment_rows import (
    ROW_HASH_PREFIX,
    SegmentColumn,
    attributes_sql,
    document_row_hash_sql,
    row_hash_sql,
    segment_columns,
)
from activation.segments import Segment
from activation.send_time import (
    deferred_reason,
    missing_recommendations,
    population_hour,
    recommendations_join,
    recommended_hour_sql,
    recommended_send_after_sql,
    uses_recommendations,
)
from activation.warehouse_tables import SCHEMA, ensure_engine_tables
from connectors.destinations.message import Channel
from connectors.warehouse.base import Warehouse, WarehouseSession

PROFILES = "analytics.profiles"
#: The member's row hash beside the segment's own columns (a name no model would use).
MEMBER_HASH = "tidemark_member_row_hash__"
ERASED_TABLE = "_erased_now"
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"

#: The changes each mode turns into messages.
CHANGES_BY_MODE: dict[Mode, tuple[str, ...]] = {
    Mode.ADD_ONLY: ("added",),
    Mode.UPSERT: ("added", "changed"),
    Mode.MIRROR: ("added", "changed"),
}


class PlanError(RuntimeError):
    """A plan that must not go ahead; nothing was sent. The message says why."""


@dataclass
class PlanSummary:
    """What a plan found, for the run record, the dry-run report and the approval check."""

    members: int = 0
    snapshot: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    planned: int = 0
    deferred: int = 0
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def change_size(self) -> int:
        return self.added + self.changed + self.removed

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())


def _normalized(channel: Channel, address: str) -> str:
    """SQL for an address as the plan dedupes and suppresses it."""
    if channel is Channel.EMAIL:
        return f"lower(trim({address}))"
    if channel is Channel.SMS:
        return f"regexp_replace({address}, '[\\s().-]', '', 'g')"
    return address


def _channel_columns(channel: Channel) -> dict[str, str]:
    """SQL expressions, over `profiles p`, for the channel's address and guardrail inputs."""
    if channel is Channel.EMAIL:
        return {
            "address": "p.email",
            "is_valid": "coalesce(p.is_email_valid, false)",
            "consent": "p.email_consent",
            "is_suppressed": "coalesce(p.is_email_suppressed, false)",
            "normalized": _normalized(channel, "p.email"),
        }
    if channel is Channel.SMS:
        return {
            "address": "p.phone",
            "is_valid": f"coalesce(regexp_matches(p.phone, '{PHONE_PATTERN}'), false)",
            "consent": "p.sms_consent",
            "is_suppressed": "coalesce(p.is_sms_suppressed, false)",
            "normalized": _normalized(channel, "p.phone"),
        }
    # Webhooks carry data to another system: no consent or address of the recipient's own.
    return {
        "address": "p.profile_id",
        "is_valid": "true",
        "consent": "'granted'",
        "is_suppressed": "false",
        "normalized": "p.profile_id",
    }


def blocking_reason_sql(
    channel: Channel,
    *,
    immediately_suppressed: str = "false",
    over_cap: str = "false",
    erased: str = "false",
) -> str:
    """Why a profile (`profiles p`) cannot be messaged on `channel`, or null when it can.

    The plan's guardrails in their order; the segment dashboard counts exclusions with the
    same expression, so what it shows is what a run would exclude.
    """
    columns = _channel_columns(channel)
    return f"""case
                   when p.profile_id is null then 'unknown_profile'
                   when {columns["address"]} is null or not {columns["is_valid"]}
                       then 'invalid_address'
                   when {erased} then 'erased'
                   when coalesce({columns["consent"]}, 'never_asked') <> 'granted'
                       then 'no_consent'
                   when {columns["is_suppressed"]} or {immediately_suppressed}
                       then 'suppressed'
                   when {over_cap} then 'frequency_cap'
               end"""


def normalized_address_sql(channel: Channel) -> str:
    """The recipient's address as the plan dedupes and suppresses it (over `profiles p`)."""
    return _channel_columns(channel)["normalized"]


def _send_after_sql(
    session: WarehouseSession, definition: ActivationDefinition, now: datetime
) -> str:
    """`send_after` in UTC over the plan's rows `r`: the send moment (now or the recommended
    hour), moved to the end of the quiet window it falls in, in the recipient's zone.

    Both depend on the zone (and the hour) alone, so they are worked out per zone the
    profiles hold (`activation.quiet_hours`, `activation.send_time`), the same on every engine.
    """
    quiet = definition.quiet_hours
    zones: list[str] = []
    if (quiet is not None and definition.channel is not Channel.WEBHOOK) or uses_recommendations(
        definition
    ):
        zones = (
            session.query_arrow(
                f"select distinct time_zone from {PROFILES} where time_zone is not null"
            )
            .column("time_zone")
            .to_pylist()
        )
    if quiet is None or definition.channel is Channel.WEBHOOK:
        immediate = "$now"
    else:
        ends, fallback = window_ends(quiet, zones, now)
        immediate = send_after_sql(ends, fallback, "r.time_zone")
    if uses_recommendations(definition):
        return recommended_send_after_sql(definition, zones, now, immediate)
    return immediate


@dataclass(frozen=True)
class PlanInputs:
    """What the plan statement is built from besides the definition: the segment's columns
    (its rows' attributes and hashes) and the send-time expression."""

    row_columns: Sequence[SegmentColumn]
    send_after: str
    population_hour: int | None = None  # `send_time: recommended`: for profiles not yet seen


def plan_inputs(
    session: WarehouseSession, definition: ActivationDefinition, segment: Segment, now: datetime
) -> PlanInputs:
    return PlanInputs(
        row_columns=segment_columns(session, segment.relation),
        send_after=_send_after_sql(session, definition, now),
        population_hour=population_hour(session, definition),
    )


def _frequency_sql(definition: ActivationDefinition) -> tuple[str, str]:
    """The CTE counting recent messages per profile, and the exclusion condition."""
    cap = definition.frequency_cap
    if cap is None or definition.channel is Channel.WEBHOOK:
        return "select null::varchar as profile_id, 0 as recent where false", "false"
    cte = f"""
        select profile_id, count(*) as recent
        from {SCHEMA}.message_log
        where channel = $channel
          and state in ('planned', 'sending', 'sent', 'in_doubt')
          and coalesce(sent_at, send_after) >= $now - interval '{cap.window_hours} hours'
          and run_id <> $run_id
        group by profile_id"""
    return cte, f"coalesce(f.recent, 0) >= {cap.max_messages}"


def plan_sql(
    definition: ActivationDefinition,
    segment: Segment,
    inputs: PlanInputs,
    wave_cap: int | None = None,
) -> str:
    """The statement that writes the run's candidates, reasons and send times to a temp table."""
    columns = _channel_columns(definition.channel)
    changes = ", ".join(f"'{c}'" for c in CHANGES_BY_MODE[definition.mode])
    frequency_cte, over_cap = _frequency_sql(definition)
    blocking_reason = blocking_reason_sql(
        definition.channel,
        immediately_suppressed="sn.address_hash is not null",
        over_cap=over_cap,
        erased="en.address_hash is not null",
    )
    return f"""
    create or replace temp table _plan as
    with members as (
        select s.*, {row_hash_sql(inputs.row_columns, "s")} as {MEMBER_HASH}
        from {segment.relation} as s
    ),
    snapshot as (
        select profile_id, row_hash from {SCHEMA}.activation_snapshots
        where activation = $activation
    ),
    -- Hashes decide for all members; a snapshot hash of the earlier encoding ('earlier')
    -- is decided below, from the member's document. Documents are built only for members
    -- whose hash is new (CASE evaluates its branch for those rows alone).
    compared as (
        select coalesce(m.profile_id, s.profile_id) as profile_id,
               case when s.profile_id is null then 'added'
                    when m.profile_id is null then 'removed'
                    when m.{MEMBER_HASH} = s.row_hash then 'unchanged'
                    when s.row_hash like '{ROW_HASH_PREFIX}%' then 'changed'
                    else 'earlier' end as change,
               m.{MEMBER_HASH} as row_hash, s.row_hash as snapshot_hash,
               case when m.profile_id is not null
                         and (s.profile_id is null or m.{MEMBER_HASH} <> s.row_hash)
                    then {attributes_sql(inputs.row_columns, "m")} end as attributes
        from members as m
        full outer join snapshot as s on m.profile_id = s.profile_id
    ),
    diff as (
        select profile_id,
               case when change <> 'earlier' then change
                    when {document_row_hash_sql("attributes")} = snapshot_hash then 'unchanged'
                    else 'changed' end as change,
               coalesce(row_hash, snapshot_hash) as row_hash,
               attributes
        from compared
        where change <> 'unchanged'
    ),
    frequency as ({frequency_cte}),
    suppressed_now as (
        select address_hash from {SCHEMA}.immediate_suppressions where channel = $channel
    ),
    erased_now as (
        select address_hash from {ERASED_TABLE} where channel = $channel
    ),
    reasons as (
        select d.profile_id, d.change, d.row_hash, d.attributes,
               d.change in ({changes}) as wanted,
               {columns["address"]} as address,
               coalesce(p.time_zone, 'UTC') as time_zone,
               {recommended_hour_sql(definition, inputs.population_hour)} as recommended_hour,
               {blocking_reason} as blocking_reason,
               {columns["normalized"]} as normalized_address
        from diff as d
        left join {PROFILES} as p on p.profile_id = d.profile_id
        {recommendations_join(definition, "d.profile_id")}
        left join frequency as f on f.profile_id = d.profile_id
        left join suppressed_now as sn on sn.address_hash = sha256({columns["normalized"]})
        left join erased_now as en on en.address_hash = sha256({columns["normalized"]})
        where d.change <> 'unchanged'
    ),
    -- Addresses this activation already enqueued a message to (its snapshot's planned rows):
    -- another profile with one of them is a duplicate too, as two within one run are.
    taken_addresses as (
        select {_normalized(definition.channel, "pm.address")} as normalized_address,
               min(pm.profile_id) as first_owner, max(pm.profile_id) as last_owner
        from {SCHEMA}.planned_messages as pm
        join {SCHEMA}.activation_snapshots as sn
          on sn.activation = pm.activation and sn.profile_id = pm.profile_id
             and sn.row_hash = pm.row_hash
        where pm.activation = $activation and pm.channel = $channel
        group by {_normalized(definition.channel, "pm.address")}
    ),
    deduplicated as (
        select r.*,
               case when r.wanted and r.blocking_reason is null and (
                        row_number() over (
                            partition by r.wanted and r.blocking_reason is null,
                                         r.normalized_address
                            order by r.profile_id) > 1
                        or (r.change <> 'removed' and (t.first_owner <> r.profile_id
                                                       or t.last_owner <> r.profile_id)))
                    then 'duplicate_address' else r.blocking_reason end as reason
        from reasons as r
        left join taken_addresses as t on t.normalized_address = r.normalized_address
    ),
    {assigned_cte(definition, wave_cap)}
    select r.profile_id, r.change, r.wanted_now as wanted, r.row_hash, r.attributes, r.address,
           r.time_zone,
           case when r.wanted_now then coalesce(r.reason, {holdout_reason_sql("r.variant")}) end
               as reason,
           r.variant,
           substr(sha256($activation || '/' || $run_id || '/' || r.profile_id), 1, 32)
               as message_id,
           {delayed_sql(definition, inputs.send_after, "r.variant")} as send_after
    from assigned as r
    """


def _check_keys(session: WarehouseSession, segment: Segment) -> int:
    row = session.query_arrow(
        f"select count(*) as total, count(profile_id) as with_id, "
        f"count(distinct profile_id) as distinct_ids from {segment.relation}"
    ).to_pylist()[0]
    if row["with_id"] != row["total"]:
        raise PlanError(
            f"segment {segment.model} has {row['total'] - row['with_id']} rows with a null "
            "profile_id; fix the model (its contract should forbid it) — nothing was sent"
        )
    if row["distinct_ids"] != row["total"]:
        raise PlanError(
            f"segment {segment.model} has {row['total'] - row['distinct_ids']} duplicate "
            "profile_id rows; each profile must appear once — nothing was sent"
        )
    return int(row["total"])


def _params(definition: ActivationDefinition, run_id: str, now: datetime) -> dict[str, Any]:
    return {
        "activation": definition.name,
        "run_id": run_id,
        "now": now,
        "channel": definition.channel.value,
    }


def plan_run(
    warehouse: Warehouse,
    definition: ActivationDefinition,
    segment: Segment,
    *,
    run_id: str,
    now: datetime,
    immediate_suppressions: list[tuple[str, str]],
    erased_addresses: Sequence[tuple[str, str]] = (),
    wave_cap: int | None = None,
) -> PlanSummary:
    """Compute and store the run's plan; returns its counts. `now` is naive UTC.

    `erased_addresses` (channel, address hash) are the immediate suppressions left by an
    erasure request: excluded with reason `erased` rather than `suppressed`. `wave_cap`
    limits a bandit experiment's wave to that many newly assigned members.
    """
    params = _params(definition, run_id, now)
    with warehouse.session() as session:
        ensure_engine_tables(session)
        if not session.table_exists(*segment.relation.split(".", 1)):
            raise PlanError(f"segment model {segment.relation} has not been built yet")
        members = _check_keys(session, segment)
        missing = missing_recommendations(session, definition)
        if missing is not None:
            raise PlanError(f"{missing} — nothing was sent")
        inputs = plan_inputs(session, definition, segment, now)
        experiment = definition.experiment
        if experiment is not None:
            ensure_experiment_tables(session)
        # Temporary tables are created outside the transaction: Snowflake commits an open
        # transaction at any CREATE (and fakesnow fails it, answering HTTP 500 for good).
        _refresh_erased_addresses(session, erased_addresses)
        session.begin()
        try:
            _refresh_immediate_suppressions(session, immediate_suppressions)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        session.execute(plan_sql(definition, segment, inputs, wave_cap), params)
        summary = _summarise(session, definition, members, now)
        session.begin()
        try:
            _store(session, definition, run_id, now)
            if experiment is not None:
                register_experiment(session, definition.name, experiment, now)
                record_assignments(session, experiment, run_id, now)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return summary


def _refresh_immediate_suppressions(
    session: WarehouseSession, suppressions: list[tuple[str, str]]
) -> None:
    import pyarrow as pa

    session.execute(f"delete from {SCHEMA}.immediate_suppressions")
    if suppressions:
        channels, hashes = zip(*suppressions, strict=True)
        session.insert_arrow(
            f"{SCHEMA}.immediate_suppressions",
            pa.table({"channel": list(channels), "address_hash": list(hashes)}),
        )


def _refresh_erased_addresses(session: WarehouseSession, erased: Sequence[tuple[str, str]]) -> None:
    """The erased addresses, in a temporary table of this session only (not for analysts)."""
    import pyarrow as pa

    session.execute(
        f"create or replace temp table {ERASED_TABLE} (channel varchar, address_hash varchar)"
    )
    if erased:
        channels, hashes = zip(*erased, strict=True)
        session.insert_arrow(
            ERASED_TABLE, pa.table({"channel": list(channels), "address_hash": list(hashes)})
        )


def _summarise(
    session: WarehouseSession, definition: ActivationDefinition, members: int, now: datetime
) -> PlanSummary:
    rows = session.query_arrow(
        """
        select change, wanted, reason, send_after > $now as deferred, count(*) as n
        from _plan group by all
        """,
        {"now": now},
    ).to_pylist()
    summary = PlanSummary(members=members)
    summary.snapshot = int(
        session.scalar(
            f"select count(*) from {SCHEMA}.activation_snapshots where activation = ?",
            [definition.name],
        )
    )
    excluded: Counter[str] = Counter()
    for row in rows:
        n = int(row["n"])
        setattr(summary, row["change"], getattr(summary, row["change"]) + n)
        if not row["wanted"]:
            continue
        if row["reason"] is not None:
            excluded[row["reason"]] += n
        else:
            summary.planned += n
            if row["deferred"]:
                summary.deferred += n
    summary.excluded = dict(excluded)
    return summary


def _store(
    session: WarehouseSession, definition: ActivationDefinition, run_id: str, now: datetime
) -> None:
    params = _params(definition, run_id, now)
    for table in ("planned_messages", "exclusions"):
        session.execute(f"delete from {SCHEMA}.{table} where run_id = $run_id", {"run_id": run_id})
    session.execute(
        f"""
        insert into {SCHEMA}.planned_messages
        select $run_id, $activation, message_id, profile_id, change, $channel, address,
               variant, send_after, row_hash, attributes, $now
        from _plan where wanted and reason is null
        """,
        params,
    )
    deferred = deferred_reason(definition)
    session.execute(
        f"""
        insert into {SCHEMA}.exclusions
        select $run_id, $activation, profile_id, $channel, address, reason, true, $now
        from _plan where wanted and reason is not null
        union all
        select $run_id, $activation, profile_id, $channel, address, '{deferred}', false,
               $now
        from _plan where wanted and reason is null and send_after > $now
        """,
        params,
    )

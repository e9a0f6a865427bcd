"""The ops store as Tidemark created it before migrations (recorded as schema version 1).

Before Alembic, every start-up ran `create_all`, so a version-1 store holds whichever of
these tables existed when it was last opened. This revision creates the ones missing and
leaves the rest alone; on an empty database it creates them all.

Revision 0001, the first.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from connectors.ops_store.migrations.check_constraints import one_of
from connectors.ops_store.models import NAMING_CONVENTION  # names are stored: it never changes

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
RUN_STATUSES_V1 = (
    "planning",
    "awaiting_approval",
    "enqueued",
    "delivering",
    "completed",
    "failed",
    "cancelled",
    "skipped",
    "planned",
)


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _status(name: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    return sa.CheckConstraint(one_of(column, values), name=name)


def version_1_tables() -> sa.MetaData:
    """The tables of schema version 1, frozen as they were (not today's models)."""
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    sa.Table(
        "schema_version",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
        _at("applied_at"),
        sa.CheckConstraint("id = 1", name="single_row"),
    )
    sa.Table(
        "audit_log",
        metadata,
        sa.Column("id", BIG_KEY, primary_key=True, autoincrement=True),
        _at("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("resource_type", sa.String(100), nullable=False),
        sa.Column("resource_id", sa.String(200), nullable=False),
        sa.Column("before", JSON_DOCUMENT),
        sa.Column("after", JSON_DOCUMENT),
        sa.Index("ix_audit_log_at", "at"),
        sa.Index("ix_audit_log_resource", "resource_type", "resource_id"),
    )
    sa.Table(
        "activation_requests",
        metadata,
        sa.Column("request_id", sa.String(100), primary_key=True),
        sa.Column("activation_name", sa.String(200), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        _at("requested_at"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_reason", sa.Text),
        _at("updated_at"),
        _status("kind", "kind", ("run", "dry_run")),
        _status("status", "status", ("pending", "launched", "skipped", "done", "failed")),
        sa.Index("ix_activation_requests_activation_name", "activation_name"),
        sa.Index("ix_activation_requests_status_requested_at", "status", "requested_at"),
    )
    sa.Table(
        "api_tokens",
        metadata,
        sa.Column("id", BIG_KEY, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _at("created_at"),
        _at("revoked_at", nullable=True),
        _at("last_used_at", nullable=True),
        _status("role", "role", ("viewer", "marketer", "admin")),
    )
    sa.Table(
        "immediate_suppressions",
        metadata,
        sa.Column("id", BIG_KEY, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        _at("created_at"),
        sa.UniqueConstraint("channel", "address_hash"),
        _status("channel", "channel", ("email", "sms")),
    )
    sa.Table(
        "activations",
        metadata,
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("definition", JSON_DOCUMENT, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _at("created_at"),
        _at("updated_at"),
    )
    sa.Table(
        "activation_runs",
        metadata,
        sa.Column("run_id", sa.String(100), primary_key=True),
        sa.Column("activation", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_reason", sa.Text),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("plan", JSON_DOCUMENT),
        _at("started_at"),
        _at("planned_at", nullable=True),
        _at("finished_at", nullable=True),
        _at("updated_at"),
        _status("run_status", "status", RUN_STATUSES_V1),
        sa.Index("ix_activation_runs_activation_started", "activation", "started_at"),
    )
    sa.Table(
        "activation_locks",
        metadata,
        sa.Column("activation", sa.String(63), primary_key=True),
        sa.Column("run_id", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        _at("acquired_at"),
        _at("heartbeat_at"),
    )
    sa.Table(
        "outbox",
        metadata,
        sa.Column("message_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(100), nullable=False),
        sa.Column("activation", sa.String(63), nullable=False),
        sa.Column("profile_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(400), nullable=False),
        sa.Column("variant", sa.String(100), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("partition", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _at("send_after"),
        _at("next_attempt_at"),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("provider", sa.String(32)),
        sa.Column("provider_message_id", sa.String(200)),
        sa.Column("error_class", sa.String(32)),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text),
        _at("planned_at"),
        _at("sent_at", nullable=True),
        _at("updated_at"),
        _status(
            "message_state",
            "state",
            ("planned", "sending", "sent", "failed", "excluded", "in_doubt", "cancelled"),
        ),
        sa.Index("ix_outbox_run_state_due", "run_id", "state", "next_attempt_at"),
        sa.Index("ix_outbox_profile_channel", "profile_id", "channel"),
    )
    sa.Table(
        "frequency_claims",
        metadata,
        sa.Column("id", BIG_KEY, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("profile_id", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        _at("claimed_at"),
        sa.UniqueConstraint("message_id"),
        sa.Index("ix_frequency_claims_recipient", "channel", "profile_id", "claimed_at"),
    )
    return metadata


def upgrade() -> None:
    version_1_tables().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    version_1_tables().drop_all(op.get_bind())

"""Runs may end `deferred` (waiting for send times); erasure requests get their table.

Both arrived while the schema was still version 1 and created by `create_all`, which adds
missing tables but never changes an existing CHECK: stores created before `deferred` refuse
a deferred run. The CHECK is rewritten whatever it said (the same list either way), and
`erasure_requests` is created only where the old start-up had not already.

Revision 0002, after 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from connectors.ops_store.migrations.check_constraints import one_of, replace_check

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_STATUSES = (
    "planning",
    "awaiting_approval",
    "enqueued",
    "delivering",
    "deferred",
    "completed",
    "failed",
    "cancelled",
    "skipped",
    "planned",
)
RUN_STATUS_CHECK = "ck_activation_runs_run_status"


def upgrade() -> None:
    replace_check("activation_runs", RUN_STATUS_CHECK, one_of("status", RUN_STATUSES))
    if sa.inspect(op.get_bind()).has_table("erasure_requests"):
        return
    op.create_table(
        "erasure_requests",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(200)),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column(
            "removed",
            sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql"),
        ),
        sa.PrimaryKeyConstraint("request_id", name="pk_erasure_requests"),
        sa.CheckConstraint(
            one_of("status", ("pending", "done")), name="ck_erasure_requests_erasure_status"
        ),
    )
    op.create_index("ix_erasure_requests_status", "erasure_requests", ["status"])
    op.create_index("ix_erasure_requests_subject_hash", "erasure_requests", ["subject_hash"])


def downgrade() -> None:
    before = [status for status in RUN_STATUSES if status != "deferred"]
    op.drop_table("erasure_requests")
    replace_check("activation_runs", RUN_STATUS_CHECK, one_of("status", before))

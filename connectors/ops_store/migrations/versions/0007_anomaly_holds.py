"""Anomaly holds are recorded per flagged point, so an approval is remembered (`anomaly_holds`).

Revision 0007, after 0006.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anomaly_holds",
        sa.Column("run_id", sa.String(100), nullable=False),
        sa.Column("anomaly", sa.String(300), nullable=False),
        sa.Column("activation", sa.String(63), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "anomaly", name="pk_anomaly_holds"),
    )
    op.create_index(
        "ix_anomaly_holds_activation_anomaly", "anomaly_holds", ["activation", "anomaly"]
    )


def downgrade() -> None:
    op.drop_index("ix_anomaly_holds_activation_anomaly", table_name="anomaly_holds")
    op.drop_table("anomaly_holds")

"""Bandit experiments record each wave's allocation decision per arm.

Revision 0005, after 0004.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bandit_allocations",
        sa.Column("experiment_id", sa.String(63), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("arm", sa.String(40), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("beta", sa.Float(), nullable=False),
        sa.Column("probability_best", sa.Float(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("draws", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "wave", "arm", name="pk_bandit_allocations"),
    )
    op.create_index("ix_bandit_allocations_run_id", "bandit_allocations", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_bandit_allocations_run_id", table_name="bandit_allocations")
    op.drop_table("bandit_allocations")

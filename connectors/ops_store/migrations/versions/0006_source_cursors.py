"""Source syncs keep their cursors in the ops store (`source_cursors`).

Revision 0006, after 0005. Before it, the Shopify sync created the table itself on first use,
so a store may already hold it: then it is left as it is.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("source_cursors"):
        return
    op.create_table(
        "source_cursors",
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("position", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "stream", name="pk_source_cursors"),
    )


def downgrade() -> None:
    op.drop_table("source_cursors")

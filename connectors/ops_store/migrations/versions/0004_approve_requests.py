"""Activation requests may ask to approve a held run: kind `approve` and the run it names.

Approving releases a held plan into the outbox and delivers it, which writes the warehouse:
like a run, it is queued for Dagster instead of carried out in the API process.

Revision 0004, after 0003.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connectors.ops_store.migrations.check_constraints import one_of, replace_check

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("run", "dry_run", "approve")
KIND_CHECK = "ck_activation_requests_kind"


def upgrade() -> None:
    op.add_column("activation_requests", sa.Column("run_id", sa.String(100)))
    replace_check("activation_requests", KIND_CHECK, one_of("kind", KINDS))


def downgrade() -> None:
    op.execute("delete from activation_requests where kind = 'approve'")
    with op.batch_alter_table("activation_requests") as batch:
        batch.drop_column("run_id")
    replace_check("activation_requests", KIND_CHECK, one_of("kind", KINDS[:2]))

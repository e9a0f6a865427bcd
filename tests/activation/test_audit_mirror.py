"""The audit trail's warehouse copy: complete, never duplicated, late commits included."""

import json

from activation.audit_mirror import mirror_audit
from connectors.ops_store.audit import record_audit
from connectors.ops_store.models import AuditEntry


def audit(sessions, n, **overrides):
    with sessions.begin() as session:
        for i in range(n):
            record_audit(
                session,
                actor="token:ana",
                action="activation.create",
                resource_type="activation",
                resource_id=f"a{i}",
                before=None,
                after={"n": i},
                **overrides,
            )


def copied(warehouse):
    return warehouse.query_arrow(
        "select id, actor, resource_id, after from tidemark.audit_log order by id"
    ).to_pylist()


def test_entries_are_copied_once_and_late_ones_are_caught_up(sessions, warehouse):
    audit(sessions, 3)
    assert mirror_audit(sessions, warehouse) == 3
    assert mirror_audit(sessions, warehouse) == 0
    # A newer entry is copied; then one whose id was handed out earlier commits late.
    with sessions.begin() as session:
        session.add(
            AuditEntry(
                id=2_000_000,
                actor="token:bo",
                action="token.revoke",
                resource_type="api_token",
                resource_id="7",
            )
        )
    assert mirror_audit(sessions, warehouse) == 1
    with sessions.begin() as session:
        session.add(
            AuditEntry(
                id=1_999_500,
                actor="token:bo",
                action="token.create",
                resource_type="api_token",
                resource_id="8",
            )
        )
    assert mirror_audit(sessions, warehouse) == 1

    rows = copied(warehouse)
    assert [r["id"] for r in rows] == sorted({r["id"] for r in rows})
    assert len(rows) == 5
    assert json.loads(rows[0]["after"]) == {"n": 0} and rows[0]["actor"] == "token:ana"

"""The ops store: Tidemark's small transactional state (SQLite by default, PostgreSQL to scale).

Typical use::

    engine = create_ops_engine(settings.ops_store_dsn)
    create_schema(engine)
    Session = ops_sessionmaker(engine)
    with Session.begin() as session:
        request = enqueue_request(session, activation_name="welcome", requested_by="ana")
        record_audit(session, actor="ana", action="activation.request", ...)

Repository functions work inside the caller's session and never commit, so a change and its
audit entry always commit together.
"""

from connectors.ops_store.activation_requests import (
    ALLOWED_TRANSITIONS,
    IllegalTransitionError,
    RequestConflictError,
    RequestNotFoundError,
    claim_pending_requests,
    enqueue_request,
    get_request,
    list_requests,
    mark_request,
)
from connectors.ops_store.audit import list_audit, record_audit
from connectors.ops_store.column_types import utc_now
from connectors.ops_store.engine import (
    create_ops_engine,
    ops_sessionmaker,
    ops_store_url,
    start_write_transaction,
)
from connectors.ops_store.models import (
    ActivationRequest,
    ApiToken,
    AuditEntry,
    Base,
    ImmediateSuppression,
    RequestKind,
    RequestStatus,
    SchemaVersion,
    SuppressionChannel,
    TokenRole,
)
from connectors.ops_store.schema import (
    SCHEMA_VERSION,
    SchemaVersionError,
    create_schema,
    schema_version,
)
from connectors.ops_store.suppressions import (
    address_hash,
    is_suppressed,
    normalize_address,
    suppress_immediately,
    suppressed_addresses,
)
from connectors.ops_store.tokens import (
    IssuedToken,
    TokenNotFoundError,
    create_token,
    hash_token,
    list_tokens,
    note_token_use,
    revoke_token,
    use_needs_noting,
    verify_token,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "SCHEMA_VERSION",
    "ActivationRequest",
    "ApiToken",
    "AuditEntry",
    "Base",
    "IllegalTransitionError",
    "ImmediateSuppression",
    "IssuedToken",
    "RequestConflictError",
    "RequestKind",
    "RequestNotFoundError",
    "RequestStatus",
    "SchemaVersion",
    "SchemaVersionError",
    "SuppressionChannel",
    "TokenNotFoundError",
    "TokenRole",
    "address_hash",
    "claim_pending_requests",
    "create_ops_engine",
    "create_schema",
    "create_token",
    "enqueue_request",
    "get_request",
    "hash_token",
    "is_suppressed",
    "list_audit",
    "list_requests",
    "list_tokens",
    "mark_request",
    "normalize_address",
    "note_token_use",
    "ops_sessionmaker",
    "ops_store_url",
    "record_audit",
    "revoke_token",
    "schema_version",
    "start_write_transaction",
    "suppress_immediately",
    "suppressed_addresses",
    "use_needs_noting",
    "utc_now",
    "verify_token",
]

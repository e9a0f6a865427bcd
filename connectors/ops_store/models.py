"""The ops store's tables: Tidemark's small transactional state.

Everything here changes at a user's or a worker's request and must be consistent at once
(the warehouse is rebuilt in batches; this is not). Each table is also mirrored into the
warehouse for analysts, so columns are plain, documented, and timestamps are UTC (`*_at`).
Enumerations are stored as their string values with a CHECK constraint, readable in SQL.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column

from connectors.ops_store.column_types import UTCDateTime, json_document, utc_now

# Named constraints, so a later migration can refer to them the same way on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An autoincrementing 64-bit key on PostgreSQL; SQLite only autoincrements INTEGER (its rowid).
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def string_enum(enum_class: type[enum.StrEnum], name: str) -> Enum:
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


_Choice = TypeVar("_Choice", bound=enum.StrEnum)


def parse_enum(enum_class: type[_Choice], value: _Choice | str, label: str) -> _Choice:
    """`value` as a member of `enum_class`, or a ValueError listing what is accepted."""
    try:
        return enum_class(value)
    except ValueError:
        expected = ", ".join(member.value for member in enum_class)
        raise ValueError(f"unknown {label} {value!r}; expected one of {expected}") from None


class RequestKind(enum.StrEnum):
    RUN = "run"
    DRY_RUN = "dry_run"
    APPROVE = "approve"  # release a run held for approval (`run_id`)


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    LAUNCHED = "launched"
    SKIPPED = "skipped"
    DONE = "done"
    FAILED = "failed"


class TokenRole(enum.StrEnum):
    VIEWER = "viewer"
    MARKETER = "marketer"
    ADMIN = "admin"


class SuppressionChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class SchemaVersion(Base):
    """The one row saying which version of this schema the database holds.

    A later migration step reads it to know what it is looking at before changing anything;
    the CHECK keeps it to a single row.
    """

    __tablename__ = "schema_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=1)
    version: Mapped[int] = mapped_column(Integer)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class AuditEntry(Base):
    """Who changed what, when, and the state before and after: one row per state change.

    Append-only: entries are never updated or deleted through the ORM (see the guards
    below), so the trail can be trusted by admins and mirrored to analysts as is.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_resource", "resource_type", "resource_id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    resource_type: Mapped[str] = mapped_column(String(100))
    resource_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(json_document())
    after: Mapped[dict[str, Any] | None] = mapped_column(json_document())


def _refuse_audit_change(_mapper: Mapper[Any], _connection: Connection, entry: AuditEntry) -> None:
    raise PermissionError(f"audit_log is append-only: entry {entry.id} cannot be changed")


event.listen(AuditEntry, "before_update", _refuse_audit_change)
event.listen(AuditEntry, "before_delete", _refuse_audit_change)


class ActivationRequest(Base):
    """A request to run, dry-run or approve an activation: written by the API, carried out by
    Dagster.

    The API never writes the warehouse; it records the request here and a sensor launches
    one run per request (`run_key` = `request_id`). The caller may supply `request_id` as an
    idempotency key, so a retried click never launches twice. An approval names the held
    run it releases in `run_id`.
    """

    __tablename__ = "activation_requests"
    __table_args__ = (
        Index("ix_activation_requests_status_requested_at", "status", "requested_at"),
    )

    request_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    activation_name: Mapped[str] = mapped_column(String(200), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    kind: Mapped[RequestKind] = mapped_column(string_enum(RequestKind, "kind"))
    status: Mapped[RequestStatus] = mapped_column(
        string_enum(RequestStatus, "status"), default=RequestStatus.PENDING
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    run_id: Mapped[str | None] = mapped_column(String(100))


class ApiToken(Base):
    """A bearer token for the API and its role.

    Only the SHA-256 of the token is stored: a copy of the database (a backup, the warehouse
    mirror) grants no access. `last_used_at` shows admins which tokens are dead weight.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[TokenRole] = mapped_column(string_enum(TokenRole, "role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImmediateSuppression(Base):
    """An address that must not be messaged again on a channel, effective at once.

    One-click unsubscribes (RFC 8058) must stop sends before the next warehouse build picks
    them up, so the send-time gate reads this table too. The address is kept as a SHA-256 of
    its normalized form: the suppression outlives an erasure request without keeping the
    address itself.
    """

    __tablename__ = "immediate_suppressions"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    channel: Mapped[SuppressionChannel] = mapped_column(string_enum(SuppressionChannel, "channel"))
    address_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

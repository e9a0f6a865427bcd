"""Where a profile's data lives in the warehouse, found from the catalog rather than a list.

A new dbt model or engine table that carries `profile_id` (or an address column) is covered
by export and erasure without anyone remembering to add it here. Only base tables count:
views (the staging layer) read those tables and hold nothing of their own. Rows are matched
by `profile_id` and, in tables with an address column, by the profile's addresses too:
provider feedback can name a recipient without knowing the profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connectors.ops_store.suppressions import normalize_address
from connectors.warehouse.base import WarehouseSession

PROFILE_COLUMN = "profile_id"
ADDRESS_COLUMNS = ("email", "phone", "recipient", "address")
"""Columns that hold a person's email address or phone number wherever they appear."""
_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")
_PHONE_FORM = r"regexp_replace({column}, '[\s().-]', '', 'g')"


@dataclass(frozen=True)
class SubjectTable:
    """A warehouse table that can hold a profile's rows, and how they are recognised."""

    schema: str
    table: str
    has_profile_id: bool
    address_columns: tuple[str, ...]

    @property
    def relation(self) -> str:
        return f'"{self.schema}"."{self.table}"'

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    def match_sql(self, addresses: Sequence[str]) -> tuple[str, list[object]]:
        """A `where` condition (and its parameters) for the profile's rows in this table."""
        conditions: list[str] = []
        params: list[object] = []
        if self.has_profile_id:
            conditions.append(f"{PROFILE_COLUMN} = ?")
            params.append(None)  # the profile id, filled in by `for_profile`
        if addresses:
            for column in self.address_columns:
                conditions.append(
                    f"(lower(trim({column}::varchar)) in (select unnest(?::varchar[])) or "
                    f"{_PHONE_FORM.format(column=f'{column}::varchar')} in "
                    "(select unnest(?::varchar[])))"
                )
                params.extend([list(addresses), list(addresses)])
        return " or ".join(conditions) or "false", params

    def for_profile(self, profile_id: str, addresses: Sequence[str]) -> tuple[str, list[object]]:
        condition, params = self.match_sql(addresses)
        return condition, [profile_id if p is None else p for p in params]


def subject_tables(session: WarehouseSession) -> list[SubjectTable]:
    """Every base table with a `profile_id` or an address column, in a stable order."""
    interesting = [PROFILE_COLUMN, *ADDRESS_COLUMNS]
    rows = session.query_arrow(
        """
        select c.table_schema, c.table_name, list(c.column_name order by c.column_name) as cols
        from information_schema.columns as c
        join information_schema.tables as t
          on t.table_schema = c.table_schema and t.table_name = c.table_name
        where t.table_type = 'BASE TABLE'
          and c.table_schema not in (select unnest(?::varchar[]))
          and c.column_name in (select unnest(?::varchar[]))
        group by all
        order by 1, 2
        """,
        [list(_SYSTEM_SCHEMAS), interesting],
    ).to_pylist()
    return [
        SubjectTable(
            schema=row["table_schema"],
            table=row["table_name"],
            has_profile_id=PROFILE_COLUMN in row["cols"],
            address_columns=tuple(c for c in row["cols"] if c in ADDRESS_COLUMNS),
        )
        for row in rows
    ]


def _normalized(address: str) -> str | None:
    channel = "email" if "@" in address else "sms"
    try:
        return normalize_address(channel, address)
    except ValueError:
        return None  # not an address (a webhook "address" is the profile id itself)


def profile_addresses(
    session: WarehouseSession, tables: Sequence[SubjectTable], profile_id: str
) -> set[str]:
    """Every address any table associates with the profile, normalized."""
    found: set[str] = set()
    for table in tables:
        if not table.has_profile_id or not table.address_columns:
            continue
        for column in table.address_columns:
            values = session.query_arrow(
                f"select distinct {column}::varchar as a from {table.relation} "
                f"where {PROFILE_COLUMN} = ? and {column} is not null",
                [profile_id],
            ).column("a")
            for value in values.to_pylist():
                normalized = _normalized(value) if value != profile_id else None
                if normalized:
                    found.add(normalized)
    return found


def holds_profile(
    session: WarehouseSession, tables: Sequence[SubjectTable], profile_id: str
) -> bool:
    """Whether any table has a row keyed by the profile id."""
    return any(
        session.scalar(
            f"select exists (select 1 from {t.relation} where {PROFILE_COLUMN} = ?)", [profile_id]
        )
        for t in tables
        if t.has_profile_id
    )

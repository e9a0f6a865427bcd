"""Change a CHECK constraint on both engines: what widening an enumeration takes.

Enumerations are stored as strings with a named CHECK (`ck_<table>_<name>`, see the models'
naming convention). PostgreSQL drops and adds it in place; SQLite cannot alter a
constraint, so Alembic's batch mode copies the table into a new one with the new CHECK
(its rows, indexes and other constraints come along) and swaps it in.
"""

from __future__ import annotations

from collections.abc import Iterable

from alembic import op


def one_of(column: str, values: Iterable[str]) -> str:
    """The condition `column IN ('a', 'b', ...)`, as the models' string enums write it."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def replace_check(table: str, name: str, condition: str) -> None:
    """Make the CHECK constraint `name` of `table` say `condition` instead."""
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(name, type_="check")
        batch.create_check_constraint(name, condition)

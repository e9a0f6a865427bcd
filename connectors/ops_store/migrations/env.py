"""Alembic's environment: run the revisions on the connection `create_schema` hands in.

`create_schema` has already begun the transaction and taken the schema lock on that
connection, so the revisions run inside it and a failed upgrade leaves nothing half-done
(both engines have transactional DDL). There is no offline (SQL script) mode.
"""

from alembic import context
from sqlalchemy import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "ops store migrations run through connectors.ops_store.create_schema, "
        "which passes them an open connection"
    )
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()

"""The ops store's schema migrations (Alembic), shipped inside the package.

Every process that opens the ops store upgrades it to the newest revision at start-up
(`connectors.ops_store.schema.create_schema`), so a store created by an older Tidemark is
brought forward instead of refused, on SQLite and PostgreSQL alike.

A revision is a file in `versions/` named `NNNN_<what>.py` with `revision = "NNNN"`; the
number is also written to the `schema_version` table (which older Tidemarks read, so they
refuse a store newer than they are). Revisions describe the schema as it was when they were
written: they never import the ORM models, which keep changing. SQLite cannot alter a
constraint in place, so changes go through `op.batch_alter_table`, which rebuilds the table
there and alters it in place on PostgreSQL (see `check_constraints.replace_check`).

To add one: copy the newest revision, set `revision` / `down_revision`, write `upgrade` and
`downgrade`, bump `SCHEMA_VERSION` in `schema.py`, and change the models to match; the tests
compare a migrated store with the models.
"""

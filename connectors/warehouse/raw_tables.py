"""DDL for the `raw` landing tables, derived from the landing contract.

Each `raw.<dataset>` table has the dataset's columns plus two loader columns:
`_landing_key` (the file a row came from) and `_loaded_at` (UTC time of the load), so every
row can be traced to its batch and incremental models can pick up what is new.
"""

from __future__ import annotations

import pyarrow as pa

from connectors.raw_schemas import DATASETS, RawDataset

RAW_SCHEMA = "raw"
LOADED_FILES_TABLE = f"{RAW_SCHEMA}._loaded_files"

_SQL_TYPES: dict[pa.DataType, str] = {
    pa.string(): "VARCHAR",
    pa.timestamp("us"): "TIMESTAMP",
    pa.float64(): "DOUBLE",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
}


def sql_type(dtype: pa.DataType) -> str:
    try:
        return _SQL_TYPES[dtype]
    except KeyError:
        raise TypeError(f"no warehouse type mapped for Arrow type {dtype}") from None


def raw_table_ddl(ds: RawDataset) -> str:
    """`CREATE TABLE IF NOT EXISTS raw.<name>` in the DuckDB dialect."""
    columns = [
        f"{field.name} {sql_type(field.type)}{'' if field.nullable else ' NOT NULL'}"
        for field in ds.schema
    ]
    columns += ["_landing_key VARCHAR NOT NULL", "_loaded_at TIMESTAMP NOT NULL"]
    body = ",\n    ".join(columns)
    return f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{ds.name} (\n    {body}\n)"


def bootstrap_ddl() -> list[str]:
    """Everything the loader needs before its first load: schema, tables, manifest."""
    statements = [f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}"]
    statements += [raw_table_ddl(ds) for ds in DATASETS.values()]
    statements.append(
        f"CREATE TABLE IF NOT EXISTS {LOADED_FILES_TABLE} (\n"
        "    landing_key VARCHAR PRIMARY KEY,\n"
        "    dataset VARCHAR NOT NULL,\n"
        "    row_count BIGINT NOT NULL,\n"
        "    byte_size BIGINT NOT NULL,\n"
        "    loaded_at TIMESTAMP NOT NULL\n"
        ")"
    )
    return statements

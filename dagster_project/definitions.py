"""Tidemark's Dagster code location: everything under `defs/`, loaded by folder."""

from pathlib import Path

import dagster as dg

import dagster_project.defs


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_defs(
        defs_root=dagster_project.defs, project_root=Path(__file__).resolve().parent.parent
    )

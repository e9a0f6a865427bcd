"""The dbt project as Dagster sees it, configured from the same settings as the CLI."""

from __future__ import annotations

from functools import cache

from dagster_dbt import DbtCliResource, DbtProject

from connectors.dbt_project import ensure_manifest
from connectors.settings import get_settings


@cache
def tidemark_dbt_project() -> DbtProject:
    """The project, with a manifest that matches its files (parsed again if they changed)."""
    settings = get_settings()
    ensure_manifest(settings)
    project = DbtProject(
        project_dir=settings.dbt_project_dir,
        profiles_dir=settings.dbt_project_dir,
        target=settings.effective_dbt_target,
    )
    project.prepare_if_dev()
    return project


def dbt_cli_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=tidemark_dbt_project())

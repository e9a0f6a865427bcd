"""The dbt project as Dagster sees it, configured from the same settings as the CLI."""

from __future__ import annotations

from functools import cache

from dagster_dbt import DbtCliResource, DbtProject

from connectors.dbt_project import manifest_path, run_dbt
from connectors.settings import get_settings


@cache
def tidemark_dbt_project() -> DbtProject:
    """The project, with a manifest guaranteed to exist (parsed on first load if missing)."""
    settings = get_settings()
    if not manifest_path(settings).exists():
        result = run_dbt(settings, ["parse"])
        if not result.success:
            raise RuntimeError(f"dbt could not parse {settings.dbt_project_dir}: {result.error}")
    project = DbtProject(
        project_dir=settings.dbt_project_dir,
        profiles_dir=settings.dbt_project_dir,
        target=settings.effective_dbt_target,
    )
    project.prepare_if_dev()
    return project


def dbt_cli_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=tidemark_dbt_project())

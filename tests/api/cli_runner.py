"""Run the `tidemark` command as a user does: a subprocess over a given home folder."""

import os
import subprocess
import sys
from pathlib import Path

from connectors.settings import REPO_ROOT


def tidemark(home: Path, *args: str, env: dict[str, str] | None = None):
    environment = {
        **os.environ,
        "TIDEMARK_HOME": str(home),
        "TIDEMARK_DUCKDB_PATH": str(home / "warehouse.duckdb"),
        "COLUMNS": "200",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )

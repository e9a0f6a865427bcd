"""A process reading the dbt manifest while a parse rewrites it sees a whole file, never half."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from connectors.dbt_project import manifest_path, run_dbt
from connectors.settings import Settings

pytestmark = pytest.mark.xdist_group("dbt")


def test_readers_during_parses_always_read_a_whole_manifest(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert run_dbt(settings, ["parse", "--quiet", "--no-partial-parse"]).success
    manifest = manifest_path(settings)
    parsing_done = threading.Event()
    reads: list[int] = []
    torn: list[str] = []

    def parse_three_times() -> None:
        try:
            for _ in range(3):
                assert run_dbt(settings, ["parse", "--quiet", "--no-partial-parse"]).success
        finally:
            parsing_done.set()

    parser = threading.Thread(target=parse_three_times)
    parser.start()
    while not parsing_done.is_set():
        try:
            reads.append(len(json.loads(manifest.read_text())["nodes"]))
        except json.JSONDecodeError as error:
            torn.append(str(error))
    parser.join()

    assert torn == []
    assert reads and len(set(reads)) == 1
    assert not list(manifest.parent.glob(".run-*")), "private target folders are cleaned up"

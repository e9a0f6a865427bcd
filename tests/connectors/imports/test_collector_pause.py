"""The import pauses Python's garbage collector and always gives it back as it found it."""

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.imports import HeaderMismatchError, import_csv
from connectors.imports.collector_pause import garbage_collection_paused
from connectors.landing import LocalLandingZone


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_an_import_runs_without_the_collector_and_restores_it(tmp_path: Path) -> None:
    seen: list[bool] = []

    class WatchingLanding(LocalLandingZone):
        def write_table(self, dataset, table):  # type: ignore[no-untyped-def]
            seen.append(gc.isenabled())
            return super().write_table(dataset, table)

    source = tmp_path / "events.csv"
    source.write_text(
        "event_id,profile_id,event_type,occurred_at\n"
        "e1,p1,page_view,2024-05-01T10:00:00Z\n"
        "e2,p2,order,2024-05-01T11:00:00Z\n",
        encoding="utf-8",
    )
    summary = import_csv(
        "events",
        source,
        WatchingLanding(tmp_path / "landing"),
        quarantine_path=tmp_path / "q.csv",
    )
    assert summary.rows_landed == 2
    assert seen and not any(seen)
    assert gc.isenabled()


def test_a_failed_import_restores_the_collector(tmp_path: Path) -> None:
    source = tmp_path / "wrong.csv"
    source.write_text("id,when\ne1,2024-05-01\n", encoding="utf-8")
    with pytest.raises(HeaderMismatchError):
        import_csv(
            "events",
            source,
            LocalLandingZone(tmp_path / "landing"),
            quarantine_path=tmp_path / "q.csv",
        )
    assert gc.isenabled()


def test_overlapping_imports_restore_the_collector_when_the_last_one_ends() -> None:
    first_paused, release_first = threading.Event(), threading.Event()

    def first() -> None:
        with garbage_collection_paused():
            first_paused.set()
            release_first.wait(timeout=10)

    thread = threading.Thread(target=first)
    thread.start()
    assert first_paused.wait(timeout=10)
    with garbage_collection_paused():
        release_first.set()
        thread.join(timeout=10)
        assert not gc.isenabled(), "the first import ending must not resume it under the second"
    assert gc.isenabled()


def test_a_collector_disabled_by_the_application_stays_disabled() -> None:
    gc.disable()
    with garbage_collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()

"""Settings that are derived at runtime: the generated unsubscribe key."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from connectors.settings import Settings


def test_a_generated_unsubscribe_key_is_private_and_survives_restarts(tmp_path: Path) -> None:
    first = Settings(home=tmp_path).unsubscribe_key()
    second = Settings(home=tmp_path).unsubscribe_key()

    assert len(first) >= 32 and first == second
    mode = stat.S_IMODE((tmp_path / "unsubscribe.key").stat().st_mode)
    assert mode == 0o600


def test_threads_racing_to_create_the_key_all_read_the_same_whole_key(tmp_path: Path) -> None:
    keys: list[bytes] = []
    start = threading.Barrier(8)

    def read_key() -> None:
        start.wait()
        keys.append(Settings(home=tmp_path).unsubscribe_key())

    threads = [threading.Thread(target=read_key) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) >= 32
    assert [p.name for p in tmp_path.iterdir()] == ["unsubscribe.key"]


def test_a_configured_secret_wins_and_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, unsubscribe_secret="a-configured-secret-of-some-length")

    assert settings.unsubscribe_key() == b"a-configured-secret-of-some-length"
    assert not (tmp_path / "unsubscribe.key").exists()

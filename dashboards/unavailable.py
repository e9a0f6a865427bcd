"""A page whose warehouse data is locked by a build and has no earlier result to show.

Reads in `api.reads` serve the last good result while a dbt build holds the DuckDB file;
only a read that never succeeded since the app started has nothing to fall back on. Pages
turn that into a 503 page asking to retry in a few seconds — never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from api.reads.freshness import WarehouseUnavailableError

Result = TypeVar("Result")


class PageUnavailable(RuntimeError):
    """The page's data is not available right now; the message says why."""


def or_unavailable(read: Callable[[], Result]) -> Result:
    """Run a warehouse read, turning "locked with nothing to fall back on" into a 503 page."""
    try:
        return read()
    except WarehouseUnavailableError as error:
        raise PageUnavailable(
            f"A warehouse build is running and this page has no earlier data to show yet "
            f"({error}). It will load once the build finishes; try again in a few seconds."
        ) from error

"""Loads landing files into the warehouse's `raw` tables, each file exactly once."""

from connectors.loader.conform import BatchRejectedError, conform_batch
from connectors.loader.load import (
    FileOutcome,
    LoadReport,
    already_loaded,
    load_landing_files,
    pending_files,
)

__all__ = [
    "BatchRejectedError",
    "FileOutcome",
    "LoadReport",
    "already_loaded",
    "conform_batch",
    "load_landing_files",
    "pending_files",
]

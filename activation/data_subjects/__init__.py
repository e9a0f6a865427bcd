"""Data-subject requests: export everything held about a profile, or erase it everywhere.

`subject_data` finds where a profile's data lives (every warehouse table keyed by
`profile_id` or holding its addresses, and the ops store), `export` streams it as JSON, and
`erase` removes it: the ops store part at once (so nothing more is sent), the warehouse
part in a run (the API never writes the warehouse), leaving a hashed `erased` suppression
and an anonymous record of the request.
"""

from activation.data_subjects.erase import (
    ErasureOutcome,
    UnknownProfileError,
    carry_out_erasures,
    request_erasure,
)
from activation.data_subjects.export import export_profile, profile_is_known
from activation.data_subjects.subject_data import SubjectTable, profile_addresses, subject_tables
from connectors.ops_store.suppressions import ERASED_REASON

__all__ = [
    "ERASED_REASON",
    "ErasureOutcome",
    "SubjectTable",
    "UnknownProfileError",
    "carry_out_erasures",
    "export_profile",
    "profile_addresses",
    "profile_is_known",
    "request_erasure",
    "subject_tables",
]

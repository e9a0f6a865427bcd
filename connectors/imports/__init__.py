"""CSV imports: a customer's file of profiles or events, checked row by row, landed as Parquet.

Typical use::

    summary = import_csv("profiles", Path("customers.csv"), landing, quarantine_path=...)
    print(summary.rows_landed, summary.rows_quarantined)

A file whose header does not match is refused before anything lands (`HeaderMismatchError`);
otherwise good rows land in the landing zone for the loader and bad rows go to a quarantine
CSV with their row number, the offending columns and the reasons.
"""

from connectors.imports.csv_import import ImportSummary, import_csv
from connectors.imports.import_specs import IMPORT_SPECS, HeaderMismatchError, ImportSpec
from connectors.imports.text_format import CsvFormat, CsvFormatError

__all__ = [
    "IMPORT_SPECS",
    "CsvFormat",
    "CsvFormatError",
    "HeaderMismatchError",
    "ImportSpec",
    "ImportSummary",
    "import_csv",
]

"""Read models shared by the JSON API and the dashboards: plain functions over `AppState`.

Each function returns a pydantic model; warehouse-backed ones carry `as_of` and `stale`, and
keep answering from the last good result while a build holds the DuckDB file (`freshness`).
"""

"""The dashboards' pages, one module per page (or short flow)."""

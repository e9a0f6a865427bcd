"""Server-rendered dashboards (Jinja2 templates, vendored assets) mounted by the API."""

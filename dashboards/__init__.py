"""Server-rendered dashboards (Jinja2) for marketers, mounted by `api.app.create_app`."""

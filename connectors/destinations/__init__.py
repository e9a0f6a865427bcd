"""Send pipelines: one small interface, an implementation per provider."""

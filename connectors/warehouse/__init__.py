"""Warehouse connections: one interface, an implementation per engine."""

"""Experiments on activations: config, deterministic assignment, per-arm content, tables."""

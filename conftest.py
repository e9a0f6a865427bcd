"""Shared pytest plugins: fixtures for the services tests talk to (see tests/fixtures/)."""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.ops_store",
    "tests.fixtures.s3_server",
    "tests.fixtures.environment_guard",
]

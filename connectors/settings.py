"""Tidemark's settings: the one place configuration and secrets are read.

Every other module receives a `Settings` (or values taken from it) instead of reading the
environment itself, so a test or a Dagster resource can build one explicitly and nothing
depends on the process environment by accident. Variables are `TIDEMARK_<FIELD>`; a `.env`
file in the working directory is read too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class DestinationEntry(BaseModel):
    """A configured destination: its kind and its non-secret configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    config: dict[str, Any] = Field(default_factory=dict)


class Settings(BaseSettings):
    """Where Tidemark keeps its data and how it reaches its engines."""

    model_config = SettingsConfigDict(
        env_prefix="TIDEMARK_", env_file=".env", extra="ignore", frozen=True
    )

    home: Path = Field(
        default=Path("data"),
        description="Folder for the embedded defaults: warehouse file, ops store, landing zone.",
    )
    warehouse: Literal["duckdb", "clickhouse", "snowflake"] = "duckdb"
    duckdb_path: Path | None = Field(
        default=None, description="DuckDB warehouse file; defaults to <home>/warehouse.duckdb."
    )
    duckdb_lock_timeout_s: float = Field(
        default=60.0, description="How long to keep retrying while another process holds the file."
    )
    duckdb_memory_limit: str | None = Field(
        default=None, description="DuckDB memory_limit, e.g. '4GB'; DuckDB's default when unset."
    )
    clickhouse_host: str | None = Field(
        default=None,
        description="ClickHouse server host; unset means chDB, the engine in process, with its "
        "data in <home>/clickhouse.",
    )
    clickhouse_port: int = 8123
    clickhouse_user: str = "default"
    clickhouse_password: SecretStr = SecretStr("")
    clickhouse_database: str = "default"
    clickhouse_secure: bool = False
    snowflake_account: str | None = None
    snowflake_user: str | None = None
    snowflake_password: SecretStr | None = None
    snowflake_role: str | None = None
    snowflake_database: str = "TIDEMARK"
    snowflake_warehouse: str = "COMPUTE_WH"
    snowflake_schema: str = "PUBLIC"
    snowflake_host: str | None = Field(
        default=None, description="Only to reach a stand-in (fakesnow's server); else unset."
    )
    snowflake_port: int | None = None
    snowflake_protocol: Literal["https", "http"] = "https"
    ops_store_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the ops store; defaults to SQLite at <home>/ops.sqlite.",
    )
    landing_url: str | None = Field(
        default=None,
        description="Landing zone: a folder or s3://bucket/prefix; defaults to <home>/landing.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3 endpoint for S3-compatible stores (MinIO, moto)."
    )
    s3_region: str = "us-east-1"
    dbt_project_dir: Path = Field(default=REPO_ROOT / "dbt")
    dbt_target: str | None = Field(
        default=None, description="dbt target; defaults to the warehouse kind."
    )
    destinations: dict[str, DestinationEntry] = Field(
        default_factory=dict,
        description="Named destinations, as JSON: {name: {kind, config}}; secrets go in "
        "TIDEMARK_DESTINATION_SECRETS, never here.",
    )
    destination_secrets: dict[str, dict[str, SecretStr]] = Field(
        default_factory=dict, description="Per destination name, its secrets, as JSON."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where recipients reach the API (one-click unsubscribe links).",
    )
    unsubscribe_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs unsubscribe links; generated into <home> when unset.",
    )
    ses_sns_topic_arns: list[str] = Field(
        default_factory=list,
        description="SNS topics SES publishes feedback to; the SES webhook refuses any other "
        "(AWS signs every account's topics, so the signature alone proves nothing about whose).",
    )
    sendgrid_webhook_public_key: str | None = Field(
        default=None,
        description="SendGrid Event Webhook verification key (base64 DER, public); the "
        "SendGrid webhook refuses every request while it is unset.",
    )
    shopify_shop: str | None = Field(
        default=None,
        description="Shopify shop domain to sync (your-shop.myshopify.com); no sync when unset.",
    )
    shopify_access_token: SecretStr | None = Field(
        default=None, description="Shopify Admin API access token (read scopes only)."
    )
    shopify_api_version: str = "2024-10"
    shopify_api_url: str | None = Field(
        default=None,
        description="Admin API base URL; defaults to https://<shop>/admin/api/<version>.",
    )
    demo_profiles: int = Field(default=50_000, ge=10)
    demo_seed: int = 42

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @cached_property
    def duckdb_file(self) -> Path:
        """The warehouse file, absolute, so dbt and Dagster subprocesses agree on it."""
        path = self.duckdb_path if self.duckdb_path is not None else self.home / "warehouse.duckdb"
        return path.expanduser().resolve()

    def clickhouse_dsn(self) -> str:
        """clickhouse-connect's DSN: the configured server, else chDB under <home>.

        A method, not a field, because it carries the password (callers must not log it).
        """
        if self.clickhouse_host is None:
            return f"chdb://{self.home / 'clickhouse'}"
        scheme = "https" if self.clickhouse_secure else "http"
        user = quote(self.clickhouse_user, safe="")
        password = quote(self.clickhouse_password.get_secret_value(), safe="")
        return (
            f"{scheme}://{user}:{password}@{self.clickhouse_host}:{self.clickhouse_port}"
            f"/{self.clickhouse_database}"
        )

    def snowflake_connect_args(self) -> dict[str, Any]:
        """snowflake-connector-python's `connect` arguments (password included)."""
        args: dict[str, Any] = {
            "account": self.snowflake_account,
            "user": self.snowflake_user,
            "role": self.snowflake_role,
            "database": self.snowflake_database,
            "warehouse": self.snowflake_warehouse,
            "schema": self.snowflake_schema,
        }
        if self.snowflake_password is not None:
            args["password"] = self.snowflake_password.get_secret_value()
        if self.snowflake_host is not None:
            args.update(host=self.snowflake_host, protocol=self.snowflake_protocol)
            if self.snowflake_port is not None:
                args["port"] = self.snowflake_port
        return {name: value for name, value in args.items() if value is not None}

    @cached_property
    def ops_store_dsn(self) -> str:
        if self.ops_store_url is not None:
            return self.ops_store_url.get_secret_value()
        return f"sqlite:///{self.home / 'ops.sqlite'}"

    @cached_property
    def landing_location(self) -> str:
        if self.landing_url:
            if self.landing_url.startswith("s3://"):
                return self.landing_url
            return str(Path(self.landing_url).expanduser().resolve())
        return str(self.home / "landing")

    @cached_property
    def effective_dbt_target(self) -> str:
        return self.dbt_target or self.warehouse

    def unsubscribe_key(self) -> bytes:
        """The key for unsubscribe links: from settings, or made once and kept in <home>.

        Links in sent emails must keep working across restarts, so a generated key is
        stored (mode 0600) rather than made anew per process.
        """
        if self.unsubscribe_secret is not None:
            return self.unsubscribe_secret.get_secret_value().encode()
        path = self.home / "unsubscribe.key"
        if not path.exists():
            _create_key_file(path)
        return path.read_text().strip().encode()


def _create_key_file(path: Path) -> None:
    """Write a fresh key to `path` unless another process or thread got there first.

    The key is written to a private temporary file and hard-linked into place, so a
    concurrent reader sees either no file or a whole key, never an empty one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".unsubscribe-")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
        with contextlib.suppress(FileExistsError):
            path.hardlink_to(temporary)
    finally:
        Path(temporary).unlink()


def get_settings() -> Settings:
    """Read settings from the environment (and `.env`)."""
    return Settings()

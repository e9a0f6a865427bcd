"""Build a destination from what the ops store holds: its kind, its config and its secrets.

Config and secrets arrive separately (the config is stored and shown, the secrets are kept
elsewhere), and are validated together by the kind's pydantic model, where secret fields are
`SecretStr`. A secret placed in the config, an unknown key, a missing key or an unknown kind
is a `DestinationConfigError` that names the problem; no error ever repeats a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr, ValidationError

from connectors.destinations.base import Destination, DestinationConfigError
from connectors.destinations.rate_limit import RateLimiter
from connectors.destinations.sendgrid import SendGridDestination
from connectors.destinations.ses import SesDestination
from connectors.destinations.sms import SmsDestination
from connectors.destinations.smtp import SmtpDestination
from connectors.destinations.webhook import WebhookDestination

DESTINATION_CLASSES: Mapping[str, type[Destination]] = {
    cls.kind: cls
    for cls in (
        SmtpDestination,
        SesDestination,
        SendGridDestination,
        WebhookDestination,
        SmsDestination,
    )
}


def known_kinds() -> list[str]:
    return sorted(DESTINATION_CLASSES)


def secret_fields(kind: str) -> list[str]:
    """The config keys of `kind` that are secrets, and so belong in `secrets`."""
    model = _destination_class(kind).config_model
    return sorted(
        name
        for name, field in model.model_fields.items()
        if field.annotation is not None and SecretStr in _types_in(field.annotation)
    )


def build_destination(
    kind: str,
    config: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
    *,
    rate_limiter: RateLimiter | None = None,
) -> Destination:
    """A destination of `kind`, configured; `rate_limiter` shares a bucket between workers."""
    cls = _destination_class(kind)
    secrets = dict(secrets or {})
    allowed_secrets = set(secret_fields(kind))
    misplaced = sorted(allowed_secrets & set(config))
    if misplaced:
        raise DestinationConfigError(
            f"{kind} destination: {', '.join(map(repr, misplaced))} must be given as secrets, "
            "not in the config"
        )
    unknown_secrets = sorted(set(secrets) - allowed_secrets)
    if unknown_secrets:
        raise DestinationConfigError(
            f"{kind} destination has no secret named {', '.join(map(repr, unknown_secrets))}; "
            f"its secrets are {', '.join(sorted(allowed_secrets)) or 'none'}"
        )
    try:
        settings = cls.config_model.model_validate({**config, **secrets})
    except ValidationError as error:
        raise DestinationConfigError(_describe(kind, error)) from None
    return cls(settings, rate_limiter=rate_limiter)


def _destination_class(kind: str) -> type[Destination]:
    try:
        return DESTINATION_CLASSES[kind]
    except KeyError:
        raise DestinationConfigError(
            f"unknown destination kind {kind!r}; known kinds: {', '.join(known_kinds())}"
        ) from None


def _describe(kind: str, error: ValidationError) -> str:
    """The validation problems, by key, without the offending values."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "config"
        if item["type"] == "missing":
            problems.append(f"missing required key {where!r}")
        elif item["type"] == "extra_forbidden":
            problems.append(f"unknown key {where!r}")
        else:
            problems.append(f"{where}: {item['msg']}")
    return f"invalid {kind} destination config: " + "; ".join(problems)


def _types_in(annotation: Any) -> set[Any]:
    args = getattr(annotation, "__args__", None)
    if not args:
        return {annotation}
    found: set[Any] = set()
    for arg in args:
        found |= _types_in(arg)
    return found

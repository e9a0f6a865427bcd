"""Destinations by name, as configured in settings (kind and config; secrets apart)."""

from __future__ import annotations

from activation.definition import ActivationDefinition
from connectors.destinations.base import Destination, DestinationConfigError
from connectors.destinations.registry import build_destination
from connectors.settings import Settings


def destination_named(settings: Settings, name: str) -> Destination:
    """Build the destination called `name`; a clear error when it is not configured."""
    entry = settings.destinations.get(name)
    if entry is None:
        known = ", ".join(sorted(settings.destinations)) or "none configured"
        raise DestinationConfigError(
            f"no destination named {name!r} (known: {known}); configure it in TIDEMARK_DESTINATIONS"
        )
    secrets = {
        key: value.get_secret_value()
        for key, value in settings.destination_secrets.get(name, {}).items()
    }
    return build_destination(entry.kind, entry.config, secrets)


def destination_for(settings: Settings, definition: ActivationDefinition) -> Destination:
    """The activation's destination, checked to send on the activation's channel."""
    destination = destination_named(settings, definition.destination)
    if destination.channel is not definition.channel:
        raise DestinationConfigError(
            f"activation {definition.name!r} sends {definition.channel.value} but destination "
            f"{definition.destination!r} is a {destination.kind} ({destination.channel.value}) "
            "destination"
        )
    return destination

"""Send pipelines: one small interface, an implementation per provider.

`base.Destination` is the interface; `registry.build_destination` builds one by kind (smtp,
ses, sendgrid, webhook, sms). Provider errors are classified in `errors.py`, secrets are
filtered by `secrets.py`, and `rate_limit.TokenBucket` paces every destination.
"""

from connectors.destinations.base import (
    Destination,
    DestinationConfigError,
    DestinationError,
    DestinationSettings,
    FatalRunError,
)
from connectors.destinations.message import (
    Channel,
    ErrorClass,
    OutboundMessage,
    SendOutcome,
    SendStatus,
)
from connectors.destinations.rate_limit import TokenBucket

__all__ = [
    "Channel",
    "Destination",
    "DestinationConfigError",
    "DestinationError",
    "DestinationSettings",
    "ErrorClass",
    "FatalRunError",
    "OutboundMessage",
    "SendOutcome",
    "SendStatus",
    "TokenBucket",
]

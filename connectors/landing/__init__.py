"""The landing zone: immutable batch files, durably written before anyone is told "accepted"."""

from connectors.landing.base import LandingFile, LandingZone, QuarantinedFile, new_batch_key
from connectors.landing.factory import open_landing_zone
from connectors.landing.local import LocalLandingZone

__all__ = [
    "LandingFile",
    "LandingZone",
    "LocalLandingZone",
    "QuarantinedFile",
    "new_batch_key",
    "open_landing_zone",
]

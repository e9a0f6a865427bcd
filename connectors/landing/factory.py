"""Choose the landing zone implementation from settings."""

from __future__ import annotations

from connectors.landing.base import LandingZone
from connectors.landing.local import LocalLandingZone
from connectors.settings import Settings


def open_landing_zone(settings: Settings) -> LandingZone:
    """A local folder by default; S3 when `TIDEMARK_LANDING_URL` is `s3://bucket/prefix`."""
    location = settings.landing_location
    if location.startswith("s3://"):
        from connectors.landing.s3 import S3LandingZone

        return S3LandingZone.from_url(
            location, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region
        )
    return LocalLandingZone(location)

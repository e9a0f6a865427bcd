"""The landing zone the intake routes write to, opened once per app.

Opening an S3 zone builds a boto3 client, far too slow per request; a local zone is cheap
but one instance serves as well. The zone lives beside `AppState` on `app.state`.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from api.state import State
from connectors.landing import LandingZone, open_landing_zone

_opening = threading.Lock()


def landing_zone(request: Request, state: State) -> LandingZone:
    """FastAPI dependency: the app's landing zone (from `state.settings`)."""
    zone: LandingZone | None = getattr(request.app.state, "landing_zone", None)
    if zone is None:
        with _opening:
            zone = getattr(request.app.state, "landing_zone", None)
            if zone is None:
                zone = open_landing_zone(state.settings)
                request.app.state.landing_zone = zone
    return zone


Landing = Annotated[LandingZone, Depends(landing_zone)]
"""Handler parameter type: `def handler(landing: Landing): ...`."""

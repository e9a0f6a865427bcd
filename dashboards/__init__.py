"""Server-rendered dashboards (Jinja2) for marketers, mounted by `api.app.create_app`.

`install(app)` adds the pages, their static files and the handlers that turn a missing
session into a redirect to the sign-in page and a refused action into a readable page.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from dashboards.access import PageForbidden, SignInRequired
from dashboards.csrf import CsrfError
from dashboards.router import router
from dashboards.templating import HERE, render
from dashboards.unavailable import PageUnavailable


def _problem(request: Request, heading: str, message: str, status_code: int) -> Response:
    return render(
        request, "problem.html", None, heading=heading, message=message, status_code=status_code
    )


async def _sign_in_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInRequired)
    return RedirectResponse(error.location, status_code=status.HTTP_303_SEE_OTHER)


async def _forbidden(request: Request, error: Exception) -> Response:
    return _problem(request, "Not allowed", str(error), status.HTTP_403_FORBIDDEN)


async def _unavailable(request: Request, error: Exception) -> Response:
    response = _problem(request, "Warehouse busy", str(error), status.HTTP_503_SERVICE_UNAVAILABLE)
    response.headers["Retry-After"] = "5"
    return response


def install(app: FastAPI) -> None:
    """Serve the dashboards (and /static) from `app`."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="dashboards-static")
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(CsrfError, _forbidden)
    app.add_exception_handler(PageUnavailable, _unavailable)

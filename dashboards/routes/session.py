"""Signing in with an API token and signing out.

The token is posted once through the form and kept in the `tidemark_token` cookie: HttpOnly
(page scripts cannot read it), SameSite=Strict (other sites' requests do not carry it) and
Secure when served over HTTPS. The sign-in form itself carries no session yet, so it checks
the `Origin` header instead: a browser always sends it on a POST, and another site's form
would name that site.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.auth import SESSION_COOKIE
from api.state import State
from connectors.ops_store.tokens import verify_token
from dashboards.access import CheckedForm, SignedIn
from dashboards.templating import render

router = APIRouter(include_in_schema=False)

SESSION_MAX_AGE_S = 12 * 60 * 60
"""A signed-in browser stays signed in for a working day."""


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path on this site (never `//elsewhere`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser form post (browsers always send Origin on POST)
    return origin == f"{request.url.scheme}://{request.url.netloc}"


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    return render(request, "sign_in.html", None, next=safe_next(next), error=None)


@router.post("/sign-in")
def sign_in(
    request: Request,
    state: State,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    target = safe_next(next)
    token = token.strip()
    if not _same_origin(request):
        return render(
            request,
            "sign_in.html",
            None,
            next=target,
            error="This sign-in form was posted from another site.",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    with state.sessions.begin() as session:
        known = token != "" and verify_token(session, token) is not None
    if not known:
        return render(
            request,
            "sign_in.html",
            None,
            next=target,
            error="That token is not valid (unknown, mistyped or revoked).",
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
def sign_out(caller: SignedIn, form: CheckedForm) -> Response:
    response = RedirectResponse("/sign-in", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response

"""Who is looking at a page: the signed-in caller, or a redirect to the sign-in page.

The JSON API answers a missing token with 401; a browser should instead land on the sign-in
form and come back afterwards, and a role too weak should get a readable page, not JSON.
Pages state the least role they need with `SignedIn`, `SignedInMarketer` or
`SignedInAdmin`; forms that change state also take `CheckedForm` (see `dashboards.csrf`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from starlette.datastructures import FormData

from api.auth import Principal, authenticate, presented_token
from api.state import State
from connectors.ops_store.models import TokenRole
from dashboards.csrf import CSRF_FIELD, check_csrf, csrf_token_for


class SignInRequired(Exception):
    """No valid session: the browser is sent to sign in, then back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        return f"/sign-in?next={quote(self.next_path, safe='/')}"


class PageForbidden(Exception):
    """Signed in, but the page or action needs a stronger role."""

    def __init__(self, needed: TokenRole) -> None:
        super().__init__(f"this page needs the {needed.value} role or higher")
        self.needed = needed


@dataclass(frozen=True)
class PageCaller:
    """The signed-in caller, and the form token its pages embed."""

    principal: Principal
    csrf_token: str

    def can(self, role: TokenRole) -> bool:
        return self.principal.can(role)

    @property
    def is_marketer(self) -> bool:
        return self.can(TokenRole.MARKETER)

    @property
    def is_admin(self) -> bool:
        return self.can(TokenRole.ADMIN)


def _signed_in(request: Request, state: State) -> PageCaller:
    token = presented_token(request)
    try:
        principal = authenticate(request, state)
    except HTTPException as error:
        if error.status_code == status.HTTP_401_UNAUTHORIZED:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target) from None
        raise
    assert token is not None  # authenticate admitted it
    return PageCaller(principal=principal, csrf_token=csrf_token_for(token))


def page_role(role: TokenRole) -> Callable[..., Awaitable[PageCaller]]:
    """A dependency admitting signed-in callers whose role is at least `role`."""

    # `async` (it awaits nothing) so FastAPI does not hop to its thread pool for a compare.
    async def dependency(caller: Annotated[PageCaller, Depends(_signed_in)]) -> PageCaller:
        if not caller.can(role):
            raise PageForbidden(role)
        return caller

    return dependency


SignedIn = Annotated[PageCaller, Depends(page_role(TokenRole.VIEWER))]
SignedInMarketer = Annotated[PageCaller, Depends(page_role(TokenRole.MARKETER))]
SignedInAdmin = Annotated[PageCaller, Depends(page_role(TokenRole.ADMIN))]


async def checked_form(request: Request) -> FormData:
    """FastAPI dependency: the submitted form, once its CSRF token checks out."""
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    check_csrf(presented_token(request) or "", submitted if isinstance(submitted, str) else None)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]

"""Access to the status site: the guards, the password form and its cookie, the stylesheet."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from pager.web import auth
from pager.web.base import SiteBase

#: Seconds a wrong password waits before its answer (slows guessing down).
_FAILED_LOGIN_DELAY = 0.5


class Access(SiteBase):
    """The guards every route calls and the login/logout routes."""

    # --- access -------------------------------------------------------------------------

    def _authorised(self, request: web.Request, secret: str) -> bool:
        token = auth.bearer(request.headers.get("Authorization"))
        if token is not None:
            return auth.password_ok(secret, token)
        return auth.session_ok(secret, request.cookies.get(auth.COOKIE), self._clock())

    def _html_guard(self, request: web.Request) -> web.Response | None:
        """None when the request may see HTML, else the 401 login form."""
        if self._authorised(request, self._secret()):
            return None
        return self._login_response(request.path_qs, "", status=401)

    def _api_guard(self, request: web.Request) -> None:
        if not self._authorised(request, self._secret()):
            raise web.HTTPUnauthorized(
                text=json.dumps({"error": "unauthorized"}),
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="pager"'},
            )

    def _login_response(self, next_url: str, error: str, status: int) -> web.Response:
        return self._html("login.html", status=status, next=_safe_next(next_url), error=error)

    async def _login_form(self, request: web.Request) -> web.Response:
        self._secret()
        return self._login_response(request.query.get("next", "/status"), "", 200)

    async def _login(self, request: web.Request) -> web.Response:
        secret = self._secret()
        form = await request.post()
        password, next_url = form.get("password"), form.get("next")
        target = _safe_next(next_url if isinstance(next_url, str) else "/status")
        if not isinstance(password, str) or not auth.password_ok(secret, password):
            await asyncio.sleep(_FAILED_LOGIN_DELAY)  # slows guessing down
            return self._login_response(target, "Wrong password.", 401)
        response = web.HTTPSeeOther(target)
        response.set_cookie(
            auth.COOKIE,
            auth.session_cookie(secret, self._clock()),
            max_age=int(auth.SESSION.total_seconds()),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )
        raise response

    async def _logout(self, request: web.Request) -> web.Response:
        self._secret()
        response = web.HTTPSeeOther("/status/login")
        response.del_cookie(auth.COOKIE, path="/")
        raise response

    async def _static_css(self, request: web.Request) -> web.Response:
        self._secret()
        return web.Response(
            body=self._css, content_type="text/css", headers={"Cache-Control": "max-age=3600"}
        )


def _safe_next(target: str) -> str:
    """Only a path on this site (no scheme, no host): an open redirect otherwise."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/status"

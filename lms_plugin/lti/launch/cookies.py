"""Cookies that survive inside an LMS iframe: ``SameSite=None; Secure; Partitioned``.

On HTTPS the launch-state cookies and Flask's session cookie carry all three
attributes (CHIPS keeps them working where third-party cookies are blocked). On
plain-HTTP localhost (tests, development) they are ordinary cookies, because
browsers drop ``Secure`` cookies sent over HTTP.
"""

from flask import Flask
from flask import request
from flask.sessions import SecureCookieSessionInterface
from pylti1p3.contrib.flask import FlaskCookieService

#: Where the app keeps its session serializer, with the keys it was built for.
_SERIALIZER = "lms_plugin.session_serializer"
#: The session key flask-login keeps the signed-in user's id under.
_USER_ID = "_user_id"


def iframe_cookie_options(secure: bool) -> dict:
    """Keyword arguments for ``set_cookie`` on this request's scheme."""
    if secure:
        return {"secure": True, "samesite": "None", "partitioned": True}
    # No SameSite on plain HTTP: browsers then still send the cookie with the
    # platform's cross-site form_post to a localhost tool (development only).
    return {"secure": False}


class IframeCookieService(FlaskCookieService):
    """pylti1p3's Flask cookie service, adding ``Partitioned`` on HTTPS."""

    def update_response(self, response):
        secure = bool(self._request.is_secure())
        for key, cookie in self._cookie_data_to_set.items():
            response.set_cookie(
                key=key,
                value=cookie["value"],
                max_age=cookie["exp"],
                path="/",
                httponly=True,
                **iframe_cookie_options(secure),
            )


class IframeSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with the iframe attributes on HTTPS."""

    def get_signing_serializer(self, app: Flask):
        """Flask's serializer, built once per set of keys instead of per request.

        It holds only configuration, so threads can share it.
        """
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        built = app.extensions.get(_SERIALIZER)
        if built is None or built[0] != keys:
            built = (keys, super().get_signing_serializer(app))
            app.extensions[_SERIALIZER] = built
        return built[1]

    def save_session(self, app: Flask, session, response) -> None:
        """Flask's, but a public response does not vary on the cookie, and a
        signed-in one is ``no-store``.

        Flask adds ``Vary: Cookie`` whenever anything read the session, and
        flask-login reads it after every request. A response the app marks
        ``Cache-Control: public`` (a published image, the JWKS) is the same for
        everyone; with that header shared caches would keep one copy per cookie.
        A response that sets the cookie keeps its ``Vary``. A response to a
        signed-in user, or that sets the session cookie, with no caching of its
        own (static files have theirs) gets ``Cache-Control: no-store``.
        """
        super().save_session(app, session, response)
        sets_cookie = "Set-Cookie" in response.headers
        if response.cache_control.public and not sets_cookie:
            response.vary.discard("Cookie")
        elif (sets_cookie or _USER_ID in session) and (
            "Cache-Control" not in response.headers
        ):
            # A signed-in page (or one that signs in): never kept by a cache or
            # the browser's history. A view that chose its caching keeps it.
            response.headers["Cache-Control"] = "no-store"

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "None" if request.is_secure else super().get_cookie_samesite(app)

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_partitioned(app)

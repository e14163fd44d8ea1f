"""Access to the status page: one shared secret, signed session cookies, feed tokens.

The secret is ``http.status_auth_file``'s content (read on every config load). Every
value derived from it is an HMAC-SHA256 with a purpose prefix, so a session cookie is not
a feed token and neither reveals the secret. Changing the secret (and reloading) logs
every browser out and changes every feed URL. All comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

COOKIE = "pager_status"
#: How long a login lasts.
SESSION = timedelta(hours=12)


def _mac(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def password_ok(secret: str, offered: str) -> bool:
    """Whether ``offered`` is the secret (constant-time)."""
    return hmac.compare_digest(secret.encode(), offered.encode())


def session_cookie(secret: str, now: datetime) -> str:
    """A cookie value valid until ``now + SESSION``: ``EXPIRY.MAC``."""
    expiry = str(int((now + SESSION).timestamp()))
    return f"{expiry}.{_mac(secret, 'session:' + expiry)}"


def session_ok(secret: str, cookie: str | None, now: datetime) -> bool:
    """Whether ``cookie`` was made by :func:`session_cookie` with ``secret`` and is unexpired."""
    if not cookie:
        return False
    expiry, _, mac = cookie.partition(".")
    if not expiry.isdigit() or not hmac.compare_digest(
        mac.encode(), _mac(secret, "session:" + expiry).encode()
    ):
        return False
    return int(expiry) > now.timestamp()


def feed_token(secret: str, kind: str, name: str) -> str:
    """The token of one calendar feed (``kind`` ``rotation`` or ``person``)."""
    return _mac(secret, f"calendar\n{kind}\n{name}")[:32]


def feed_ok(secret: str, kind: str, name: str, offered: str | None) -> bool:
    return offered is not None and hmac.compare_digest(
        feed_token(secret, kind, name).encode(), offered.encode()
    )


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, else None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None

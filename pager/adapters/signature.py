"""Checking Twilio's X-Twilio-Signature on incoming webhooks.

Twilio signs ``URL + key1 + value1 + key2 + value2 ...`` (form keys sorted) with
HMAC-SHA1 under the account's auth token and sends it base64-encoded. The URL is the one
Twilio requested, so it is rebuilt from the configured public URL, never from the request
as seen behind a proxy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def compute_signature(token: str, url: str, form: Mapping[str, str]) -> str:
    """Twilio's signature of a POST of ``form`` to ``url`` under ``token``."""
    payload = url + "".join(key + form[key] for key in sorted(form))
    # surrogatepass: a hostile path or form value must fail the check, not crash it
    digest = hmac.new(
        token.encode(), payload.encode("utf-8", "surrogatepass"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url: str) -> list[str]:
    """``url`` as given, and with its scheme's default port toggled.

    Twilio sometimes signs ``https://host:443/...`` and sometimes ``https://host/...``
    for the same request; its own validator accepts either, and so do we. Other ports
    must match exactly.
    """
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    try:
        port = parts.port
    except ValueError:
        return [url]
    if default is None:
        return [url]
    if port is None:
        other = prefix + f"{host}:{default}"
    elif port == default:
        other = prefix + host
    else:
        return [url]
    return [url, urlunsplit((parts.scheme, other, parts.path, parts.query, parts.fragment))]


class TwilioSignature:
    """Validates webhook requests against one or more auth tokens.

    Several tokens allow rotating the auth token: a request is valid when it was signed
    with any of them. ``public_url`` is the externally visible base URL of the webhook
    server (``http.public_url``).
    """

    def __init__(self, auth_tokens: Sequence[str], public_url: str) -> None:
        tokens = [token for token in auth_tokens if token]
        if not tokens:
            raise ValueError("at least one non-empty auth token is needed")
        self._tokens = tokens
        self._public_url = public_url.rstrip("/")

    def url_for(self, path_qs: str) -> str:
        """The URL Twilio requested for ``path_qs`` (path and query, starting with '/')."""
        return self._public_url + path_qs

    def is_valid(self, path_qs: str, form: Mapping[str, str], signature: str | None) -> bool:
        """True when ``signature`` is Twilio's for this request under any token.

        A missing or empty signature is never valid. The comparison is constant-time.
        """
        if not signature or not signature.isascii():
            return False  # Twilio's signatures are base64: anything else is forged
        given = signature.strip().encode()
        valid = False
        for url in _port_variants(self.url_for(path_qs)):
            for token in self._tokens:
                expected = compute_signature(token, url, form).encode()
                # Check every candidate: how long this takes says nothing about which matched.
                valid |= hmac.compare_digest(expected, given)
        return valid

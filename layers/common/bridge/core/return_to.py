"""Where the browser may be sent back after OAuth: only allow-listed origins (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit

from bridge.core.inputs import is_token_text


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL without credentials; None for anything else, including a
    URL holding anything but visible ASCII (a browser sends non-ASCII percent-encoded, and the URL ends in a
    `Location` header, which is ASCII)."""
    if not is_token_text(url.strip(), max_chars=4096):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    if "\\" in url or any(ord(c) < 33 for c in url.strip()):
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def is_allowed(url: str, allow_list: list[str], default_origin: str) -> bool:
    origin = origin_of(url)
    allowed = {o for o in (origin_of(a) for a in [*allow_list, default_origin]) if o}
    return origin is not None and origin in allowed

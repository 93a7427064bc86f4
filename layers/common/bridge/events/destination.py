"""Where the bridge may push a portal event: the address policy for `portal_webhook_url` (a URL a tenant chose,
hence a server-side request forgery surface).

Deployed stages: `https` only, port 443 only, no userinfo, a host name or a canonical IP literal, and every
address the name resolves to must be public (`ipaddress.is_global`, not multicast; an IPv4 address inside IPv6,
i.e. IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16` or Teredo, is judged by the IPv4
address it carries). Refused: loopback (127/8, ::1, `localhost` and `*.localhost`, RFC 6761 §6.3), private
(10/8, 172.16/12, 192.168/16, fc00::/7 unique-local), link-local (169.254/16 with the instance metadata service
169.254.169.254, fe80::/10), shared (100.64/10), unspecified, documentation and reserved ranges, multicast, and
IPv4 written in forms other than dotted decimal (`2130706433`, `0177.0.0.1`, `0x7f.1`: `inet_aton` reads them,
so would the resolver; refused whatever they denote). A trailing dot names the same host (`localhost.`).

The local stack alone (`PORTAL_WEBHOOK_ALLOW_LOOPBACK=true`, a deployment setting only it sets) may also push to
`http` or `https` on a loopback address, any port: its stand-in portal listens there.

The check runs twice: when the URL is saved (`check_url`, a 422 `portal_webhook_url_not_allowed`) and at every
send (`resolve`, whose checked address the sender connects to, so a name that re-resolves to an internal address
between the check and the connection, DNS rebinding, is never reached). Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# What `inet_aton` (and so getaddrinfo) reads as an IPv4 address: 1 to 4 parts, decimal, octal (0…) or hex (0x…).
_INET_ATON = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)(\.(0[xX][0-9a-fA-F]*|[0-9]+)){0,3}$")
_CANONICAL_V4 = re.compile(
    r"^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$"
)
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")

Resolver = Callable[[str, int], list[str]]


class DestinationRefused(Exception):
    """The URL or the address it leads to is not one the bridge pushes to. `reason` is a stable word:
    `scheme`, `userinfo`, `port`, `host`, `ip_form`, `loopback`, `not_public`, `unresolvable`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Destination:
    """A URL that passed the policy: its `host` (lower case, no trailing dot; an IP literal without brackets),
    `port`, and, once resolved, the checked `address` to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str | None = None


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_loopback(ip: IPAddress) -> bool:
    inner = _embedded_v4(ip)
    return bool(ip.is_loopback or (inner is not None and inner.is_loopback))


def is_public(ip: IPAddress) -> bool:
    """A globally routable unicast address (IPv4 carried in IPv6 judged by its IPv4 address)."""
    inner = _embedded_v4(ip)
    if inner is not None:
        return is_public(inner)
    return bool(ip.is_global and not ip.is_multicast)


def check_address(address: str, *, allow_loopback: bool) -> IPAddress:
    """The address (text from the resolver or an IP literal) if the bridge may connect to it, else
    DestinationRefused (`loopback` / `not_public`)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        raise DestinationRefused("host", f"{address!r} is not an IP address") from None
    if "%" in address:  # a scoped (link-local) IPv6 address
        raise DestinationRefused("not_public", "a scoped IPv6 address is not public")
    if is_loopback(ip):
        if allow_loopback:
            return ip
        raise DestinationRefused("loopback", "the portal webhook URL leads to a loopback address")
    if not is_public(ip):
        raise DestinationRefused("not_public", "the portal webhook URL leads to an address that is not public")
    return ip


def check_url(url: str, *, allow_loopback: bool) -> Destination:
    """The static part of the policy (no DNS): scheme, userinfo, port, host syntax, IP literals in every form,
    `localhost`. DestinationRefused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DestinationRefused("host", "the portal webhook URL is not a URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise DestinationRefused("scheme", "the portal webhook URL must be https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise DestinationRefused("userinfo", "the portal webhook URL must not hold a user name or password")
    raw_host = parts.hostname or ""
    host = raw_host[:-1] if raw_host.endswith(".") else raw_host
    if not host or host.endswith("."):
        raise DestinationRefused("host", "the portal webhook URL has no host")
    port = port or (443 if scheme == "https" else 80)
    literal = _host_literal(host)
    loopback_name = host == "localhost" or host.endswith(".localhost")
    if loopback_name or (literal is not None and is_loopback(literal)):
        if not allow_loopback:
            raise DestinationRefused("loopback", "the portal webhook URL leads to a loopback address")
    else:
        _check_public(scheme, port, literal, allow_loopback=allow_loopback)
    return Destination(url=url, scheme=scheme, host=host, port=port)


def _host_literal(host: str) -> IPAddress | None:
    """The IP address a URL's host (without its closing dot) writes literally, None for a host name.
    DestinationRefused for a scoped IPv6 address, an IPv4 address in any form but dotted decimal, or a host that
    is neither an address nor a name."""
    if ":" in host:
        if "%" in host:
            raise DestinationRefused("not_public", "a scoped IPv6 address is not public")
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise DestinationRefused("host", f"{host!r} is not an IPv6 address") from None
    if _INET_ATON.match(host):
        if not _CANONICAL_V4.match(host):
            raise DestinationRefused("ip_form", "an IPv4 address must be written in dotted decimal (a.b.c.d)")
        return ipaddress.IPv4Address(host)
    if not all(_LABEL.match(label) for label in host.split(".")):
        raise DestinationRefused("host", f"{host!r} is not a host name")
    return None


def _check_public(scheme: str, port: int, literal: IPAddress | None, *, allow_loopback: bool) -> None:
    """A destination that is not this machine: https on port 443, and an IP literal must be public."""
    if scheme != "https":
        raise DestinationRefused("scheme", "the portal webhook URL must be https")
    if port != 443:
        raise DestinationRefused("port", "the portal webhook URL must use the https port (443)")
    if literal is not None:
        check_address(str(literal), allow_loopback=allow_loopback)


def resolve(url: str, *, allow_loopback: bool, resolver: Resolver | None = None) -> Destination:
    """`check_url`, then the addresses the host resolves to now: every one must pass `check_address` (a name
    answering one public and one internal address is refused). The first is the one to connect to.
    DestinationRefused (`unresolvable` when the name has no address)."""
    destination = check_url(url, allow_loopback=allow_loopback)
    try:
        ipaddress.ip_address(destination.host)
        addresses = [destination.host]
    except ValueError:
        try:
            addresses = (resolver or _system_resolver)(destination.host, destination.port)
        except (OSError, UnicodeError):
            addresses = []
    if not addresses:
        raise DestinationRefused("unresolvable", "the portal webhook URL's host has no address")
    checked = [check_address(a, allow_loopback=allow_loopback) for a in addresses]
    return Destination(
        url=destination.url,
        scheme=destination.scheme,
        host=destination.host,
        port=destination.port,
        address=str(checked[0]),
    )


def check_for_save(url: str, *, allow_loopback: bool, resolver: Resolver | None = None) -> Destination:
    """What the settings route checks before storing a URL: `check_url`, and, when the name resolves now, each
    address (a name that does not resolve yet is stored: the send-time check decides). DestinationRefused."""
    try:
        return resolve(url, allow_loopback=allow_loopback, resolver=resolver)
    except DestinationRefused as refused:
        if refused.reason != "unresolvable":
            raise
    return check_url(url, allow_loopback=allow_loopback)

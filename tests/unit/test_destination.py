"""The portal webhook address policy (issue 16 failure 8): which URLs and addresses the bridge pushes events to."""

from __future__ import annotations

import pytest

from bridge.events import destination
from bridge.events.destination import DestinationRefused, check_address, check_for_save, check_url, resolve


def _refused(url: str, reason: str, *, allow_loopback: bool = False, resolver=None) -> None:
    with pytest.raises(DestinationRefused) as caught:
        resolve(url, allow_loopback=allow_loopback, resolver=resolver or (lambda h, p: ["93.184.216.34"]))
    assert caught.value.reason == reason, (url, caught.value.reason)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # loopback in every spelling
        ("https://127.0.0.1/hook", "loopback"),
        ("https://127.255.0.9/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),  # IPv4-mapped IPv6
        ("https://[::ffff:7f00:1]/hook", "loopback"),
        ("https://[64:ff9b::7f00:1]/hook", "loopback"),  # NAT64
        ("https://[2002:7f00:1::]/hook", "loopback"),  # 6to4
        ("https://localhost/hook", "loopback"),
        ("https://LOCALHOST./hook", "loopback"),  # trailing dot and case: the same name
        ("https://api.localhost/hook", "loopback"),  # RFC 6761: every *.localhost is loopback
        ("http://127.0.0.1:9000/hook", "loopback"),
        # IPv4 in forms other than dotted decimal: refused whatever they denote
        ("https://2130706433/hook", "ip_form"),
        ("https://0177.0.0.1/hook", "ip_form"),
        ("https://0x7f.0.0.1/hook", "ip_form"),
        ("https://0x7f000001/hook", "ip_form"),
        ("https://127.1/hook", "ip_form"),
        ("https://010.0.0.1/hook", "ip_form"),
        ("https://1.1.1/hook", "ip_form"),
        # private, link-local, unique-local, shared, unspecified, reserved, multicast
        ("https://10.0.0.1/hook", "not_public"),
        ("https://172.16.5.4/hook", "not_public"),
        ("https://192.168.1.1/hook", "not_public"),
        ("https://169.254.169.254/latest/meta-data/", "not_public"),  # the instance metadata service
        ("https://[fe80::1]/hook", "not_public"),
        ("https://[fd00:ec2::254]/hook", "not_public"),  # IMDS over IPv6 (unique-local)
        ("https://[fc00::1]/hook", "not_public"),
        ("https://[::ffff:169.254.169.254]/hook", "not_public"),
        ("https://[::ffff:10.0.0.1]/hook", "not_public"),
        ("https://100.64.0.1/hook", "not_public"),
        ("https://0.0.0.0/hook", "not_public"),
        ("https://[::]/hook", "not_public"),
        ("https://192.0.2.1/hook", "not_public"),
        ("https://224.0.0.1/hook", "not_public"),
        ("https://[ff02::1]/hook", "not_public"),
        ("https://255.255.255.255/hook", "not_public"),
        # scheme, userinfo, port
        ("http://portal.example.com/hook", "scheme"),
        ("ftp://portal.example.com/hook", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://portal.example.com/", "scheme"),
        ("https://user:pass@portal.example.com/hook", "userinfo"),
        ("https://portal.example.com@10.0.0.1/hook", "userinfo"),
        ("https://@portal.example.com/hook", "userinfo"),
        ("https://portal.example.com:8443/hook", "port"),
        ("https://portal.example.com:22/hook", "port"),
        ("https://93.184.216.34:80/hook", "port"),
        # not a host
        ("https:///hook", "host"),
        ("https://exa mple.com/hook", "host"),
        ("https://-bad-.example.com/hook", "host"),
        ("https://portal.example.com../hook", "host"),
        ("https://[fe80::1%25eth0]/hook", "not_public"),
    ],
)
def test_refused_urls_in_deployed_stages(url: str, reason: str) -> None:
    _refused(url, reason)


@pytest.mark.parametrize(
    "url",
    [
        "https://portal.example.com/hook",
        "https://portal.example.com:443/hook?x=1",
        "https://portal.example.com./hook",
        "HTTPS://Portal.Example.COM/hook",
        "https://93.184.216.34/hook",
        "https://[2606:4700:4700::1111]/hook",
    ],
)
def test_public_https_urls_are_allowed(url: str) -> None:
    target = resolve(url, allow_loopback=False, resolver=lambda h, p: ["93.184.216.34", "2606:4700:4700::1111"])
    assert target.port == 443 and target.scheme == "https"
    assert target.address in ("93.184.216.34", "2606:4700:4700::1111")
    assert not target.host.endswith(".") and target.host == target.host.lower()


@pytest.mark.parametrize(
    "internal", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00::1", "::ffff:192.168.0.1", "fe80::1%eth0"]
)
def test_a_name_resolving_to_an_internal_address_is_refused_at_send_time(internal: str) -> None:
    """The name passes every static check; the address it resolves to now decides (DNS rebinding: a name that was
    public when saved and internal now is refused), also when only one of its addresses is internal."""
    url = "https://portal.example.com/hook"
    assert check_url(url, allow_loopback=False).host == "portal.example.com"
    for answer in ([internal], ["93.184.216.34", internal]):
        with pytest.raises(DestinationRefused) as caught:
            resolve(url, allow_loopback=False, resolver=lambda h, p, a=answer: a)
        assert caught.value.reason in ("loopback", "not_public")


def test_a_name_that_does_not_resolve_is_unresolvable_at_send_and_accepted_on_save() -> None:
    def nothing(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    _refused("https://portal.example.com/hook", "unresolvable", resolver=nothing)
    assert check_for_save("https://portal.example.com/hook", allow_loopback=False, resolver=nothing).port == 443
    with pytest.raises(DestinationRefused):  # the static policy still applies on save
        check_for_save("https://10.0.0.1/hook", allow_loopback=False, resolver=nothing)
    with pytest.raises(DestinationRefused):  # and a name resolving to an internal address now
        check_for_save("https://portal.example.com/hook", allow_loopback=False, resolver=lambda h, p: ["10.0.0.1"])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/_local/portal/events",
        "http://localhost:1234/x",
        "https://localhost/x",
        "http://[::1]:9/x",
        "http://localhost./x",
    ],
)
def test_the_local_stack_alone_may_push_to_loopback(url: str) -> None:
    target = resolve(url, allow_loopback=True, resolver=lambda h, p: ["127.0.0.1"])
    assert target.address in ("127.0.0.1", "::1")
    with pytest.raises(DestinationRefused):
        resolve(url, allow_loopback=False, resolver=lambda h, p: ["127.0.0.1"])


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/x",  # loopback is the only exception, not "anything local"
        "https://169.254.169.254/latest/meta-data/",
        "http://portal.example.com/x",  # http only to loopback
        "https://2130706433/x",
    ],
)
def test_the_local_stack_still_refuses_what_is_not_loopback(url: str) -> None:
    with pytest.raises(DestinationRefused):
        resolve(url, allow_loopback=True, resolver=lambda h, p: ["10.0.0.1"])


def test_a_name_resolving_to_loopback_in_the_local_stack_is_allowed_but_not_to_private() -> None:
    assert resolve("https://portal.example.com/x", allow_loopback=True, resolver=lambda h, p: ["127.0.0.1"]).address
    with pytest.raises(DestinationRefused):
        resolve("https://portal.example.com/x", allow_loopback=True, resolver=lambda h, p: ["10.0.0.1"])


@pytest.mark.parametrize("text", ["", "not an ip", "999.1.1.1", "127.0.0.1%lo"])
def test_check_address_refuses_what_is_not_a_public_ip(text: str) -> None:
    with pytest.raises(DestinationRefused):
        check_address(text, allow_loopback=False)


def test_the_sender_connects_to_the_checked_address_with_the_name_as_host_and_sni(monkeypatch) -> None:
    """DNS rebinding: the request goes to the address that was checked (not a second lookup), and the portal's
    name stays in the Host header and the TLS server name (certificate checked against the name)."""
    import httpx

    from bridge.events import delivery

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    monkeypatch.setattr(delivery, "_http", httpx.Client(transport=httpx.MockTransport(handler)))
    monkeypatch.setattr(delivery, "_secret", lambda org: "whsec_test")

    class _Settings:
        portal_webhook_url = "https://portal.example.com/hooks/bridge?x=1"

    monkeypatch.setattr(delivery.org_settings, "recent", lambda org: _Settings())
    monkeypatch.setattr(destination, "_system_resolver", lambda h, p: ["93.184.216.34"])
    monkeypatch.setattr(delivery, "settings", lambda: type("S", (), {"portal_webhook_allow_loopback": False})())
    event = {"id": "e1", "org_id": "org-a", "type": "t", "data": {}}
    assert delivery.deliver(event) == "delivered"
    request = seen[0]
    assert request.url.host == "93.184.216.34" and request.url.path == "/hooks/bridge"
    assert request.headers["host"] == "portal.example.com"
    assert request.extensions.get("sni_hostname") == "portal.example.com"
    monkeypatch.setattr(destination, "_system_resolver", lambda h, p: ["169.254.169.254"])
    assert delivery.deliver(event) == "destination_refused"
    assert len(seen) == 1, "nothing is sent to a refused address"

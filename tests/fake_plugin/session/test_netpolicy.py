"""Go's ProxyFromEnvironment rules (docs/plugin.md §4: loopback is never proxied)."""

from __future__ import annotations

import pytest

from fake_plugin.netpolicy import proxy_for

P = "http://127.0.0.1:3128"


@pytest.mark.parametrize(
    ("url", "env", "want"),
    [
        ("https://kms.us-east-1.amazonaws.com/", {"HTTPS_PROXY": P}, P),
        ("https://kms.us-east-1.amazonaws.com/", {"https_proxy": "127.0.0.1:3128"}, P),
        ("https://kms.us-east-1.amazonaws.com/", {"HTTP_PROXY": P}, None),
        ("ws://127.0.0.1:9/data", {"HTTP_PROXY": P}, None),
        ("ws://localhost:9/data", {"HTTP_PROXY": P}, None),
        ("wss://ssmmessages.us-east-1.amazonaws.com/v1", {"HTTPS_PROXY": P}, P),
        ("ws://agent.example:80/x", {"HTTP_PROXY": P}, P),
        (
            "https://kms.us-east-1.amazonaws.com/",
            {"HTTPS_PROXY": P, "NO_PROXY": "amazonaws.com"},
            None,
        ),
        ("https://kms.us-east-1.amazonaws.com/", {"HTTPS_PROXY": P, "NO_PROXY": ".aws"}, P),
        ("https://kms.us-east-1.amazonaws.com/", {"HTTPS_PROXY": P, "NO_PROXY": "*"}, None),
        ("https://10.1.2.3/", {"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.0/8"}, None),
        (
            "https://kms.us-east-1.amazonaws.com/",
            {"HTTPS_PROXY": P, "NO_PROXY": "kms.us-east-1.amazonaws.com:80"},
            P,
        ),
    ],
)
def test_proxy_for(url: str, env: dict[str, str], want: str | None) -> None:
    assert proxy_for(url, env) == want

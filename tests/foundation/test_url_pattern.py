"""The URL pattern in the OpenAPI document says what `check_url` accepts: a URL that matches it
is accepted (clients and schemathesis generate from the pattern), and what it refuses fails it."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dropwire.core.schemas import HTTP_URL_PATTERN, URL_REST, check_url

FEED_URL_PATTERN = r"^(https?|ftps?)" + URL_REST


@pytest.mark.parametrize(
    ("pattern", "schemes"),
    [(HTTP_URL_PATTERN, ("http", "https")), (FEED_URL_PATTERN, ("http", "https", "ftp", "ftps"))],
)
@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_what_matches_the_pattern_is_accepted(pattern, schemes, data):
    url = data.draw(st.from_regex(pattern, fullmatch=True))
    assert check_url(url, schemes) == url


@pytest.mark.parametrize(
    "url",
    ["http://a:65536", "http://a:0", "http://\x01", "http://a/\x85", "http://a b", "http://]@h"],
)
def test_what_check_url_refuses_does_not_match(url):
    assert re.match(HTTP_URL_PATTERN, url) is None


@pytest.mark.parametrize(
    "url",
    ["https://example.com:8443/x?y#z", "http://u:p%40ss@h.example/p", "http://[::1]:8080/"],
)
def test_ordinary_urls_match_and_pass(url):
    assert re.match(HTTP_URL_PATTERN, url) and check_url(url, ("http", "https")) == url

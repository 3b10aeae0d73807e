"""Deep lists: a cursor in a `Link` header on the sort key, and an `X-Total-Count` that stays
cheap at any size yet never says a page is the last when it is not."""

import re

import pytest

from dropwire.http import pages

NAMES = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf"]


@pytest.fixture
def vendors(client):
    for index, name in enumerate(NAMES):
        answer = client.post(
            "/api/dropship-providers.json", json={"name": name, "priority": index % 3}
        )
        assert answer.status_code == 201


def names(response):
    return [v["name"] for v in response.json()]


def link(response, rel):
    """The target of the `Link` header's `rel` (None when the header has no such link)."""
    for target, found in re.findall(r'<([^>]*)>; rel="(\w+)"', response.headers.get("Link", "")):
        if found == rel:
            return target
    return None


def test_following_next_links_reads_every_row_once_in_order(client, vendors):
    seen = []
    url = "/api/dropship-providers.json?limit=3"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        assert response.headers["X-Total-Count"] == "7"
        seen += names(response)
        url = link(response, "next")
    assert seen == NAMES


def test_prev_link_reads_the_page_before(client, vendors):
    second = client.get(link(client.get("/api/dropship-providers.json?limit=3"), "next"))
    assert names(second) == ["Delta", "Echo", "Foxtrot"]
    first = client.get(link(second, "prev"))
    assert names(first) == ["Alpha", "Bravo", "Charlie"]
    assert link(first, "prev") is None
    assert link(first, "next") is not None


def test_a_cursor_keeps_the_filters_and_a_mixed_order(client, vendors):
    url = "/api/dropship-providers.json?limit=2&order=-priority&where[priority][ne]=1"
    seen = []
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        seen += names(response)
        url = link(response, "next")
    # priority descending, then id ascending among equals; priority 1 filtered out
    assert seen == ["Charlie", "Foxtrot", "Alpha", "Delta", "Golf"]


def test_an_offset_page_links_on_by_cursor(client, vendors):
    response = client.get("/api/dropship-providers.json?limit=2&offset=2")
    assert names(response) == ["Charlie", "Delta"]
    assert names(client.get(link(response, "next"))) == ["Echo", "Foxtrot"]
    assert names(client.get(link(response, "prev"))) == ["Alpha", "Bravo"]


def test_the_last_page_has_no_next_link(client, vendors):
    response = client.get("/api/dropship-providers.json?limit=7")
    assert len(response.json()) == 7
    assert link(response, "next") is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=not-a-cursor", "after"),
        ("before=e30", "before"),  # "{}" in base64: no values
        ("after=eyJvIjoiaWQiLCJ2IjpbImEiXX0", "after"),  # an id that is no number
        ("offset=2&after=eyJvIjoiaWQiLCJ2IjpbMV19", "offset"),
    ],
)
def test_a_bad_cursor_is_a_422_naming_it(client, vendors, query, field):
    response = client.get(f"/api/dropship-providers.json?{query}")
    assert response.status_code == 422, response.text
    assert field in response.text


def test_a_cursor_of_another_order_is_refused(client, vendors):
    cursor_link = link(client.get("/api/dropship-providers.json?limit=2"), "next")
    response = client.get(cursor_link + "&order=-priority")
    assert response.status_code == 422
    assert "another order" in response.text


def test_the_total_is_a_lower_bound_past_the_cheap_count_and_exact_on_the_last_page(
    client, vendors, monkeypatch
):
    monkeypatch.setattr(pages, "EXACT_BEYOND", 2)  # counting stops 2 rows past the page
    first = client.get("/api/dropship-providers.json?limit=3")
    assert first.headers["X-Total-Count"] == "5"  # at least 5: more pages follow
    assert first.headers["X-Total-Count-Exact"] == "false"
    assert int(first.headers["X-Total-Count"]) > 3
    last = client.get("/api/dropship-providers.json?limit=3&offset=6")
    assert names(last) == ["Golf"]
    assert last.headers["X-Total-Count"] == "7"
    assert "X-Total-Count-Exact" not in last.headers
    # a client paging by offset until the total reads every row
    seen, offset = [], 0
    while True:
        page = client.get(f"/api/dropship-providers.json?limit=3&offset={offset}")
        seen += names(page)
        offset += 3
        if offset >= int(page.headers["X-Total-Count"]):
            break
    assert seen == NAMES


def test_shaped_answers_keep_the_paging_headers(client, vendors):
    response = client.get("/api/dropship-providers.json?limit=2&attributes[0]=name")
    assert response.json() == [{"name": "Alpha"}, {"name": "Bravo"}]
    assert response.headers["X-Total-Count"] == "7"
    assert link(response, "next") is not None


# --- sorts on columns that may be empty -----------------------------------------------------

EMAILS = [None, "b@x.test", None, "a@x.test", "b@x.test", None, "c@x.test", "a@x.test", None]
EXTERNAL = ["k", None, "k", None, "j", None, "k", "j", None]


@pytest.fixture
def sparse_vendors(client):
    for index, (email, external) in enumerate(zip(EMAILS, EXTERNAL, strict=True)):
        body = {"name": f"Sparse {index}", "priority": index % 2, "email": email}
        answer = client.post("/api/dropship-providers.json", json=body)
        assert answer.status_code == 201, answer.text
        if external is not None:  # external ids are unique: make each one its own
            vendor_id = answer.json()["id"]
            update = {"externalId": f"{external}-{index % 3}-{index}"}
            put = client.put(f"/api/dropship-providers/{vendor_id}.json", json=update)
            assert put.status_code == 200, put.text


@pytest.mark.parametrize(
    "order",
    [
        "email",
        "-email",
        "email,-priority",
        "-priority,email",
        "-externalId,email",
        "externalId,-email",
    ],
)
def test_cursors_walk_sorts_on_empty_values_both_ways(client, sparse_vendors, order):
    """Every row once, in the order one unpaged read gives (empty values where the database
    puts them), forwards by `next` and back by `prev`."""
    whole = client.get(f"/api/dropship-providers.json?limit=1000&order={order}")
    assert whole.status_code == 200, whole.text
    expected = names(whole)
    assert len(expected) == len(EMAILS)
    pages_seen, url = [], f"/api/dropship-providers.json?limit=2&order={order}"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        pages_seen.append(names(response))
        url = link(response, "next")
    assert [name for page in pages_seen for name in page] == expected
    # back from the last page, page by page
    last = client.get(f"/api/dropship-providers.json?limit=2&order={order}&offset=8")
    back, url = [names(last)], link(last, "prev")
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        back.insert(0, names(response))
        url = link(response, "prev")
    assert [name for page in back for name in page] == expected

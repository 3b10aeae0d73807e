"""Email templates: listed, edited, previewed; one that fails to render is refused on save."""

import pytest

from dropwire.mail.defaults import DEFAULTS


def test_every_event_has_a_template_that_renders_its_sample(client):
    listed = client.get("/api/email-templates.json").json()
    assert [t["event"] for t in listed] == [d.event for d in DEFAULTS]
    for template in listed:
        assert template["custom"] is False
        preview = client.post(f"/api/email-templates/{template['event']}/preview.json", json={})
        assert preview.status_code == 200, preview.text
        assert preview.json()["subject"]
        assert "{{" not in preview.json()["html"]


@pytest.mark.parametrize(
    ("part", "source"),
    [
        ("subject", "PO {{ purchase.reference"),
        ("html", "<p>{{ purchse.reference }}</p>"),
        ("text", "{{ purchase.__class__.__mro__ }}"),
        ("text", "{% for x in range(10) %}{{ x.nope }}{% endfor %}"),
        ("text", "{{ 2 ** 100000 }}"),
        ("html", "{{ 'x' * 100000000 }}"),
    ],
)
def test_a_template_that_does_not_render_is_refused_on_save(client, part, source):
    response = client.put("/api/email-templates/purchase.created.json", json={part: source})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == part
    assert client.get("/api/email-templates/purchase.created.json").json()["custom"] is False


def test_a_saved_template_is_used_and_can_be_reset(client):
    saved = client.put(
        "/api/email-templates/purchase.created.json",
        json={
            "subject": "New order {{ purchase.reference }} <b>",
            "text": "Ship {{ vendor.name }}",
        },
    )
    assert saved.status_code == 200
    assert saved.json()["custom"] is True
    preview = client.post("/api/email-templates/purchase.created/preview.json", json={}).json()
    assert preview["subject"] == "New order 10001-01 <b>"
    assert preview["text"] == "Ship Example Vendor"
    trial = client.post(
        "/api/email-templates/purchase.created/preview.json",
        json={"html": "<p>{{ vendor.name }}</p>"},
    ).json()
    assert trial["html"] == "<p>Example Vendor</p>"
    assert client.delete("/api/email-templates/purchase.created.json").status_code == 204
    assert client.get("/api/email-templates/purchase.created.json").json()["custom"] is False


def test_values_are_escaped_in_html_but_not_in_text(client):
    client.put(
        "/api/email-templates/purchase.created.json",
        json={"html": "<p>{{ trap }}</p>", "text": "{{ trap }}"},
    )
    # the sample has no `trap`: refused, so nothing was saved
    assert client.get("/api/email-templates/purchase.created.json").json()["custom"] is False


def test_an_unknown_event_is_not_found(client):
    assert client.get("/api/email-templates/nothing.json").status_code == 404
    assert client.put("/api/email-templates/nothing.json", json={}).status_code == 404

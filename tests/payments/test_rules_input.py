"""A commission rule edited to name a record that does not exist is a 422 naming the field."""


def test_editing_a_rule_to_a_missing_vendor_or_channel_is_refused(client):
    vendor = client.post("/api/dropship-providers.json", json={"name": "V"}).json()
    rule = client.post(
        "/api/commission-rules.json",
        json={"dropshipProviderId": vendor["id"], "commissionRate": 10},
    ).json()
    for field in ("dropshipProviderId", "channelId"):
        answer = client.put(f"/api/commission-rules/{rule['id']}.json", json={field: 999_999})
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == field
    assert (
        client.get(f"/api/commission-rules/{rule['id']}.json").json()["dropshipProviderId"]
        == (vendor["id"])
    )

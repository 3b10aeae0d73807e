"""Requests carry secrets in every place (headers, JSON, forms, URLs, async items, outbound
URLs); afterwards no secret is in the API log, the job list, the deliveries or the server log."""

import json
import logging

from dropwire.jobs.service import run_pending
from tests.delivery.conftest import drain

SECRETS = [
    "hdr-bearer-0a1b2c3d4e5f",
    "hdr-apikey-0a1b2c3d4e5f",
    "json-password-0a1b2c3d",
    "json-pwd-0a1b2c3d",
    "json-passwd-0a1b2c3d",
    "json-credentials-0a1b2c",
    "json-privatekey-0a1b2c",
    "json-accesskey-0a1b2c",
    "json-auth-0a1b2c3d",
    "json-webhooksecret-0a1b",
    "form-password-0a1b2c3d",
    "form-token-0a1b2c3d",
    "url-pass-0a1b2c3d",
    "url-user-token-0a1b2c",
    "async-secret-0a1b2c3d",
    "async-url-pass-0a1b2c",
    "outbound-url-pass-0a1b",
    "text-token-0a1b2c3d",
    "whsec_c2VjcmV0LXNpZ25pbmcta2V5",
]


def test_no_secret_is_kept_anywhere(client, anonymous, database, receiver, relay, caplog):
    caplog.set_level(logging.DEBUG)
    s = dict(enumerate(SECRETS))
    # headers: a wrong bearer token and an API key header on a failing request
    anonymous.get(
        "/api/sales.json",
        headers={"Authorization": f"Bearer {s[0]}", "X-Api-Key": s[1]},
    )
    # JSON, by key, on a request that fails (so its body is logged)
    client.post(
        "/api/dropship-providers.json",
        json={
            "name": "",
            "password": s[2],
            "pwd": s[3],
            "passwd": s[4],
            "credentials": {"user": "bob", "key": s[5]},
            "privateKey": s[6],
            "accessKey": s[7],
            "auth": s[8],
            "webhookSecret": s[9],
            "note": f"signing key {s[18]}",
        },
    )
    # a form body
    client.post(
        "/api/dropship-providers.json",
        content=f"name=&password={s[10]}&token={s[11]}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    # credentials inside URLs (a feed location with an invalid sibling field, so it is logged)
    vendor = client.post(
        "/api/dropship-providers.json",
        json={"name": "V", "orderEndpoint": f"{receiver.url.replace('//', f'//bob:{s[16]}@')}/o"},
    ).json()
    client.post(
        "/api/inventory-feeds.json",
        json={
            "dropshipProviderId": vendor["id"],
            "resourceLocation": f"ftp://bob:{s[12]}@ftp.example.com/stock.csv",
            "mapping": {"source": f"https://{s[13]}@files.example.com/x.json"},
            "fetchIntervalMinutes": 1,
        },
    )
    # free text
    client.post(
        "/api/dropship-providers.json",
        content=f"token={s[17]} is not JSON".encode(),
        headers={"content-type": "text/plain"},
    )
    # async items that fail validation, with secrets inside
    feed = client.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
    client.post(
        "/webhooks/inventory-feeds/parse-webhooks.json",
        json=[
            {"externalId": "a", "inventoryQuantity": -1, "apiKey": s[14]},
            {"externalId": "b", "inventoryQuantity": "x", "images": [f"ftp://u:{s[15]}@h/i"]},
        ],
        headers={"jetti-webhook-hash": feed.json()["hash"]},
    )
    run_pending(database)
    # an outbound delivery to a URL with credentials in it
    client.post("/api/variants.json", json={"sku": "S", "name": "S"})
    client.put(
        f"/api/inventory-feeds/{feed.json()['id']}/parse-webhook.json",
        json={"externalId": "s", "vendorSku": "S", "inventoryQuantity": 3},
    )
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    client.post(
        f"/api/channels/{channel['id']}/manual-sale.json",
        json={
            "externalId": "o",
            "lineItems": [{"externalId": "l", "quantity": 1, "variant": {"sku": "S"}}],
        },
    )
    drain(relay, database)
    (message,) = receiver.received
    assert message.headers["Authorization"].startswith("Basic "), "credentials still sent"

    logs = client.get("/api/api-logs.json", params={"limit": 1000}).json()
    assert any(row["payload"] for row in logs), "bodies of failed requests are logged"
    jobs = client.get("/api/jobs.json", params={"limit": 1000}).json()
    assert jobs
    deliveries = client.get("/api/webhook-deliveries.json", params={"limit": 1000}).json()
    assert deliveries
    endpoints = client.get("/api/webhook-endpoints.json").json()
    places = {
        "API log": json.dumps(logs),
        "job list": json.dumps(jobs),
        "deliveries": json.dumps(deliveries),
        "endpoint URLs": json.dumps([e["url"] for e in endpoints]),
        "server log": caplog.text,
    }
    leaks = [
        (place, secret) for place, seen in places.items() for secret in SECRETS if secret in seen
    ]
    assert not leaks
    assert "[redacted]" in places["API log"]
    assert "://bob:***@" in places["deliveries"]  # a masked URL stays a URL

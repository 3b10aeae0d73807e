"""The purchase order and packing slip at their URLs: admins and the order's own vendor."""

import time

from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.mail.shop import OTHER_SKU, VENDOR_SKUS, open_shop, pdf_text


def test_documents_are_served_as_pdfs(client, configure):
    configure(merchant_name="Example Shop")
    shop = open_shop(client)
    purchase = shop.purchase_of(shop.sell("s1", {"MUG-RED": 2, OTHER_SKU: 1}), shop.vendor)
    reference = purchase["externalReference"]

    order = client.get(f"/api/purchases/{purchase['id']}/document.pdf")
    slip = client.get(f"/api/purchases/{purchase['id']}/packing-slip.pdf")
    for response in (order, slip):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
    assert f'filename="{reference}.pdf"' in order.headers["content-disposition"]
    order_text, slip_text = pdf_text(order.content), pdf_text(slip.content)
    assert reference in order_text and reference in slip_text
    assert "Example Shop" in order_text
    assert VENDOR_SKUS["MUG-RED"] in order_text and "9.00" in order_text
    assert VENDOR_SKUS["MUG-RED"] not in slip_text
    assert OTHER_SKU not in order_text


def test_a_vendor_token_reads_its_own_documents_only(client, app, database):
    shop = open_shop(client)
    sale = shop.sell("s1", {"MUG-RED": 1, OTHER_SKU: 1})
    own = shop.purchase_of(sale, shop.vendor)
    others = shop.purchase_of(sale, shop.other)
    token = make_token(database, "vendor", shop.vendor["id"])
    headers = {"Authorization": f"Bearer {token}"}
    anonymous = TestClient(app)
    for document in ("document.pdf", "packing-slip.pdf"):
        mine = anonymous.get(f"/api/purchases/{own['id']}/{document}", headers=headers)
        assert mine.status_code == 200
        theirs = anonymous.get(f"/api/purchases/{others['id']}/{document}", headers=headers)
        assert theirs.status_code == 404
        assert anonymous.get(f"/api/purchases/{own['id']}/{document}").status_code == 401
    refused = anonymous.put(f"/api/purchases/{own['id']}/send.json", headers=headers, json={})
    assert refused.status_code == 403


def test_text_outside_latin_1_and_long_names_still_render(client):
    shop = open_shop(client, name="Tōkyō 東京 Vendor")
    purchase = shop.purchase_of(shop.sell("s1", {"MUG-RED": 1}), shop.vendor)
    started = time.perf_counter()
    response = client.get(f"/api/purchases/{purchase['id']}/document.pdf")
    assert response.status_code == 200
    assert time.perf_counter() - started < 5
    assert "Vendor" in pdf_text(response.content)

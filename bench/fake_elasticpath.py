"""A fake Elastic Path Commerce store on 127.0.0.1, built from the documented shapes.

Shared by the connector's tests (in-process) and `bench.bench_elasticpath` (its own process,
`python -m bench.fake_elasticpath`); it lives here so the bench never imports the test suite.
`GET /__fake/stats` (no token, not recorded) reports calls and token fetches to the bench.

Strict: every admin call needs a live client-credentials token (401 otherwise, also after
`expire_tokens()`), bodies must have the documented envelope (400 otherwise), impossible order
transitions answer 422, and `fail_next(method, path_prefix, 429)` answers once with that status
(status 0: the connection is dropped without an answer, before the call has any effect).
"""

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = "client-id-1"
CLIENT_SECRET = "client-secret-1"


class Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, title: str, detail: str = "") -> Reply:
    return Reply(status, {"errors": [{"status": str(status), "title": title, "detail": detail}]})


@dataclass
class FakeStore:
    port: int = 0
    tokens: dict[str, float] = field(default_factory=dict)
    token_fetches: int = 0
    calls: list[tuple[str, str, Any]] = field(default_factory=list)  # (method, path, body)
    failures: list[tuple[str, str, int]] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    stock: dict[str, dict[str, int]] = field(default_factory=dict)
    mli_stock: dict[str, dict[str, int]] = field(default_factory=dict)  # product -> slug -> n
    transactions: list[dict[str, Any]] = field(default_factory=list)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    integrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # flow -> entries
    relationships: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    item_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    check_request: Callable[[str, str, Any, Any], str | None] | None = None
    """Refuses (400) a request the published descriptions don't allow (the tests set it)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- test controls -------------------------------------------------------------------

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def fail_next(self, method: str, path_prefix: str, status: int) -> None:
        self.failures.append((method, path_prefix, status))

    def add_order(self, order: dict[str, Any]) -> None:
        self.orders[order["data"]["id"]] = order

    def paths(self, method: str | None = None) -> list[str]:
        return [p for m, p, _ in self.calls if method is None or m == method]

    # --- the API -------------------------------------------------------------------------

    def _auth(self, headers: Any) -> None:
        value = headers.get("authorization", "")
        token = value.removeprefix("Bearer ")
        if not value.startswith("Bearer ") or self.tokens.get(token, 0) < time.time():
            raise _error(401, "Unauthorized", "token missing, unknown or expired")

    def _token(self, raw: bytes, headers: Any) -> Any:
        if headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            raise _error(400, "Bad Request", "form body expected")
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            raise _error(400, "Bad Request", "grant_type")
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            raise _error(401, "Unauthorized", "bad client credentials")
        token = uuid.uuid4().hex
        expires = int(time.time()) + 3600
        with self.lock:
            self.tokens[token] = expires
            self.token_fetches += 1
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "expires": expires,
            "identifier": "client_credentials",
        }

    def handle(self, method: str, target: str, headers: Any, raw: bytes) -> tuple[int, Any]:
        parts = urlsplit(target)
        path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
        if path == "/__fake/stats" and method == "GET":
            return 200, {"calls": len(self.calls), "tokenFetches": self.token_fetches}
        body = None if path == "/oauth/access_token" or not raw else json.loads(raw)
        self.calls.append((method, path, body))
        if self.check_request is not None and (
            problem := self.check_request(method, path, body, headers)
        ):
            raise _error(400, "Bad Request", problem)
        for index, (m, prefix, status) in enumerate(self.failures):
            if m == method and path.startswith(prefix):
                del self.failures[index]
                raise Reply(
                    status,
                    {"errors": [{"status": status, "title": "injected"}]},
                    {"Retry-After": "0"},
                )
        if path == "/oauth/access_token" and method == "POST":
            return 200, self._token(raw, headers)
        self._auth(headers)
        for pattern, name in ROUTES:
            match = re.fullmatch(pattern, path)
            if match and name.startswith(method.lower() + "_"):
                return getattr(self, name)(*match.groups(), body=body, query=query, headers=headers)
        raise _error(404, "Not Found", path)

    @staticmethod
    def _data(body: Any, kind: str | None) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise _error(400, "Bad Request", "a data object is required")
        data = body["data"]
        if kind is not None and data.get("type") != kind:
            raise _error(400, "Bad Request", f"data.type must be {kind}")
        return data

    # orders
    def get_order(self, order_id: str, **_: Any) -> tuple[int, Any]:
        if order_id not in self.orders:
            raise _error(404, "Not Found", "order")
        return 200, self.orders[order_id]

    def put_order(self, order_id: str, body: Any, **_: Any) -> tuple[int, Any]:
        data = self._data(body, "order")
        order = self.orders.get(order_id)
        if order is None:
            raise _error(404, "Not Found", "order")
        # what OrdersUpdateRequest's shapes hold (custom fields go through the order's flow)
        allowed = {"type", "shipping", "status", "external_ref", "order_number", "shipping_address"}
        if set(data) - allowed:
            raise _error(400, "Bad Request", f"cannot update {sorted(set(data) - allowed)}")
        current = order["data"]
        if "shipping" in data:
            if data["shipping"] != "fulfilled":
                raise _error(400, "Bad Request", "shipping can only become fulfilled")
            if (
                current["payment"] != "paid"
                or current["shipping"] == "fulfilled"
                or (current["status"] == "cancelled")
            ):
                raise _error(422, "Unprocessable Entity", "cannot be updated in its current state")
        if "status" in data:
            if data["status"] != "cancelled":
                raise _error(400, "Bad Request", "status can only become cancelled")
            if current["shipping"] == "fulfilled" or current["status"] == "cancelled":
                raise _error(422, "Unprocessable Entity", "cannot be updated in its current state")
        if data.get("shipping") == "fulfilled":
            for item in order["included"]["items"]:  # fulfilment takes the allocated units
                level = self.stock.get(item["product_id"])
                if level is not None:
                    level["allocated"] -= item["quantity"]
                    level["total"] -= item["quantity"]
        if data.get("status") == "cancelled":
            for item in order["included"]["items"]:
                level = self.stock.get(item["product_id"])
                if level is not None:
                    level["allocated"] -= item["quantity"]
                    level["available"] += item["quantity"]
        current.update({k: v for k, v in data.items() if k != "type"})
        return 200, {"data": current}

    # inventory
    def get_stock(self, product_id: str, **_: Any) -> tuple[int, Any]:
        level = self.stock.get(product_id)
        if level is None:
            raise _error(404, "Not Found", "stock")
        return 200, {"data": {"id": product_id, "type": "stock", **level}}

    def post_stock(self, product_id: str, body: Any, **_: Any) -> tuple[int, Any]:
        data = self._data(body, None)
        if not isinstance(data.get("quantity"), int) or product_id in self.stock:
            raise _error(400, "Bad Request", "quantity")
        self.stock[product_id] = {
            "total": data["quantity"],
            "available": data["quantity"],
            "allocated": 0,
        }
        return 201, {"data": {"id": product_id, "type": "stock", **self.stock[product_id]}}

    def post_transaction(
        self, product_id: str, body: Any, headers: Any, **_: Any
    ) -> tuple[int, Any]:
        if headers.get("ep-inventories-multi-location") == "true":
            # the JavaScript SDK's shape: everything, `type` too, inside `attributes`
            attributes = self._data(body, None).get("attributes") or {}
            if (
                attributes.get("type") != "stock-transaction"
                or attributes.get("product_id") != product_id
                or attributes.get("action") not in ("increment", "decrement", "set")
                or not isinstance(attributes.get("quantity"), int)
            ):
                raise _error(400, "Bad Request", "attributes.type / product_id / action / quantity")
            slug = attributes.get("location") or "default"
            self.mli_stock.setdefault(product_id, {})[slug] = attributes["quantity"]
            self.transactions.append(dict(attributes))
            return 201, {
                "data": {
                    "id": uuid.uuid4().hex,
                    "type": "stock-transaction",
                    "attributes": attributes,
                }
            }
        data = self._data(body, "stock-transaction")
        action, quantity = data.get("action"), data.get("quantity")
        if action not in ("increment", "decrement", "allocate", "deallocate") or not (
            isinstance(quantity, int) and quantity > 0
        ):
            raise _error(400, "Bad Request", "action / quantity")
        level = self.stock.get(product_id)
        if level is None:
            raise _error(404, "Not Found", "stock")
        if action == "increment":
            level["total"] += quantity
            level["available"] += quantity
        elif action == "decrement":
            if quantity > level["available"]:
                raise _error(422, "Unprocessable Entity", "insufficient stock levels")
            level["total"] -= quantity
            level["available"] -= quantity
        self.transactions.append({"product_id": product_id, "action": action, "quantity": quantity})
        return 201, {
            "data": {
                "id": uuid.uuid4().hex,
                "type": "stock-transaction",
                "action": action,
                "product_id": product_id,
                "quantity": quantity,
            }
        }

    # products
    def get_products(self, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        match = re.fullmatch(r"eq\(sku,(.+)\)", query.get("filter", ""))
        if not match:
            raise _error(400, "Bad Request", "filter")
        sku = match.group(1).strip('"')
        found = [p for p in self.products.values() if p["attributes"]["sku"] == sku]
        return 200, {"data": found[:1], "meta": {"results": {"total": len(found)}}}

    def post_products(self, body: Any, **_: Any) -> tuple[int, Any]:
        attributes = self._data(body, "product").get("attributes") or {}
        if not attributes.get("name") or not attributes.get("sku"):
            raise _error(422, "Unprocessable Entity", "name and sku are required")
        if attributes.get("commodity_type") not in ("physical", "digital"):
            raise _error(422, "Unprocessable Entity", "commodity_type")
        if any(p["attributes"]["sku"] == attributes["sku"] for p in self.products.values()):
            raise _error(409, "Conflict", "sku exists")
        product = {"id": uuid.uuid4().hex, "type": "product", "attributes": attributes}
        self.products[product["id"]] = product
        return 201, {"data": product}

    def put_product(self, product_id: str, body: Any, **_: Any) -> tuple[int, Any]:
        data = self._data(body, "product")
        if data.get("id") != product_id or product_id not in self.products:
            raise _error(409 if product_id in self.products else 404, "Conflict", "id")
        self.products[product_id]["attributes"].update(data.get("attributes") or {})
        return 200, {"data": self.products[product_id]}

    # integrations
    def get_integrations(self, **_: Any) -> tuple[int, Any]:
        return 200, {"data": list(self.integrations.values())}

    def _check_integration(self, data: dict[str, Any]) -> None:
        if data.get("integration_type", "webhook") != "webhook" or not isinstance(
            data.get("observes"), list
        ):
            raise _error(400, "Bad Request", "integration_type / observes")
        if not (data.get("configuration") or {}).get("url"):
            raise _error(400, "Bad Request", "configuration.url")

    def post_integrations(self, body: Any, **_: Any) -> tuple[int, Any]:
        data = self._data(body, "integration")
        self._check_integration(data)
        integration = {**data, "id": uuid.uuid4().hex}
        self.integrations[integration["id"]] = integration
        return 201, {"data": integration}

    def put_integration(self, integration_id: str, body: Any, **_: Any) -> tuple[int, Any]:
        data = self._data(body, "integration")
        if integration_id not in self.integrations:
            raise _error(404, "Not Found", "integration")
        self._check_integration(data)
        self.integrations[integration_id].update(data)
        return 200, {"data": self.integrations[integration_id]}

    # flows (custom data)
    def post_entry(self, flow: str, body: Any, **_: Any) -> tuple[int, Any]:
        data = self._data(body, "entry")
        fields = FLOW_FIELDS.get(flow)
        if fields is None:
            raise _error(404, "Not Found", f"flow {flow}")
        unknown = set(data) - fields - {"type"}
        if unknown:
            raise _error(400, "Bad Request", f"unknown fields {sorted(unknown)}")
        entry = {**data, "id": uuid.uuid4().hex}
        self.entries.setdefault(flow, []).append(entry)
        return 201, {"data": entry}

    def post_relationship(
        self, order_id: str, field_slug: str, body: Any, **_: Any
    ) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise _error(400, "Bad Request", "data must be a list")
        known = {e["id"] for entries in self.entries.values() for e in entries}
        ids = [ref.get("id") for ref in body["data"]]
        if order_id not in self.orders or not set(ids) <= known:
            raise _error(404, "Not Found", "order or entry")
        self.relationships.setdefault((order_id, field_slug), []).extend(ids)
        return 200, {"data": body["data"]}

    def put_order_entry(self, order_id: str, body: Any, **_: Any) -> tuple[int, Any]:
        """The order flow's custom fields, shown on the order as EP shows flow fields."""
        data = self._data(body, "entry")
        if data.get("id") != order_id or order_id not in self.orders:
            raise _error(404, "Not Found", "order entry")
        fields = {k: v for k, v in data.items() if k not in ("type", "id")}
        if set(fields) - ORDER_FLOW_FIELDS or not all(isinstance(v, bool) for v in fields.values()):
            raise _error(400, "Bad Request", f"unknown or non-boolean fields {sorted(fields)}")
        self.orders[order_id]["data"].update(fields)
        return 200, {"data": {"id": order_id, "type": "entry", **fields}}

    def put_item_entry(self, item_id: str, body: Any, **_: Any) -> tuple[int, Any]:
        data = self._data(body, "entry")
        if data.get("id") != item_id:
            raise _error(400, "Bad Request", "data.id")
        self.item_fields.setdefault(item_id, {}).update(data)
        return 200, {"data": self.item_fields[item_id]}

    # --- server --------------------------------------------------------------------------

    def start(self) -> None:
        store = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                extra: dict[str, str] = {}
                try:
                    status, body = store.handle(method, self.path, headers, raw)
                except Reply as reply:
                    status, body, extra = reply.status, reply.body, reply.headers
                    if status == 0:  # injected: hang up without answering
                        self.close_connection = True
                        return
                except ValueError:
                    status, body = 400, {"errors": [{"status": "400", "title": "Bad JSON"}]}
                payload = json.dumps(body).encode()
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


# The custom flows the Onport integration creates (reference notes, "Fulfilment back into EPCC").
ORDER_FLOW_FIELDS = {"partially_fulfilled", "partially_cancelled"}
FLOW_FIELDS = {
    "fulfilment_items": {
        "orderitem_id",
        "fulfilled_quantity",
        "fulfilled_sku",
        "total_quantity",
        "tracking_url",
        "label_url",
        "tracking_number",
        "instance_id",
        "fulfilment_id",
    },
    "cancelled_items": {
        "orderitem_id",
        "cancelled_quantity",
        "total_quantity",
        "instance_id",
        "sale_return_id",
        "refund_amount",
    },
}

ROUTES = [
    (r"/v2/orders/([^/]+)", "get_order"),
    (r"/v2/orders/([^/]+)", "put_order"),
    (r"/v2/inventories/([^/]+)", "get_stock"),
    (r"/v2/inventories/([^/]+)", "post_stock"),
    (r"/v2/inventories/([^/]+)/transactions", "post_transaction"),
    (r"/pcm/products", "get_products"),
    (r"/pcm/products", "post_products"),
    (r"/pcm/products/([^/]+)", "put_product"),
    (r"/v2/integrations", "get_integrations"),
    (r"/v2/integrations", "post_integrations"),
    (r"/v2/integrations/([^/]+)", "put_integration"),
    (r"/v2/flows/orders/entries/([^/]+)/relationships/([^/]+)", "post_relationship"),
    (r"/v2/flows/orders/entries/([^/]+)", "put_order_entry"),
    (r"/v2/flows/order_items/entries/([^/]+)", "put_item_entry"),
    (r"/v2/flows/([^/]+)/entries", "post_entry"),
]


def order_document(
    order_id: str,
    items: list[dict[str, Any]],
    *,
    payment: str = "paid",
    status: str = "complete",
    shipping: str = "unfulfilled",
    updated_at: str = "2024-05-01T10:00:00Z",
) -> dict[str, Any]:
    """An order as `GET /v2/orders/{id}?include=items` (and a webhook's `payload`) shows it.

    items: dicts with id, sku, product_id, quantity, amount (taxed unit, minor units).
    """
    total = sum(i["amount"] * i["quantity"] for i in items)

    def money(amount):
        return {
            "amount": amount,
            "currency": "GBP",
            "formatted": f"£{amount / 100:.2f}",
        }

    return {
        "data": {
            "type": "order",
            "id": order_id,
            "status": status,
            "payment": payment,
            "shipping": shipping,
            "customer": {"name": "Ron Swanson", "email": "ron@example.com"},
            "shipping_address": {
                "first_name": "Jack",
                "last_name": "M",
                "phone_number": "123",
                "company_name": "Co",
                "line_1": "1 Grey St",
                "line_2": "",
                "city": "Newcastle",
                "postcode": "NE1 6UF",
                "county": "Tyne and Wear",
                "country": "GB",
                "instructions": "Leave in porch",
            },
            "billing_address": {
                "first_name": "Ron",
                "last_name": "S",
                "line_1": "2 High St",
                "city": "Pawnee",
                "postcode": "NE1",
                "country": "GB",
            },
            "meta": {
                "display_price": {
                    "with_tax": money(total),
                    "without_tax": money(total),
                    "tax": money(0),
                },
                "timestamps": {"created_at": "2024-05-01T09:00:00Z", "updated_at": updated_at},
            },
            "relationships": {"items": {"data": [{"type": "item", "id": i["id"]} for i in items]}},
        },
        "included": {
            "items": [
                {
                    "type": "order_item",
                    "id": i["id"],
                    "quantity": i["quantity"],
                    "product_id": i["product_id"],
                    "name": i.get("name", i["sku"]),
                    "sku": i["sku"],
                    "unit_price": {"amount": i["amount"], "currency": "GBP", "includes_tax": True},
                    "value": {
                        "amount": i["amount"] * i["quantity"],
                        "currency": "GBP",
                        "includes_tax": True,
                    },
                    "meta": {
                        "display_price": {
                            "with_tax": {
                                "unit": money(i["amount"]),
                                "value": money(i["amount"] * i["quantity"]),
                            }
                        }
                    },
                }
                for i in items
            ]
        },
    }


def delivery(
    order: dict[str, Any], trigger: str, secret: str | None, event_id: str | None = None
) -> dict[str, Any]:
    """A current-format integration delivery (`triggered_by` + `payload` + `resources`)."""
    return {
        "id": event_id or uuid.uuid4().hex,
        "triggered_by": trigger,
        "attempt": 1,
        "integration": {
            "id": "int-1",
            "integration_type": "webhook",
            "name": "Dropwire",
            "description": "",
        },
        "resources": json.dumps(order),
        "payload": order,
        "configuration": {"secret_key": secret, "url": "https://dropwire.example.com"}
        if secret
        else {"url": "x"},
    }


if __name__ == "__main__":  # `python -m bench.fake_elasticpath`: serve until killed (bench)
    import sys

    served = FakeStore()
    served.start()
    print(served.port, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    served.stop()

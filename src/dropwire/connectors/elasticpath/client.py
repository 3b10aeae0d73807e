"""The Elastic Path Commerce API client: client-credentials token, retries, typed errors.

A token is fetched once and shared by every client of the same store in the process until a
minute before it expires (about an hour); a 401 drops it and retries once with a fresh one.
429 and 5xx answers are retried a few times, honouring a short `Retry-After`; longer waits are
left to the caller (the delivery relay reschedules).

Every call, the token fetch included, goes through the outbound guard: a store's base URL is
chosen by whoever configures the channel, so it is checked like any other user-chosen URL.
Callers either hand in an already guarded client (the relay's) or an `AddressPolicy`; without
either, the policy comes from the settings.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import httpx

from dropwire.core.outbound import AddressPolicy, guarded_client

TOKEN_MARGIN_SECONDS = 60.0
MAX_INLINE_WAIT_SECONDS = 5.0
MLI_HEADER = "ep-inventories-multi-location"


class ElasticPathError(Exception):
    """A non-2xx answer (after retries), with the store's own error details."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.text = response.text[:500]
        self.retry_after = _retry_after_seconds(response)
        super().__init__(f"{response.request.method} {response.request.url.path}: {self.status}")


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass
class _Token:
    value: str
    expires_at: float  # time.time() seconds


class TokenCache:
    """Tokens per (base URL, client id, secret): shared by every client of a store in a process."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], _Token] = {}
        self._lock = threading.Lock()
        self.fetches = 0  # how many times a token was fetched (the bench reports it)

    def get(self, key: tuple[str, str, str], fetch: Callable[[], _Token]) -> str:
        with self._lock:
            token = self._tokens.get(key)
            if token is None or token.expires_at - TOKEN_MARGIN_SECONDS <= time.time():
                token = self._tokens[key] = fetch()
                self.fetches += 1
            return token.value

    def forget(self, key: tuple[str, str, str], value: str) -> None:
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and token.value == value:
                del self._tokens[key]


TOKENS = TokenCache()


def filter_eq(field: str, value: str) -> str:
    """EP's filter syntax; values with separators are quoted."""
    if any(c in value for c in ' ,():|"'):
        value = '"' + value.replace('"', '\\"') + '"'
    return f"eq({field},{value})"


class ElasticPathClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.Client | None = None,
        policy: AddressPolicy | None = None,
        tokens: TokenCache = TOKENS,
        retries: int = 3,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._own_http = http is None
        if http is None:
            http = guarded_client(policy or AddressPolicy())  # strict unless told otherwise
        self.http = http
        self.tokens = tokens
        self.retries = retries
        self.timeout = timeout
        self.sleep = sleep
        self._key = (self.base_url, client_id, sha256(client_secret.encode()).hexdigest())

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    # --- transport ---------------------------------------------------------------------

    def _fetch_token(self) -> _Token:
        response = self.http.post(
            f"{self.base_url}/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret,
            },
            timeout=self.timeout,
        )
        if not response.is_success:
            raise ElasticPathError(response)
        body = response.json()
        if isinstance(body.get("data"), dict):  # the OpenAPI page wraps it; the API doesn't
            body = body["data"]
        now = time.time()
        expires_at = now + float(body.get("expires_in", 3600))
        if isinstance(body.get("expires"), (int, float)):
            expires_at = min(expires_at, float(body["expires"]))
        return _Token(str(body["access_token"]), expires_at)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The final answer after token refresh and retries (any status; nothing raised)."""
        refreshed = False
        attempt = 0
        while True:
            token = self.tokens.get(self._key, self._fetch_token)
            response = self.http.request(
                method,
                f"{self.base_url}{path}",
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {token}", **(headers or {})},
                timeout=self.timeout,
            )
            if response.status_code == 401 and not refreshed:
                self.tokens.forget(self._key, token)
                refreshed = True
                continue
            if (response.status_code == 429 or response.status_code >= 500) and (
                attempt < self.retries
            ):
                wait = _retry_after_seconds(response)
                wait = min(0.2 * 2**attempt, 2.0) if wait is None else wait
                if wait <= MAX_INLINE_WAIT_SECONDS:
                    attempt += 1
                    self.sleep(wait)
                    continue
            return response

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The decoded JSON of a 2xx answer (None when empty); raises ElasticPathError."""
        response = self.request(method, path, json=json, params=params, headers=headers)
        if not response.is_success:
            raise ElasticPathError(response)
        return response.json() if response.content else None

    # --- resources ---------------------------------------------------------------------

    def get_order(self, order_id: str) -> dict[str, Any]:
        """`{data, included: {items}}`, the same shape as a webhook's `payload`."""
        result: dict[str, Any] = self.call(
            "GET", f"/v2/orders/{order_id}", params={"include": "items"}
        )
        return result

    def update_order(self, order_id: str, fields: dict[str, Any]) -> Any:
        return self.call(
            "PUT", f"/v2/orders/{order_id}", json={"data": {"type": "order", **fields}}
        )

    def find_product(self, sku: str) -> dict[str, Any] | None:
        body = self.call(
            "GET", "/pcm/products", params={"filter": filter_eq("sku", sku), "page[limit]": "1"}
        )
        found = body.get("data") or []
        return found[0] if found else None

    def create_product(self, attributes: dict[str, Any]) -> dict[str, Any]:
        body = self.call(
            "POST", "/pcm/products", json={"data": {"type": "product", "attributes": attributes}}
        )
        product: dict[str, Any] = body["data"]
        return product

    def update_product(self, product_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
        body = self.call(
            "PUT",
            f"/pcm/products/{product_id}",
            json={"data": {"type": "product", "id": product_id, "attributes": attributes}},
        )
        product: dict[str, Any] = body["data"]
        return product

    def get_stock(self, product_id: str) -> dict[str, Any] | None:
        response = self.request("GET", f"/v2/inventories/{product_id}")
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise ElasticPathError(response)
        stock: dict[str, Any] = response.json()["data"]
        return stock

    def create_stock(self, product_id: str, quantity: int) -> Any:
        return self.call(
            "POST", f"/v2/inventories/{product_id}", json={"data": {"quantity": quantity}}
        )

    def stock_transaction(self, product_id: str, action: str, quantity: int) -> Any:
        """Classic inventory: increment | decrement | allocate | deallocate."""
        body = {"data": {"type": "stock-transaction", "action": action, "quantity": quantity}}
        return self.call("POST", f"/v2/inventories/{product_id}/transactions", json=body)

    def set_stock_at(self, product_id: str, location: str | None, quantity: int) -> Any:
        """Multi-location inventory: `set` the available units at a location, in the shape
        Elastic Path's JavaScript SDK sends (`type` and `product_id` inside `attributes`)."""
        attributes: dict[str, Any] = {
            "type": "stock-transaction",
            "action": "set",
            "quantity": quantity,
            "product_id": product_id,
        }
        if location:
            attributes["location"] = location
        return self.call(
            "POST",
            f"/v2/inventories/{product_id}/transactions",
            json={"data": {"attributes": attributes}},
            headers={MLI_HEADER: "true"},
        )

    def list_integrations(self) -> list[dict[str, Any]]:
        body = self.call("GET", "/v2/integrations")
        integrations: list[dict[str, Any]] = body.get("data") or []
        return integrations

    def create_integration(self, fields: dict[str, Any]) -> dict[str, Any]:
        body = self.call(
            "POST", "/v2/integrations", json={"data": {"type": "integration", **fields}}
        )
        integration: dict[str, Any] = body["data"]
        return integration

    def update_integration(self, integration_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        body = self.call(
            "PUT",
            f"/v2/integrations/{integration_id}",
            json={"data": {"type": "integration", **fields}},
        )
        integration: dict[str, Any] = body["data"]
        return integration

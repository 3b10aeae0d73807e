"""The baseline: bare FastAPI endpoints, no database, no middleware."""

import json

from fastapi import FastAPI, Request

app = FastAPI()
PAYLOAD = [{"id": i, "name": f"Vendor {i}", "status": "accepted"} for i in range(20)]


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/list")
def listing() -> list[dict[str, object]]:
    return PAYLOAD


@app.post("/accept")
def accept() -> dict[str, int]:
    return {"queued": 1}


@app.post("/manual-sale")
async def manual_sale(request: Request) -> dict[str, int]:
    """Parses the body an async manual-sale carries, then does nothing with it."""
    body = json.loads(await request.body())
    return {"queued": 1 if isinstance(body, dict) else len(body)}

"""The baseline: a bare FastAPI endpoint returning a constant list, no database, no middleware."""

from fastapi import FastAPI

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

"""What may be kept of a request body: secrets masked, size bounded."""

import json
import re
from typing import Any

_SECRET_KEY = re.compile(r"token|hash|password|secret|authorization|apikey|api_key", re.IGNORECASE)
MASK = "[redacted]"


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def _mask_text(text: str) -> str:
    """For bodies that are not JSON: mask anything that looks like key=secret."""
    return re.sub(
        r"(?i)((?:token|hash|password|secret|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+",
        rf"\1{MASK}",
        text,
    )


def loggable_body(raw: bytes, limit: int) -> Any:
    """The redacted request body as JSON if it parses, else as masked text, cut to `limit`."""
    if not raw or limit <= 0:
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        text = _mask_text(raw[: limit * 2].decode("utf-8", errors="replace"))
        return text[:limit] + ("…" if len(text) > limit or len(raw) > limit * 2 else "")
    cleaned = redact(parsed)
    encoded = json.dumps(cleaned, ensure_ascii=False)
    if len(encoded) <= limit:
        return cleaned
    return encoded[:limit] + "…"

"""What may be kept or shown of a body, a payload or a message: secrets masked, size bounded.

One place decides, for the API log, the async error rows, the job listing and the webhook
deliveries alike. Secrets are found two ways:
- by key: a field, form field or `key=value` whose name says it holds a secret (password, pwd,
  secret, token, credentials, privateKey, accessKey, auth, authorization, apiKey, X-Api-Key,
  hash, signature, cookie ..., any case and spelling: camelCase, snake_case, kebab-case);
- by value, wherever it appears: the userinfo of a URL (`ftp://bob:pass@host`), bearer and
  basic credentials, `whsec_` signing secrets and Dropwire API tokens.
Then the result is cut to the configured size (`DROPWIRE_API_LOG_BODY_BYTES`).

`masked_url` is the one rendering of a URL that may carry credentials (API fields, pages, CLI
output, errors and logs all go through it); `redacted_target` masks the secret parameters of a
request's path and query (the access log).
"""

import json
import re
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus

MASK = "[redacted]"
URL_SECRET_MASK = "***"
"""Stands for a URL's password (or a userinfo without one, which may be a token): brackets there
would read as an IPv6 host and break URL parsers."""

# Words that mark a secret when they are one word of a key ("authToken", "x-api-key", "pwd").
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "tokens",
        "credential",
        "credentials",
        "auth",
        "authorization",
        "authentication",
        "hash",
        "signature",
        "cookie",
        "otp",
        "apikey",
        "privatekey",
        "accesskey",
    }
)
# Runs of letters that mark a secret anywhere in a key once separators are dropped.
_SECRET_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "credential",
    "apikey",
    "privatekey",
    "accesskey",
    "secretkey",
    "authorization",
    "signature",
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def is_secret_key(key: object) -> bool:
    """Whether a field name says its value is a secret (case-insensitive, any separators)."""
    text = str(key)
    words = {w.lower() for w in _WORD.findall(text)}
    joined = re.sub(r"[^a-z0-9]", "", text.lower())
    return (
        bool(words & _SECRET_WORDS)
        or joined in _SECRET_WORDS
        or any(part in joined for part in _SECRET_PARTS)
    )


_KEY_NAMES = (
    r"[A-Za-z0-9_.-]*(?:password|passwd|pwd|passphrase|secret|token|credentials?|auth\w*"
    r"|hash|signature|api[-_]?key|private[-_]?key|access[-_]?key|cookie)[A-Za-z0-9_.-]*"
)
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization header values, wherever they were pasted
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {MASK}"),
    # Standard Webhooks signing secrets and Dropwire API tokens
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), f"whsec_{MASK}"),
    (re.compile(r"\bdw_[A-Za-z0-9_-]{16,}"), f"dw_{MASK}"),
    # key=value, key: value, "key": "value" in free text and form bodies
    (
        re.compile(
            rf"(?i)((?<![A-Za-z0-9])[\"']?{_KEY_NAMES}[\"']?\s*[:=]\s*[\"']?)"
            r"(?!\[redacted\])[^\s\"'&,;}<>]+"
        ),
        rf"\1{MASK}",
    ),
    # multipart/form-data parts whose name says secret
    (
        re.compile(rf"(?i)(name=\"{_KEY_NAMES}\"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n)[^\r\n]*"),
        rf"\1{MASK}",
    ),
)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# scheme://userinfo@ in free text; greedy up to the authority's last "@" (a raw "@" in a password)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s?#\"'<>]+)@")


def _masked_userinfo(match: re.Match[str]) -> str:
    userinfo = match.group(2)
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:{URL_SECRET_MASK}" if colon else URL_SECRET_MASK
    return f"{match.group(1)}{shown}@"


def masked_url(value: str | None) -> str | None:
    """The URL (or any text holding URLs) fit to show or log: a userinfo's password becomes
    `***`, and a userinfo without a password (a token: `https://TOKEN@host`) becomes `***`."""
    if not value or "@" not in value:
        return value
    return _URL_USERINFO.sub(_masked_userinfo, value)


def redacted_target(target: str) -> str:
    """A request target (`/path?query`) fit for the access log: each query parameter whose
    name says secret (`access_token`, `hash`, `signature` ...) masked, and any secret found by
    value in the others."""
    path, question, query = target.partition("?")
    if not question:
        return path
    kept = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        decoded = unquote_plus(pair)
        secret = (equals and value and is_secret_key(unquote_plus(name))) or (
            redact_text(decoded) != decoded
        )
        kept.append(f"{name}={MASK}" if secret and equals else MASK if secret else pair)
    return f"{path}?{'&'.join(kept)}"


def redact_text(text: str) -> str:
    """Masks secrets found by value (URL userinfo, bearer tokens, whsec_ ...) and by key in
    free text (`password=...`, `"token": "..."`); NULs and lone surrogates, which no log
    column can store, become U+FFFD."""
    text = masked_url(_UNSTORABLE.sub("\ufffd", text)) or ""
    for pattern, replacement in _VALUE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with secrets masked by key and by value, at any depth."""
    if isinstance(value, dict):
        return {
            redact_text(str(k)): MASK if is_secret_key(k) and v not in (None, "") else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _cut(text: str, limit: int) -> str:
    return (
        text if len(text.encode()) <= limit else text.encode()[:limit].decode(errors="ignore") + "…"
    )


def loggable(value: Any, limit: int) -> Any:
    """The redacted value, kept as structure when its JSON fits `limit` bytes, else as the
    beginning of its JSON text. None when nothing may be kept (limit 0)."""
    if value is None or limit <= 0:
        return None
    cleaned = redact(value)
    if isinstance(cleaned, str):
        return _cut(cleaned, limit)
    encoded = json.dumps(cleaned, ensure_ascii=False, default=str)
    if len(encoded.encode()) <= limit:
        return cleaned
    return _cut(encoded, limit)


def _form_fields(text: str) -> list[tuple[str, str]] | None:
    """The fields of an `application/x-www-form-urlencoded` body, or None if it isn't one."""
    if "=" not in text or any(c.isspace() for c in text.strip()):
        return None
    try:
        return parse_qsl(text.strip(), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None


def loggable_body(raw: bytes, limit: int, content_type: str | None = None) -> Any:
    """A request body fit for the log: JSON as redacted structure, a form as redacted
    `key=value&...` text, anything else as masked text; always cut to `limit` bytes."""
    if not raw or limit <= 0:
        return None
    # Redact before cutting, and never decode more than can matter: secrets are masked in a
    # window somewhat larger than what is kept, so a cut can't leave half a secret in clear.
    window = raw[: limit * 4 + 1024]
    try:
        parsed = json.loads(raw) if len(raw) <= limit * 64 else json.loads(window)
    except (ValueError, UnicodeDecodeError, RecursionError):
        parsed = None
    else:
        return loggable(parsed, limit)
    text = window.decode("utf-8", errors="replace")
    form = None
    if content_type is None or "x-www-form-urlencoded" in content_type.lower():
        form = _form_fields(text)
    if form is not None:
        text = "&".join(
            f"{quote(k)}={MASK if is_secret_key(k) and v else quote(redact_text(v), safe='')}"
            for k, v in form
        )
    else:
        text = redact_text(text)
    kept = _cut(text, limit)
    if len(raw) > len(window) and not kept.endswith("…"):
        kept += "…"
    return kept

"""What the server's own log lines may show of a request: no token, hash or secret.

uvicorn's access log prints each request's path with its query string, and clients may
authenticate with `?access_token=`; httpx logs the URLs we call, which may carry a feed's
credentials. A filter on those loggers passes every argument through the redactor the API log
uses, before any handler formats the line.
"""

import logging
from typing import Any

from dropwire.apilog.redaction import masked_url, redacted_target

REDACTED_LOGGERS = ("uvicorn.access", "httpx")


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redacted_target(value) if value.startswith("/") else masked_url(value)
    if type(value).__name__ == "URL":  # httpx.URL, starlette's URL: shown as text
        return masked_url(str(value))
    return value


class RedactedArguments(logging.Filter):
    """Masks secret query parameters and URL credentials in a record's arguments (the
    formatters read them positionally, so their number and order stay)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(value) for value in record.args)
        elif isinstance(record.msg, str):
            record.msg = masked_url(record.msg) or ""
        return True


def redact_server_logs() -> None:
    """Installs the filter once per process (the app factory calls it; uvicorn has set up its
    loggers by then)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactedArguments) for f in logger.filters):
            logger.addFilter(RedactedArguments())

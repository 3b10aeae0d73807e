"""The embedded default keeps its own secret key: a file beside the SQLite database.

`DROPWIRE_SECRET_KEY` encrypts the third-party secrets we store (an Elastic Path store's client
and webhook secrets). A deployment on PostgreSQL sets it for every process, as it sets the
database URL. The embedded default (`make run`, one SQLite file) needs no configuration: when
the key is unset, the first process creates `<database file>.secret-key` (random, readable by
its owner only) and every process of that database reads it. Back that file up with the
database: without it the stored secrets can't be decrypted (each would have to be entered
again).
"""

import os
import secrets
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from dropwire.core.settings import Settings

SUFFIX = ".secret-key"


def key_file(database_url: str) -> Path | None:
    """Where the embedded database's key lives; None for any other database (or in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(url.database).expanduser().absolute().with_name(Path(url.database).name + SUFFIX)


def _read_or_create(path: Path) -> tuple[str, bool]:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip(), False
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip(), True


def with_embedded_key(settings: Settings) -> tuple[Settings, Path | None]:
    """The settings with the embedded database's key filled in when none is configured, and
    the key file's path when this call created it (for the entry point to tell the operator)."""
    if settings.secret_key is not None:
        return settings, None
    path = key_file(settings.database_url)
    if path is None:
        return settings, None
    path.parent.mkdir(parents=True, exist_ok=True)
    key, created = _read_or_create(path)
    if not key:  # another process is writing it this instant
        key = path.read_text().strip()
    return settings.model_copy(update={"secret_key": SecretStr(key)}), path if created else None


def created_notice(path: Path) -> str:
    return (
        f"Created the secret key that encrypts stored third-party secrets: {path} (owner-only). "
        "Back it up with the database; set DROPWIRE_SECRET_KEY to use another key."
    )

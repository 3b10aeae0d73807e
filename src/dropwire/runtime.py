"""The process's one `Settings` and `Database`, for the command line and `dropwire serve`.

Read once at the entry point; everything below gets them passed (sessions carry the settings).
"""

import sys
from functools import lru_cache

from dropwire import domains
from dropwire.core.db import Database
from dropwire.core.secret_key import created_notice, with_embedded_key
from dropwire.core.settings import Settings


@lru_cache
def settings() -> Settings:
    """From the environment; on the embedded SQLite database the secret key comes from its key
    file when DROPWIRE_SECRET_KEY is unset (created on first use, its path printed)."""
    configured, created = with_embedded_key(Settings())
    if created is not None:
        print(created_notice(created), file=sys.stderr)
    return configured


@lru_cache
def database() -> Database:
    return domains.database(settings=settings())

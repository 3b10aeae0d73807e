"""The process's one `Settings` and `Database`, for the command line and `dropwire serve`.

Read once at the entry point; everything below gets them passed (sessions carry the settings).
"""

from functools import lru_cache

from dropwire import domains
from dropwire.core.db import Database
from dropwire.core.settings import Settings


@lru_cache
def settings() -> Settings:
    return Settings()


@lru_cache
def database() -> Database:
    return domains.database(settings=settings())

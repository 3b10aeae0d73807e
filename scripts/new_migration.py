"""Autogenerate a migration for one domain: `python scripts/new_migration.py REV_ID "message" [--head REV]`.

It migrates a scratch SQLite database to every current head, then asks Alembic for the difference
with the models. Read the result: it must hold only your domain's tables.
"""

import argparse
import tempfile
from pathlib import Path

from alembic import command

from dropwire.core.db import Database
from dropwire.core.migrations import alembic_config, upgrade


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rev_id", help="e.g. 0002_catalog_inventory")
    parser.add_argument("message")
    parser.add_argument("--head", default="heads", help="revision to build on (default: all heads)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        upgrade(database)
        config = alembic_config(database)
        heads = args.head
        command.revision(
            config, message=args.message, autogenerate=True, rev_id=args.rev_id, head=heads
        )
        database.dispose()


if __name__ == "__main__":
    main()

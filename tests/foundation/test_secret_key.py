"""The embedded default (SQLite) creates and keeps its secret key by itself; PostgreSQL
deployments still configure DROPWIRE_SECRET_KEY."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from dropwire.core.secret_key import key_file, with_embedded_key
from dropwire.core.settings import Settings


def _environment(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DROPWIRE_SECRET_KEY"}
    env["DROPWIRE_DATABASE_URL"] = f"sqlite:///{database}"
    return env


def test_the_cli_creates_an_owner_only_key_beside_the_database_and_keeps_it(
    tmp_path: Path,
) -> None:
    database = tmp_path / "shop.db"
    env = _environment(database)
    first = subprocess.run(
        [sys.executable, "-m", "dropwire.cli", "migrate"], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    path = tmp_path / "shop.db.secret-key"
    assert str(path) in first.stderr  # the operator is told where it is
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text().strip()
    assert len(key) >= 32
    again = subprocess.run(
        [
            sys.executable,
            "-c",
            "from dropwire import runtime; print(runtime.settings().secret_key.get_secret_value())",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == key  # kept, not replaced
    assert str(path) not in again.stderr  # only a new key is announced


def test_a_configured_key_or_another_database_creates_no_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    configured = Settings(database_url=url, secret_key="k" * 20, _env_file=None)  # type: ignore[call-arg]
    assert with_embedded_key(configured) == (configured, None)
    postgres = Settings(
        database_url="postgresql+psycopg://u@localhost/db",
        secret_key=None,
        _env_file=None,  # type: ignore[call-arg]
    )
    assert with_embedded_key(postgres) == (postgres, None)
    assert key_file("sqlite://") is None
    assert key_file("sqlite:///:memory:") is None
    assert list(tmp_path.iterdir()) == []


def test_an_embedded_key_seals_an_elastic_path_secret(tmp_path: Path) -> None:
    from dropwire.core.encryption import seal, unseal

    bare = Settings(database_url=f"sqlite:///{tmp_path / 'b.db'}", secret_key=None, _env_file=None)  # type: ignore[call-arg]
    settings, created = with_embedded_key(bare)
    assert created == tmp_path / "b.db.secret-key"
    sealed = seal("client-secret", key=settings.secret_key)
    reread, none = with_embedded_key(bare)
    assert none is None and unseal(sealed, key=reread.secret_key) == "client-secret"

"""Users who sign in: argon2 hashes, normalised emails, the `dropwire user create` command."""

import json

import pytest
from typer.testing import CliRunner

from dropwire.auth import users
from dropwire.auth.models import Scope, User
from dropwire.cli import app
from dropwire.core.db import Database
from dropwire.core.errors import Conflict, Invalid, NotFound
from dropwire.vendors.models import DropshipProvider
from tests.foundation.test_cli import cli_env  # noqa: F401  (fixture)


def test_password_is_hashed_and_verified(database: Database):
    with database.transaction() as session:
        user = users.create_user(session, email=" Ann@Example.COM ", password="correct horse")
        assert user.email == "ann@example.com"
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
    with database.transaction() as session:
        assert users.verify_password(session, email="ANN@example.com", password="correct horse")
        assert (
            users.verify_password(session, email="ann@example.com", password="wrong one!") is None
        )
        assert (
            users.verify_password(session, email="bob@example.com", password="correct horse")
            is None
        )


def test_bad_users_are_refused(database: Database):
    with database.transaction() as session:
        with pytest.raises(Invalid) as short:
            users.create_user(session, email="a@b.c", password="short")
        assert short.value.errors[0].field == "password"
        with pytest.raises(Invalid):
            users.create_user(session, email="not-an-email", password="long enough pw")
        with pytest.raises(NotFound):
            users.create_user(
                session, email="v@b.c", password="long enough pw", dropship_provider_id=999
            )
        users.create_user(session, email="a@b.c", password="long enough pw")
        with pytest.raises(Conflict):
            users.create_user(session, email="A@B.C", password="long enough pw")


def test_disabled_user_cannot_sign_in(database: Database):
    from dropwire.core.time import utcnow

    with database.transaction() as session:
        user = users.create_user(session, email="d@b.c", password="long enough pw")
        user.disabled_at = utcnow()
    with database.transaction() as session:
        assert users.verify_password(session, email="d@b.c", password="long enough pw") is None


@pytest.mark.usefixtures("cli_env")
def test_cli_creates_a_vendor_user_with_the_password_from_stdin(database: Database):
    with database.transaction() as session:
        vendor = DropshipProvider(name="V")
        session.add(vendor)
        session.flush()
        vendor_id = vendor.id
    result = CliRunner().invoke(
        app,
        ["user", "create", "v@example.com", "--vendor", str(vendor_id), "--json"],
        input="a long password\n",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scope"] == "vendor"
    with database.transaction() as session:
        user = users.verify_password(session, email="v@example.com", password="a long password")
        assert isinstance(user, User)
        assert user.scope is Scope.vendor
        assert user.dropship_provider_id == vendor_id
    refused = CliRunner().invoke(app, ["user", "create", "x@example.com"], input="short\n")
    assert refused.exit_code == 1
    assert "password" in refused.output

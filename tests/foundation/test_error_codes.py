"""Error codes are stable names a client can switch on: one per class, each mapped to a status."""

import importlib
import pkgutil

import pytest

import dropwire
from dropwire.core.errors import DomainError, ErrorKind, Invalid, error_classes
from dropwire.http.errors import STATUS_OF_KIND, status_of
from dropwire.inventory.errors import InsufficientStock


def _every_error_class() -> list[type[DomainError]]:
    for module in pkgutil.walk_packages(dropwire.__path__, "dropwire."):
        if module.name.endswith(".errors"):
            importlib.import_module(module.name)
    return list(error_classes())


def test_every_error_module_is_found():
    names = {cls.__module__ for cls in _every_error_class()}
    assert {"dropwire.sales.errors", "dropwire.inventory.errors", "dropwire.feeds.errors"} <= names


def test_every_code_is_named_by_one_class_only():
    owners: dict[str, list[str]] = {}
    for cls in _every_error_class():
        if "code" in vars(cls):
            owners.setdefault(cls.code, []).append(cls.__qualname__)
    shared = {code: names for code, names in owners.items() if len(names) > 1}
    assert shared == {}
    assert len(owners) >= 40


@pytest.mark.parametrize("cls", _every_error_class(), ids=lambda cls: cls.__qualname__)
def test_every_code_is_a_dotted_lowercase_name(cls: type[DomainError]):
    assert cls.code.replace("_", "").replace(".", "").isalpha()
    assert cls.code == cls.code.lower()
    assert cls.code.count(".") <= 1


def test_every_kind_has_a_status():
    assert set(STATUS_OF_KIND) == set(ErrorKind)


def test_a_named_error_keeps_its_kind_and_its_own_code():
    error = InsufficientStock(1, 2, 3, "lineItems[0].quantity")
    assert isinstance(error, Invalid)
    assert (error.code, status_of(error)) == ("inventory.insufficient_stock", 422)
    assert error.errors[0].field == "lineItems[0].quantity"

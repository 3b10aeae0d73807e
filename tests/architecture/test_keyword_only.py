"""House rule: a public function that takes a `Session` takes everything after it keyword-only
(`def f(session: Session, *, ...)`), so a call names what it passes. Route functions, whose
session is a FastAPI dependency (`DbSession`), are called by FastAPI and left out.

`KEYWORD_ONLY_DEBT` lists the functions that broke the rule when it became a test; it may only
shrink: a function fixed must leave the list, a new one may not join it."""

import importlib
import inspect
import pkgutil
import typing
from pathlib import Path

from sqlalchemy.orm import Session

import dropwire

DEBT_FILE = Path(__file__).with_name("keyword_only_debt.txt")


def _public_functions() -> typing.Iterator[tuple[str, typing.Callable[..., typing.Any]]]:
    for info in pkgutil.walk_packages(dropwire.__path__, "dropwire."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, function in vars(module).items():
            if (
                not name.startswith("_")
                and inspect.isfunction(function)
                and function.__module__ == module.__name__
            ):
                yield f"{module.__name__}.{name}", function


def positional_after_session() -> dict[str, list[str]]:
    """Each public function taking a plain `session: Session`, with the parameters after it
    that may be passed by position."""
    found: dict[str, list[str]] = {}
    for name, function in _public_functions():
        parameters = list(inspect.signature(function).parameters.values())
        names = [parameter.name for parameter in parameters]
        if "session" not in names:
            continue
        hints = typing.get_type_hints(function, include_extras=True)
        if hints.get("session") is not Session:
            continue  # a route's dependency, or not our session
        after = parameters[names.index("session") + 1 :]
        positional = [
            parameter.name
            for parameter in after
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        ]
        if positional:
            found[name] = positional
    return found


def _debt() -> set[str]:
    lines = DEBT_FILE.read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_session_functions_take_the_rest_keyword_only():
    offenders = positional_after_session()
    new = {name: params for name, params in offenders.items() if name not in _debt()}
    assert not new, f"make these keyword-only after the session (`session: Session, *, ...`): {new}"


def test_the_debt_list_only_shrinks():
    paid = _debt() - set(positional_after_session())
    assert not paid, f"keyword-only now (or gone): remove from {DEBT_FILE.name}: {sorted(paid)}"

"""House rule: a public function that takes a `Session` takes everything after it keyword-only
(`def f(session: Session, *, ...)`), so a call names what it passes. Route functions, whose
session is a FastAPI dependency (`DbSession`), are called by FastAPI and left out.

Callbacks are left out too: their shape is the calling convention of what calls them (a job
handler, a commit step, a connector's `push_stock`, a listing's `per_batch`...). A callback is
recognised by where it is declared, not by a list: a function the assembled wiring holds
(`dropwire.domains.wiring()`), or one held by a declaration object at a module's top level
(an instance of one of our classes: `JobKind`, `Listing`, `GroupedWrite`...).

`keyword_only_debt.txt` lists the functions that broke the rule when it became a test; it may
only shrink: a function fixed must leave the list, a new one may not join it."""

import dataclasses
import functools
import importlib
import inspect
import pkgutil
import types
import typing
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

import dropwire
from dropwire.domains import wiring

DEBT_FILE = Path(__file__).with_name("keyword_only_debt.txt")


def _modules() -> Iterator[types.ModuleType]:
    for info in pkgutil.walk_packages(dropwire.__path__, "dropwire."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        yield importlib.import_module(info.name)


def _public_functions() -> Iterator[tuple[str, typing.Callable[..., typing.Any]]]:
    for module in _modules():
        for name, function in vars(module).items():
            if (
                not name.startswith("_")
                and inspect.isfunction(function)
                and function.__module__ == module.__name__
            ):
                yield f"{module.__name__}.{name}", function


def _held_functions(held: object, seen: set[int]) -> Iterator[types.FunctionType]:
    """The functions inside one of our objects (its fields, tuples, dicts, partials...)."""
    if id(held) in seen:
        return
    seen.add(id(held))
    if isinstance(held, types.FunctionType):
        yield held
    elif isinstance(held, functools.partial):
        yield from _held_functions(held.func, seen)
    elif isinstance(held, list | tuple | set | frozenset):
        for each in held:
            yield from _held_functions(each, seen)
    elif isinstance(held, dict):
        for each in held.values():
            yield from _held_functions(each, seen)
    elif not isinstance(held, type) and type(held).__module__.startswith("dropwire."):
        if dataclasses.is_dataclass(held):
            fields = [getattr(held, field.name) for field in dataclasses.fields(held)]
        else:
            fields = list(getattr(held, "__dict__", {}).values())
        for each in fields:
            yield from _held_functions(each, seen)


def callbacks() -> set[str]:
    """Functions whose shape a caller dictates: held by the assembled wiring, or by a
    declaration object at some module's top level."""
    seen: set[int] = set()
    held: list[object] = [part for kind in wiring().kinds() for part in wiring().every(kind)]
    for module in _modules():
        held += [
            value
            for value in vars(module).values()
            if not isinstance(value, type | types.ModuleType | types.FunctionType)
            and type(value).__module__.startswith("dropwire.")
        ]
    return {
        f"{function.__module__}.{function.__qualname__}"
        for part in held
        for function in _held_functions(part, seen)
    }


def positional_after_session() -> dict[str, list[str]]:
    """Each public function taking a plain `session: Session`, with the parameters after it
    that may be passed by position (callbacks left out)."""
    found: dict[str, list[str]] = {}
    fixed_shape = callbacks()
    for name, function in _public_functions():
        if name in fixed_shape:
            continue
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

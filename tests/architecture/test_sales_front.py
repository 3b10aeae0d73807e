"""Other packages reach the sales domain through its front (`sales.service`) for what sales do,
and through its shapes, errors, events and the vendor's view for what sales are; the modules
behind the front are the domain's own."""

import ast
from pathlib import Path

import dropwire

PUBLIC = {
    "dropwire.sales.service",
    "dropwire.sales.models",
    "dropwire.sales.schemas",
    "dropwire.sales.errors",
    "dropwire.sales.events",
    "dropwire.sales.vendor_view",
    "dropwire.sales.endpoints",  # the entry points mount its routers
    "dropwire.sales.document_endpoints",
    "dropwire.sales.tasks",  # and load its job handlers
    "dropwire.sales.contributions",  # what the domain declares to the wiring
    "dropwire.sales.payloads",  # the bodies a channel connector sends out
}
SOURCE = Path(dropwire.__file__).parent


def _sales_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "dropwire.sales":
                found.update(f"dropwire.sales.{alias.name}" for alias in node.names)
            elif node.module.startswith("dropwire.sales."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dropwire.sales."))
    return found


def test_callers_outside_sales_use_its_front():
    behind = {
        f"{path.relative_to(SOURCE)}: {module}"
        for path in SOURCE.rglob("*.py")
        if path.relative_to(SOURCE).parts[0] != "sales"
        for module in _sales_imports(path) - PUBLIC
    }
    assert behind == set()


def test_the_front_lists_operations_that_exist():
    from dropwire.sales import service

    assert service.__all__ and all(callable(getattr(service, name)) for name in service.__all__)

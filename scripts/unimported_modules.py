"""List the modules under src/dropwire that no other module under src/ imports (entry points and
migrations aside): each is either an entry point to name here or a module without a production
caller. Run: `.venv/bin/python scripts/unimported_modules.py`."""

import ast
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src"
ENTRY_POINTS = {"dropwire.__main__", "dropwire.cli", "dropwire.serving"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_by(path: Path, name: str) -> set[str]:
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def main() -> int:
    paths = {module_name(p): p for p in SOURCE.rglob("*.py") if "migrations" not in p.parts}
    imported: set[str] = set()
    for name, path in paths.items():
        imported |= imported_by(path, name) - {name}
    orphans = sorted(
        name
        for name, path in paths.items()
        if name not in imported and name not in ENTRY_POINTS and path.name != "__init__.py"
    )
    print("\n".join(orphans) if orphans else "every module has an importer under src/")
    return 1 if orphans else 0


if __name__ == "__main__":
    sys.exit(main())

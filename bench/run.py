"""Runs every `bench/bench_*.py` module's `run()` and prints all their rows as one table.

.venv/bin/python bench/run.py [name-substring ...]
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

Row = tuple[str, str, str]


def collect(filters: list[str]) -> list[Row]:
    rows: list[Row] = []
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        if filters and not any(word in path.stem for word in filters):
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        rows.extend(module.run())
    return rows


def render(rows: list[Row]) -> str:
    table = [("benchmark", "measured", "target"), *rows]
    widths = [max(len(row[column]) for row in table) for column in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(render(collect(sys.argv[1:])))


if __name__ == "__main__":
    main()

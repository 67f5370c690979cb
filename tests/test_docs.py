"""README's method tables (scripts/gen_docs.py): in step with protocol/registry.py, and how they are made."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from protocol.base import WireModel
from protocol.registry import NOTIFICATIONS, REQUESTS, SERVER_REQUEST_RESULTS, SERVER_REQUESTS

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gen_docs.py"


def load_generator() -> ModuleType:
    """scripts/ is not a package, so the generator is loaded from its file."""
    spec = importlib.util.spec_from_file_location("gen_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_docs = load_generator()


def test_readme_method_tables_match_the_registry() -> None:
    command = [sys.executable, str(SCRIPT), "--check"]
    checked = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert checked.returncode == 0, f"README.md is stale; run `python scripts/gen_docs.py`:\n{checked.stdout}"


def test_check_reports_a_stale_readme_with_a_diff_and_leaves_it_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    current = (ROOT / "README.md").read_text(encoding="utf-8")
    stale = current.replace("| `thread/start` |", "| `thread/begin` |")
    readme.write_text(stale, encoding="utf-8")

    assert gen_docs.main(["--check", "--readme", str(readme)]) == 1
    diff = capsys.readouterr().out
    assert "-| `thread/begin` |" in diff
    assert "+| `thread/start` |" in diff
    assert readme.read_text(encoding="utf-8") == stale

    assert gen_docs.main(["--readme", str(readme)]) == 0
    assert gen_docs.main(["--check", "--readme", str(readme)]) == 0


def test_a_readme_without_markers_gains_a_methods_section_at_its_end(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Project\n\nIntro.\n", encoding="utf-8")

    assert gen_docs.main(["--readme", str(readme)]) == 0

    text = readme.read_text(encoding="utf-8")
    assert text.startswith(f"# Project\n\nIntro.\n\n## Methods\n\n{gen_docs.BEGIN}\n")
    assert text.endswith(f"{gen_docs.END}\n")
    assert gen_docs.main(["--readme", str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == text


def test_text_around_the_markers_is_kept() -> None:
    readme = f"# Project\n\n## Methods\n\n{gen_docs.BEGIN}\nold\n{gen_docs.END}\n\n## After\n"

    assert gen_docs.with_methods(readme, "new") == (
        f"# Project\n\n## Methods\n\n{gen_docs.BEGIN}\nnew\n{gen_docs.END}\n\n## After\n"
    )


def test_a_readme_with_only_one_marker_is_refused() -> None:
    with pytest.raises(SystemExit):
        gen_docs.with_methods(f"# Project\n{gen_docs.BEGIN}\n", "new")


def test_every_registered_method_gets_a_row_with_its_types_and_extension_note() -> None:
    section = gen_docs.render_methods(REQUESTS, NOTIFICATIONS, SERVER_REQUESTS, SERVER_REQUEST_RESULTS)

    for method in [*REQUESTS, *NOTIFICATIONS, *SERVER_REQUESTS]:
        assert f"| `{method}` |" in section
    assert "| `config/mcpServer/reload` | `null` | [`McpServerRefreshResponse`](protocol/mcp.py) |" in section
    tool_call = next(line for line in section.splitlines() if line.startswith("| `mcpServer/tool/call` |"))
    assert f"*Extension:* {REQUESTS['mcpServer/tool/call'].extension}" in tool_call


class DocumentedParams(WireModel):
    """Do the thing. Then some detail the table does not need.

    A second paragraph.
    """


class UndocumentedParams(WireModel):
    pass


def test_a_method_missing_from_the_table_is_described_by_its_params_docstring() -> None:
    assert gen_docs.describe("thing/do", DocumentedParams) == "Do the thing."


def test_a_method_described_nowhere_is_refused() -> None:
    with pytest.raises(SystemExit):
        gen_docs.describe("thing/do", UndocumentedParams)
    with pytest.raises(SystemExit):
        gen_docs.describe("thing/do", None)

"""The report reads the store and nothing else of bench: what the runner writes is its whole
input, so the report cannot come to depend on how a run is measured."""

from __future__ import annotations

import ast
from pathlib import Path

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def bench_imports(path: Path) -> list[str]:
    """Every module or name of bench that `path` imports: `from bench import x` gives bench.x."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "bench":
            found += [f"bench.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return [name for name in found if name == "bench" or name.startswith("bench.")]


def outside_the_store(path: Path) -> list[str]:
    return [
        n for n in bench_imports(path) if n != "bench.store" and not n.startswith("bench.store.")
    ]


def test_the_report_imports_only_the_store_from_bench():
    modules = sorted(REPORTS.rglob("*.py"))
    assert len(modules) > 10
    wrong = {str(p.relative_to(REPORTS)): outside_the_store(p) for p in modules}
    assert {p: names for p, names in wrong.items() if names} == {}


def test_the_check_finds_an_import_from_elsewhere_in_bench(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import bench.measure.slo\nfrom bench.run import runner\nfrom bench import store\n"
        "from bench.store.table import Row\nimport os\nimport bench\n"
        "from bench import RESULTS_DIR\n"
        "def f():\n    from bench.targets import bind\n"
    )
    assert sorted(outside_the_store(module)) == [
        "bench",
        "bench.RESULTS_DIR",
        "bench.measure.slo",
        "bench.run",
        "bench.targets",
    ]

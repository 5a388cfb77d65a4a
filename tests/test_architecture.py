"""The layering rule of DESIGN.md: ser_engine and training never import Qt or the desktop app."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN = {"PySide6", "pyqtgraph", "shiboken6", "superqt", "desktop"}


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", ["ser_engine", "training"])
def test_no_gui_imports(package):
    bad = {f"{p.relative_to(REPO)}: {m}" for p in (REPO / package).rglob("*.py") for m in _imports(p)
           if m in FORBIDDEN}
    assert not bad, f"{package} imports GUI modules: {sorted(bad)}"


def test_engine_does_not_import_training():
    bad = [str(p) for p in (REPO / "ser_engine").rglob("*.py") if "training" in set(_imports(p))]
    assert not bad


def test_checker_catches_a_violation(tmp_path):
    # The rule above must actually be able to fail.
    f = tmp_path / "x.py"
    f.write_text("from PySide6.QtWidgets import QWidget\nimport numpy\n")
    assert set(_imports(f)) & FORBIDDEN == {"PySide6"}


def test_importing_the_engine_is_cheap():
    # The app shows its window before paying for TensorFlow or librosa.
    import subprocess
    import sys
    code = ("import sys, ser_engine.predictor, ser_engine.cli, training.pipeline; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'librosa') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"

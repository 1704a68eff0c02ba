"""The client says it is typed (`py.typed`, `Typing :: Typed`): mypy --strict holds it to that."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import REPO

SOURCE = REPO / "clients" / "python" / "src"


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None, reason="mypy is in the dev extras (make install)"
)
def test_the_client_passes_mypy_strict(tmp_path: Path) -> None:
    # A cache of its own, so that the run leaves nothing in the repository.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), str(SOURCE)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr

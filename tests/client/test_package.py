"""The client is a package of its own: the standard library is all it may import."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support.processes import REPO

SOURCE = REPO / "clients" / "python" / "src"


def test_the_client_imports_with_nothing_but_the_standard_library() -> None:
    # -S: no site-packages, so neither Flask, requests nor the server's code can be found.
    script = (
        f"import sys; sys.path.insert(0, {str(SOURCE)!r}); import signalpost_client; "
        "print(sorted(name for name in sys.modules if name.startswith('signalpost_client')))"
    )
    done = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "signalpost_client.transport" in done.stdout


def test_its_wheel_holds_the_package_and_its_types_and_requires_nothing(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--wheel-dir", str(tmp_path), str(SOURCE.parent)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("signalpost_client-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    assert "signalpost_client/py.typed" in names
    assert "signalpost_client/client.py" in names
    assert not any(name.startswith(("app/", "tests/")) for name in names)
    assert b"Requires-Dist" not in metadata

"""A real package: the wheel installs into a fresh venv and works away from the repository."""

from __future__ import annotations

import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from support import HANG_TIMEOUT, ROOT

pytestmark = pytest.mark.workflow  # builds a wheel and a venv (~20 s)

CHECK = """
import pathlib, exomir
from exomir import bundled, kits
here = pathlib.Path(exomir.__file__).resolve()
assert "site-packages" in str(here), here
presets = kits.load_kits()
print(exomir.__version__, len(presets), bundled.workflow_path("Snakefile").is_file(),
      bundled.resolve("bundled:mirbase/22.1/hsa.gff3.gz").startswith(str(here.parent)))
"""


def test_wheel_installs_and_runs_outside_the_repository(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(wheels)],
        check=True, capture_output=True, timeout=HANG_TIMEOUT,
    )
    (wheel,) = wheels.glob("exomir-*.whl")
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=HANG_TIMEOUT)
    # The dependencies come from the test venv (plain paths: its .pth files, among them the
    # editable exomir, are not processed), so only the wheel provides exomir.
    fresh_site = next((env_dir / "lib").glob("python*/site-packages"))
    (fresh_site / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    out = subprocess.run([py, "-c", CHECK], cwd=work, capture_output=True, text=True, timeout=HANG_TIMEOUT)
    assert out.returncode == 0, out.stderr
    import exomir

    assert out.stdout.split() == [exomir.__version__, "10", "True", "True"]
    version = subprocess.run([env_dir / "bin" / "exomir", "--version"], capture_output=True, text=True, cwd=work)
    assert version.stdout.strip() == f"exomir {exomir.__version__}"

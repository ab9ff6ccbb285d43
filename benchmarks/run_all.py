"""Run every benchmark, one after the other: ``python benchmarks/run_all.py``.

Each script measures its own baseline in the same run and prints ratios against it; see
benchmarks/README.md for the targets and the figures last measured.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = (
    "bench_core.py",
    "bench_pin.py",
    "bench_check.py",
    "bench_refresh.py",
    "bench_check_cache.py",
    "bench_media.py",
)


def main() -> int:
    here = Path(__file__).resolve().parent
    status = 0
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        status |= subprocess.run([sys.executable, str(here / script)], check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())

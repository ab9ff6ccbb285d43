"""Core benchmarks, each a ratio against a baseline measured in the same run.

1. ``load_accounts`` on a 10,000-account JSON list vs the guide's ``json.load`` loop, in
   process CPU time: ``--pairs`` pairs (21 by default), each timing the guide's loop and
   then twcreds back to back, and the median of the pairs' ratios. Each timing ends with
   the young collection the call leaves pending (``gc.collect(0)``), so that pausing the
   collector during a load cannot hide what it costs; the call alone is printed too.
   Where valgrind is installed, the same ratio in instructions (callgrind), which the
   machine's other load does not move.
2. tracemalloc peaks: ``load_accounts`` of a 3-account file; iterating ``load_clients``
   over the 10,000 accounts vs ``load_accounts`` alone, and vs the guide's
   build-every-client loop.
3. Start-up, in CPU time of fresh interpreters (user + system, median of ``--pairs``):
   ``import twcreds`` vs ``import pydantic``; ``twcreds --help`` and ``twcreds list`` vs
   ``python -c pass``.

Run: ``python benchmarks/bench_core.py [--accounts N] [--pairs N] [--no-callgrind]``.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

MIB = 1024 * 1024


def make_file(path: Path, count: int) -> Path:
    """A guide-style JSON list of ``count`` accounts of one app, written 0600."""
    consumer_key, consumer_secret = secrets.token_urlsafe(18), secrets.token_urlsafe(37)
    accounts = [
        {
            "screen_name": f"bot{i}",
            "consumer_key": consumer_key,
            "consumer_secret": consumer_secret,
            "access_token": f"{10_000 + i}-{secrets.token_urlsafe(30)}",
            "access_token_secret": secrets.token_urlsafe(33),
            "user_id": str(10_000 + i),
        }
        for i in range(count)
    ]
    path.write_text(json.dumps(accounts, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def guide_load(path: Path) -> list[tuple[Any, ...]]:
    """The guide's own loop: json.load, then index the four values of each account."""
    with open(path, encoding="utf-8") as f:
        creds = json.load(f)
    return [
        (c["consumer_key"], c["consumer_secret"], c["access_token"], c["access_token_secret"])
        for c in creds
    ]


def bare_models(path: Path) -> Callable[[], object]:
    """The floor for any eager pydantic model: six plain str fields, no checks at all."""
    from pydantic import BaseModel, TypeAdapter

    class Bare(BaseModel):
        consumer_key: str
        consumer_secret: str
        access_token: str
        access_token_secret: str
        screen_name: str | None = None
        user_id: str | None = None

    adapter = TypeAdapter(list[Bare])
    return lambda: adapter.validate_json(path.read_bytes())


def precise_load(path: Path) -> Callable[[], object]:
    """``load_accounts`` with the fast path switched off: the precise path alone."""
    import twcreds.sources

    def load() -> object:
        fast = vars(twcreds.sources)["load_json_list"]
        setattr(twcreds.sources, "load_json_list", lambda text: None)  # noqa: B010
        try:
            return twcreds.sources.load_accounts(path)
        finally:
            setattr(twcreds.sources, "load_json_list", fast)  # noqa: B010

    return load


def loaders(path: Path) -> dict[str, Callable[[], object]]:
    from twcreds import load_accounts

    return {
        "guide": lambda: guide_load(path),
        "bare": bare_models(path),
        "twcreds": lambda: load_accounts(path),
        "precise": precise_load(path),
    }


def cpu_times(func: Callable[[], object]) -> tuple[float, float]:
    """CPU seconds of ``func()``, and of it plus the young collection it left pending."""
    gc.collect()
    start = time.process_time()
    result = func()
    called = time.process_time()
    gc.collect(0)
    collected = time.process_time()
    del result  # freed outside the timing, as a caller keeps what it loaded
    return called - start, collected - start


def bench_load(path: Path, pairs: int) -> None:
    funcs = loaders(path)
    for func in funcs.values():
        func()  # warm: imports, schemas, caches
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in funcs}
    for _ in range(pairs):
        for name, func in funcs.items():
            times[name].append(cpu_times(func))
    guide = times["guide"]
    print(f"load: CPU time, median of {pairs} pairs, each ratio taken within its pair")
    for name, label in (
        ("guide", "guide json.load loop"),
        ("bare", "bare pydantic models"),
        ("twcreds", "twcreds load_accounts"),
        ("precise", "precise path alone"),
    ):
        ms = statistics.median(total for _, total in times[name]) * 1e3
        ratio = statistics.median(t[1] / g[1] for t, g in zip(times[name], guide, strict=True))
        alone = statistics.median(t[0] / g[0] for t, g in zip(times[name], guide, strict=True))
        target = "   (target <= 2.5x, aim 2.0x)" if name == "twcreds" else ""
        print(
            f"load: {label:24} {ms:7.1f} ms   {ratio:5.2f}x"
            f"   (the call alone {alone:5.2f}x){target}"
        )


CALLGRIND_CHILD = """
import gc, sys
sys.path.insert(0, {here!r})
from bench_core import loaders
from pathlib import Path
funcs = loaders(Path({path!r}))  # every run imports and builds the same
func = funcs.get({name!r}, lambda: None)
kept = func()
gc.collect()
exec("result = func(); gc.collect(0)")
"""


def instructions(path: Path, name: str) -> int | None:
    """Instructions of one call (and its young collection), counted by callgrind."""
    code = CALLGRIND_CHILD.format(here=str(Path(__file__).parent), path=str(path), name=name)
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=builtin_exec",  # only what runs inside exec(): the call
            f"--callgrind-out-file={tmp}/out",
            sys.executable,
            "-c",
            code,
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found = re.search(r"Collected : (\d+)", result.stderr)
    return int(found.group(1)) if result.returncode == 0 and found else None


def bench_instructions(path: Path) -> None:
    if shutil.which("valgrind") is None:
        print("load: instructions: valgrind not installed; skipped")
        return
    # exec() also runs the imports of the child's start: a run that calls nothing
    # measures them, and is taken off every other.
    names = ("null", "guide", "twcreds", "precise", "bare")
    counts = {name: instructions(path, name) for name in names}
    null, guide = counts.pop("null"), counts.pop("guide")
    if null is None or guide is None or None in counts.values():
        print("load: instructions: callgrind failed; skipped")
        return
    base = guide - null
    print(f"load: instructions (callgrind): guide loop {base / 1e6:7.1f} M")
    for name, count in counts.items():
        assert count is not None
        spent = count - null
        print(f"load: instructions: {name:13} {spent / 1e6:7.1f} M   {spent / base:5.2f}x")


def peak_memory(func: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_memory(path: Path, small: Path) -> None:
    from twcreds import load_accounts, load_clients, make_client

    def iterate_clients() -> None:
        for _account, _client in load_clients(path, api_base="http://127.0.0.1:9"):
            pass

    def build_all() -> None:
        accounts = load_accounts(path)
        clients = [make_client(a, api_base="http://127.0.0.1:9") for a in accounts]
        for client in clients:
            client.close()

    iterate_clients()  # import twython and warm caches outside the measurement
    three = peak_memory(lambda: load_accounts(small))
    alone = peak_memory(lambda: load_accounts(path))
    streamed = peak_memory(iterate_clients)
    everything = peak_memory(build_all)
    print(f"memory: load_accounts, 3 accounts     {three / 1024:7.1f} KiB peak   (target < 1 MiB)")
    print(f"memory: load_accounts alone          {alone / MIB:7.1f} MiB peak")
    print(
        f"memory: load_clients loop            {streamed / MIB:7.1f} MiB peak"
        f"   {(streamed - alone) / MIB:+.2f} MiB over load_accounts (target <= +2 MB)"
    )
    print(f"memory: build every client (guide)   {everything / MIB:7.1f} MiB peak")


def child_cpu(argv: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of one fresh interpreter running ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_startup(small: Path, pairs: int) -> None:
    python = sys.executable
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "import pydantic": [python, "-c", "import pydantic"],
        "import twcreds": [python, "-c", "import twcreds"],
        "from twcreds import load_client": [
            python,
            "-c",
            "from twcreds import load_client, Account",
        ],
        "twcreds --help": [python, "-m", "twcreds", "--help"],
        "twcreds list FILE": [python, "-m", "twcreds", "list", str(small)],
    }
    for argv in commands.values():
        child_cpu(argv, env)  # warm the file cache and the bytecode
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(pairs):
        for name, argv in commands.items():
            times[name].append(child_cpu(argv, env))

    def ratio(name: str, base: str) -> float:
        return statistics.median(
            t / b for t, b in zip(times[name], times[base], strict=True) if b > 0
        )

    print(f"start-up: CPU time of a fresh interpreter, median of {pairs} pairs")
    for name in commands:
        ms = statistics.median(times[name]) * 1e3
        line = f"start-up: {name:32} {ms:6.1f} ms"
        if name != "python -c pass":
            line += f"   {ratio(name, 'python -c pass'):5.2f}x python -c pass"
        if name.startswith(("import twcreds", "from twcreds")):
            target = " (target <= 1.15x)" if name == "import twcreds" else ""
            line += f"   {ratio(name, 'import pydantic'):5.2f}x import pydantic{target}"
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=21)
    parser.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = make_file(Path(tmp) / "accounts.json", args.accounts)
        small = make_file(Path(tmp) / "three.json", 3)
        print(f"{args.accounts:,} accounts, {os.path.getsize(path):,} bytes")
        bench_load(path, args.pairs)
        if not args.no_callgrind:
            bench_instructions(path)
        bench_memory(path, small)
        bench_startup(small, args.pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Core benchmarks, each a ratio against a baseline measured in the same run.

1. ``load_accounts`` on a 10,000-account JSON list vs the guide's ``json.load`` loop.
2. Peak memory (tracemalloc) iterating ``load_clients`` over those accounts vs
   ``load_accounts`` alone, and vs the guide's build-every-client loop.
3. ``import twcreds`` vs ``import pydantic``, in fresh interpreters (wall time).

Run: ``python benchmarks/bench_core.py [--accounts N]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any


def make_file(directory: Path, count: int) -> Path:
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
    path = directory / "accounts.json"
    path.write_text(json.dumps(accounts, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def best_of(func: Callable[[], object], runs: int) -> float:
    """The fastest of ``runs`` timings, in seconds (the least disturbed by the machine)."""
    timings = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        func()
        timings.append(time.perf_counter() - start)
    return min(timings)


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


def bench_load(path: Path, runs: int) -> None:
    from twcreds import load_accounts

    baseline = best_of(lambda: guide_load(path), runs)
    floor = best_of(bare_models(path), runs)
    ours = best_of(lambda: load_accounts(path), runs)
    print(f"load: guide json.load loop  {baseline * 1e3:7.1f} ms")
    print(
        f"load: bare pydantic models  {floor * 1e3:7.1f} ms   ratio {floor / baseline:.2f}x"
        " (validate_json into unchecked 6-str models: the floor for eager models)"
    )
    ratio = ours / baseline
    print(f"load: twcreds load_accounts {ours * 1e3:7.1f} ms   ratio {ratio:.2f}x (target <= 1.2x)")


def peak_memory(func: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_memory(path: Path) -> None:
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
    alone = peak_memory(lambda: load_accounts(path))
    streamed = peak_memory(iterate_clients)
    everything = peak_memory(build_all)
    mib = 1024 * 1024
    print(f"memory: load_accounts alone          {alone / mib:7.1f} MiB peak")
    print(
        f"memory: load_clients loop            {streamed / mib:7.1f} MiB peak"
        f"   {(streamed - alone) / mib:+.2f} MiB over load_accounts (target <= +2 MB)"
    )
    print(f"memory: build every client (guide)   {everything / mib:7.1f} MiB peak")


def import_time(statement: str, runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def bench_import(runs: int) -> None:
    bare = import_time("pass", runs)
    pyd = import_time("import pydantic", runs)
    ours = import_time("import twcreds", runs)
    full = import_time("from twcreds import load_client, Account", runs)
    print(f"import: interpreter alone               {bare * 1e3:6.1f} ms")
    print(f"import: import pydantic                 {pyd * 1e3:6.1f} ms")
    print(
        f"import: import twcreds                  {ours * 1e3:6.1f} ms"
        f"   ratio {ours / pyd:.2f}x (target <= 1.15x)"
    )
    print(
        f"import: from twcreds import load_client {full * 1e3:6.1f} ms"
        f"   ratio {full / pyd:.2f}x (models built)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = make_file(Path(tmp), args.accounts)
        print(f"{args.accounts:,} accounts, {os.path.getsize(path):,} bytes; best of {args.runs}")
        bench_load(path, args.runs)
        bench_memory(path)
    bench_import(max(args.runs, 11))
    return 0


if __name__ == "__main__":
    sys.exit(main())

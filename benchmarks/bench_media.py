"""Uploading a 100 MB video with ``upload_media`` vs a plain ``requests`` POST of the same bytes.

Both go over loopback, each to a server in its own process: the upload to the offline
Twitter (``python -m twcreds.testing``: OAuth 1.0a signatures checked, multipart parsed,
the bytes written to disk), the baseline to a sink that reads the body and throws it
away, sent by ``requests`` in one streamed POST from the same file. The ratio (upload
throughput / baseline throughput) is what initialize / append / finalize in 4 MiB
parts, their signing and the fake's own work cost; both are measured in this run. A
third figure posts the same 4 MiB parts, unsigned, to the sink: what the parts alone cost.

Run: ``python benchmarks/bench_media.py [--megabytes 100] [--runs 3]``. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from twcreds import load_client, upload_media
from twcreds.media import CHUNK_SIZE

MiB = 1024 * 1024

_SINK = """
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_POST(self):
        left = int(self.headers["Content-Length"])
        while left:
            left -= len(self.rfile.read(min(left, 1 << 20)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def make_video(path: Path, size: int) -> Path:
    """A file that starts as an MP4 does, written a mebibyte at a time."""
    with path.open("wb") as out:
        out.write(b"\x00\x00\x00\x18ftypmp42")
        left = size - 16
        while left:
            piece = min(left, MiB)
            out.write(os.urandom(piece))
            left -= piece
    return path


def start(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def fake_env(server: subprocess.Popen[str], directory: Path) -> tuple[Path, str]:
    """The emulator's .env block, written to a private file; and its API base."""
    assert server.stdout is not None
    lines = []
    for line in server.stdout:
        lines.append(line)
        if line.startswith("TWITTER_USER_ID="):
            break
    path = directory / "fake.env"
    path.write_text("".join(lines), encoding="utf-8")
    path.chmod(0o600)
    base = next(line for line in lines if line.startswith("TWCREDS_API_BASE="))
    return path, base.split("=", 1)[1].strip()


def stop(server: subprocess.Popen[str]) -> None:
    server.terminate()
    server.wait(timeout=10)
    if server.stdout is not None:
        server.stdout.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=100, help="size of the video (MiB)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each; the median is shown")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        video = make_video(folder / "video.mp4", args.megabytes * MiB)
        fake = start([sys.executable, "-m", "twcreds.testing"])
        sink = start([sys.executable, "-c", _SINK])
        try:
            env, base = fake_env(fake, folder)
            assert sink.stdout is not None
            sink_url = f"http://127.0.0.1:{sink.stdout.readline().strip()}/"
            client = load_client(env, api_base=base)
            upload_media(client, b"\x89PNG\r\n\x1a\n" + bytes(100))  # connect, import
            ours: list[float] = []
            plain: list[float] = []
            parts: list[float] = []
            with requests.Session() as session:
                session.post(sink_url, data=b"warm-up", timeout=60)
                for _ in range(args.runs):
                    started = time.perf_counter()
                    upload_media(client, video)
                    ours.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    with video.open("rb") as stream:
                        session.post(sink_url, data=stream, timeout=60).raise_for_status()
                    plain.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    with video.open("rb") as stream:
                        while piece := stream.read(CHUNK_SIZE):
                            files = {"media": ("media", piece)}
                            session.post(sink_url, files=files, timeout=60).raise_for_status()
                    parts.append(time.perf_counter() - started)
            client.close()
        finally:
            stop(fake)
            stop(sink)

    size = args.megabytes * MiB / 1e6
    ours_s, plain_s = statistics.median(ours), statistics.median(plain)
    parts_s = statistics.median(parts)
    print(f"upload of a {args.megabytes} MiB video over loopback (median of {args.runs} runs)")
    print(f"  upload_media (4 MiB parts, signed):  {ours_s:6.2f} s  {size / ours_s:7.1f} MB/s")
    print(f"  plain requests POST, one body:       {plain_s:6.2f} s  {size / plain_s:7.1f} MB/s")
    print(f"  plain requests, same 4 MiB parts:    {parts_s:6.2f} s  {size / parts_s:7.1f} MB/s")
    print(f"  ratio (upload / plain throughput):   {plain_s / ours_s:6.2f}")
    print(f"  ratio (upload / plain parts):        {parts_s / ours_s:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m twcreds.testing``: serve an offline Twitter with one ready account.

The credentials go to stdout as a .env block (they are fake: printing them is the point),
so ``python -m twcreds.testing > .env`` works; progress goes to stderr. Serves until Ctrl-C
or SIGTERM, then exits 0. :func:`main` is what ``twcreds emulator`` runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from twcreds.testing._server import FakeTwitter

__all__ = ["build_parser", "main"]

_EPILOG = """\
example:
  python -m twcreds.testing --port 8765 > .env   # then, in another shell:
  set -a; . ./.env; set +a; python my_bot.py      # TWCREDS_API_BASE points twcreds there
"""


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The emulator's argument parser.

    Args:
        prog: The program name shown in help; ``python -m twcreds.testing`` by default.
    """
    parser = argparse.ArgumentParser(
        prog=prog or "python -m twcreds.testing",
        description="Serve an offline Twitter (X) on 127.0.0.1 with one ready account,\n"
        "and print its credentials as a .env block.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument(
        "--latency", type=float, default=0.0, metavar="S", help="seconds added to each answer"
    )
    parser.add_argument(
        "--legacy-v1", action="store_true", help="serve v1.1 endpoints instead of code 453"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="requests per token per 15 minutes before 429 (default: no limit)",
    )
    parser.add_argument("--screen-name", default="twcreds_demo", help="the account's screen name")
    parser.add_argument(
        "--read-only", action="store_true", help="make the app read-only (posting gets 403)"
    )
    return parser


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Run the emulator until Ctrl-C or SIGTERM.

    Args:
        argv: Command-line arguments, without the program name; ``sys.argv[1:]`` when None.
        prog: The program name shown in help and errors.

    Returns:
        The exit status: 0 after Ctrl-C or SIGTERM, 1 when the port cannot be bound
        (argparse exits 2 on bad arguments).
    """
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.latency < 0:
        parser.error("--latency must not be negative")
    if args.rate_limit is not None and args.rate_limit < 1:
        parser.error("--rate-limit must be at least 1")
    fake = FakeTwitter(
        port=args.port,
        latency=args.latency,
        legacy_v1=args.legacy_v1,
        rate_limit=args.rate_limit,
    )
    try:
        app = fake.create_app(permissions="read" if args.read_only else "read-write")
        account = fake.issue_token(app, args.screen_name)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        fake.start()
    except OSError as exc:
        print(
            f"{parser.prog}: error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1

    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        print(f"# twcreds offline Twitter on {fake.url}: fake credentials, safe to share")
        print(f"TWCREDS_API_BASE={fake.url}")
        print(f"TWITTER_CONSUMER_KEY={account.consumer_key}")
        print(f"TWITTER_CONSUMER_SECRET={account.consumer_secret.get_secret_value()}")
        print(f"TWITTER_ACCESS_TOKEN={account.access_token}")
        print(f"TWITTER_ACCESS_TOKEN_SECRET={account.access_token_secret.get_secret_value()}")
        print(f"TWITTER_SCREEN_NAME={account.screen_name}")
        print(f"TWITTER_USER_ID={account.user_id}", flush=True)
        print(f"{parser.prog}: serving on {fake.url}; Ctrl-C to stop", file=sys.stderr)
        # A timed wait keeps Ctrl-C responsive on every platform.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print(f"{parser.prog}: stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

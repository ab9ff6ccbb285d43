"""``python -m twcreds.testing``: serve an offline Twitter with one ready account.

The credentials go to stdout as a .env block (they are fake: printing them is the point);
progress goes to stderr. Serves until Ctrl-C or SIGTERM, then exits 0. ``twcreds emulator``
is this same command: it parses its options with :func:`build_parser` and runs :func:`serve`.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from types import FrameType

from twcreds.testing._registry import screen_name as _screen_name
from twcreds.testing._server import FakeTwitter

__all__ = ["build_parser", "main", "serve"]

PROG = "python -m twcreds.testing"

# The flow a user runs in a shell; `twcreds emulator --help` shows it with its own name.
_FLOW = (
    ("{prog} --port 8765 > fake.env &", "serve in the background"),
    ("until grep -qs TWITTER_USER_ID fake.env; do sleep 0.1; done", ""),
    ("set -a; . ./fake.env; set +a", "export TWCREDS_API_BASE and TWITTER_*"),
    ("twcreds check", "verifies @twcreds_demo, on the emulator"),
    ("twcreds authorize --oauth2 --headless", "OAuth 2.0 with its TWITTER_CLIENT_ID"),
    ("kill %1", "stop serving"),
)
_NOTES = """\
Export the block (set -a) rather than naming it .env: twcreds reads TWCREDS_API_BASE from
the environment only, so an unexported .env would send the fake credentials to Twitter.
Every twcreds call, and your bot if it loads its credentials with twcreds, then goes to
the emulator. --legacy-v1 also serves the v1.1 endpoints; --read-only makes posting fail
with 403, as a token issued while the app was read-only does.
"""


def _epilog(prog: str) -> str:
    lines = [(command.format(prog=prog), why) for command, why in _FLOW]
    width = max(len(command) for command, why in lines if why)
    flow = [
        f"  {command.ljust(width)}   # {why}" if why else f"  {command}" for command, why in lines
    ]
    return "examples:\n" + "\n".join(flow) + "\n\n" + _NOTES


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: a port is 0 to 65535 (0: any free one)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must not be negative")
    return value


def _at_least_1(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return value


def _at_least_0(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must not be negative")
    return value


def _name(text: str) -> str:
    try:
        return _screen_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The emulator's argument parser.

    Args:
        prog: The program name shown in help and errors; ``python -m twcreds.testing``
            by default.
    """
    prog = prog or PROG
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve an offline Twitter (X) on 127.0.0.1 with one ready account,\n"
        "and print its (fake) credentials as a .env block.",
        epilog=_epilog(prog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port", type=_port, default=0, metavar="N", help="TCP port (default: a free one)"
    )
    parser.add_argument(
        "--latency",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="seconds added to every answer (default: 0)",
    )
    parser.add_argument(
        "--legacy-v1", action="store_true", help="serve v1.1 endpoints instead of code 453"
    )
    parser.add_argument(
        "--rate-limit",
        type=_at_least_1,
        default=None,
        metavar="N",
        help="requests per token per 15 minutes before a 429 (default: no limit)",
    )
    parser.add_argument(
        "--screen-name",
        type=_name,
        default="twcreds_demo",
        metavar="NAME",
        help="the ready account's screen name (default: twcreds_demo)",
    )
    parser.add_argument(
        "--read-only", action="store_true", help="make the app read-only (posting gets 403)"
    )
    parser.add_argument(
        "--credits",
        type=_at_least_0,
        default=None,
        metavar="N",
        help="pay-per-use credits: each post spends one, then 402 (default: no billing)",
    )
    parser.add_argument(
        "--daily-limit",
        type=_at_least_1,
        default=None,
        metavar="N",
        help="calls per account per 24 hours to posts and users/me, then 429 (default: none)",
    )
    parser.add_argument(
        "--media-processing",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="seconds a video or GIF stays in_progress after finalize (default: 0)",
    )
    return parser


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Parse the arguments and run the emulator until Ctrl-C or SIGTERM.

    Args:
        argv: Command-line arguments, without the program name; ``sys.argv[1:]`` when None.
        prog: The program name shown in help and errors.

    Returns:
        The exit status of :func:`serve` (argparse exits 2 on bad arguments).
    """
    parser = build_parser(prog)
    return serve(parser.parse_args(argv), prog=parser.prog)


def serve(args: argparse.Namespace, *, prog: str = PROG) -> int:
    """Run the emulator that :func:`build_parser`'s ``args`` describe, until Ctrl-C or SIGTERM.

    Returns:
        0 after Ctrl-C or SIGTERM, 1 when the port cannot be bound.
    """
    fake = FakeTwitter(
        port=args.port,
        latency=args.latency,
        legacy_v1=args.legacy_v1,
        rate_limit=args.rate_limit,
        credits=args.credits,
        daily_limit=args.daily_limit,
        media_processing=args.media_processing,
    )
    app = fake.create_app(permissions="read" if args.read_only else "read-write")
    account = fake.issue_token(app, args.screen_name)
    # An OAuth 2.0 client too, any redirect URI allowed: `twcreds authorize --oauth2` reads
    # it from the exported block and runs the PKCE flow against the emulator's consent page.
    client = fake.create_oauth2_app(name="twcreds-emulator")
    try:
        fake.start()
    except OSError as exc:
        print(
            f"{prog}: error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}",
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
        print(f"TWITTER_CLIENT_ID={client.client_id}")
        secret = client.client_secret.get_secret_value() if client.client_secret else ""
        print(f"TWITTER_CLIENT_SECRET={secret}")
        # Last: scripts wait for this line to know the block is whole.
        print(f"TWITTER_USER_ID={account.user_id}", flush=True)
        print(f"{prog}: serving on {fake.url}; Ctrl-C to stop", file=sys.stderr)
        # A timed wait keeps Ctrl-C responsive on every platform.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print(f"{prog}: stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

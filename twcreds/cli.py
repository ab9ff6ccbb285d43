"""The ``twcreds`` command line: a thin argparse layer over the library.

This is the only module that prints. Library errors are caught here and shown as one line,
``twcreds: error: ...`` (exit 1); argparse reports usage errors (exit 2); Ctrl-C exits 130.
Nothing printed here ever holds a secret, except what ``twcreds convert -o -`` is
explicitly asked to write to stdout.

Importing this module stays cheap (argparse and our exception classes): the library's
heavy parts (pydantic, twython, requests, python-dotenv) are imported inside the commands.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from twcreds import __version__
from twcreds.errors import InsecurePermissionsWarning, TwcredsError

if TYPE_CHECKING:
    from concurrent.futures import Future

    from twcreds.models import Account, AccountList, App
    from twcreds.sources import Parsed

__all__ = ["build_parser", "main", "main_exit"]

PROG = "twcreds"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

FORMATS = ("json", "lines", "env")
DEFAULT_WORKERS = 8
DEFAULT_TIMEOUT = 30.0
STORE_HELP = "the user store, <user config dir>/twcreds/accounts.json (Linux: ~/.config/...)"


class CommandError(Exception):
    """A failure the command line itself detects; shown like a library error (exit 1)."""


# --- output ----------------------------------------------------------------------------


def _out(text: str = "") -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _error(message: str) -> None:
    _err(f"{PROG}: error: {message}")


def _ellipsis(stream: TextIO) -> str:
    """An ellipsis where the stream can encode one (a UTF-8 terminal), else three dots."""
    try:
        "\u2026".encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return "..."
    return "\u2026"


def mask(value: str | None, ellipsis: str = "\u2026") -> str:
    """A key or token shown by its last 4 characters only (``…abcd``); ``-`` when absent.

    Values too short to show 4 characters of safely are shown as the ellipsis alone.
    """
    if not value:
        return "-"
    return ellipsis + value[-4:] if len(value) >= 8 else ellipsis


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show warnings (InsecurePermissionsWarning first of all) as ``twcreds: warning: ...``."""
    seen: set[str] = set()

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        text = str(message).strip()
        if text not in seen:
            seen.add(text)
            _err(f"{PROG}: warning: {text}")

    with warnings.catch_warnings():
        warnings.simplefilter("always", InsecurePermissionsWarning)
        warnings.showwarning = show
        yield


# --- argument types --------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: a port is 0 to 65535 (0: any free one)")
    return value


def _url(text: str) -> str:
    base = text.strip().rstrip("/")
    if not base.startswith(("http://", "https://")) or base.endswith("://"):
        msg = f"{text!r} is not an http:// or https:// URL (e.g. http://127.0.0.1:8765)"
        raise argparse.ArgumentTypeError(msg)
    return base


# --- the parser ------------------------------------------------------------------------

_MAIN_DESCRIPTION = """\
Load, check, authorize and safely store Twitter (X) bot credentials.

A SOURCE is a credentials file: JSON (one account, a list, or {"app": ..., "accounts": [...]}),
the guide's 4-line file, or a .env file. Without a SOURCE, commands follow the default chain:
$TWCREDS_FILE, the TWITTER_* environment variables, ./.env, then the user store
(<user config dir>/twcreds/accounts.json, which `twcreds authorize` fills).
"""

_MAIN_EPILOG = """\
examples:
  twcreds authorize app.txt            # authorize an account with the PIN flow, store it
  twcreds list                         # what is stored, secrets masked
  twcreds check --workers 16           # verify every account with Twitter
  twcreds demo                         # the whole journey against an offline Twitter

environment:
  TWCREDS_FILE       the credentials file to use when no SOURCE is given
  TWCREDS_API_BASE   send every request there instead of https://api.twitter.com
  TWITTER_*          TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN, ...

Run `twcreds COMMAND --help` for a command's options and examples.
Exit status: 0 success, 1 error or failed account, 2 usage error, 130 interrupted.
"""

_AUTHORIZE_EPILOG = """\
examples:
  twcreds authorize app.txt
  twcreds authorize app.txt --save accounts.json --screen-name secondbot --force-login
  twcreds authorize --no-browser
  twcreds authorize app.txt --url-only --state pending.json
  twcreds authorize --state pending.json --pin 0123456

APP_SOURCE holds the app's consumer key and secret: a 2-line file (key, then secret), or
any account file of that app (JSON, 4 lines, .env). Without it, you are asked for the key,
then for the secret without echo.

The URL is always printed; a browser is opened only where one is usable (not over SSH or
on a machine without a display). Sign in as the account to authorize, click "Authorize
app", and type the PIN Twitter shows. The account is added to --save PATH (default: the
user store); an entry for the same user is replaced. Files are written with mode 0600.

Headless, in two steps (e.g. on a server): --url-only --state FILE prints only the URL and
keeps the pending authorization in FILE (mode 0600; it holds the app's secret); later,
--state FILE --pin PIN completes it, in any process, and deletes FILE.
"""

_LIST_EPILOG = """\
examples:
  twcreds list
  twcreds list accounts.json
  twcreds list .env --prefix BOT2_ --json

Columns: index, screen name, user id, consumer key and access token (their last 4
characters only), and where each account came from. No secret is ever shown.
"""

_CHECK_EPILOG = """\
examples:
  twcreds check
  twcreds check accounts.json --workers 16
  twcreds check .env --api-base http://127.0.0.1:8765

Asks Twitter who each account is (GET /2/users/me), several accounts at a time. One line
per account, in the order of the SOURCE: ok (with the screen name Twitter reports),
rejected (with the usual causes), rate-limited (with the reset time), unreachable, or
error (any other answer).
Every account is checked, whatever fails. Exit status 1 if any account failed.
"""

_CONVERT_EPILOG = """\
examples:
  twcreds convert creds-twitter.txt --to json -o creds-twitter.json
  twcreds convert accounts.json --to env --account secondbot -o secondbot.env
  twcreds convert accounts.json --to env --account 0 --prefix BOT1_ -o bot1.env
  twcreds convert .env --to lines -o -

Formats: json writes one object for one account, a list for several; lines writes the
guide's 4 lines (one account); env writes PREFIX_CONSUMER_KEY=... lines (one account).
Pick one account of several with --account NAME (a screen name or an index).

The output file is written atomically with mode 0600 and never replaced unless --force
is given. `-o -` writes to stdout: the secrets are then shown on your screen, as you
asked; it is the only command that ever prints them.
"""

_REMOVE_EPILOG = """\
examples:
  twcreds remove secondbot
  twcreds remove @secondbot --file accounts.json

NAME is a screen name (case-insensitive, @ optional) or a user id. The file is rewritten
atomically (mode 0600); removing its last account leaves an empty list.
"""

_DEMO_EPILOG = """\
example:
  twcreds demo

Starts an offline Twitter in this process, registers an app and an account, authorizes a
second account with the PIN flow, stores both in a private file, loads them, verifies and
posts from each, and confirms the posts. Nothing leaves this machine.
"""

_EMULATOR_EPILOG = """\
examples:
  twcreds emulator --port 8765 > .env
  twcreds emulator --latency 0.05 --rate-limit 100

Serves an offline Twitter on 127.0.0.1 until Ctrl-C, and prints a ready account's (fake)
credentials as a .env block, with TWCREDS_API_BASE pointing at the emulator. Load that
.env in another shell and every twcreds call goes to the emulator.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Epilogs kept as written (their examples line up); option help in a wider column."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=28)
        # argparse sizes the help column without the indented subcommand names, so that
        # "authorize" would push its help onto a line of its own: leave room for it.
        self._action_max_length = len("    authorize")


def _parser_kwargs() -> dict[str, Any]:
    return {"formatter_class": _Formatter}


def _add_debug(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a subcommand's default must not overwrite `twcreds --debug COMMAND`.
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="on error, show the traceback too (it holds no secrets)",
    )


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        nargs="?",
        metavar="SOURCE",
        help="a credentials file (default: the chain $TWCREDS_FILE, TWITTER_* variables,"
        " ./.env, the user store)",
    )


def _add_format(parser: argparse.ArgumentParser, metavar: str = "SOURCE") -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help=f"the {metavar}'s format (default: from its name, else its content)",
    )
    parser.add_argument(
        "--prefix",
        default="TWITTER_",
        metavar="P",
        help="variable prefix in .env files and the environment (default: TWITTER_)",
    )


def _add_api_base(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-base",
        type=_url,
        metavar="URL",
        help="send requests there (default: $TWCREDS_API_BASE, else https://api.twitter.com)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``twcreds`` argument parser, with every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG, description=_MAIN_DESCRIPTION, epilog=_MAIN_EPILOG, **_parser_kwargs()
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False,
        help="on error, show the traceback too (it holds no secrets)",
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")

    authorize = commands.add_parser(
        "authorize",
        help="authorize an account with the PIN flow and store it",
        description="Authorize an account for your app with Twitter's PIN flow, and store it.",
        epilog=_AUTHORIZE_EPILOG,
        **_parser_kwargs(),
    )
    authorize.add_argument(
        "app_source",
        nargs="?",
        metavar="APP_SOURCE",
        help="a file with the app's consumer key and secret (default: ask for them)",
    )
    authorize.add_argument(
        "--save", metavar="PATH", help="the accounts file to add it to (default: the user store)"
    )
    authorize.add_argument(
        "--no-browser", action="store_true", help="never open a browser; just print the URL"
    )
    authorize.add_argument(
        "--force-login",
        action="store_true",
        help="make Twitter ask to sign in, so the right account is authorized",
    )
    authorize.add_argument(
        "--screen-name", metavar="NAME", help="pre-fill Twitter's sign-in form with this account"
    )
    authorize.add_argument(
        "--url-only",
        action="store_true",
        help="step 1 of 2: print the URL, keep the pending state in --state FILE, and exit",
    )
    authorize.add_argument(
        "--state", metavar="FILE", help="where the pending authorization is kept between steps"
    )
    authorize.add_argument(
        "--pin", metavar="PIN", help="step 2 of 2: complete the authorization kept in --state"
    )
    _add_format(authorize, "APP_SOURCE")
    _add_api_base(authorize)
    _add_debug(authorize)
    authorize.set_defaults(func=_cmd_authorize, parser=authorize)

    listing = commands.add_parser(
        "list",
        help="list the accounts of a source, secrets masked",
        description="List the accounts of a source; no secret is ever shown.",
        epilog=_LIST_EPILOG,
        **_parser_kwargs(),
    )
    _add_source(listing)
    listing.add_argument("--json", action="store_true", help="print a JSON list instead")
    _add_format(listing)
    _add_debug(listing)
    listing.set_defaults(func=_cmd_list, parser=listing)

    check = commands.add_parser(
        "check",
        help="verify every account with Twitter",
        description="Verify every account of a source with Twitter, concurrently.",
        epilog=_CHECK_EPILOG,
        **_parser_kwargs(),
    )
    _add_source(check)
    check.add_argument(
        "--workers",
        type=_positive_int,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"accounts checked at once (default: {DEFAULT_WORKERS})",
    )
    check.add_argument(
        "--timeout",
        type=_positive_float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"per connect and per read (default: {DEFAULT_TIMEOUT:g})",
    )
    _add_format(check)
    _add_api_base(check)
    _add_debug(check)
    check.set_defaults(func=_cmd_check, parser=check)

    convert = commands.add_parser(
        "convert",
        help="rewrite credentials in another format (json, lines, env)",
        description="Rewrite credentials in another format, in a private file.",
        epilog=_CONVERT_EPILOG,
        **_parser_kwargs(),
    )
    _add_source(convert)
    convert.add_argument("--to", choices=FORMATS, required=True, help="the output format")
    convert.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="the file to write; `-` for stdout (shows the secrets)",
    )
    convert.add_argument(
        "--account", metavar="NAME", help="only this account: a screen name or an index"
    )
    convert.add_argument(
        "--to-prefix",
        metavar="P",
        help="variable prefix for --to env (default: --prefix, i.e. TWITTER_)",
    )
    convert.add_argument("--force", action="store_true", help="replace OUT if it exists")
    _add_format(convert)
    _add_debug(convert)
    convert.set_defaults(func=_cmd_convert, parser=convert)

    remove = commands.add_parser(
        "remove",
        help="remove an account from the user store or a file",
        description="Remove an account from the user store, or from an accounts file.",
        epilog=_REMOVE_EPILOG,
        **_parser_kwargs(),
    )
    remove.add_argument("name", metavar="NAME", help="screen name or user id")
    remove.add_argument(
        "--file", metavar="PATH", help="the accounts file (default: the user store)"
    )
    _add_debug(remove)
    remove.set_defaults(func=_cmd_remove, parser=remove)

    demo = commands.add_parser(
        "demo",
        help="run the whole journey against an offline Twitter",
        description="Run the guide's whole journey against an offline Twitter, in-process.",
        epilog=_DEMO_EPILOG,
        **_parser_kwargs(),
    )
    _add_debug(demo)
    demo.set_defaults(func=_cmd_demo, parser=demo)

    emulator = commands.add_parser(
        "emulator",
        help="serve an offline Twitter for your bot to talk to",
        description="Serve an offline Twitter (X) on 127.0.0.1 with one ready account.",
        epilog=_EMULATOR_EPILOG,
        **_parser_kwargs(),
    )
    emulator.add_argument(
        "--port", type=_port, default=0, metavar="N", help="TCP port (default: a free one)"
    )
    emulator.add_argument(
        "--latency",
        type=float,
        default=None,
        metavar="S",
        help="seconds added to every answer (default: 0)",
    )
    emulator.add_argument(
        "--rate-limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="requests per token per 15 minutes before a 429 (default: no limit)",
    )
    _add_debug(emulator)
    emulator.set_defaults(func=_cmd_emulator, parser=emulator)
    return parser


# --- entry points ----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments, without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status: 0 success, 1 a twcreds error or a failed account, 2 a usage
        error, 130 interrupted (Ctrl-C).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return _exit_status(exc)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with _warnings_as_lines():
            status: int = args.func(args)
        return status
    except KeyboardInterrupt:
        # A fresh line: Ctrl-C often lands in the middle of a prompt or progress line.
        _err("")
        _err(f"{PROG}: interrupted")
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # a command's usage error (parser.error)
        return _exit_status(exc)
    except EOFError:
        _show_traceback(args)
        _error("the input ended before an answer was given; nothing was changed")
        return EXIT_FAILED
    except (TwcredsError, CommandError) as exc:
        _show_traceback(args)
        _error(str(exc))
        return EXIT_FAILED
    except BrokenPipeError:
        raise  # the reader of our output left: main_exit ends quietly
    except OSError as exc:
        _show_traceback(args)
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"{where}{exc.strerror or type(exc).__name__}")
        return EXIT_FAILED
    except Exception as exc:
        _show_traceback(args)
        _error(
            f"unexpected {type(exc).__name__}; this is a bug in twcreds: please report it"
            " with the output of --debug"
        )
        return EXIT_FAILED


def main_exit() -> None:
    """The console script: ``sys.exit(main())``, quiet when the output pipe closes early."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # `twcreds list | head`: the reader left. Python's own advice: point stdout at
        # devnull so that the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = EXIT_FAILED
    sys.exit(status)


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return EXIT_OK
    if isinstance(exc.code, int):
        return exc.code
    _err(str(exc.code))
    return EXIT_FAILED


def _show_traceback(args: argparse.Namespace) -> None:
    if getattr(args, "debug", False):
        import traceback

        traceback.print_exc()


def _usage_error(args: argparse.Namespace, message: str) -> None:
    parser: argparse.ArgumentParser = args.parser
    parser.error(message)  # raises SystemExit(2)


# --- shared helpers --------------------------------------------------------------------


def _check_format_needs_source(args: argparse.Namespace, source: str | None) -> None:
    if args.format is not None and source is None:
        _usage_error(args, "--format describes a SOURCE file: name one")


def _api_base(args: argparse.Namespace) -> str:
    """The API base the requests go to: --api-base, else $TWCREDS_API_BASE, else Twitter."""
    from twcreds.clients import resolve_api_base

    try:
        return resolve_api_base(args.api_base)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _read(args: argparse.Namespace) -> tuple[Parsed, AccountList]:
    """Read and validate SOURCE (or the default chain), keeping where each account came from."""
    from twcreds.sources import find_source, read_source, validate_records

    _check_format_needs_source(args, args.source)
    if args.source is None:
        parsed = find_source(prefix=args.prefix)
    else:
        parsed = read_source(args.source, format=args.format, prefix=args.prefix)
    return parsed, validate_records(parsed)


def _source_name(parsed: Parsed, prefix: str) -> str:
    if parsed.label == "the environment":
        return f"environment ({prefix}*)"
    return parsed.label


def _store_path(value: str | None) -> Path:
    if value:
        return Path(value)
    from twcreds.sources import default_store_path

    return default_store_path()


def _write_private(path: Path, data: bytes) -> None:
    """Write a file atomically with mode 0600, through the store's writer.

    Raises:
        CredentialsError: the file cannot be written (the old one, if any, is unchanged).
    """
    from twcreds.store import write_private

    write_private(path, data)


# --- authorize -------------------------------------------------------------------------


def _cmd_authorize(args: argparse.Namespace) -> int:
    if args.url_only and args.pin is not None:
        _usage_error(args, "--url-only is step 1 and --pin is step 2: give one of them")
    if (args.url_only or args.pin is not None) and not args.state:
        flag = "--url-only" if args.url_only else "--pin"
        _usage_error(args, f"{flag} needs --state FILE to keep the authorization between steps")
    if args.state and not (args.url_only or args.pin is not None):
        _usage_error(
            args, "--state FILE needs --url-only (step 1) or --pin PIN (step 2); see --help"
        )
    if args.pin is not None:
        extra = [
            flag
            for flag, given in (
                ("APP_SOURCE", args.app_source is not None),
                ("--force-login", args.force_login),
                ("--screen-name", args.screen_name is not None),
            )
            if given
        ]
        if extra:
            _usage_error(
                args, f"{', '.join(extra)}: not used with --pin; the state file holds the app"
            )
        return _complete_from_state(args)
    _check_format_needs_source(args, args.app_source)
    base = _api_base(args)
    _check_save_target(_store_path(args.save))
    app = _read_app(args)
    if args.url_only:
        return _start_to_state(args, app, base)

    from twcreds.authorize import authorize

    account = authorize(
        app,
        api_base=base,
        open_browser=False if args.no_browser else None,
        prompt=input,
        echo=_out,
        force_login=args.force_login,
        screen_name=args.screen_name,
    )
    _save_authorized(account, args.save)
    return EXIT_OK


def _read_app(args: argparse.Namespace) -> App:
    if args.app_source is not None:
        from twcreds.sources import load_app

        return load_app(args.app_source, format=args.format, prefix=args.prefix)
    import getpass

    from twcreds.models import App

    _out("Your app's consumer key and secret are on the developer portal's 'Keys and tokens'")
    _out("page (the 'API Key and Secret'). Next time, pass a file holding them: see --help.")
    key = input("Consumer key (API Key): ")
    with warnings.catch_warnings():
        # Without a terminal getpass cannot hide the input; say so on one line, then go on.
        warnings.simplefilter("always", getpass.GetPassWarning)
        secret = getpass.getpass("Consumer secret (API Key Secret; typing is hidden): ")
    return App(consumer_key=key, consumer_secret=secret)


def _start_to_state(args: argparse.Namespace, app: App, base: str) -> int:
    import shlex

    from twcreds.authorize import start_authorization

    pending = start_authorization(
        app, api_base=base, force_login=args.force_login, screen_name=args.screen_name
    )
    state = Path(args.state)
    _write_private(state, pending.model_dump_json(indent=2).encode("utf-8"))
    # stdout holds the URL alone, so that `url=$(twcreds authorize ... --url-only ...)` works.
    _out(pending.auth_url)
    step2 = ["twcreds", "authorize", "--state", str(state), "--pin", "PIN"]
    if args.save:
        step2 += ["--save", args.save]
    _err(f"{PROG}: open the URL above, sign in as the account to authorize, and click")
    _err(f"{PROG}: 'Authorize app'; then, with the PIN Twitter shows, run:")
    _err(f"  {shlex.join(step2)}")
    _err(f"{PROG}: {state} (mode 0600) holds the app's secret until then; delete it to cancel.")
    return EXIT_OK


def _complete_from_state(args: argparse.Namespace) -> int:
    from twcreds.authorize import complete_authorization
    from twcreds.errors import CredentialsError, CredentialsNotFoundError
    from twcreds.models import PendingAuthorization
    from twcreds.sources import decode, read_bytes

    state = Path(args.state)
    try:
        text = decode(read_bytes(state), str(state))
    except CredentialsNotFoundError:
        msg = (
            f"{state}: no pending authorization there; start with"
            f" `twcreds authorize APP_SOURCE --url-only --state {state}`"
        )
        raise CommandError(msg) from None
    try:
        pending = PendingAuthorization.model_validate_json(text)
    except CredentialsError as exc:
        msg = f"{state}: not a pending authorization from `twcreds authorize --url-only`: {exc}"
        raise CommandError(msg) from None
    if args.api_base is not None:
        pending = pending.model_copy(update={"api_base": _api_base(args)})
    _check_save_target(_store_path(args.save))
    account = complete_authorization(pending, args.pin)
    _save_authorized(account, args.save)
    state.unlink(missing_ok=True)
    _out(f"Deleted {state}: the authorization is complete.")
    return EXIT_OK


def _check_save_target(path: Path) -> None:
    """Fail before the PIN flow, not after it, if the accounts file cannot take an account.

    Twitter hands out the access token once: an account authorized into a broken file
    would have to be authorized again.
    """
    from twcreds.errors import CredentialsError
    from twcreds.sources import decode, read_bytes, read_json, validate_records

    if not path.exists():
        return
    try:
        text = decode(read_bytes(path), str(path))
        if text.strip():
            parsed = read_json(text, str(path))
            if parsed.records:
                validate_records(parsed)
    except CredentialsError as exc:
        msg = f"cannot add an account to {path}: {exc}; fix it, or choose another --save file"
        raise CommandError(msg) from None


def _save_authorized(account: Account, save: str | None) -> None:
    import shlex

    from twcreds.store import add_account

    path = _store_path(save)
    accounts = add_account(path, account)
    count = f"{len(accounts)} account{'s' if len(accounts) != 1 else ''}"
    _out(f"Authorized {account.label} (user id {account.user_id}).")
    _out(f"Saved to {path} (mode 0600, {count}).")
    _out(f"Check it with: twcreds check {shlex.quote(str(path))}")


# --- list ------------------------------------------------------------------------------


def _cmd_list(args: argparse.Namespace) -> int:
    parsed, accounts = _read(args)
    ellipsis = _ellipsis(sys.stdout)
    source = _source_name(parsed, args.prefix)
    rows = [
        {
            "index": index,
            "screen_name": account.screen_name,
            "user_id": account.user_id,
            "consumer_key": mask(account.consumer_key, ellipsis),
            "access_token": mask(account.access_token, ellipsis),
            "source": source,
            "where": record.where,
        }
        for index, (account, record) in enumerate(zip(accounts, parsed.records, strict=True))
    ]
    if args.json:
        import json

        _out(json.dumps(rows, indent=2, ensure_ascii=ellipsis != "\u2026"))
        return EXIT_OK
    table = [["#", "SCREEN NAME", "USER ID", "CONSUMER KEY", "ACCESS TOKEN", "SOURCE"]]
    for row in rows:
        name = f"@{row['screen_name']}" if row["screen_name"] else "-"
        table.append(
            [
                str(row["index"]),
                name,
                str(row["user_id"] or "-"),
                str(row["consumer_key"]),
                str(row["access_token"]),
                source,
            ]
        )
    widths = [max(len(line[col]) for line in table) for col in range(len(table[0]))]
    for line in table:
        _out(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    return EXIT_OK


# --- check -----------------------------------------------------------------------------


class _Progress:
    """``checked 37/200`` on one overwritten line of a terminal."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.done = 0

    def show(self) -> None:
        self.stream.write(f"\rchecked {self.done}/{self.total}")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _check_one(account: Account, api_base: str, timeout: float) -> tuple[str, str]:
    """Verify one account with a client of its own; (status, detail), never an exception."""
    from twcreds.api import verify_account
    from twcreds.clients import make_client
    from twcreds.errors import (
        CredentialsRejectedError,
        RateLimitError,
        TwitterConnectionError,
    )

    try:
        with make_client(account, api_base=api_base, timeout=timeout) as client:
            me = verify_account(client)
    except CredentialsRejectedError as exc:
        return "rejected", _detail(exc, account)
    except RateLimitError as exc:
        return "rate-limited", _reset_detail(exc)
    except TwitterConnectionError as exc:
        return "unreachable", _detail(exc, account)
    except TwcredsError as exc:
        return "error", _detail(exc, account)
    except Exception as exc:  # a bug must not stop the other checks
        return "error", f"unexpected {type(exc).__name__}; please report it"
    stored = account.screen_name
    detail = f"{me.label} (user id {me.user_id})"
    if stored and me.screen_name and stored.casefold() != me.screen_name.casefold():
        detail += f"; stored as @{stored}: the account was renamed"
    return "ok", detail


def _detail(exc: BaseException, account: Account) -> str:
    """The error's message without its ``verify @name: `` prefix, which the line shows."""
    message = str(exc)
    for prefix in (f"verify {account.label}: ", "verify (unnamed account): "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    head, sep, tail = message.partition(": ")
    return tail if sep and head.startswith("verify ") else message


def _reset_detail(exc: Any) -> str:
    reset_at = getattr(exc, "reset_at", None)
    retry_after = getattr(exc, "retry_after", None)
    if reset_at is None:
        return "the limit's reset time is unknown; wait 15 minutes and check again"
    wait = f" (in {_duration(retry_after)})" if retry_after is not None else ""
    return f"until {reset_at:%H:%M:%S} UTC{wait}; check again then"


def _duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    minutes, secs = divmod(whole, 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _cmd_check(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor, as_completed

    base = _api_base(args)
    _, accounts = _read(args)
    total = len(accounts)
    labels = [account.label for account in accounts]
    index_width = len(str(total - 1))
    label_width = max(len(label) for label in labels)
    progress = _Progress(total, sys.stderr) if sys.stderr.isatty() else None
    results: dict[int, tuple[str, str]] = {}
    shown = 0
    pool = ThreadPoolExecutor(
        max_workers=min(args.workers, total), thread_name_prefix="twcreds-check"
    )
    try:
        futures: dict[Future[tuple[str, str]], int] = {
            pool.submit(_check_one, account, base, args.timeout): index
            for index, account in enumerate(accounts)
        }
        if progress is not None:
            progress.show()
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if progress is not None:
                progress.done += 1
                progress.clear()
            # Lines come out in the SOURCE's order, each as soon as those before it are done.
            while shown in results:
                status, detail = results[shown]
                _out(
                    f"{shown:>{index_width}}  {labels[shown]:<{label_width}}"
                    f"  {status:<12}  {detail}".rstrip()
                )
                shown += 1
            if progress is not None and progress.done < total:
                progress.show()
    finally:
        # On Ctrl-C: drop the queued checks; running ones end within their timeout.
        pool.shutdown(wait=False, cancel_futures=True)
    failed = [status for status, _ in results.values() if status != "ok"]
    if not failed:
        _out(f"All {total} account{'s' if total != 1 else ''} ok.")
        return EXIT_OK
    counts: dict[str, int] = {}
    for status in failed:
        counts[status] = counts.get(status, 0) + 1
    breakdown = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    _out(f"{total - len(failed)} of {total} accounts ok; {breakdown}.")
    return EXIT_FAILED


# --- convert ---------------------------------------------------------------------------


def _cmd_convert(args: argparse.Namespace) -> int:
    parsed, accounts = _read(args)
    chosen = list(accounts) if args.account is None else [_pick(parsed, accounts, args.account)]
    if args.to in ("lines", "env") and len(chosen) > 1:
        names = ", ".join(f"[{i}] {a.label}" for i, a in enumerate(chosen))
        msg = (
            f"{parsed.label} holds {len(chosen)} accounts ({names}); {_article(args.to)}"
            " file holds one: pick it with --account NAME (or an index), or convert to json"
        )
        raise CommandError(msg)
    prefix = args.to_prefix if args.to_prefix is not None else args.prefix
    text = render(chosen, args.to, prefix=prefix)
    if args.output == "-":
        # Asked for explicitly: the one place the command line shows secrets.
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    out = Path(args.output)
    if os.path.lexists(out) and not args.force:
        msg = f"{out} exists; add --force to replace it, or choose another -o file"
        raise CommandError(msg)
    _write_private(out, text.encode("utf-8"))
    count = f"{len(chosen)} account{'s' if len(chosen) != 1 else ''}"
    _out(f"Wrote {count} to {out} ({args.to}, mode 0600).")
    if args.to == "lines" and (chosen[0].screen_name or chosen[0].user_id):
        _out("Note: a lines file has no place for the screen name and user id.")
    return EXIT_OK


def _article(fmt: str) -> str:
    return f"an {fmt}" if fmt[0] in "aeiou" else f"a {fmt}"


def _pick(parsed: Parsed, accounts: AccountList, name: str) -> Account:
    from twcreds.sources import select_account

    try:
        return accounts[name]
    except KeyError:
        pass
    choice: str | int = int(name) if name.strip().lstrip("-").isdigit() else name
    return select_account(accounts, choice, parsed.label, environ={})


_ENV_FIELDS = (
    "consumer_key",
    "consumer_secret",
    "access_token",
    "access_token_secret",
    "screen_name",
    "user_id",
)


def render(accounts: Sequence[Account], to: str, *, prefix: str = "TWITTER_") -> str:
    """Serialize accounts as a json, lines or env file's text (real secrets: for writing)."""
    if to == "json":
        import json

        records = [account.model_dump(mode="json", exclude_none=True) for account in accounts]
        value: object = records[0] if len(records) == 1 else records
        return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    (account,) = accounts
    values = account.model_dump(mode="json")
    if to == "lines":
        lines = [values[name] for name in _ENV_FIELDS[:4]]
        return "\n".join(lines) + "\n"
    lines = [f"# Twitter credentials for {account.label}, written by twcreds"]
    lines += [
        f"{prefix}{name.upper()}={_env_value(values[name])}"
        for name in _ENV_FIELDS
        if values.get(name) is not None
    ]
    return "\n".join(lines) + "\n"


def _env_value(value: str) -> str:
    """A dotenv value, single-quoted only when it holds characters dotenv would interpret."""
    if value and all(c.isalnum() or c in "-_.@/+:=" for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


# --- remove, demo, emulator ------------------------------------------------------------


def _cmd_remove(args: argparse.Namespace) -> int:
    from twcreds.store import remove_account

    path = _store_path(args.file)
    removed = remove_account(path, args.name)
    user = f" (user id {removed.user_id})" if removed.user_id and removed.screen_name else ""
    _out(f"Removed {removed.label}{user} from {path}.")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from twcreds.demo import run_demo

    return run_demo(echo=_out)


def _cmd_emulator(args: argparse.Namespace) -> int:
    from twcreds.testing.__main__ import main as serve

    argv = ["--port", str(args.port)]
    if args.latency is not None:
        argv += ["--latency", str(args.latency)]
    if args.rate_limit is not None:
        argv += ["--rate-limit", str(args.rate_limit)]
    return serve(argv, prog=f"{PROG} emulator")

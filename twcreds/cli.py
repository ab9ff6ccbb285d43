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
import contextlib
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from twcreds import __version__
from twcreds.errors import UNPRINTABLE, InsecurePermissionsWarning, TwcredsError, printable

if TYPE_CHECKING:
    from twcreds.errors import RateLimitError
    from twcreds.formats import Parsed
    from twcreds.models import AccountList, AnyAccount, App, OAuth2Account, OAuth2App
    from twcreds.verified import VerificationCache

__all__ = ["build_parser", "main", "main_exit", "parse_args"]

PROG = "twcreds"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

FORMATS = ("json", "lines", "env")
#: What --format accepts for a SOURCE: twcreds' formats and the peer tools' files.
READ_FORMATS = (*FORMATS, "twurlrc", "twarc", "twarc2", "xurl")
DEFAULT_WORKERS = 8
DEFAULT_TIMEOUT = 30.0
#: How recent a verification `twcreds check` takes instead of a billed call.
DEFAULT_MAX_AGE = 24 * 3600.0


class CommandError(Exception):
    """A failure the command line itself detects; shown like a library error (exit 1)."""


# --- output ----------------------------------------------------------------------------


def _out(text: str = "") -> None:
    print(_terminal_safe(text), flush=True)


def _err(text: str) -> None:
    print(_terminal_safe(text), file=sys.stderr, flush=True)


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    return char if char == "\n" else f"\\u{ord(char):04x}"


def _terminal_safe(text: str) -> str:
    """Control characters escaped, line by line: text from a server or a file name cannot
    clear the screen, move the cursor or forge a line (as OpenSSH and git treat remote text).
    """
    return "\n".join(printable(line) for line in text.split("\n"))


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


def _count(n: int) -> str:
    return f"{n} account{'s' if n != 1 else ''}"


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show warnings (InsecurePermissionsWarning first of all) as ``twcreds: warning: ...``."""
    seen: set[str] = set()

    def show(message: Warning | str, *args: object, **kwargs: object) -> None:
        text = str(message).strip()
        if text not in seen:
            seen.add(text)
            _err(f"{PROG}: warning: {text}")

    with warnings.catch_warnings():
        warnings.simplefilter("always", InsecurePermissionsWarning)
        warnings.showwarning = show
        yield


# --- the parser: the frame every command registers itself in ----------------------------

_MAIN_DESCRIPTION = """\
Load, check, authorize and safely store Twitter (X) bot credentials.

A SOURCE is a credentials file: JSON (one account, a list, or {"app": ..., "accounts": [...]}),
the guide's 4-line file, a .env file, another tool's file (twurl's ~/.twurlrc, t's ~/.trc,
x's ~/.xrc, twarc's ~/.twarc, twarc2's config, xurl's ~/.xurl), or a secrets directory (one
file per value). Without a SOURCE, commands follow the default chain: $TWCREDS_FILE,
$TWCREDS_CREDENTIAL_PROCESS, the TWITTER_* environment variables (or TWITTER_*_FILE),
./.env, then the user store (<user config dir>/twcreds/accounts.json, which `twcreds
authorize` fills; $TWCREDS_CONFIG_DIR/accounts.json when that is set).
"""

_MAIN_EPILOG = """\
examples:
  twcreds authorize app.txt            # authorize an account with the PIN flow, store it
  twcreds list                         # what is stored, secrets masked
  twcreds check --workers 16           # verify every account with Twitter
  twcreds import                       # copy twurl's, t's, twarc's, xurl's accounts
  twcreds status                       # where each account comes from, what it lacks
  twcreds demo                         # the whole journey against an offline Twitter

environment:
  TWCREDS_FILE       the credentials file (or secrets directory) to use when no SOURCE is given
  TWCREDS_CREDENTIAL_PROCESS  a command printing one JSON account ({"Version": 1, ...})
  TWCREDS_CONFIG_DIR the folder of the user store (default: <user config dir>/twcreds)
  TWCREDS_API_BASE   send every request there instead of https://api.twitter.com
  TWITTER_*          TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN, ...
  TWITTER_*_FILE     a file holding that variable's value (Docker secrets)

Run `twcreds COMMAND --help` for a command's options and examples.
Exit status: 0 success, 1 error or failed account, 2 usage error, 130 interrupted.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Epilogs kept as written (their examples line up); option help in a wider column."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=28)
        # argparse sizes the help column without the indented subcommand names, so that
        # "authorize" would push its help onto a line of its own: leave room for it.
        self._action_max_length = len("    completion")


Run = Callable[[argparse.Namespace], int]
Argument = tuple[tuple[str, ...], dict[str, Any]]


@dataclass(frozen=True)
class _Command:
    """One subcommand: what ``twcreds COMMAND --help`` shows, its options, and its body."""

    name: str
    help: str
    description: str | None
    epilog: str | None
    run: Run
    arguments: list[Argument] = field(default_factory=list)
    add_help: bool = True


_COMMANDS: list[_Command] = []  # in the order `twcreds --help` lists them
_PENDING: dict[Run, list[Argument]] = {}  # options declared on a body not yet registered


def _command(
    help: str, description: str | None = None, epilog: str | None = None, *, add_help: bool = True
) -> Callable[[Run], Run]:
    """Register ``_cmd_NAME`` as ``twcreds NAME``, with the options declared below this line.

    Used as the outermost decorator, as ``@click.command`` is in sqlite-utils: a command's
    help, its options and its body then read as one block.
    """

    def register(run: Run) -> Run:
        name = run.__name__.removeprefix("_cmd_").replace("_", "-")
        arguments = _PENDING.pop(run, [])
        _COMMANDS.append(_Command(name, help, description, epilog, run, arguments, add_help))
        return run

    return register


def _arguments(*arguments: Argument) -> Callable[[Run], Run]:
    """Declare options of a command, in the order ``--help`` lists them."""

    def declare(run: Run) -> Run:
        # Decorators apply bottom-up: put these before those declared below them.
        _PENDING.setdefault(run, [])[:0] = arguments
        return run

    return declare


def _argument(*names: str, **options: Any) -> Callable[[Run], Run]:
    """One option, as ``parser.add_argument(*names, **options)`` would add it."""
    return _arguments((names, options))


def _source(*, required: bool = False) -> Callable[[Run], Run]:
    chain = (
        " (default: the chain $TWCREDS_FILE, $TWCREDS_CREDENTIAL_PROCESS, TWITTER_* variables,"
        " ./.env, the user store)"
    )
    return _argument(
        "source",
        nargs=None if required else "?",
        metavar="SOURCE",
        help="a credentials file or secrets directory" + ("" if required else chain),
    )


def _format_options(metavar: str = "SOURCE") -> Callable[[Run], Run]:
    return _arguments(
        (
            ("--format",),
            {
                "choices": READ_FORMATS,
                "help": f"the {metavar}'s format (default: from its name, else its content)",
            },
        ),
        (
            ("--prefix",),
            {
                "default": "TWITTER_",
                "metavar": "P",
                "help": "variable prefix in .env files and the environment (default: TWITTER_)",
            },
        ),
    )


def _positive(kind: type[int] | type[float], text: str) -> float:
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number of seconds"
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not value > 0 or value == float("inf"):
        limit = "at least 1" if kind is int else "more than 0"
        raise argparse.ArgumentTypeError(f"{text!r}: must be {limit}")
    return value


def _positive_int(text: str) -> int:
    return int(_positive(int, text))


def _positive_float(text: str) -> float:
    return _positive(float, text)


def _duration(text: str) -> float:
    """``--max-age``: seconds, or a number with ``s``, ``m``, ``h`` or ``d``; 0 allowed."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)\s*", text.lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90, 30m, 24h, 2d")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return float(match.group(1)) * unit


def _api_base_option(text: str) -> str:
    """``--api-base``, checked as the library checks it: every bad value is a usage error."""
    from twcreds._twython import resolve_api_base

    if not text.strip():  # the library would fall back to $TWCREDS_API_BASE
        raise argparse.ArgumentTypeError("is empty; give a URL such as http://127.0.0.1:8765")
    try:
        return resolve_api_base(text)
    except ValueError as exc:  # CredentialsError; its message never quotes the URL
        raise argparse.ArgumentTypeError(str(exc).removeprefix("api_base ")) from None


_api_base = _argument(
    "--api-base",
    type=_api_base_option,
    metavar="URL",
    help="send requests there (default: $TWCREDS_API_BASE, else https://api.twitter.com)",
)


def build_parser() -> argparse.ArgumentParser:
    """The ``twcreds`` argument parser, with every subcommand.

    ``emulator`` takes the options of ``python -m twcreds.testing``, which :func:`parse_args`
    hands to that command's own parser: declaring them here would import the emulator (and
    slow every command down) and let the two drift apart.
    """
    parser = argparse.ArgumentParser(
        prog=PROG, description=_MAIN_DESCRIPTION, epilog=_MAIN_EPILOG, formatter_class=_Formatter
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False,
        help="on error, show the traceback too (it holds no secrets)",
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for command in _COMMANDS:
        sub = commands.add_parser(
            command.name,
            help=command.help,
            description=command.description,
            epilog=command.epilog,
            formatter_class=_Formatter,
            add_help=command.add_help,
        )
        for names, options in command.arguments:
            sub.add_argument(*names, **options)
        # SUPPRESS: a subcommand's default must not overwrite `twcreds --debug COMMAND`.
        sub.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="on error, show the traceback too (it holds no secrets)",
        )
        sub.set_defaults(func=command.run, parser=sub)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse a ``twcreds`` command line; ``emulator``'s options go to the emulator's parser.

    Raises:
        SystemExit: ``--help`` or ``--version`` (0), or a usage error (2, after the message).
    """
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "emulator":
        from twcreds.testing.__main__ import build_parser as emulator_parser

        args.emulator = emulator_parser(f"{PROG} emulator").parse_args(rest)
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    elif args.command is None:
        parser.print_help(sys.stderr)
        raise SystemExit(EXIT_USAGE)
    return args


# --- entry points ----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments, without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status: 0 success, 1 a twcreds error or a failed account, 2 a usage
        error, 130 interrupted (Ctrl-C).
    """
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return _exit_status(exc)
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
        _err(f"{PROG}: error: the input ended before an answer was given; nothing was changed")
        return EXIT_FAILED
    except (TwcredsError, CommandError) as exc:
        _show_traceback(args)
        _err(f"{PROG}: error: {exc}")
        return EXIT_FAILED
    except BrokenPipeError:
        raise  # the reader of our output left: main_exit ends quietly
    except OSError as exc:
        _show_traceback(args)
        where = f"{exc.filename}: " if exc.filename else ""
        _err(f"{PROG}: error: {where}{exc.strerror or type(exc).__name__}")
        return EXIT_FAILED
    except Exception as exc:
        _show_traceback(args)
        _err(
            f"{PROG}: error: unexpected {type(exc).__name__}; this is a bug in twcreds:"
            " please report it with the output of --debug"
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


# --- helpers the commands share --------------------------------------------------------


def _check_format_needs_source(args: argparse.Namespace, source: str | None) -> None:
    if args.format is not None and source is None:
        args.parser.error("--format describes a SOURCE file: name one")


def _read(args: argparse.Namespace) -> tuple[Parsed, AccountList]:
    """Read and validate SOURCE (or the default chain), keeping where each account came from."""
    from twcreds.sources import parse_source, validate_records

    _check_format_needs_source(args, args.source)
    parsed = parse_source(args.source, format=args.format, prefix=args.prefix)
    return parsed, validate_records(parsed)


def _store_path(value: str | None) -> Path:
    if value:
        return Path(value).expanduser()  # as the store reads it, for `--save '~/x.json'`
    from twcreds.sources import default_store_path

    return default_store_path()


# --- twcreds authorize -----------------------------------------------------------------

_AUTHORIZE_EPILOG = """\
examples:
  twcreds authorize app.txt
  twcreds authorize app.txt --save accounts.json --screen-name secondbot --force-login
  twcreds authorize --no-browser
  twcreds authorize app.txt --url-only --state pending.json
  twcreds authorize --state pending.json --pin 0123456
  twcreds authorize --oauth2 client.json
  twcreds authorize --oauth2 --headless        # TWITTER_CLIENT_ID/_SECRET from the environment

APP_SOURCE holds the app's consumer key and secret: a 2-line file (key, then secret), or
any account file of that app (JSON, 4 lines, .env). Without it, you are asked for the key,
then for the secret without echo.

The URL is always printed; a browser is opened only where one is usable (not over SSH or
on a machine without a display). Sign in as the account to authorize, click "Authorize
app", and type the PIN Twitter shows. The account is added to --save PATH (default: the
user store); an entry for the same user is replaced. Files are written with mode 0600.
If the account cannot be added there, it is kept in a file of its own, named in the error.

Headless, in two steps (e.g. on a server): --url-only --state FILE prints only the URL and
keeps the pending authorization in FILE (mode 0600; it holds the app's secret); later,
--state FILE --pin PIN completes it, in any process, and deletes FILE. An existing FILE is
replaced only if it is empty or an earlier pending authorization.

OAuth 2.0 (--oauth2; X's recommended way): APP_SOURCE holds the app's OAuth 2.0 client_id
(and client_secret for a confidential client, such as an "Automated App or bot"): a JSON
file, a .env file with TWITTER_CLIENT_ID / TWITTER_CLIENT_SECRET, or, without APP_SOURCE,
those variables in the environment. Register exactly http://127.0.0.1:8976/callback as a
callback URI in the app's settings: twcreds listens there once for the browser to come
back. With --headless, open the URL on any device, approve, and paste the address the
browser ends on (the page itself will not load). The default scopes are what a posting bot
needs: tweet.read tweet.write users.read media.write offline.access (the last one gives the
refresh token that keeps the bot posting without you).
"""


@_command(
    "authorize an account with the PIN flow and store it",
    "Authorize an account for your app with Twitter's PIN flow, and store it.",
    _AUTHORIZE_EPILOG,
)
@_argument(
    "app_source",
    nargs="?",
    metavar="APP_SOURCE",
    help="a file with the app's consumer key and secret (default: ask for them)",
)
@_argument(
    "--save", metavar="PATH", help="the accounts file to add it to (default: the user store)"
)
@_argument("--no-browser", action="store_true", help="never open a browser; just print the URL")
@_argument(
    "--force-login",
    action="store_true",
    help="make Twitter ask to sign in, so the right account is authorized",
)
@_argument(
    "--screen-name", metavar="NAME", help="pre-fill Twitter's sign-in form with this account"
)
@_argument(
    "--url-only",
    action="store_true",
    help="step 1 of 2: print the URL, keep the pending state in --state FILE, and exit",
)
@_argument("--state", metavar="FILE", help="where the pending authorization is kept between steps")
@_argument("--pin", metavar="PIN", help="step 2 of 2: complete the authorization kept in --state")
@_argument(
    "--oauth2",
    action="store_true",
    help="authorize with OAuth 2.0 (PKCE) instead of the PIN flow",
)
@_argument(
    "--headless",
    action="store_true",
    help="--oauth2: paste the redirected URL instead of listening for it",
)
@_argument(
    "--scopes",
    nargs="+",
    metavar="SCOPE",
    help="--oauth2: the scopes to ask for (default: those a posting bot needs)",
)
@_argument(
    "--redirect-uri",
    metavar="URI",
    help="--oauth2: the callback registered for the app (default: http://127.0.0.1:8976/callback)",
)
@_format_options("APP_SOURCE")
@_api_base
def _cmd_authorize(args: argparse.Namespace) -> int:
    if args.oauth2:
        return _authorize_oauth2(args)
    oauth2_only = {
        "--headless": args.headless,
        "--scopes": args.scopes is not None,
        "--redirect-uri": args.redirect_uri is not None,
    }
    _refuse_flags(args, oauth2_only, "only with --oauth2")
    if args.url_only and args.pin is not None:
        args.parser.error("--url-only is step 1 and --pin is step 2: give one of them")
    if (args.url_only or args.pin is not None) and not args.state:
        flag = "--url-only" if args.url_only else "--pin"
        args.parser.error(f"{flag} needs --state FILE to keep the authorization between steps")
    if args.state and not (args.url_only or args.pin is not None):
        args.parser.error(
            "--state FILE needs --url-only (step 1) or --pin PIN (step 2); see --help"
        )
    from twcreds._twython import resolve_api_base

    if args.pin is not None:
        given = {
            "APP_SOURCE": args.app_source is not None,
            "--force-login": args.force_login,
            "--screen-name": args.screen_name is not None,
        }
        _refuse_flags(args, given, "not used with --pin; the state file holds the app")
        return _complete_from_state(args)
    _check_format_needs_source(args, args.app_source)
    base = resolve_api_base(args.api_base)  # a bad $TWCREDS_API_BASE fails here, exit 1
    _check_save_target(_store_path(args.save))
    if args.url_only:
        from twcreds.store import check_pending_target

        check_pending_target(args.state)  # before the flow: never replace another file
    app = _read_app(args)
    if args.url_only:
        return _start_to_state(args, app, base)

    from twcreds.authorization import authorize

    account = authorize(
        app,
        api_base=base,
        open_browser=False if args.no_browser else None,
        prompt=input,
        echo=_out,
        force_login=args.force_login,
        screen_name=args.screen_name,
    )
    _save_authorized(account, args.save, base)
    return EXIT_OK


def _refuse_flags(args: argparse.Namespace, given: dict[str, bool], why: str) -> None:
    """A usage error naming every flag of ``given`` that was given, and why it does not fit."""
    extra = [flag for flag, is_given in given.items() if is_given]
    if extra:
        args.parser.error(f"{', '.join(extra)}: {why}")


def _authorize_oauth2(args: argparse.Namespace) -> int:
    given = {
        "--url-only": args.url_only,
        "--state": args.state is not None,
        "--pin": args.pin is not None,
        "--force-login": args.force_login,
        "--screen-name": args.screen_name is not None,
    }
    _refuse_flags(
        args, given, "not used with --oauth2 (use --headless on a host without a browser)"
    )
    from twcreds._twython import resolve_api_base
    from twcreds.authorization import authorize_oauth2
    from twcreds.models import POSTING_SCOPES

    _check_format_needs_source(args, args.app_source)
    base = resolve_api_base(args.api_base)
    _check_save_target(_store_path(args.save))
    app = _read_oauth2_app(args)
    account = authorize_oauth2(
        app,
        scopes=args.scopes or POSTING_SCOPES,
        headless=args.headless,
        open_browser=False if args.no_browser else None,
        prompt=input,
        echo=_out,
        api_base=base,
        redirect_uri=args.redirect_uri,
    )
    _save_authorized(account, args.save, base)
    missing = account.missing_scopes()
    if missing:
        _out(f"Note: not granted: {' '.join(missing)}; a posting bot needs them.")
    return EXIT_OK


def _read_oauth2_app(args: argparse.Namespace) -> OAuth2App:
    from twcreds.errors import CredentialsNotFoundError
    from twcreds.sources import load_oauth2_app

    if args.app_source is not None:
        return load_oauth2_app(args.app_source, format=args.format, prefix=args.prefix)
    try:
        return load_oauth2_app(None, prefix=args.prefix)
    except CredentialsNotFoundError:
        pass
    import getpass

    from twcreds.models import OAuth2App

    _out("Your app's OAuth 2.0 Client ID and Secret are on the developer console's 'Keys and")
    _out(f"tokens' page. Next time, set {args.prefix}CLIENT_ID and {args.prefix}CLIENT_SECRET.")
    client_id = input("Client ID: ")
    with warnings.catch_warnings():
        warnings.simplefilter("always", getpass.GetPassWarning)
        secret = getpass.getpass("Client Secret (empty for a public client; hidden): ")
    return OAuth2App(client_id=client_id, client_secret=secret or None)


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

    from twcreds.authorization import start_authorization
    from twcreds.store import save_pending

    pending = start_authorization(
        app, api_base=base, force_login=args.force_login, screen_name=args.screen_name
    )
    state = Path(args.state).expanduser()
    save_pending(state, pending)
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
    from twcreds._twython import resolve_api_base
    from twcreds.authorization import complete_authorization
    from twcreds.store import load_pending

    state = Path(args.state).expanduser()
    pending = load_pending(state)
    if args.api_base is not None:
        pending = pending.model_copy(update={"api_base": resolve_api_base(args.api_base)})
    _check_save_target(_store_path(args.save))
    account = complete_authorization(pending, args.pin)
    try:
        _save_authorized(account, args.save, pending.api_base)
    finally:
        # Its request token is spent, saved or not; failing here must not hide the save's error.
        with contextlib.suppress(OSError):
            state.unlink(missing_ok=True)
    if state.exists():
        _err(f"{PROG}: warning: could not delete {state}; delete it, it holds the app's secret")
    else:
        _out(f"Deleted {state}: the authorization is complete.")
    return EXIT_OK


def _check_save_target(path: Path) -> None:
    """Fail before the PIN flow, not after it, if the accounts file cannot take an account.

    Twitter hands out the access token once, so the file is read exactly as `add_account`
    will read it, through the store's own (private) reader.
    """
    from twcreds.errors import CredentialsError
    from twcreds.store import stored_accounts

    try:
        stored_accounts(path)
    except CredentialsError as exc:
        msg = f"cannot add an account to {path}: {exc}; fix it, or choose another --save file"
        raise CommandError(msg) from None


def _save_authorized(account: AnyAccount, save: str | None, api_base: str | None = None) -> None:
    import shlex

    from twcreds.store import add_account

    path = _store_path(save)
    try:
        accounts = add_account(path, account)
    except (TwcredsError, OSError) as exc:
        # The PIN is spent: an account not kept now would have to be authorized again.
        raise CommandError(_rescue(account, path, save, exc)) from None
    who = f" (user id {account.user_id})" if account.user_id else ""
    _out(f"Authorized {account.label}{who}.")
    _out(f"Saved to {path} (mode 0600, {_count(len(accounts))}).")
    check = ["twcreds", "check", str(path)]
    from twcreds._twython import TWITTER_API

    if api_base and api_base != TWITTER_API:
        check += ["--api-base", api_base]  # where this account lives, e.g. the emulator
    _out(f"Check it with: {shlex.join(check)}")


def _rescue(account: AnyAccount, path: Path, save: str | None, exc: BaseException) -> str:
    """Keep an account that could not be added in a file of its own; the error to show."""
    import shlex

    from twcreds.store import rescue_account

    failure = f"{account.label} was authorized but not saved: {exc}"
    rescue = rescue_account(account, path)
    if rescue is None:
        return f"{failure}. It could not be kept anywhere either: authorize it again"
    add = ["twcreds", "add", str(rescue)] + (["--file", str(path)] if save else [])
    return (
        f"{failure}. It is kept in {rescue} (mode 0600); once {path} is fixed,"
        f" add it: `{shlex.join(add)}`"
    )


# --- twcreds add -----------------------------------------------------------------------

_ADD_EPILOG = """\
examples:
  twcreds add creds-twitter.txt
  twcreds add .env --prefix BOT2_ --file accounts.json

Adds every account of SOURCE to --file PATH (default: the user store), the way
`twcreds authorize` does: an entry for the same user (same user id, else access token,
else screen name) is replaced in place, others are appended; a screen name stored under
another user id is refused. All accounts or none, in one write: mode 0600, atomic.

--keyring (pip install 'twcreds[keyring]'; OAuth 1.0a accounts), as in `twcreds add
creds-twitter.txt --keyring`, keeps each account's two secrets in the OS keyring and writes
{"keyring": "SERVICE", ...} without them; loading asks the keyring, waiting at most 3 s.
A host without a keyring (headless Linux) gets an error saying so; keyring-pass gives it
one over a `pass` store.
"""


@_command(
    "add the accounts of a file to the user store or another file",
    "Add the accounts of a credentials file to the user store, or to an accounts file.",
    _ADD_EPILOG,
)
@_source(required=True)
@_argument("--file", metavar="PATH", help="the accounts file (default: the user store)")
@_argument(
    "--keyring",
    nargs="?",
    const="twcreds",
    metavar="SERVICE",
    help="keep the secrets in the OS keyring under SERVICE (default: twcreds), not in the file",
)
@_format_options()
def _cmd_add(args: argparse.Namespace) -> int:
    from twcreds.models import names_of
    from twcreds.store import add_accounts

    _, accounts = _read(args)
    path = _store_path(args.file)
    stored = add_accounts(path, accounts, keyring=args.keyring)  # all or nothing, one write
    _note_oauth2_copies(list(accounts), stored, "add")
    names = names_of(accounts)
    where = f"; their secrets in the OS keyring (service {args.keyring!r})" if args.keyring else ""
    _out(f"Added {names} to {path} (mode 0600, {_count(len(stored))}){where}.")
    return EXIT_OK


# --- twcreds import --------------------------------------------------------------------

_IMPORT_EPILOG = """\
examples:
  twcreds import                        # every peer tool's file at its usual place
  twcreds import ~/.twurlrc
  twcreds import ~/.config/twarc/config --file accounts.json

Copies the accounts of other tools' files into the user store (or --file PATH), as
`twcreds add` does: twurl's ~/.twurlrc, t's ~/.trc, x's ~/.xrc, twarc's ~/.twarc, twarc2's
~/.config/twarc/config and xurl's ~/.xurl/auth.yml (or the older ~/.xurl file). Without
FILE, each of those places is looked at and what was found is said; a file there that
cannot be read is skipped with the reason (`skipped PATH: ...`), and one holding no account
(twarc2's config with only a bearer token or an app's keys) is passed over. With FILE, any
problem is an error and nothing is imported. The peer files themselves are only read, never
changed. twcreds also reads them in place: `twcreds list ~/.twurlrc`,
load_accounts("~/.twurlrc").

The store keeps one account per user and kind: every profile of a different user is
imported, but when one user has accounts of several apps in a file, only the tool's default
profile (else the first) is, and the others are named, to use in place.
"""


@_command(
    "copy the accounts of twurl's, t's, twarc's or xurl's files",
    "Import the accounts of other tools' credential files into the user store.",
    _IMPORT_EPILOG,
)
@_argument(
    "source",
    nargs="?",
    metavar="FILE",
    help="a peer tool's file (default: each tool's file at its usual place)",
)
@_argument("--file", metavar="PATH", help="the accounts file (default: the user store)")
@_argument(
    "--format",
    choices=("twurlrc", "twarc", "twarc2", "xurl"),
    help="FILE's format (default: from its name, else its content)",
)
def _cmd_import(args: argparse.Namespace) -> int:
    from twcreds.errors import CredentialsError
    from twcreds.models import is_bearer_record, names_of
    from twcreds.sources import peer_files, read_source, validate_records
    from twcreds.store import add_accounts

    if args.source is not None:
        places = [(Path(args.source).expanduser(), args.format)]
    else:
        if args.format is not None:
            args.parser.error("--format describes a FILE: name one")
        places = [(path, fmt) for path, fmt in peer_files() if path.is_file()]
        if not places:
            looked = ", ".join(str(path) for path, _ in peer_files())
            msg = f"no peer tool's credentials file found; looked at: {looked}"
            raise CommandError(msg)
    chosen: list[AnyAccount] = []
    passed_over = 0
    for path, fmt in places:
        try:
            parsed = read_source(path, format=fmt)
            if not any(not is_bearer_record(record.data) for record in parsed.records):
                # twarc2's config after `twarc2 configure` with a bearer token only, or an
                # app's keys only: a tool's file, but no account in it. A named FILE with
                # an app's keys gets validate_records' message, which says what to add.
                if args.source is not None and parsed.app is not None and parsed.app.data:
                    validate_records(parsed)
                if args.source is not None:
                    msg = (
                        f"{path}: holds no account to import, only an app's keys or an"
                        " app-only bearer token; authorize an account with `twcreds authorize`"
                    )
                    raise CredentialsError(msg)
                _out(f"Found no accounts in {path} (only an app's keys or bearer token).")
                passed_over += 1
                continue
            accounts = validate_records(parsed)
        except CredentialsError as exc:
            if args.source is not None:
                raise
            # Each default place on its own: one broken file does not hide the others.
            reason = str(exc).removeprefix(f"{path}: ")
            _err(f"skipped {path}: {reason}")
            passed_over += 1
            continue
        kept, skipped = _one_per_user(list(accounts), parsed.default)
        _out(f"Found {_count(len(accounts))} in {path}: {names_of(accounts)}.")
        for index in skipped:
            account = accounts[index]
            _out(
                f"note: [{index}] {account.label} of another app not imported (the store keeps"
                f" one per user); use it in place: `twcreds list {path}`"
            )
        chosen += [accounts[index] for index in kept]
    if not chosen:
        msg = f"nothing was imported: {passed_over} of {len(places)} files skipped (see above)"
        raise CommandError(msg)
    target = _store_path(args.file)
    stored = add_accounts(target, chosen)
    _out(f"Imported {names_of(chosen)} into {target} (mode 0600, {_count(len(stored))}).")
    _note_oauth2_copies(chosen, stored, "import")
    return EXIT_OK


def _one_per_user(accounts: list[AnyAccount], default: int | None) -> tuple[list[int], list[int]]:
    """Indexes to import (one per screen name and kind: the default, else the first), and not."""
    first: dict[tuple[str, str], int] = {}
    for index, account in enumerate(accounts):
        if account.screen_name is None:
            continue
        key = (account.kind, account.screen_name.casefold())
        if key not in first or index == default:
            first[key] = index
    kept = [
        index
        for index, account in enumerate(accounts)
        if account.screen_name is None
        or first[(account.kind, account.screen_name.casefold())] == index
    ]
    return kept, [index for index in range(len(accounts)) if index not in kept]


def _note_oauth2_copies(given: list[AnyAccount], stored: AccountList, verb: str) -> None:
    """Say what a copied OAuth 2.0 account means: its refresh token is single-use."""
    from twcreds.models import OAuth2Account

    for account in given:
        if not isinstance(account, OAuth2Account):
            continue
        if account not in list(stored):
            _out(
                f"note: {account.label}: the store already holds a newer OAuth 2.0 token for"
                " it; kept that one (the copy's refresh token is likely spent)"
            )
        elif account.refresh_token is not None:
            _out(
                f"note: {account.label}: its refresh token works once, and the {verb}ed"
                " file holds it too: use the account from the store from now on (whichever"
                " copy refreshes first makes the other stale)"
            )


# --- twcreds list ----------------------------------------------------------------------

_LIST_EPILOG = """\
examples:
  twcreds list
  twcreds list accounts.json
  twcreds list .env --prefix BOT2_ --json

Columns: index, screen name, user id, kind (oauth1 or oauth2), the app's key (consumer key
or OAuth 2.0 client id) and the access token (their last 4 characters only), when an OAuth
2.0 token expires, and where each account came from. No secret is ever shown. OAuth 2.0
accounts missing a scope a posting bot needs are named below the table, with the fix.

--json prints a list, one object per account, with the keys index, screen_name, user_id,
kind (oauth1 or oauth2), consumer_key and client_id (masked; null for the other kind),
access_token (masked), expires_at (ISO 8601 UTC, or null), scopes (or null),
missing_scopes, source (the file, or the environment) and where (the place in it).
"""


@_command(
    "list the accounts of a source, secrets masked",
    "List the accounts of a source; no secret is ever shown.",
    _LIST_EPILOG,
)
@_source()
@_argument("--json", action="store_true", help="print a JSON list instead")
@_format_options()
def _cmd_list(args: argparse.Namespace) -> int:
    from twcreds.models import OAuth2Account
    from twcreds.sources import account_records

    parsed, accounts = _read(args)
    ellipsis = _ellipsis(sys.stdout)
    source = f"environment ({args.prefix}*)" if parsed.environment else parsed.label
    rows = [
        {
            "index": index,
            "screen_name": account.screen_name,
            "user_id": account.user_id,
            **_kind_fields(account, ellipsis),
            "source": source,
            "where": record.where,
        }
        for index, (account, record) in enumerate(
            zip(accounts, account_records(parsed), strict=True)
        )
    ]
    if args.json:
        _print_json(rows, ellipsis)
        return EXIT_OK
    header = ["#", "SCREEN NAME", "USER ID", "KIND", "APP KEY", "ACCESS TOKEN", "EXPIRES"]
    table = [[*header, "SOURCE"]]
    table += [
        [
            str(row["index"]),
            f"@{account.screen_name}" if account.screen_name else "-",
            account.user_id or "-",
            str(row["kind"]),
            str(row["client_id"] or row["consumer_key"]),
            str(row["access_token"]),
            _expiry(account),
            source,
        ]
        for row, account in zip(rows, accounts, strict=True)
    ]
    widths = [max(len(line[col]) for line in table) for col in range(len(table[0]))]
    for line in table:
        _out(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    for index, account in enumerate(accounts):
        if isinstance(account, OAuth2Account) and account.missing_scopes():
            _out(_missing_scopes_note(index, account))
    return EXIT_OK


def _print_json(value: object, ellipsis: str) -> None:
    """Print ``--json`` output: indented, and valid whatever the strings hold."""
    import json

    text = json.dumps(value, indent=2, ensure_ascii=ellipsis != "\u2026")
    # json escapes the C0 controls in strings, but not C1 or bidi controls: \uXXXX for
    # those keeps the JSON valid. A line break here is the indentation's own.
    print(UNPRINTABLE.sub(_json_escape, text), flush=True)


def _kind_fields(account: AnyAccount, ellipsis: str) -> dict[str, Any]:
    """The columns that differ between the two kinds, for ``list`` and ``status``."""
    from twcreds.models import OAuth2Account

    if isinstance(account, OAuth2Account):
        return {
            "kind": "oauth2",
            "consumer_key": None,
            "client_id": mask(account.client_id, ellipsis),
            "access_token": mask(account.access_token.get_secret_value(), ellipsis),
            "expires_at": account.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "scopes": list(account.scopes),
            "missing_scopes": list(account.missing_scopes()),
        }
    return {
        "kind": "oauth1",
        "consumer_key": mask(account.consumer_key, ellipsis),
        "client_id": None,
        "access_token": mask(account.access_token, ellipsis),
        "expires_at": None,
        "scopes": None,
        "missing_scopes": [],
    }


def _expiry(account: AnyAccount) -> str:
    """When an OAuth 2.0 token expires, for a table: ``15:04 UTC``, or ``expired``."""
    from datetime import datetime, timezone

    from twcreds.models import OAuth2Account

    if not isinstance(account, OAuth2Account):
        return "-"
    if account.expires_within(0):
        refresh = " (refreshable)" if account.refresh_token is not None else ""
        return f"expired{refresh}"
    when = account.expires_at
    if when.date() == datetime.now(timezone.utc).date():
        return f"{when:%H:%M} UTC"
    return f"{when:%Y-%m-%d %H:%M} UTC"


def _missing_scopes_note(index: int, account: OAuth2Account) -> str:
    missing = " ".join(account.missing_scopes())
    return (
        f"note: [{index}] {account.label} lacks {missing}, which a posting bot needs;"
        " authorize it again: `twcreds authorize --oauth2 APP`"
    )


# --- twcreds status --------------------------------------------------------------------

_STATUS_EPILOG = """\
examples:
  twcreds status
  twcreds status ~/.twurlrc
  twcreds status /run/secrets --json

For every account of SOURCE (default: the first place of the chain holding credentials):
its kind, where it came from (a file and the place in it, environment variables, a secrets
directory, a credential process), its app key and tokens masked (last 4 characters), when
an OAuth 2.0 token expires and its scopes, and what it lacks for posting, with the command
that fixes it. Nothing is sent to Twitter: `twcreds check` asks Twitter.

--json prints a list, one object per account, with the keys of `list --json` (index,
screen_name, user_id, kind, consumer_key, client_id, access_token, expires_at, scopes,
missing_scopes, source, where) and: origin (file, environment, directory, process or
keyring), refreshable (OAuth 2.0: a refresh token is held; else null), expired (OAuth 2.0;
else null), ready (nothing is missing for posting), missing (what is, in words) and fix
(the command that fixes it, or null). An expired token that can be refreshed is ready: its
fix refreshes it now (`twcreds token NAME`, with --file for another JSON file; a token of
another file is first copied into the user store; none for the environment, where a bot
refreshes it in memory). Never a secret. Exit status 1 if an account is not ready.
"""


@_command(
    "show each account's origin, expiry and what it lacks",
    "Show every account of a source: kind, origin, masked values, expiry, scopes, fixes.",
    _STATUS_EPILOG,
)
@_source()
@_argument("--json", action="store_true", help="print a JSON list instead (keys: see below)")
@_format_options()
def _cmd_status(args: argparse.Namespace) -> int:
    from twcreds.sources import account_records

    parsed, accounts = _read(args)
    ellipsis = _ellipsis(sys.stdout)
    rows = [
        _status_row(index, account, record, parsed, args.prefix, ellipsis)
        for index, (account, record) in enumerate(
            zip(accounts, account_records(parsed), strict=True)
        )
    ]
    ready = all(row["ready"] for row in rows)
    if args.json:
        _print_json(rows, ellipsis)
        return EXIT_OK if ready else EXIT_FAILED
    for row, account in zip(rows, accounts, strict=True):
        _out(f"[{row['index']}] {account.label} ({account.kind})")
        _out(f"    from:          {row['origin']}: {row['where']}")
        if row["kind"] == "oauth2":
            _out(f"    client id:     {row['client_id']}")
        else:
            _out(f"    consumer key:  {row['consumer_key']}")
        _out(f"    access token:  {row['access_token']}")
        if row["kind"] == "oauth2":
            refresh = "refreshable" if row["refreshable"] else "no refresh token"
            # _expiry says "(refreshable)" of an expired token itself: said once here.
            expiry = _expiry(account).removesuffix(" (refreshable)")
            _out(f"    expires:       {expiry} ({refresh})")
            _out(f"    scopes:        {' '.join(row['scopes']) or '(none recorded)'}")
        if row["ready"]:
            _out("    posting:       ready")
        else:
            _out(f"    posting:       missing {row['missing']}")
            _out(f"    fix:           {row['fix']}")
    return EXIT_OK if ready else EXIT_FAILED


def _status_row(
    index: int, account: AnyAccount, record: Any, parsed: Parsed, prefix: str, ellipsis: str
) -> dict[str, Any]:
    """One account for ``status``: ``list``'s columns, where it came from, what it lacks."""
    from twcreds.models import OAuth2Account

    # Origins are kept by the record's place in the file, which a bearer token before it
    # shifts from the account's index.
    position = next((i for i, r in enumerate(parsed.records) if r is record), index)
    origin = "environment" if parsed.environment else parsed.origins.get(position, parsed.origin)
    if parsed.environment:
        names = sorted({record.names.get(key, key) for key in record.data})
        files = sorted({place for place in record.places.values() if place != "the environment"})
        where = ", ".join(names) + (f" (values from {', '.join(files)})" if files else "")
    else:
        where = record.where
    row: dict[str, Any] = {
        "index": index,
        "screen_name": account.screen_name,
        "user_id": account.user_id,
        **_kind_fields(account, ellipsis),
        "source": f"environment ({prefix}*)" if parsed.environment else parsed.label,
        "where": where,
        "origin": origin,
        "refreshable": None,
        "expired": None,
        "ready": True,
        "missing": None,
        "fix": None,
    }
    if isinstance(account, OAuth2Account):
        name = account.screen_name or str(index)
        row["refreshable"] = account.refresh_token is not None
        row["expired"] = account.expires_within(0)
        missing = list(account.missing_scopes())
        if row["expired"] and not row["refreshable"]:
            missing.insert(0, "a valid token (expired, and no refresh token)")
        if missing:
            row["ready"] = False
            row["missing"] = ", ".join(missing)
            row["fix"] = "twcreds authorize --oauth2 APP   (asks for the posting scopes)"
        elif row["expired"] and origin in ("process", "keyring"):
            # Refreshing here would spend the token its secret manager keeps, and the
            # new one could not be written back there.
            row["fix"] = "renew it where it is kept (its secret manager); bots refresh on use"
        elif row["expired"]:
            row["fix"] = _refresh_fix(name, parsed, prefix)
    return row


def _refresh_fix(name: str, parsed: Parsed, prefix: str) -> str | None:
    """The command that refreshes an expired OAuth 2.0 token now, for where it came from.

    `twcreds token` reads a twcreds JSON file only (the user store, or ``--file``): a token
    from elsewhere is copied into the store first. None for the environment: nothing there
    can keep a refreshed token, and a bot refreshes it in memory on use.
    """
    import shlex

    from twcreds.formats import PEER_FILE_NAMES
    from twcreds.sources import default_store_path

    token = f"twcreds token {shlex.quote(name)}"
    why = "(refreshes it now; bots refresh on use)"
    if parsed.environment:
        return None
    if parsed.path is not None:
        if parsed.path.resolve() != default_store_path().resolve():
            token += f" --file {shlex.quote(str(parsed.path))}"
        return f"{token}   {why}"
    source = shlex.quote(parsed.label)
    peer = parsed.per_app or Path(parsed.label).name in PEER_FILE_NAMES
    copy = f"twcreds import {source}" if peer else f"twcreds add {source}"
    if prefix != "TWITTER_" and not peer:
        copy += f" --prefix {shlex.quote(prefix)}"
    return f"{copy} && {token}   (copies it into the user store, then {why[1:]}"


# --- twcreds check ---------------------------------------------------------------------

_CHECK_EPILOG = """\
examples:
  twcreds check
  twcreds check accounts.json --workers 16
  twcreds check --json | jq -r '.[] | select(.status != "ok") | .screen_name'
  twcreds check accounts.json --max-age 1h       # ask again about what is older than 1 hour
  twcreds check accounts.json --offline          # no call, no cost
  twcreds check .env --api-base http://127.0.0.1:8765

Asks Twitter who each account is (GET /2/users/me), several accounts at a time. One line
per account, in the order of the SOURCE: ok (with the screen name Twitter reports),
rejected (with the usual causes), rate-limited (with the reset time), no-credits (402: the
app's pay-per-use credits are spent; add credits in the developer portal), unreachable, or
error (any other answer). An account without a screen name is shown by its user id, or
failing that by its access token's last 4 characters.
Every account is checked, whatever fails. Exit status 1 if any account failed.

Each GET /2/users/me is a billed read, so an account verified within --max-age (default
24h) is not asked about again: its line says when it was verified. The count of billed
calls is said (on stderr) before any is made. What X rejected is never remembered as
good: it is asked about at every run. --max-age 0 asks X about every account. The times
are kept in the user cache dir (twcreds/verified.json), under a keyed hash: never a token.
They are kept 30 days, so a --max-age above 30d acts as 30d.

--offline makes no call at all: it checks what can be checked locally (every value's
format, duplicates, a user id against its token, the file's permissions, OAuth 2.0
expiry and scopes) and says when each account was last verified.

--json prints a list instead, one object per account with the keys index, screen_name,
user_id, kind (oauth1 or oauth2), access_token (masked), status (ok, rejected,
rate-limited, no-credits, unreachable, error) and detail (the line's text); never a
secret. It reports what X answered: --json with --offline is a usage error (exit 2).
"""


@_command(
    "verify every account with Twitter",
    "Verify every account of a source with Twitter, concurrently.",
    _CHECK_EPILOG,
)
@_source()
@_argument(
    "--workers",
    type=_positive_int,
    default=DEFAULT_WORKERS,
    metavar="N",
    help=f"accounts checked at once (default: {DEFAULT_WORKERS})",
)
@_argument(
    "--timeout",
    type=_positive_float,
    default=DEFAULT_TIMEOUT,
    metavar="SECONDS",
    help=f"per connect and per read (default: {DEFAULT_TIMEOUT:g})",
)
@_argument("--json", action="store_true", help="print a JSON list instead (keys: see below)")
@_argument(
    "--max-age",
    type=_duration,
    default=DEFAULT_MAX_AGE,
    metavar="AGE",
    help=(
        "skip accounts verified within AGE (30m, 24h, 2d, seconds; 0: verify all; default:"
        " 24h; at most 30d: older times are not kept)"
    ),
)
@_argument(
    "--offline", action="store_true", help="make no call: check locally only (not with --json)"
)
@_format_options()
@_api_base
def _cmd_check(args: argparse.Namespace) -> int:
    from collections import Counter

    from twcreds import models
    from twcreds._twython import resolve_api_base
    from twcreds.sources import locate_accounts
    from twcreds.verified import VerificationCache

    if args.offline and args.json:
        args.parser.error("--json reports what X answered: not with --offline")
    base = resolve_api_base(args.api_base)  # a bad $TWCREDS_API_BASE fails here, exit 1
    _check_format_needs_source(args, args.source)
    # Not _read: check needs no record's place, so a large file takes the fast path.
    accounts, store = locate_accounts(args.source, format=args.format, prefix=args.prefix)
    total = len(accounts)
    cache = VerificationCache(api_base=base)
    if args.offline:
        return _check_offline(args, store, accounts, cache)
    todo, cached = _check_plan(accounts, cache, args.max_age)
    _announce_billed_calls(len(todo), len(cached), args.max_age)
    ellipsis = _ellipsis(sys.stdout)
    labels = [
        account.label
        if account.screen_name or account.user_id
        else f"token {_masked_token(account, ellipsis)}"
        for account in accounts
    ]
    index_width = len(str(total - 1))
    label_width = max(len(label) for label in labels)
    progress = sys.stderr if sys.stderr.isatty() else None
    results: dict[int, tuple[str, str]] = {
        index: ("ok", _cached_detail(age)) for index, age in cached.items()
    }
    shown = 0
    _progress(progress, f"\rchecked {len(results)}/{total}")
    asked = models.AccountList.model_construct([accounts[index] for index in todo])
    checks = _check_all(asked, base, args.timeout, args.workers, store) if todo else iter(())
    try:
        for position, result in checks:
            index = todo[position]
            results[index] = result
            _remember(cache, accounts[index], result[0])
            _progress(progress, "\r\x1b[K")
            # Lines come out in the SOURCE's order, each as soon as those before are done.
            while shown in results:
                status, detail = results[shown]
                line = (
                    f"{shown:>{index_width}}  {labels[shown]:<{label_width}}  {status:<12}"
                    f"  {detail}"
                )
                if not args.json:
                    _out(line.rstrip())
                shown += 1
            if len(results) < total:
                _progress(progress, f"\rchecked {len(results)}/{total}")
    finally:
        _save_cache(cache)  # the calls made are paid for, Ctrl-C or not
    while shown in results:  # every account came from the cache
        status, detail = results[shown]
        line = f"{shown:>{index_width}}  {labels[shown]:<{label_width}}  {status:<12}  {detail}"
        if not args.json:
            _out(line.rstrip())
        shown += 1
    failed = Counter(status for status, _ in results.values() if status != "ok")
    if args.json:
        _print_check_json(accounts, results, ellipsis)
        return EXIT_FAILED if failed else EXIT_OK
    if not failed:
        _out(f"All {_count(total)} ok.")
        return EXIT_OK
    breakdown = ", ".join(f"{n} {status}" for status, n in sorted(failed.items()))
    _out(f"{total - sum(failed.values())} of {total} accounts ok; {breakdown}.")
    return EXIT_FAILED


def _print_check_json(
    accounts: AccountList, results: dict[int, tuple[str, str]], ellipsis: str
) -> None:
    """``check --json``: one object per account, in the SOURCE's order (keys in --help)."""
    _print_json(
        [
            {
                "index": index,
                "screen_name": account.screen_name,
                "user_id": account.user_id,
                "kind": _kind_fields(account, ellipsis)["kind"],
                "access_token": _masked_token(account, ellipsis),
                "status": results[index][0],
                "detail": results[index][1],
            }
            for index, account in enumerate(accounts)
        ],
        ellipsis,
    )


def _masked_token(account: AnyAccount, ellipsis: str) -> str:
    token = account.access_token
    return mask(token if isinstance(token, str) else token.get_secret_value(), ellipsis)


def _check_plan(
    accounts: AccountList, cache: VerificationCache, max_age: float
) -> tuple[list[int], dict[int, float]]:
    """Which accounts to ask X about (their indexes), and which were verified recently
    enough to skip (index -> seconds since)."""
    todo: list[int] = []
    cached: dict[int, float] = {}
    from twcreds.models import OAuth2Account

    for index, account in enumerate(accounts):
        # An expired OAuth 2.0 token says nothing of the next call: ask (refreshing it).
        expired = isinstance(account, OAuth2Account) and account.expires_within(0)
        age = None if expired else cache.fresh(account, max_age)
        if age is None:
            todo.append(index)
        else:
            cached[index] = age
    return todo, cached


def _announce_billed_calls(calls: int, cached: int, max_age: float) -> None:
    """Say, before any call, what the check will cost: one billed read per account asked."""
    within = _age(max_age)
    if not calls:
        _err(
            f"{PROG}: no billed call: all {_count(cached)} were verified within {within}"
            " (--max-age 0 asks X about every one)"
        )
        return
    plural = "s" if calls != 1 else ""
    skipped = (
        f"; {cached} verified within {within} {'is' if cached == 1 else 'are'} not asked"
        " again (--max-age 0 asks about every account)"
        if cached
        else ""
    )
    _err(f"{PROG}: {calls} billed call{plural} to X (GET /2/users/me){skipped}")


def _age(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h``, ``2 d``: for messages."""
    if seconds < 120:
        return f"{round(seconds)} s"
    if seconds < 2 * 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 2 * 86400:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} d"


def _cached_detail(age: float) -> str:
    return f"verified {_age(age)} ago; not asked again (--max-age 0 to ask)"


def _remember(cache: VerificationCache, account: AnyAccount, status: str) -> None:
    """Keep a good answer; drop what is known of an account X rejected (401, 403, ...).

    A rate limit, a network failure or spent credits say nothing of the credentials: what
    was known stays as it was.
    """
    if status == "ok":
        cache.record([account])
    elif status not in ("rate-limited", "unreachable", "no-credits"):
        cache.forget(account)


def _save_cache(cache: VerificationCache) -> None:
    try:
        cache.save()
    except TwcredsError as exc:
        _err(f"{PROG}: warning: the verification times were not kept: {exc}")


def _check_offline(
    args: argparse.Namespace, path: Path | None, accounts: AccountList, cache: VerificationCache
) -> int:
    """``--offline``: what can be checked without a call, one line per account."""
    from twcreds.models import OAuth2Account

    loaded = len(accounts)
    _out(
        f"{_count(loaded)} read: formats, duplicates and user ids are good"
        " (checked offline; no call made)."
    )
    failures = 0
    source = Path(args.source).expanduser() if args.source else path
    if (
        os.name == "posix"
        and source is not None
        and source.is_file()
        and source.stat().st_mode & 0o077
    ):
        failures += 1
        _out(f"{source}: readable or writable by other users; run `chmod 600 {source}`")
    width = len(str(loaded - 1))
    for index, account in enumerate(accounts):
        status, notes = "ok", [account.kind]
        if isinstance(account, OAuth2Account):
            if account.expires_within(0):
                if account.refresh_token is None:
                    status = "expired"
                    notes.append("token expired and no refresh token: `twcreds authorize --oauth2`")
                else:
                    notes.append("token expired; refreshed at its next call")
            else:
                notes.append(f"token until {_expiry(account)}")
            missing = account.missing_scopes()
            if missing:
                status = "scopes"
                notes.append(f"lacks {' '.join(missing)}: `twcreds authorize --oauth2`")
        when = cache.verified_at(account)
        notes.append(
            "never verified here" if when is None else f"verified {_age(cache.now - when)} ago"
        )
        failures += status != "ok"
        _out(f"{index:>{width}}  {account.label}  {status}  {'; '.join(notes)}")
    if failures:
        _out(f"{failures} problem{'s' if failures != 1 else ''} found offline.")
        return EXIT_FAILED
    _out(f"All {_count(loaded)} ok offline.")
    return EXIT_OK


def _check_one(
    account: AnyAccount, api_base: str, timeout: float, store: Path | None = None
) -> tuple[str, str]:
    """Verify one account; (status, detail), never an exception.

    An OAuth 2.0 account whose token is due is refreshed on the way, under its file's lock
    and written back (``store``), exactly as a bot's own client would. From a source that
    cannot take a new pair (.env, the environment, another tool's file) it is never
    refreshed: that would spend the refresh token the source holds.
    """
    from twcreds.api import verify_account
    from twcreds.clients import make_client
    from twcreds.errors import (
        CredentialsRejectedError,
        CreditsDepletedError,
        RateLimitError,
        TwitterConnectionError,
    )
    from twcreds.models import OAuth2Account

    if isinstance(account, OAuth2Account) and store is None and account.expires_within(0):
        return "expired", (
            f"the token expired at {account.expires_at:%Y-%m-%d %H:%M} UTC; not refreshed"
            " here, which would spend the refresh token this source holds: store the account"
            " (`twcreds add SOURCE`, or `twcreds import` for another tool's file) and check"
            " the store"
        )
    try:
        if isinstance(account, OAuth2Account):
            with make_client(
                account,
                api_base=api_base,
                timeout=timeout,
                store=store,
                refresh="stored" if store is not None else False,
            ) as client:
                me = verify_account(client)
        else:
            me = verify_account(account, api_base=api_base, timeout=timeout)
    except TwcredsError as exc:
        status = {
            CredentialsRejectedError: "rejected",
            RateLimitError: "rate-limited",
            TwitterConnectionError: "unreachable",
            CreditsDepletedError: "no-credits",
        }.get(type(exc), "error")
        if isinstance(exc, RateLimitError):
            return status, _reset_detail(exc)
        # The line shows the account already.
        return status, str(exc).removeprefix(f"verify {account.label}: ")
    except Exception as exc:  # a bug must not stop the other checks
        return "error", f"unexpected {type(exc).__name__}; please report it"
    detail = f"{me.label} (user id {me.user_id})"
    stored = account.screen_name
    if stored and me.screen_name and stored.casefold() != me.screen_name.casefold():
        detail += f"; stored as @{stored}: the account was renamed"
    if isinstance(me, OAuth2Account):
        detail += f"; OAuth 2.0, token until {_expiry(me)}"
        if me.missing_scopes():
            detail += f"; lacks {' '.join(me.missing_scopes())}: `twcreds authorize --oauth2`"
    return "ok", detail


def _reset_detail(exc: RateLimitError) -> str:
    if exc.reset_at is None:
        return "the limit's reset time is unknown; wait 15 minutes and check again"
    wait = ""
    if exc.retry_after is not None:
        minutes, seconds = divmod(max(0, round(exc.retry_after)), 60)
        wait = f" (in {minutes} min {seconds} s)" if minutes else f" (in {seconds} s)"
    if exc.window != "15min":
        whose = "the account's" if exc.window == "24h-user" else "the app's"
        hours, minutes = divmod(round((exc.retry_after or 0) / 60), 60)
        return (
            f"{whose} 24-hour limit is used up, until {exc.reset_at:%Y-%m-%d %H:%M} UTC"
            f" (in {hours} h {minutes} min); check again then"
        )
    return f"until {exc.reset_at:%H:%M:%S} UTC{wait}; check again then"


def _check_all(
    accounts: AccountList, api_base: str, timeout: float, workers: int, store: Path | None = None
) -> Iterator[tuple[int, tuple[str, str]]]:
    """Check the accounts on ``workers`` threads; (index, result) as each one finishes.

    Daemon threads rather than a ThreadPoolExecutor, whose threads the interpreter joins
    at exit: after Ctrl-C, the process would wait for every request in flight to time out.
    """
    import queue
    import threading

    from twcreds._twython import shared_connections

    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    done: queue.SimpleQueue[tuple[int, tuple[str, str]]] = queue.SimpleQueue()
    for index in range(len(accounts)):
        todo.put(index)
    stop = threading.Event()

    def work() -> None:
        # One kept-alive connection per worker, not one per account; each account still
        # signs its own requests.
        with shared_connections():
            while not stop.is_set():
                try:
                    index = todo.get_nowait()
                except queue.Empty:
                    return
                done.put((index, _check_one(accounts[index], api_base, timeout, store)))

    for _ in range(min(workers, len(accounts))):
        threading.Thread(target=work, name="twcreds-check", daemon=True).start()
    try:
        for _ in range(len(accounts)):
            yield done.get()
    finally:
        stop.set()  # on Ctrl-C: no new checks; those in flight end with the process


def _progress(stream: TextIO | None, text: str) -> None:
    """``checked 37/200`` on one overwritten line, where stderr is a terminal."""
    if stream is not None:
        stream.write(text)
        stream.flush()


# --- twcreds convert -------------------------------------------------------------------

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


@_command(
    "rewrite credentials in another format (json, lines, env)",
    "Rewrite credentials in another format, in a private file.",
    _CONVERT_EPILOG,
)
@_source()
@_argument("--to", choices=FORMATS, required=True, help="the output format")
@_argument(
    "-o",
    "--output",
    required=True,
    metavar="OUT",
    help="the file to write; `-` for stdout (shows the secrets)",
)
@_argument("--account", metavar="NAME", help="only this account: a screen name or an index")
@_argument(
    "--to-prefix",
    metavar="P",
    help="variable prefix for --to env (default: --prefix, i.e. TWITTER_)",
)
@_argument("--force", action="store_true", help="replace OUT if it exists")
@_format_options()
def _cmd_convert(args: argparse.Namespace) -> int:
    from twcreds.models import names_of
    from twcreds.store import write_private

    parsed, accounts = _read(args)
    chosen = list(accounts) if args.account is None else [_pick(accounts, args.account, parsed)]
    if args.to in ("lines", "env") and len(chosen) > 1:
        names = names_of(f"[{i}] {a.label}" for i, a in enumerate(chosen))
        article = "an" if args.to == "env" else "a"
        msg = (
            f"{parsed.label} holds {len(chosen)} accounts ({names}); {article} {args.to}"
            " file holds one: pick it with --account NAME (or an index), or convert to json"
        )
        raise CommandError(msg)
    prefix = args.to_prefix if args.to_prefix is not None else args.prefix
    from twcreds.formats import dump_accounts

    # One account is the guide's single-account object; several, its list.
    text = dump_accounts(chosen[0] if len(chosen) == 1 else chosen, args.to, prefix=prefix)
    if args.output == "-":
        # Asked for explicitly: the one place the command line shows secrets.
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    out = Path(args.output).expanduser()  # the writer expands ~ too: check the same file
    if os.path.lexists(out) and not args.force:
        raise CommandError(f"{out} exists; add --force to replace it, or choose another -o file")
    write_private(out, text.encode("utf-8"))
    _out(f"Wrote {_count(len(chosen))} to {out} ({args.to}, mode 0600).")
    if args.to == "lines" and (chosen[0].screen_name or chosen[0].user_id):
        _out("Note: a lines file has no place for the screen name and user id.")
    return EXIT_OK


def _pick(accounts: AccountList, name: str, parsed: Parsed) -> AnyAccount:
    """``--account NAME``: a screen name first (one may be all digits), else an index."""
    from twcreds.sources import select_account

    try:
        return accounts[name]
    except KeyError:
        pass
    digits = name.strip()
    index = digits.isascii() and digits.lstrip("-").isdigit() and len(digits) <= 18
    choice: str | int = int(digits) if index else name
    return select_account(accounts, choice, parsed.label, default=parsed.default)


# --- twcreds remove --------------------------------------------------------------------

_REMOVE_EPILOG = """\
examples:
  twcreds remove secondbot
  twcreds remove @secondbot --file accounts.json
  twcreds remove '#1'                  # by its index in `twcreds list`

NAME is a screen name (case-insensitive, @ optional), else a user id (which also matches
the user-id prefix of an access token: NNNN-...), else an index as `twcreds list` shows it
(#0 or 0 for the first). An account from the guide's 4-line file has no screen name or
user id: remove it by index or by its access token's user id. The file is rewritten
atomically (mode 0600); removing its last account leaves an empty list.
"""


@_command(
    "remove an account from the user store or a file",
    "Remove an account from the user store, or from an accounts file.",
    _REMOVE_EPILOG,
)
@_argument("name", metavar="NAME", help="screen name, user id, or index (#0 is the first)")
@_argument("--file", metavar="PATH", help="the accounts file (default: the user store)")
def _cmd_remove(args: argparse.Namespace) -> int:
    from twcreds.errors import CredentialsNotFoundError
    from twcreds.store import remove_account

    path = _store_path(args.file)
    try:
        removed = remove_account(path, args.name)
    except CredentialsNotFoundError:
        if args.file:
            msg = f"{path}: no such file; check the path given to --file"
        else:
            msg = (
                f"the user store {path} does not exist yet (`twcreds authorize` and"
                " `twcreds add` create it); to remove from another accounts file, name it"
                " with --file PATH"
            )
        raise CommandError(msg) from None
    if removed.screen_name or removed.user_id:
        user = f" (user id {removed.user_id})" if removed.user_id and removed.screen_name else ""
        what = f"{removed.label}{user}"
    else:  # from the guide's 4-line file: its access token's last 4, as `list` shows them
        token = removed.access_token
        value = token if isinstance(token, str) else token.get_secret_value()
        what = f"the account with access token {mask(value, _ellipsis(sys.stdout))}"
    _out(f"Removed {what} from {path}.")
    return EXIT_OK


# --- twcreds token ---------------------------------------------------------------------

_PRINT_EPILOG = """\
examples:
  twcreds token mybot
  curl -H "Authorization: Bearer $(twcreds token mybot)" https://api.x.com/2/users/me
  twcreds token 0 --file accounts.json --min-valid 3600

Prints a valid OAuth 2.0 access token of the stored account NAME (a screen name, or an
index as `twcreds list` shows it), and nothing else, on stdout. A token expiring within
--min-valid seconds (default 300) is refreshed first, under the file's lock, and the new
pair is written back before it is printed, so scripts sharing the account with bots never
spend each other's refresh token. The token is a secret: this is the one command, with
`convert -o -`, that prints one.
"""


@_command(
    "print a valid OAuth 2.0 access token, refreshed if due",
    "Print a stored account's OAuth 2.0 access token, refreshing it first if due.",
    _PRINT_EPILOG,
)
@_argument("name", metavar="NAME", help="screen name or index of a stored OAuth 2.0 account")
@_argument("--file", metavar="PATH", help="the accounts file (default: the user store)")
@_argument(
    "--min-valid",
    type=_positive_float,
    default=300.0,
    metavar="SECONDS",
    help="refresh unless the token stays valid this long (default: 300)",
)
@_argument(
    "--timeout",
    type=_positive_float,
    default=DEFAULT_TIMEOUT,
    metavar="SECONDS",
    help=f"per connect and per read (default: {DEFAULT_TIMEOUT:g})",
)
@_api_base
def _cmd_token(args: argparse.Namespace) -> int:
    from twcreds._twython import resolve_api_base
    from twcreds.errors import CredentialsError
    from twcreds.models import OAuth2Account
    from twcreds.sources import load_accounts, select_account
    from twcreds.tokens import Refresher

    base = resolve_api_base(args.api_base)
    path = _store_path(args.file)
    accounts = load_accounts(path, format="json")
    name = args.name.strip()
    choice: str | int = name
    if name.isascii() and name.isdigit() and len(name) <= 18:
        try:
            accounts[name]
        except KeyError:
            choice = int(name)
    account = select_account(accounts, choice, str(path))
    if not isinstance(account, OAuth2Account):
        msg = (
            f"{path}: {account.label} is an OAuth 1.0a account: it signs each request and has"
            " no bearer token; authorize it with `twcreds authorize --oauth2` for one"
        )
        raise CredentialsError(msg)
    keeper = Refresher(account, store=path, on_refresh=None, api_base=base, timeout=args.timeout)
    if account.expires_within(args.min_valid):
        keeper.renew_if(lambda stored: stored.expires_within(args.min_valid))
    # Asked for explicitly, for scripts: the token alone on stdout.
    sys.stdout.write(keeper.token + "\n")
    sys.stdout.flush()
    return EXIT_OK


# --- twcreds completion ----------------------------------------------------------------

_COMPLETION_EPILOG = """\
examples:
  twcreds completion bash > ~/.local/share/bash-completion/completions/twcreds
  twcreds completion zsh > "${fpath[1]}/_twcreds"      # then restart zsh
  twcreds completion fish > ~/.config/fish/completions/twcreds.fish

Prints a completion script for SHELL (made by shtab from twcreds' own options): commands,
options, format names, and file names where a file is expected.
"""

_FILE_ARGUMENTS = frozenset({"source", "app_source", "file", "save", "state", "output"})


@_command(
    "print a shell completion script (bash, zsh, fish)",
    "Print a shell completion script for twcreds.",
    _COMPLETION_EPILOG,
)
@_argument("shell", choices=("bash", "zsh", "fish"), help="the shell to complete in")
def _cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    parser = build_parser()
    for action in parser._actions:  # the subcommands' parsers, for their file arguments
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                for option in sub._actions:
                    if option.dest in _FILE_ARGUMENTS:
                        option.complete = shtab.FILE
    sys.stdout.write(shtab.complete(parser, shell=args.shell))
    sys.stdout.flush()
    return EXIT_OK


# --- twcreds demo ----------------------------------------------------------------------

_DEMO_EPILOG = """\
example:
  twcreds demo

Starts an offline Twitter in this process, registers an app and an account, authorizes a
second account with the PIN flow (OAuth 1.0a) and a third with the PKCE flow (OAuth 2.0),
stores the three in a private file, loads them, verifies each and posts from each with a
picture (uploaded through X's v2 media endpoints). Then the OAuth 2.0 token expires: the
next post refreshes it and writes the new tokens back to the file. Last, every post and
picture is confirmed on the fake's record. Nothing leaves this machine.
"""


@_command(
    "run the whole journey against an offline Twitter",
    "Run the guide's whole journey against an offline Twitter, in-process.",
    _DEMO_EPILOG,
)
def _cmd_demo(args: argparse.Namespace) -> int:
    from twcreds.demo import run_demo

    return run_demo(echo=_out)


# --- twcreds emulator: its options are the emulator's own (see parse_args) ---------------


@_command("serve an offline Twitter for your bot to talk to", add_help=False)
def _cmd_emulator(args: argparse.Namespace) -> int:
    from twcreds.testing.__main__ import serve

    return serve(args.emulator, prog=f"{PROG} emulator")

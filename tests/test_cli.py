"""The `twcreds` command line, in-process through `main(argv)` and as the installed script.

Networked commands talk to a real offline Twitter (`FakeTwitter`) over HTTP. The
interactive `authorize` runs in a pseudo-terminal, so that its hidden secret prompt
(getpass) and its PIN prompt are the real ones.
"""

from __future__ import annotations

import contextlib
import http.server
import importlib
import inspect
import json
import os
import re
import select
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import CANARY, write_private
from twcreds import (
    Account,
    App,
    OAuth2Account,
    __version__,
    cli,
    load_account,
    load_accounts,
    make_client,
    post_tweet,
    save_accounts,
    verify_account,
)
from twcreds.cli import main
from twcreds.errors import RateLimitError, TwitterAPIError
from twcreds.sources import default_store_path
from twcreds.testing import FakeTwitter

COMMANDS = [
    "authorize",
    "add",
    "import",
    "list",
    "status",
    "check",
    "convert",
    "remove",
    "token",
    "completion",
    "demo",
    "emulator",
]
BIN = Path(sys.executable).parent
SCRIPT = shutil.which("twcreds", path=str(BIN)) or str(BIN / "twcreds")
# Makes the pseudo-terminal the child's controlling terminal (getpass opens /dev/tty),
# then runs the console script in that same process.
CONTROLLING_TTY = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0);"
    " os.execv(sys.argv[1], sys.argv[1:])"
)


# --- fixtures and helpers --------------------------------------------------------------


@dataclass
class World:
    fake: FakeTwitter
    app: App
    accounts: list[Account]
    path: Path

    @property
    def secrets(self) -> list[str]:
        found = {self.app.consumer_secret.get_secret_value()}
        for account in self.accounts:
            found.add(account.consumer_secret.get_secret_value())
            found.add(account.access_token_secret.get_secret_value())
        return sorted(found)


@pytest.fixture
def fake() -> Iterator[FakeTwitter]:
    with FakeTwitter() as server:
        yield server


@pytest.fixture
def world(fake: FakeTwitter, tmp_path: Path) -> World:
    app = fake.create_app()
    accounts = [fake.issue_token(app, name) for name in ("alice", "bob", "carol")]
    path = tmp_path / "accounts.json"
    save_accounts(path, accounts)
    return World(fake, app, accounts, path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`main(argv)` in this process: (exit status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def run_script(
    *argv: str,
    module: bool = False,
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> subprocess.CompletedProcess[str]:
    """The installed console script (or `python -m twcreds`) in a subprocess."""
    command = [sys.executable, "-m", "twcreds"] if module else [SCRIPT]
    return subprocess.run(
        [*command, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text


def app_file(path: Path, app: App) -> Path:
    return write_private(path, f"{app.consumer_key}\n{app.consumer_secret.get_secret_value()}\n")


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in a folder: its bytes and modification time, to show nothing changed."""
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir() if p.is_file()
    }


class Terminal:
    """A program running in a pseudo-terminal, driven like a person at a keyboard."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CONTROLLING_TTY, *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.fd = master
        self.transcript = ""
        self._seen = 0

    def expect(self, pattern: str, timeout: float = 15) -> re.Match[str]:
        """Wait for ``pattern`` in what the program writes after the last match."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.compile(pattern).search(self.transcript, self._seen)
            if match:
                self._seen = match.end()
                return match
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(0.0, remaining))
            chunk = self._read() if ready else None
            if not chunk:
                raise AssertionError(f"no {pattern!r} in the terminal:\n{self.transcript}")
            self.transcript += chunk

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def interrupt(self) -> int:
        """Press Ctrl-C; its exit status.

        Pressed again if the program is still running after a second: CPython loses a
        SIGINT that lands between printing a prompt and starting to read (no person is
        that fast, a test is).
        """
        for _ in range(5):
            self.type("\x03")
            try:
                self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
            break
        return self.finish()

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def finish(self, timeout: float = 15) -> int:
        """Read everything until the program exits; its exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            chunk = self._read() if ready else ""
            if chunk is None:
                break
            self.transcript += chunk
        return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))

    def _read(self) -> str | None:
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the program exited and closed the terminal
            return None
        return data.decode("utf-8", "replace") if data else None


def terminal_env(fake: FakeTwitter) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return {**env, "TWCREDS_API_BASE": fake.url, "TERM": "dumb"}


# --- help, version, usage --------------------------------------------------------------


def examples_in(help_text: str) -> list[list[str]]:
    """The example command lines of a help page: arguments after `twcreds`."""
    block = help_text.split("\nexample", 1)[1].split("\n\n", 1)[0]
    commands = []
    for line in block.splitlines()[1:]:
        if not line.strip().startswith("twcreds "):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        # The shell's part (`> .env`, `| head`) is not the command's.
        cut = next((i for i, w in enumerate(words) if w in {">", ">>", "|", ";", "&&"}), None)
        commands.append(words[1:cut])
    return commands


def help_of(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    status, out, err = run(capsys, *command, "--help")
    assert (status, err) == (0, "")
    return out


def test_top_level_help_lists_every_command_and_has_examples(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = help_of(capsys)
    listed = re.findall(r"^    (\w+) ", text, flags=re.MULTILINE)
    assert listed == COMMANDS
    examples = examples_in(text)
    assert len(examples) >= 3
    for argv in examples:
        cli.parse_args(argv)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_an_example_that_parses(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    examples = examples_in(help_of(capsys, command))
    assert [argv for argv in examples if argv[0] == command], (
        f"`twcreds {command} --help` shows no example of it"
    )
    for argv in examples:
        cli.parse_args(argv)  # a usage error would raise SystemExit


def test_examples_of_list_convert_check_add_remove_and_authorize_run(
    capsys: pytest.CaptureFixture[str], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = world.fake.issue_token(world.app, "firstbot")
    second = world.fake.issue_token(world.app, "secondbot")
    save_accounts("accounts.json", [first, second])
    save_accounts(default_store_path(), [second])
    write_private(
        Path("creds-twitter.txt"),
        "\n".join(
            [
                first.consumer_key,
                first.consumer_secret.get_secret_value(),
                first.access_token,
                first.access_token_secret.get_secret_value(),
            ]
        ),
    )
    env_lines = []
    for prefix, account in (("TWITTER_", first), ("BOT2_", second)):
        for key, value in account.model_dump(mode="json").items():
            env_lines.append(f"{prefix}{key.upper()}={value}")
    write_private(Path(".env"), "\n".join(env_lines) + "\n")
    app_file(Path("app.txt"), world.app)
    monkeypatch.setenv("TWCREDS_API_BASE", world.fake.url)

    ran = 0
    for command in ("list", "convert", "check", "authorize", "add", "remove"):
        for argv in examples_in(help_of(capsys, command)):
            argv = [arg.replace("http://127.0.0.1:8765", world.fake.url) for arg in argv]
            if command == "authorize" and "--url-only" not in argv and "--pin" not in argv:
                continue  # interactive: see the pseudo-terminal tests
            if "--pin" in argv:
                state = json.loads(Path("pending.json").read_text(encoding="utf-8"))
                world.fake.approve(state["oauth_token"], "thirdbot", pin=argv[-1])
            status, _, err = run(capsys, *argv)
            assert status == 0, f"twcreds {shlex.join(argv)}: {err}"
            ran += 1
    assert ran >= 14
    # `remove '#1'` removed the account of the 4-line file, which has no name.
    assert load_accounts(default_store_path()).names == ["thirdbot"]
    assert load_accounts("accounts.json").names == ["firstbot"]


def test_check_help_names_every_status_the_refusal_of_offline_json_and_the_cap(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from twcreds.verified import CACHE_LIFETIME

    source = inspect.getsource(cli._check_one)
    statuses = set(re.findall(r'"([a-z-]+)"', source)) & {
        "ok",
        "rejected",
        "rate-limited",
        "no-credits",
        "unreachable",
        "error",
    }
    assert "no-credits" in statuses
    text = " ".join(help_of(capsys, "check").split())
    listed = re.search(r"status \(([^)]*)\)", text)
    assert listed is not None
    assert statuses <= set(listed.group(1).split(", "))
    for status in statuses:
        assert f" {status} (" in text or f" {status}," in text, status
    assert "--json with --offline is a usage error" in text
    assert f"kept {CACHE_LIFETIME / 86400:g} days" in text
    assert f"at most {CACHE_LIFETIME / 86400:g}d" in text
    status, out, err = run(capsys, "check", "--json", "--offline")
    assert (status, out) == (2, "")
    assert "--offline" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"twcreds {__version__}\n", "")


def test_no_command_shows_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys)
    assert (status, out) == (2, "")
    assert err.startswith("usage: twcreds")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice"),
        (["check", "--workers", "0"], "must be at least 1"),
        (["check", "--api-base", "ftp://example.com"], "must start with http:// or https://"),
        (["convert", "a.json", "-o", "b.json"], "--to"),
        (["list", "--format", "json"], "--format describes a SOURCE file"),
        (["authorize", "--url-only"], "--url-only needs --state FILE"),
        (["authorize", "--pin", "123"], "--pin needs --state FILE"),
        (["authorize", "--state", "s.json"], "needs --url-only (step 1) or --pin"),
        (["authorize", "app.txt", "--state", "s.json", "--pin", "1"], "APP_SOURCE: not used"),
        (["emulator", "--port", "70000"], "a port is 0 to 65535"),
        (["emulator", "--rate-limit", "0"], "must be at least 1"),
        (["emulator", "--latency", "-1"], "must not be negative"),
        (["emulator", "--screen-name", "not a name"], "a screen name is 1 to 15"),
        (["emulator", "--bogus"], "unrecognized arguments: --bogus"),
        (["add"], "required: SOURCE"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert "twcreds" in err
    assert "error:" in err
    assert message in err


BAD_API_BASES = [
    "ftp://example.com",
    "127.0.0.1:8765",
    "http://",
    "http://127.0.0.1:87x5",
    "https://api.twitter.com/2",
    "http://bot:hunter2secret@127.0.0.1:8765",
    "http://127.0.0.1:8765/?x=1",
    "http://127.0.0.1 :8765",
    " ",
]


@pytest.mark.parametrize("value", BAD_API_BASES)
@pytest.mark.parametrize("command", [["check", "a.json"], ["authorize", "app.txt"]])
def test_every_bad_api_base_option_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], command: list[str], value: str
) -> None:
    status, out, err = run(capsys, *command, "--api-base", value)
    assert (status, out) == (2, "")
    (last,) = [line for line in err.splitlines() if "error:" in line]
    assert last.startswith(f"twcreds {command[0]}: error: argument --api-base: ")
    assert "hunter2secret" not in err  # the URL is described, never quoted back


def test_a_bad_api_base_in_the_environment_is_an_error_not_a_usage_error(
    capsys: pytest.CaptureFixture[str], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWCREDS_API_BASE", "http://127.0.0.1:87x5")
    app = app_file(Path("app.txt"), world.app)
    for argv in (["check", str(world.path)], ["authorize", str(app), "--no-browser"]):
        status, out, err = run(capsys, *argv)
        assert (status, out) == (1, "")
        assert err == (
            "twcreds: error: TWCREDS_API_BASE is not a valid URL (check the port); give the"
            " scheme and host only, such as https://api.twitter.com or http://127.0.0.1:8080\n"
        )
    assert world.fake.requests == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "99999"], "a port is 0 to 65535"),
        (["--port", "-1"], "a port is 0 to 65535"),
        (["--port", "http"], "not a port number"),
        (["--rate-limit", "0"], "must be at least 1"),
        (["--latency", "-0.5"], "must not be negative"),
        (["--latency", "nan"], "not a number of seconds"),
    ],
)
def test_python_m_twcreds_testing_rejects_bad_options_with_exit_2(
    argv: list[str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twcreds.testing", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("python -m twcreds.testing: error: argument")
    assert message in result.stderr


def test_import_stays_light() -> None:
    code = (
        "import sys, twcreds.cli; heavy = ('pydantic', 'twython', 'requests', 'dotenv',"
        " 'platformdirs', 'concurrent.futures'); print([m for m in heavy if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- list ------------------------------------------------------------------------------


def test_list_masks_everything_and_names_the_source(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    status, out, err = run(capsys, "list", str(world.path))
    assert (status, err) == (0, "")
    header, *rows = out.splitlines()
    assert re.split(r"\s{2,}", header) == [
        "#",
        "SCREEN NAME",
        "USER ID",
        "KIND",
        "APP KEY",
        "ACCESS TOKEN",
        "EXPIRES",
        "SOURCE",
    ]
    assert len(rows) == 3
    for index, (row, account) in enumerate(zip(rows, world.accounts, strict=True)):
        assert row.split() == [
            str(index),
            f"@{account.screen_name}",
            str(account.user_id),
            "oauth1",
            "\u2026" + account.consumer_key[-4:],
            "\u2026" + account.access_token[-4:],
            "-",
            str(world.path),
        ]
        assert account.access_token not in out
        assert account.consumer_key not in out
    assert_no_secret(out, world.secrets)


def test_list_json(capsys: pytest.CaptureFixture[str], world: World) -> None:
    status, out, _ = run(capsys, "list", str(world.path), "--json")
    rows = json.loads(out)
    assert status == 0
    assert [row["screen_name"] for row in rows] == ["alice", "bob", "carol"]
    assert rows[1] == {
        "index": 1,
        "screen_name": "bob",
        "user_id": world.accounts[1].user_id,
        "kind": "oauth1",
        "consumer_key": "\u2026" + world.app.consumer_key[-4:],
        "client_id": None,
        "access_token": "\u2026" + world.accounts[1].access_token[-4:],
        "expires_at": None,
        "scopes": None,
        "missing_scopes": [],
        "source": str(world.path),
        "where": f"{world.path}: [1] (@bob)",
    }
    assert_no_secret(out, world.secrets)


def test_list_follows_the_chain_to_the_environment(
    capsys: pytest.CaptureFixture[str], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in world.accounts[0].model_dump(mode="json").items():
        monkeypatch.setenv(f"BOT_{key.upper()}", value)
    status, out, _ = run(capsys, "list", "--prefix", "BOT_")
    assert status == 0
    assert out.splitlines()[1].split()[1:3] == ["@alice", str(world.accounts[0].user_id)]
    assert out.splitlines()[1].endswith("environment (BOT_*)")


def test_insecure_file_is_one_warning_line(world: World) -> None:
    world.path.chmod(0o644)
    result = run_script("list", str(world.path), module=True)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"twcreds: warning: {world.path}: readable or writable by other users;"
        f" run `chmod 600 {world.path}` so that only you can read your credentials"
    ]
    assert len(result.stdout.splitlines()) == 4


def test_list_as_console_script(world: World) -> None:
    result = run_script("list", str(world.path))
    assert (result.returncode, result.stderr) == (0, "")
    assert [line.split()[1] for line in result.stdout.splitlines()[1:]] == [
        "@alice",
        "@bob",
        "@carol",
    ]
    assert_no_secret(result.stdout, world.secrets)


def test_missing_source_is_one_error_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "list", "nowhere.json")
    assert (status, out) == (1, "")
    # Not "set TWCREDS_FILE": a SOURCE was named, so the chain (and TWCREDS_FILE) is unused.
    assert err == "twcreds: error: nowhere.json: no such file; check the path\n"


def test_debug_adds_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--debug", "list", "nowhere.json"], ["list", "nowhere.json", "--debug"]):
        status, _, err = run(capsys, *argv)
        assert status == 1
        assert err.startswith("Traceback (most recent call last):")
        assert err.splitlines()[-1].startswith("twcreds: error: nowhere.json: no such file")


# --- check -----------------------------------------------------------------------------


def test_check_reports_every_account_in_order_and_fails(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    fake = world.fake
    revoked = fake.issue_token(world.app, "revoked")
    fake.revoke(revoked)
    limited = fake.issue_token(world.app, "limited")
    renamed = world.accounts[2].model_copy(update={"screen_name": "oldname"})
    accounts = [revoked, world.accounts[0], limited, world.accounts[1], renamed]
    save_accounts("mixed.json", accounts)
    fake.rate_limit = 1
    verify_account(limited, api_base=fake.url)  # uses the token's one request

    status, out, err = run(capsys, "check", "mixed.json", "--api-base", fake.url)
    assert (status, err) == (1, "twcreds: 5 billed calls to X (GET /2/users/me)\n")
    lines = out.splitlines()
    assert [line.split()[:3] for line in lines[:5]] == [
        ["0", "@revoked", "rejected"],
        ["1", "@alice", "ok"],
        ["2", "@limited", "rate-limited"],
        ["3", "@bob", "ok"],
        ["4", "@oldname", "ok"],
    ]
    # v2 names no cause (401 "Unauthorized", no code): the hint names each.
    assert "Twitter answered 401: Unauthorized" in lines[0]
    assert "authorize the account again" in lines[0]
    assert re.search(r"until \d\d:\d\d:\d\d UTC \(in 1[45] min \d+ s\)", lines[2])
    assert lines[3].endswith(f"@bob (user id {world.accounts[1].user_id})")
    assert "@carol" in lines[4]
    assert "stored as @oldname" in lines[4]
    assert lines[5] == "3 of 5 accounts ok; 1 rate-limited, 1 rejected."
    assert len(lines) == 6
    assert_no_secret(out, world.secrets)


BILLED_3 = "twcreds: 3 billed calls to X (GET /2/users/me)\n"


def test_check_unreachable_twitter(capsys: pytest.CaptureFixture[str], world: World) -> None:
    closed = FakeTwitter().start()
    url = closed.url
    closed.stop()
    status, out, _ = run(capsys, "check", str(world.path), "--api-base", url, "--timeout", "2")
    assert status == 1
    assert [line.split()[2] for line in out.splitlines()[:3]] == ["unreachable"] * 3
    assert "could not connect" in out
    assert out.splitlines()[-1] == "0 of 3 accounts ok; 3 unreachable."


def test_check_runs_accounts_concurrently(capsys: pytest.CaptureFixture[str], world: World) -> None:
    accounts = [world.fake.issue_token(world.app, f"bot{i}") for i in range(8)]
    save_accounts("eight.json", accounts)
    world.fake.latency = 0.25
    argv = ["check", "eight.json", "--workers", "4", "--api-base", world.fake.url]
    start = time.perf_counter()
    status, out, _ = run(capsys, *argv)
    elapsed = time.perf_counter() - start
    assert status == 0
    assert out.splitlines()[-1] == "All 8 accounts ok."
    assert elapsed < 1.4  # one at a time would take 2 s, four at a time 0.5 s


def test_check_progress_on_a_terminal(
    capsys: pytest.CaptureFixture[str], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    status, out, err = run(capsys, "check", str(world.path), "--api-base", world.fake.url)
    assert status == 0
    assert "\rchecked 0/3" in err
    assert "\rchecked 2/3" in err
    assert err.endswith("\r\x1b[K")
    assert "\r" not in out


def test_check_as_console_script_with_api_base_from_environment(world: World) -> None:
    result = run_script("check", str(world.path), env={"TWCREDS_API_BASE": world.fake.url})
    assert (result.returncode, result.stderr) == (0, BILLED_3)
    assert result.stdout.splitlines()[-1] == "All 3 accounts ok."


def test_check_invalid_api_base_in_environment(
    capsys: pytest.CaptureFixture[str], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWCREDS_API_BASE", "127.0.0.1:8765")
    status, out, err = run(capsys, "check", str(world.path))
    assert (status, out) == (1, "")
    assert err.startswith("twcreds: error: TWCREDS_API_BASE ")
    assert len(err.splitlines()) == 1


def test_ctrl_c_during_check_exits_130_and_changes_nothing(world: World) -> None:
    accounts = [world.fake.issue_token(world.app, f"slow{i}") for i in range(20)]
    save_accounts(world.path, accounts)
    before = snapshot(world.path.parent)
    world.fake.latency = 0.3
    proc = subprocess.Popen(
        [SCRIPT, "check", str(world.path), "--workers", "2", "--api-base", world.fake.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the checks have started
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=15)
    assert proc.returncode == 130
    assert first.split()[:3] == ["0", "@slow0", "ok"]
    assert len((first + rest).splitlines()) < 20
    assert err.splitlines()[-1] == "twcreds: interrupted"
    assert "Traceback" not in err
    assert snapshot(world.path.parent) == before


def test_ctrl_c_during_check_exits_at_once_though_requests_are_in_flight(world: World) -> None:
    save_accounts(world.path, [world.fake.issue_token(world.app, f"slow{i}") for i in range(4)])
    before = snapshot(world.path.parent)
    world.fake.latency = 5  # every answer is 5 s away; the timeout (30 s) further still
    argv = [str(world.path), "--workers", "2", "--timeout", "30", "--api-base", world.fake.url]
    proc = subprocess.Popen(
        [SCRIPT, "check", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 15
        while len(world.fake.requests) < 2:  # both workers wait for an answer
            assert time.monotonic() < deadline, "the checks did not start"
            time.sleep(0.05)
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=15)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert elapsed < 2, f"exited {elapsed:.1f} s after Ctrl-C"
    assert out == ""
    assert err.splitlines()[-1] == "twcreds: interrupted"
    assert "Traceback" not in err
    assert snapshot(world.path.parent) == before


def test_check_names_unnamed_accounts_by_index_and_masked_token(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    revoked = world.fake.issue_token(world.app, "gone")
    world.fake.revoke(revoked)
    unnamed = [
        account.model_copy(update={"screen_name": None, "user_id": None})
        for account in (world.accounts[0], revoked)
    ]
    save_accounts("unnamed.json", unnamed)
    status, out, err = run(capsys, "check", "unnamed.json", "--api-base", world.fake.url)
    assert (status, err) == (1, "twcreds: 2 billed calls to X (GET /2/users/me)\n")
    first, second, summary = out.splitlines()
    tokens = ["\u2026" + account.access_token[-4:] for account in unnamed]
    assert first.split()[:4] == ["0", "token", tokens[0], "ok"]
    assert first.endswith(f"@alice (user id {world.accounts[0].user_id})")
    assert second.split()[:4] == ["1", "token", tokens[1], "rejected"]
    assert second.split("rejected", 1)[1].strip().startswith("Twitter answered 401: Unauthorized")
    assert "unnamed" not in out
    assert "verify" not in out
    assert summary == "1 of 2 accounts ok; 1 rejected."
    assert_no_secret(out, world.secrets)


# --- convert ---------------------------------------------------------------------------


def test_convert_json_to_lines_and_back(capsys: pytest.CaptureFixture[str], world: World) -> None:
    status, out, _ = run(
        capsys, "convert", str(world.path), "--to", "lines", "--account", "bob", "-o", "bob.txt"
    )
    assert status == 0
    assert out.startswith("Wrote 1 account to bob.txt (lines, mode 0600).")
    assert stat.S_IMODE(os.stat("bob.txt").st_mode) == 0o600
    assert len(Path("bob.txt").read_text(encoding="utf-8").splitlines()) == 4
    bob = world.accounts[1]
    assert load_account("bob.txt") == bob.model_copy(update={"screen_name": None, "user_id": None})

    assert run(capsys, "convert", "bob.txt", "--to", "json", "-o", "bob.json")[0] == 0
    assert isinstance(json.loads(Path("bob.json").read_text(encoding="utf-8")), dict)
    assert run(capsys, "convert", str(world.path), "--to", "json", "-o", "all.json")[0] == 0
    assert isinstance(json.loads(Path("all.json").read_text(encoding="utf-8")), list)
    assert list(load_accounts("all.json")) == world.accounts


def test_convert_to_env_with_a_prefix_by_index(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    argv = ["convert", str(world.path), "--to", "env", "--account", "2", "--prefix", "C_"]
    status, _, err = run(capsys, *argv, "-o", "carol.env")
    assert (status, err) == (0, "")
    assert load_account("carol.env", prefix="C_") == world.accounts[2]
    assert "C_SCREEN_NAME=carol" in Path("carol.env").read_text(encoding="utf-8")


def test_convert_refuses_several_accounts_for_lines_and_env(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    for fmt, article in (("lines", "a lines"), ("env", "an env")):
        status, out, err = run(capsys, "convert", str(world.path), "--to", fmt, "-o", "x")
        assert (status, out) == (1, "")
        assert err == (
            f"twcreds: error: {world.path} holds 3 accounts ([0] @alice, [1] @bob, [2] @carol);"
            f" {article} file holds one: pick it with --account NAME (or an index),"
            " or convert to json\n"
        )
    assert not Path("x").exists()


def test_long_lists_of_names_are_cut_after_ten(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    many = [world.fake.issue_token(world.app, f"bot{i:02d}") for i in range(25)]
    save_accounts("many.json", many)
    status, _, err = run(capsys, "convert", "many.json", "--to", "env", "-o", "x.env")
    assert status == 1
    names = ", ".join(f"[{i}] @bot{i:02d}" for i in range(10))
    assert f"many.json holds 25 accounts ({names} and 15 more); an env file holds one" in err
    assert "@bot10" not in err

    status, out, err = run(capsys, "add", "many.json", "--file", "bots.json")
    assert (status, err) == (0, "")
    added = ", ".join(f"@bot{i:02d}" for i in range(10))
    assert out == f"Added {added} and 15 more to bots.json (mode 0600, 25 accounts).\n"


def test_convert_never_replaces_a_file_unless_forced(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    target = write_private(Path("out.json"), "precious\n")
    status, _, err = run(capsys, "convert", str(world.path), "--to", "json", "-o", "out.json")
    assert status == 1
    assert "out.json exists; add --force" in err
    assert target.read_text(encoding="utf-8") == "precious\n"
    argv = ["convert", str(world.path), "--to", "json", "-o", "out.json", "--force"]
    assert run(capsys, *argv)[0] == 0
    assert list(load_accounts(target)) == world.accounts


def test_convert_to_stdout_only_when_asked(world: World) -> None:
    result = run_script("convert", str(world.path), "--to", "env", "--account", "alice", "-o", "-")
    assert (result.returncode, result.stderr) == (0, "")
    alice = world.accounts[0]
    assert f"TWITTER_ACCESS_TOKEN_SECRET={alice.access_token_secret.get_secret_value()}" in (
        result.stdout.splitlines()
    )


# --- remove ----------------------------------------------------------------------------


def test_remove_from_the_store_and_from_a_file(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    save_accounts(default_store_path(), world.accounts[:2])
    status, out, _ = run(capsys, "remove", "@ALICE")
    assert status == 0
    assert out == (
        f"Removed @alice (user id {world.accounts[0].user_id}) from {default_store_path()}.\n"
    )
    assert load_accounts(default_store_path()).names == ["bob"]

    result = run_script("remove", str(world.accounts[2].user_id), "--file", str(world.path))
    assert result.returncode == 0
    assert load_accounts(world.path).names == ["alice", "bob"]
    again = run_script("remove", "carol", "--file", str(world.path), module=True)
    assert again.returncode == 1
    assert again.stderr.startswith("twcreds: error: ")
    assert "no account @carol to remove (accounts: @alice, @bob)" in again.stderr


# --- add -------------------------------------------------------------------------------


def test_add_stores_the_accounts_of_a_file(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    save_accounts(default_store_path(), world.accounts[:1])
    renamed = world.accounts[0].model_copy(update={"screen_name": "alice2"})
    save_accounts("new.json", [renamed, world.accounts[2]])
    status, out, err = run(capsys, "add", "new.json")
    assert (status, err) == (0, "")
    assert out == f"Added @alice2, @carol to {default_store_path()} (mode 0600, 2 accounts).\n"
    assert load_accounts().names == ["alice2", "carol"]  # the same user id: replaced in place
    status, _, err = run(capsys, "add", "nowhere.json")
    assert status == 1
    assert err.startswith("twcreds: error: nowhere.json: no such file")


# --- authorize -------------------------------------------------------------------------


def test_authorize_in_two_steps_across_processes(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    app = app_file(Path("app.txt"), world.app)
    argv = ["authorize", str(app), "--url-only", "--state", "pending.json", "--save", "bots.json"]
    status, out, err = run(capsys, *argv, "--api-base", world.fake.url)
    assert status == 0
    (url,) = out.splitlines()
    assert url.startswith(f"{world.fake.url}/oauth/authorize?oauth_token=")
    assert "twcreds authorize --state pending.json --pin PIN --save bots.json" in err
    assert stat.S_IMODE(os.stat("pending.json").st_mode) == 0o600
    assert_no_secret(out + err, world.secrets)

    token = url.split("oauth_token=")[1]
    pin = world.fake.approve(token, "secondbot")
    result = run_script(
        "authorize", "--state", "pending.json", "--pin", pin, "--save", "bots.json", module=True
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert "Authorized @secondbot" in result.stdout
    assert not Path("pending.json").exists()
    account = load_account("bots.json")
    assert account.screen_name == "secondbot"
    post_tweet(make_client(account, api_base=world.fake.url), "two steps")
    assert [(t.screen_name, t.text) for t in world.fake.tweets] == [("secondbot", "two steps")]


def test_authorize_wrong_pin_keeps_every_file(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    app = app_file(Path("app.txt"), world.app)
    argv = ["authorize", str(app), "--url-only", "--state", "pending.json"]
    assert run(capsys, *argv, "--api-base", world.fake.url)[0] == 0
    state = Path("pending.json").read_bytes()
    world.fake.approve(json.loads(state)["oauth_token"], "secondbot", pin="1111111")
    status, out, err = run(capsys, "authorize", "--state", "pending.json", "--pin", "2222222")
    assert (status, out) == (1, "")
    assert err.startswith("twcreds: error: authorization step 2 of 2")
    assert "rejected the PIN" in err
    assert Path("pending.json").read_bytes() == state
    assert not default_store_path().exists()
    status, _, err = run(capsys, "authorize", "--state", "nothing.json", "--pin", "1")
    assert status == 1
    assert "nothing.json: no pending authorization there; start with" in err


def test_authorize_refuses_a_broken_save_file_before_the_pin_flow(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    broken = write_private(Path("bots.json"), '[{"consumer_key": "x"}]')
    app = app_file(Path("app.txt"), world.app)
    argv = ["authorize", str(app), "--save", str(broken), "--api-base", world.fake.url]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert err.startswith("twcreds: error: cannot add an account to bots.json: bots.json: [0]")
    assert err.endswith("; fix it, or choose another --save file\n")
    assert world.fake.requests == []  # no request token was asked for


def test_authorize_reads_the_save_file_as_the_store_does_before_the_pin_flow(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    home = Path(os.environ["HOME"])
    broken = write_private(home / "bots.json", '[{"consumer_key": "x"}]')
    before = broken.read_bytes()
    app = app_file(Path("app.txt"), world.app)
    argv = ["authorize", str(app), "--url-only", "--state", "pending.json", "--save", "~/bots.json"]
    status, out, err = run(capsys, *argv, "--api-base", world.fake.url)
    assert (status, out) == (1, "")
    assert err.startswith(f"twcreds: error: cannot add an account to {broken}: ")
    assert world.fake.requests == []
    assert not Path("pending.json").exists()
    assert broken.read_bytes() == before


def start_two_step(capsys: pytest.CaptureFixture[str], world: World, save: str) -> str:
    """Step 1 of a two-step authorization into ``save``; the PIN, approved as @secondbot."""
    app = app_file(Path("app.txt"), world.app)
    argv = ["authorize", str(app), "--url-only", "--state", "pending.json", "--save", save]
    status, out, err = run(capsys, *argv, "--api-base", world.fake.url)
    assert status == 0, err
    return world.fake.approve(out.strip().split("oauth_token=")[1], "secondbot")


def test_authorize_keeps_the_new_account_when_it_cannot_be_added(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    # [0] is secondbot's user under an old name and [1] another account now named
    # secondbot: the new account replaces [0], which would give two @secondbot entries.
    old = world.fake.issue_token(world.app, "secondbot").model_copy(
        update={"screen_name": "oldname"}
    )
    other = world.accounts[0].model_copy(update={"screen_name": "secondbot"})
    save_accounts("bots.json", [old, other])
    before = Path("bots.json").read_bytes()
    pin = start_two_step(capsys, world, "bots.json")

    argv = ["authorize", "--state", "pending.json", "--pin", pin, "--save", "bots.json"]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    rescue = Path("bots.json.rescued-secondbot.json")
    add = f"twcreds add {rescue} --file bots.json"
    assert err.startswith("twcreds: error: @secondbot was authorized but not saved: bots.json: ")
    assert err.endswith(
        f". It is kept in {rescue} (mode 0600); once bots.json is fixed, add it: `{add}`\n"
    )
    assert len(err.splitlines()) == 1
    assert_no_secret(out + err, world.secrets)
    assert Path("bots.json").read_bytes() == before
    assert not Path("pending.json").exists()  # its request token is spent
    assert stat.S_IMODE(rescue.stat().st_mode) == 0o600
    (kept,) = json.loads(rescue.read_text(encoding="utf-8"))
    assert kept["screen_name"] == "secondbot"
    assert verify_account(load_account(rescue), api_base=world.fake.url).screen_name == "secondbot"

    assert run(capsys, "remove", "oldname", "--file", "bots.json")[0] == 0
    # `other` still claims @secondbot under another user id: two accounts, so the add is
    # refused with the command that settles it, rather than dropping `other` silently.
    status, _, err = run(capsys, *shlex.split(add)[1:])
    assert status == 1
    settle = f"twcreds remove {other.user_id} --file bots.json"
    assert f"`{settle}`" in err
    assert run(capsys, *shlex.split(settle)[1:])[0] == 0
    status, _, err = run(capsys, *shlex.split(add)[1:])
    assert (status, err) == (0, "")
    assert load_accounts("bots.json")["secondbot"] == load_account(rescue)


def test_authorize_keeps_the_new_account_in_the_working_directory_if_its_folder_fails(
    capsys: pytest.CaptureFixture[str], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twcreds.models import PendingAuthorization

    Path("sub").mkdir()
    pin = start_two_step(capsys, world, "sub/bots.json")
    module = importlib.import_module("twcreds.authorization")
    exchange = module.complete_authorization

    def exchange_then_lose_the_folder(pending: PendingAuthorization, pin: str) -> Account:
        account: Account = exchange(pending, pin)
        Path("sub").rmdir()
        write_private(Path("sub"), "a file where the folder was\n")
        return account

    monkeypatch.setattr(module, "complete_authorization", exchange_then_lose_the_folder)
    argv = ["authorize", "--state", "pending.json", "--pin", pin, "--save", "sub/bots.json"]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    rescue = Path("bots.json.rescued-secondbot.json")
    assert f"It is kept in {rescue} (mode 0600)" in err
    assert err.endswith(f"`twcreds add {rescue} --file sub/bots.json`\n")
    assert verify_account(load_account(rescue), api_base=world.fake.url).screen_name == "secondbot"


def test_authorize_interactively_in_a_terminal(world: World) -> None:
    store = default_store_path()
    save_accounts(store, world.accounts[:1])
    secret = world.app.consumer_secret.get_secret_value()
    with Terminal([SCRIPT, "authorize"], terminal_env(world.fake)) as term:
        term.expect(r"Consumer key \(API Key\): ")
        term.type(world.app.consumer_key + "\n")
        term.expect(r"typing is hidden\): ")
        term.type(secret + "\n")
        token = term.expect(r"/oauth/authorize\?oauth_token=([\w-]+)").group(1)
        term.expect(r"PIN: ")
        term.type(world.fake.approve(token, "secondbot") + "\n")
        term.expect(r"Saved to ")
        assert term.finish() == 0, term.transcript
    assert secret not in term.transcript  # getpass did not echo it
    assert f"Saved to {store} (mode 0600, 2 accounts)." in term.transcript

    bots = load_accounts()
    assert bots.names == ["alice", "secondbot"]
    post_tweet(make_client(bots["secondbot"], api_base=world.fake.url), "hello from a pty")
    assert [(t.screen_name, t.text) for t in world.fake.tweets] == [
        ("secondbot", "hello from a pty")
    ]


def test_ctrl_c_at_the_pin_prompt_exits_130_and_saves_nothing(world: World) -> None:
    store = default_store_path()
    save_accounts(store, world.accounts[:1])
    before = snapshot(store.parent)
    app = app_file(Path("app.txt"), world.app)
    argv = [SCRIPT, "authorize", str(app), "--no-browser"]
    with Terminal(argv, terminal_env(world.fake)) as term:
        term.expect(r"PIN: ")
        assert term.interrupt() == 130
    assert term.transcript.splitlines()[-1] == "twcreds: interrupted"
    assert "Traceback" not in term.transcript
    assert snapshot(store.parent) == before


def test_authorize_without_input_fails_cleanly(
    capsys: pytest.CaptureFixture[str], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    app = app_file(Path("app.txt"), world.app)
    argv = ["authorize", str(app), "--no-browser", "--api-base", world.fake.url]
    status, _, err = run(capsys, *argv)
    assert status == 1
    assert err == (
        "twcreds: error: the input ended before an answer was given; nothing was changed\n"
    )
    assert not default_store_path().exists()


# --- demo and emulator -----------------------------------------------------------------


def test_demo(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "demo")
    assert status == 0
    assert out.splitlines()[-1] == "Demo complete: every step worked."
    result = run_script("demo", module=True)
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "Demo complete: every step worked."


def test_demo_help_tells_what_the_demo_does(capsys: pytest.CaptureFixture[str]) -> None:
    helped = " ".join(help_of(capsys, "demo").split())
    status, out, _ = run(capsys, "demo")
    assert status == 0
    # What the demo shows doing, its help says it does.
    for shown, said in (
        ("with OAuth 2.0 (PKCE)", "a third with the PKCE flow (OAuth 2.0)"),
        ("with a picture", "with a picture"),
        ("the client refreshed it", "the next post refreshes it and writes the new tokens back"),
    ):
        assert shown in out
        assert said in helped


def test_emulator_serves_until_ctrl_c(capsys: pytest.CaptureFixture[str]) -> None:
    proc = subprocess.Popen(
        [SCRIPT, "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    while not (lines and lines[-1].startswith("TWITTER_USER_ID=")):
        line = proc.stdout.readline()
        assert line, "the emulator stopped"
        lines.append(line)
    write_private(Path(".env"), "".join(lines))
    base = next(line for line in lines if line.startswith("TWCREDS_API_BASE="))
    status, out, _ = run(capsys, "check", ".env", "--api-base", base.split("=", 1)[1].strip())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    assert status == 0
    assert re.match(r"0  @twcreds_demo  ok ", out)
    assert proc.returncode == 0
    assert "stopped" in err


def read_env_block(stream: IO[str]) -> dict[str, str]:
    """The emulator's .env block, read until its last line."""
    values: dict[str, str] = {}
    while "TWITTER_USER_ID" not in values:
        line = stream.readline()
        assert line, "the emulator stopped"
        if not line.startswith("#"):
            name, _, value = line.strip().partition("=")
            values[name] = value
    return values


def test_emulator_takes_every_option_of_python_m_twcreds_testing() -> None:
    from twcreds.testing.__main__ import build_parser as emulator_parser

    options = [
        "--port",
        "0",
        "--legacy-v1",
        "--read-only",
        "--screen-name",
        "mybot",
        "--rate-limit",
        "3",
        "--latency",
        "0.01",
        "--credits",
        "5",
        "--daily-limit",
        "5",
        "--media-processing",
        "0.5",
    ]
    declared = {o for a in emulator_parser()._actions for o in a.option_strings} - {"-h", "--help"}
    assert declared == {o for o in options if o.startswith("--")}
    proc = subprocess.Popen(
        [SCRIPT, "emulator", *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        values = read_env_block(proc.stdout)
        base = values["TWCREDS_API_BASE"]
        fields = {k.removeprefix("TWITTER_").lower(): v for k, v in values.items()}
        account = Account.model_validate(fields)
        assert account.screen_name == "mybot"
        client = make_client(account, api_base=base)
        assert client.verify_credentials()["screen_name"] == "mybot"  # --legacy-v1
        with pytest.raises(TwitterAPIError, match="403"):  # --read-only
            post_tweet(client, "hello")
        verify_account(account, api_base=base)  # the 3rd request of --rate-limit 3
        with pytest.raises(RateLimitError) as caught:
            verify_account(account, api_base=base)
        assert caught.value.window == "15min"  # the day's 5 (--daily-limit) are not used up
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert err.splitlines()[-1] == "twcreds emulator: stopped"


def test_the_emulator_flow_its_help_shows_works(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(capsys, "emulator")
    block = text.split("\nexamples:\n", 1)[1].split("\n\n", 1)[0]
    assert "twcreds emulator --port 8765 > fake.env &" in block
    assert "twcreds check" in block
    # The port of the example may be taken here; any free one shows the same.
    script = block.replace("--port 8765", "--port 0")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.Popen(
        ["bash", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the emulator, if the flow failed midway
    assert proc.returncode == 0, err
    assert re.search(r"^0  @twcreds_demo  ok +@twcreds_demo \(user id \d+\)$", out, re.M), out
    assert "All 1 account ok." in out
    assert "twcreds emulator: stopped" in err


# --- secrets ---------------------------------------------------------------------------


def canary_files(directory: Path) -> list[Path]:
    """Credentials holding the canary as a secret, broken in different ways (one works)."""
    good = {
        "consumer_key": "ck" * 10,
        "consumer_secret": CANARY,
        "access_token": "1234-" + "t" * 20,
        "access_token_secret": CANARY,
    }
    texts = {
        "missing.json": json.dumps({**good, "access_token_secret": None}),
        "spaced.json": json.dumps({**good, "access_token_secret": CANARY + " x"}),
        "mismatch.json": json.dumps({**good, "user_id": "999"}),
        "duplicate.json": json.dumps([good, good]),
        "misspelled.json": json.dumps(
            {
                **{k: v for k, v in good.items() if k != "access_token_secret"},
                "acces_token_secret": CANARY,
            }
        ),
        "syntax.json": '{"consumer_secret": "' + CANARY + '" "access_token": 1}',
        "three.txt": f"ck\n{CANARY}\ntoken\n",
        "control.txt": f"ck\n{CANARY}\x07\ntoken\n{CANARY}\n",
        "bad.env": f'TWITTER_CONSUMER_KEY=ck\nTWITTER_CONSUMER_SECRET="{CANARY}\n',
        "unknown.json": json.dumps(good),  # valid, but Twitter does not know it
        "state.json": json.dumps({"auth_url": "x", "oauth_token_secret": CANARY}),
    }
    return [write_private(directory / name, text) for name, text in texts.items()]


def peer_canary_files(directory: Path) -> list[Path]:
    """Peer tools' files holding the canary as secrets: sound, and broken per format."""
    from tests.test_peers import TWARC, TWARC2, TWURLRC, XURL

    folder = directory / "peers"
    (folder / "twarc").mkdir(parents=True)
    (folder / ".xurl").mkdir()
    texts = {
        ".twurlrc": TWURLRC,
        ".trc": TWURLRC.replace("token: 1002-bobTOKEN", "tokn: 1"),
        ".twarc": TWARC,
        "broken.twarc": "[x]\n" + TWARC.replace("access_token =", "access_token"),
        "twarc/config": TWARC2,
        ".xurl/auth.yml": XURL,
        ".xurl-broken": XURL.replace("client_id:", "client_idx:"),
    }
    paths = [write_private(folder / name, text) for name, text in texts.items()]
    return [*paths, folder / ".xurl"]


def test_no_command_ever_prints_a_secret(
    capsys: pytest.CaptureFixture[str],
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `add --keyring` runs on a host without a keyring: it must fail saying so, nothing more.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    secrets = [CANARY, *world.secrets]
    base = world.fake.url
    outputs: list[str] = []
    statuses: set[int] = set()
    app = app_file(tmp_path / "app.txt", world.app)
    canary_app = write_private(tmp_path / "canary-app.txt", f"unknownkey\n{CANARY}\n")
    state = str(tmp_path / "state.out")
    runs: list[list[str]] = [
        ["list", str(world.path)],
        ["list", str(world.path), "--json"],
        ["check", str(world.path), "--api-base", base],
        ["authorize", str(app), "--url-only", "--state", state, "--api-base", base],
        ["authorize", str(canary_app), "--url-only", "--state", state, "--api-base", base],
        ["convert", str(world.path), "--to", "lines", "--account", "0", "-o", state, "--force"],
        ["status", str(world.path)],
        ["status", str(world.path), "--json"],
        ["check", str(world.path), "--json", "--api-base", base],
        ["completion", "bash"],
    ]
    imported = str(tmp_path / "imported.json")
    for path in [*canary_files(tmp_path), *peer_canary_files(tmp_path)]:
        runs += [
            ["list", str(path)],
            ["status", str(path)],
            ["status", str(path), "--json"],
            ["import", str(path), "--file", imported],
            ["add", str(path), "--keyring", "--file", imported],
            ["check", str(path), "--json", "--api-base", base],
            ["check", str(path), "--api-base", base],
            ["convert", str(path), "--to", "json", "-o", state, "--force"],
            ["authorize", "--state", str(path), "--pin", "1234567", "--api-base", base],
            ["authorize", str(path), "--url-only", "--state", state, "--api-base", base],
        ]
    for argv in runs:
        for debug in ([], ["--debug"]):
            status, out, err = run(capsys, *debug, *argv)
            statuses.add(status)
            outputs.append(out + err)
    assert statuses == {0, 1}
    assert sum("Traceback" in text for text in outputs) > 20
    for text in outputs:
        assert_no_secret(text, secrets)
    result = run_script("--debug", "check", str(tmp_path / "unknown.json"), "--api-base", base)
    assert result.returncode == 1
    assert "rejected" in result.stdout
    assert_no_secret(result.stdout + result.stderr, secrets)


# --- paths with ~, and where a new account lives ----------------------------------------


def test_two_step_authorize_with_a_tilde_state_path(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    home = Path(os.environ["HOME"])
    app = app_file(Path("app.txt"), world.app)
    argv = ["authorize", str(app), "--url-only", "--state", "~/pin.json", "--save", "bots.json"]
    status, out, err = run(capsys, *argv, "--api-base", world.fake.url)
    assert status == 0, err
    assert (home / "pin.json").exists()
    pin = world.fake.approve(out.strip().split("oauth_token=")[1], "tildebot")

    status, out, err = run(capsys, "authorize", "--state", "~/pin.json", "--pin", pin)
    assert status == 0, err
    assert not (home / "pin.json").exists()
    # The account lives on the emulator: the command to check it must say so.
    check = f"twcreds check {default_store_path()} --api-base {world.fake.url}"
    assert f"Check it with: {check}" in out
    assert run(capsys, *shlex.split(check)[1:])[0] == 0


def test_convert_never_replaces_a_tilde_path_without_force(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    precious = Path(os.environ["HOME"]) / "existing.json"
    precious.write_text("precious\n", encoding="utf-8")
    status, _, err = run(
        capsys, "convert", str(world.path), "--to", "json", "-o", "~/existing.json"
    )
    assert status == 1
    assert "exists; add --force" in err
    assert precious.read_text(encoding="utf-8") == "precious\n"


def test_add_is_all_or_nothing(capsys: pytest.CaptureFixture[str], world: World) -> None:
    first, second = world.accounts[:2]
    save_accounts("store.json", [first.model_copy(update={"screen_name": "taken"})])
    before = Path("store.json").read_bytes()
    clash = second.model_copy(update={"screen_name": "taken"})  # another user id
    fresh = world.fake.issue_token(world.app, "fresh")
    save_accounts("incoming.json", [fresh, clash])

    status, _, err = run(capsys, "add", "incoming.json", "--file", "store.json")
    assert status == 1
    assert "two accounts" in err
    assert Path("store.json").read_bytes() == before


# --- text from outside is shown escaped --------------------------------------------------

HOSTILE = "\x1b[2J\x1b[H\x07\r0  @alice  ok\x9b31m\u202eevil"
RAW_CONTROLS = ["\x1b", "\x07", "\r", "\x9b", "\u202e"]


class _HostileHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with a 403 whose error text is made to drive a terminal."""

    def do_GET(self) -> None:
        body = json.dumps({"errors": [{"code": 87, "message": HOSTILE}]}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hostile_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HostileHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_check_escapes_control_characters_from_the_server(
    capsys: pytest.CaptureFixture[str], world: World, hostile_url: str
) -> None:
    status, out, err = run(capsys, "check", str(world.path), "--api-base", hostile_url)
    assert status == 1
    for control in RAW_CONTROLS:
        assert control not in out + err
    lines = out.splitlines()
    assert len(lines) == 4  # three accounts and the summary: no forged line
    assert all(re.match(r"\d  @\w+ +error ", line) for line in lines[:3])
    assert "\\x1b[2J" in lines[0]
    assert "\\u202eevil" in lines[0]


def test_list_escapes_control_characters_in_a_file_name(
    capsys: pytest.CaptureFixture[str], world: World, tmp_path: Path
) -> None:
    odd = tmp_path / "bots\x1b[2J\u202e.json"
    odd.write_bytes(world.path.read_bytes())
    odd.chmod(0o600)
    status, out, err = run(capsys, "list", str(odd))
    assert (status, err) == (0, "")
    assert not {"\x1b", "\u202e"} & set(out)
    assert "bots\\x1b[2J\\u202e.json" in out
    status, out, err = run(capsys, "list", str(odd), "--json")
    assert (status, err) == (0, "")
    assert not {"\x1b", "\u202e"} & set(out)
    assert json.loads(out)[0]["source"] == str(odd)  # escaped as JSON, so read back exactly


def test_remove_without_a_store_names_the_option_that_works(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    status, _, err = run(capsys, "remove", "alice")
    assert status == 1
    assert err == (
        f"twcreds: error: the user store {default_store_path()} does not exist yet"
        " (`twcreds authorize` and `twcreds add` create it); to remove from another"
        " accounts file, name it with --file PATH\n"
    )
    assert "TWCREDS_FILE" not in err
    status, _, err = run(capsys, "remove", "alice", "--file", "missing.json")
    assert (status, err) == (
        1,
        "twcreds: error: missing.json: no such file; check the path given to --file\n",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("\u0661", "has no account @\u0661 (accounts: @alice, @bob, @carol)"),
        ("9" * 5000, f"has no account @{'9' * 40}... (accounts: @alice, @bob, @carol)"),
    ],
)
def test_convert_account_takes_only_ascii_digits_as_an_index(
    capsys: pytest.CaptureFixture[str], world: World, name: str, expected: str
) -> None:
    argv = ["convert", str(world.path), "--to", "env", "--account", name, "-o", "-"]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert err.startswith("twcreds: error: ")
    assert expected in err


# --- check never pays twice -----------------------------------------------------------------


def _cache_file() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "twcreds" / "verified.json"


def test_check_twice_within_max_age_makes_no_call_the_second_time(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    argv = ["check", str(world.path), "--api-base", world.fake.url]
    assert run(capsys, *argv)[0] == 0
    assert len(world.fake.requests) == 3
    world.fake.clear_records()

    status, out, err = run(capsys, *argv)
    assert status == 0
    assert world.fake.requests == []
    assert err == (
        "twcreds: no billed call: all 3 accounts were verified within 24 h"
        " (--max-age 0 asks X about every one)\n"
    )
    lines = out.splitlines()
    assert [line.split()[1:3] for line in lines[:3]] == [
        ["@alice", "ok"],
        ["@bob", "ok"],
        ["@carol", "ok"],
    ]
    assert all("verified 0 s ago; not asked again" in line for line in lines[:3])
    assert lines[3] == "All 3 accounts ok."

    # --max-age 0 asks again; so does another API base (its answers say nothing of X's).
    assert run(capsys, *argv, "--max-age", "0")[2] == BILLED_3
    assert len(world.fake.requests) == 3
    with FakeTwitter() as other:
        run(capsys, "check", str(world.path), "--api-base", other.url)
        assert len(other.requests) == 3


def test_a_changed_secret_is_asked_about_again_within_max_age(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    argv = ["check", str(world.path), "--api-base", world.fake.url]
    assert run(capsys, *argv)[0] == 0
    accounts = json.loads(world.path.read_text(encoding="utf-8"))
    accounts[1]["access_token_secret"] = "x" * 45  # a stale copy pasted over it
    write_private(world.path, json.dumps(accounts))
    world.fake.clear_records()
    status, out, _ = run(capsys, *argv)
    assert status == 1
    assert len(world.fake.requests) == 1  # only the changed one is asked about
    assert out.splitlines()[1].split()[1:3] == ["@bob", "rejected"]


def test_a_cache_that_cannot_be_written_is_a_warning_naming_the_cache(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    folder = _cache_file().parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder", encoding="utf-8")  # the cache cannot go there
    status, out, err = run(capsys, "check", str(world.path), "--api-base", world.fake.url)
    assert status == 0
    assert out.splitlines()[-1] == "All 3 accounts ok."
    warning = err.splitlines()[-1]
    assert warning.startswith(
        f"twcreds: warning: the verification times were not kept: {_cache_file()}"
    )
    assert "cannot write the check's cache" in warning
    assert "Only the cache is affected" in warning
    assert "cannot save the accounts" not in warning
    assert load_accounts(world.path).names == ["alice", "bob", "carol"]


def test_a_rejected_account_is_asked_about_at_every_run(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    argv = ["check", str(world.path), "--api-base", world.fake.url]
    run(capsys, *argv)
    world.fake.revoke(world.accounts[1])
    world.fake.clear_records()
    # Verified a moment ago: the revocation is only seen when asked again.
    assert run(capsys, *argv)[0] == 0
    assert world.fake.requests == []
    status, out, _ = run(capsys, *argv, "--max-age", "0")
    assert status == 1
    assert out.splitlines()[1].split()[1:3] == ["@bob", "rejected"]
    for _ in range(2):  # forgotten, never kept as good: each run asks about it again
        world.fake.clear_records()
        status, out, err = run(capsys, *argv)
        assert status == 1
        assert err.startswith("twcreds: 1 billed call to X (GET /2/users/me); 2 verified")
        assert [r.reason for r in world.fake.requests] == ["revoked token"]
        assert out.splitlines()[1].split()[1:3] == ["@bob", "rejected"]


def test_the_cache_holds_no_token_and_is_private(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    run(capsys, "check", str(world.path), "--api-base", world.fake.url)
    cache = _cache_file()
    assert cache.stat().st_mode & 0o777 == 0o600
    text = cache.read_text(encoding="utf-8")
    for account in world.accounts:
        assert account.access_token not in text
        assert account.consumer_key not in text
        assert account.screen_name is not None
        assert account.screen_name not in text
    for secret in world.secrets:
        assert secret not in text
    data = json.loads(text)
    assert len(data["verified"]) == 3
    first_key = data["key"]
    cache.unlink()  # a new cache file gets a new key: the hashes cannot be compared
    run(capsys, "check", str(world.path), "--api-base", world.fake.url)
    again = json.loads(cache.read_text(encoding="utf-8"))
    assert again["key"] != first_key
    assert set(again["verified"]).isdisjoint(data["verified"])
    cache.write_text("{not json", encoding="utf-8")  # a broken cache only costs calls
    world.fake.clear_records()
    assert run(capsys, "check", str(world.path), "--api-base", world.fake.url)[0] == 0
    assert len(world.fake.requests) == 3


def test_check_offline_makes_no_call(
    capsys: pytest.CaptureFixture[str], fake: FakeTwitter, tmp_path: Path
) -> None:
    app = fake.create_app()
    alice = fake.issue_token(app, "alice")
    client = fake.create_oauth2_app()
    fresh = fake.issue_oauth2_token(client, "olive")
    stale = fake.issue_oauth2_token(client, "oscar", expires_in=0)
    dead = fake.issue_oauth2_token(client, "dead", expires_in=0).model_copy(
        update={"refresh_token": None}
    )
    narrow = fake.issue_oauth2_token(client, "nora", scopes=("tweet.read", "users.read"))
    path = tmp_path / "all.json"
    save_accounts(path, [alice, fresh, stale, dead, narrow])
    save_accounts(tmp_path / "alice.json", [alice])
    run(capsys, "check", str(tmp_path / "alice.json"), "--api-base", fake.url)
    fake.clear_records()
    path.chmod(0o644)

    status, out, err = run(capsys, "check", str(path), "--offline", "--api-base", fake.url)
    assert "twcreds: warning:" in err
    assert fake.requests == []
    assert status == 1
    lines = out.splitlines()
    assert lines[0].startswith("5 accounts read: formats, duplicates and user ids are good")
    assert f"{path}: readable or writable by other users; run `chmod 600 {path}`" in lines
    rows = {line.split()[1]: line for line in lines if line.split()[0].isdigit()}
    assert rows["@alice"].split()[2] == "ok"
    assert "verified 0 s ago" in rows["@alice"]
    assert rows["@olive"].split()[2] == "ok"
    assert "token until" in rows["@olive"]
    assert "refreshed at its next call" in rows["@oscar"]
    assert rows["@dead"].split()[2] == "expired"
    assert "never verified here" in rows["@dead"]
    assert rows["@nora"].split()[2] == "scopes"
    assert "lacks tweet.write media.write offline.access" in rows["@nora"]
    assert lines[-1] == "3 problems found offline."
    for account in (fresh, stale, dead, narrow):
        for secret in (account.access_token, account.refresh_token):
            assert secret is None or secret.get_secret_value() not in out + err


def test_todays_refusals_through_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with FakeTwitter(daily_limit=1) as fake:
        app = fake.create_app()
        capped = fake.issue_token(app, "capped")
        verify_account(capped, api_base=fake.url)  # its one read of the day
        other_app = fake.create_app()
        outside = fake.issue_token(other_app, "outside")
        fake.set_app_enrolled(other_app, False)
        bearer = fake.create_bearer_token(app)
        mistaken = OAuth2Account(
            client_id=fake.create_oauth2_app().client_id,
            access_token=bearer.bearer_token,
            expires_at=datetime.now(timezone.utc) + timedelta(hours=2),
            screen_name="mistaken",
        )
        path = tmp_path / "today.json"
        save_accounts(path, [capped, outside, mistaken])
        status, out, _ = run(capsys, "check", str(path), "--api-base", fake.url)
        assert status == 1
        capped_line, outside_line, mistaken_line, summary = out.splitlines()
        assert capped_line.split()[1:3] == ["@capped", "rate-limited"]
        assert "the account's 24-hour limit is used up" in capped_line
        assert re.search(r"\(in 2[34] h \d+ min\)", capped_line)
        assert outside_line.split()[1:3] == ["@outside", "error"]
        assert "attach the app to a Project" in outside_line
        assert mistaken_line.split()[1:3] == ["@mistaken", "error"]
        assert "never an app-only bearer token" in mistaken_line
        assert summary == "0 of 3 accounts ok; 2 error, 1 rate-limited."

        fake.set_app_enrolled(other_app, True)
        fake.credits = 0
        fake.clear_records()
        status, out, _ = run(capsys, "check", str(path), "--api-base", fake.url)
        assert len(fake.requests) == 3  # nothing was cached as good
        assert out.splitlines()[1].split()[1:3] == ["@outside", "no-credits"]
        assert "add credits" in out.splitlines()[1]


# --- the state file and the store's unnamed accounts --------------------------------------


@pytest.mark.parametrize(
    "existing", ["accounts", "precious", "empty", "pending"], ids=lambda name: name
)
def test_authorize_url_only_never_replaces_a_file_that_is_not_a_pending_state(
    capsys: pytest.CaptureFixture[str], world: World, existing: str
) -> None:
    app = app_file(Path("app.txt"), world.app)
    state = Path("state.json")
    if existing == "accounts":
        state = world.path  # `--state accounts.json` would replace every stored account
    elif existing == "precious":
        write_private(state, "precious\n")
    elif existing == "empty":
        write_private(state, "")  # `state=$(mktemp)` makes an empty one: nothing to lose
    else:
        argv = ["authorize", str(app), "--url-only", "--state", str(state)]
        assert run(capsys, *argv, "--api-base", world.fake.url)[0] == 0
    before = state.read_bytes()
    argv = ["authorize", str(app), "--url-only", "--state", str(state)]
    status, out, err = run(capsys, *argv, "--api-base", world.fake.url)
    if existing in ("empty", "pending"):
        assert status == 0, err
        assert json.loads(state.read_text(encoding="utf-8"))["auth_url"] == out.strip()
        return
    assert (status, out) == (1, "")
    assert err.startswith(f"twcreds: error: {state} exists and is not a pending authorization")
    assert err.endswith("; choose another --state file (or delete this one if you are sure)\n")
    assert state.read_bytes() == before
    assert world.fake.requests == []  # refused before asking for a request token


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a link to another user needs root")
def test_authorize_url_only_refuses_a_state_link_planted_in_a_sticky_folder(
    capsys: pytest.CaptureFixture[str], world: World, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.json"
    write_private(victim, "")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    link = shared / "pending.json"
    link.symlink_to(victim)
    os.lchown(link, 65534, 65534)
    app = app_file(Path("app.txt"), world.app)
    argv = ["authorize", str(app), "--url-only", "--state", str(link)]
    status, out, err = run(capsys, *argv, "--api-base", world.fake.url)
    assert (status, out) == (1, "")
    assert "is a symbolic link owned by another user (uid 65534)" in err
    assert victim.read_bytes() == b""
    assert world.fake.requests == []


def test_remove_an_account_of_the_guides_4_line_file(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    alice = world.accounts[0]
    lines = [
        alice.consumer_key,
        alice.consumer_secret.get_secret_value(),
        alice.access_token,
        alice.access_token_secret.get_secret_value(),
    ]
    Path("creds-twitter.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    Path("creds-twitter.txt").chmod(0o600)
    save_accounts("bots.json", world.accounts[1:])
    assert run(capsys, "add", "creds-twitter.txt", "--file", "bots.json")[0] == 0
    status, out, _ = run(capsys, "list", "bots.json")
    assert status == 0
    assert re.search(r"^2  -  +-  ", out, re.MULTILINE)  # no screen name, no user id

    status, _, err = run(capsys, "remove", "alice", "--file", "bots.json")
    assert status == 1
    assert f"(accounts: @bob, @carol, #2 (user {alice.user_id}));" in err
    assert "or index as `twcreds list` shows it (#0 is the first)" in err
    removed = f"Removed the account with access token {cli.mask(alice.access_token)} from"
    status, out, err = run(capsys, "remove", "#2", "--file", "bots.json")
    assert (status, err) == (0, "")
    assert out == f"{removed} bots.json.\n"
    assert load_accounts("bots.json").names == ["bob", "carol"]

    assert run(capsys, "add", "creds-twitter.txt", "--file", "bots.json")[0] == 0
    status, out, err = run(capsys, "remove", str(alice.user_id), "--file", "bots.json")
    assert (status, err) == (0, "")
    assert out == f"{removed} bots.json.\n"
    assert_no_secret(out + err, world.secrets)

"""A corpus of bad credential files: each gives one located `CredentialsError`, fast, secret-free.

Every file in ``tests/corpus/`` is a case in `CASES`. Its format comes from its suffix
(``.json``, ``.env``, ``.txt`` for the 4-line format); a file without one is sniffed. Most
files hold `tests.conftest.CANARY` as a secret value, which must never show in a message,
a ``repr``, a formatted traceback or a chained exception. Cases that cannot be stored as
files (a 50 MB file, a directory, a FIFO, a device, an unreadable file, ...) are made here.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Literal, NamedTuple, TypeVar

import pytest

from tests.conftest import CANARY, write_private
from twcreds import load_account, load_accounts, load_app, load_client, load_clients
from twcreds.errors import CredentialsError, CredentialsNotFoundError
from twcreds.sources import MAX_FILE_SIZE

CORPUS = Path(__file__).parent / "corpus"
FORMATS: dict[str, Literal["json", "lines", "env"]] = {
    ".json": "json",
    ".env": "env",
    ".txt": "lines",
}
T = TypeVar("T")

#: A behaviour bound, not a benchmark: every case is refused in milliseconds.
BOUND = 1.0

SPACE = "contains a space, line break or control character"
LONG = "characters long, longer than any Twitter credential"


class Expect(NamedTuple):
    """Where a message must point (what follows the file name) and what it must say."""

    where: str
    what: str


class Case(NamedTuple):
    """One corpus file.

    Attributes:
        where: follows the file name in the message: ``":3:"``, ``": [1]"``,
            ``": TWITTER_ACCESS_TOKEN"``; ``": "`` when the whole file is at fault.
        what: a part of the message that says what is wrong.
        app: what `load_app` does with the file: the same error (``"same"``), succeed
            (``"ok"``: the consumer half is sound), or another error.
        accounts_ok: `load_accounts` succeeds (a case for `load_app` only).
    """

    where: str
    what: str
    app: Literal["same", "ok"] | Expect = "same"
    accounts_ok: bool = False


CASES: dict[str, Case] = {
    # --- JSON: syntax, with the line (and column) where it breaks ------------------------
    "truncated-mid-secret.json": Case(":3:22:", "cut short"),
    "truncated-list.json": Case(":13:68:", "cut short"),
    "trailing-comma.json": Case(":5:65:", "a comma after the last value"),
    "missing-comma.json": Case(":3:", "a comma is missing at the end of line 3"),
    "crlf-missing-comma.json": Case(":3:", "a comma is missing at the end of line 3"),
    # A lone CR ends a line for editors and for the other readers: json alone says line 1.
    "lone-cr-trailing-comma.json": Case(":5:65:", "a comma after the last value"),
    # The guide's multi-account file as printed: no commas between the values.
    "guide-list-as-printed.json": Case(":3:", "a comma is missing at the end of line 3"),
    "sniffed-guide-list-as-printed": Case(":3:", "a comma is missing at the end of line 3"),
    # The guide's advice printed as Python: a single-quoted screen name.
    "guide-screen-name-single-quotes.json": Case(":2:19:", "JSON strings need double quotes"),
    "python-dict-repr.json": Case(":1:2:", "JSON strings need double quotes"),
    "unquoted-keys.json": Case(":2:3:", "double quotes around every key"),
    "python-none.json": Case(":6:18:", "null, true and false in lower case"),
    "comment.json": Case(":2:3:", "JSON has no comments"),
    "extra-data.json": Case(":7:1:", "extra data"),
    "sniffed-bom-truncated-json": Case(":2:19:", "cut short"),
    "deep-arrays.json": Case(": ", "nested thousands of levels deep"),
    "deep-objects.json": Case(": ", "nested thousands of levels deep"),
    "deep-closed-arrays.json": Case(": ", "nested thousands of levels deep"),
    # int() refuses 4,300+ digits with a bare ValueError, which used to escape.
    "huge-number.json": Case(":6:14:", "a number thousands of digits long"),
    # --- JSON: duplicates ----------------------------------------------------------------
    "duplicate-key.json": Case(":5:3:", "'consumer_secret' appears twice in one object"),
    "duplicate-key-second-account.json": Case(":3:214:", "'access_token_secret' appears twice"),
    # An unknown key is not quoted: it could be a secret pasted as a key.
    "duplicate-unknown-key.json": Case(":1:46:", "a key appears twice in one object"),
    "duplicate-accounts-token.json": Case(": accounts [0] and [2]", "the same access token", "ok"),
    "duplicate-accounts-name.json": Case(
        ": accounts [0] and [1]", "the same screen name @bot", "ok"
    ),
    # Two names for one value that disagree (pydantic silently took the first one).
    "alias-conflict.json": Case(": [1] (@bot2)", "'consumer_secret' and 'api_secret' both give"),
    "alias-conflict-app.json": Case(": app", "'consumer_key' and 'api_key' both give"),
    # --- JSON: shapes and types -----------------------------------------------------------
    "top-level-null.json": Case(": ", "holds a JSON null"),
    "top-level-number.json": Case(": ", "holds a JSON number"),
    "top-level-string.json": Case(": ", "holds a JSON string"),
    "top-level-true.json": Case(": ", "holds a JSON true/false"),
    "empty.json": Case(": ", "is empty; no accounts in it"),
    "whitespace-only.json": Case(": ", "is empty; no accounts in it"),
    "bom-only.json": Case(": ", "is empty; no accounts in it"),
    "empty-list.json": Case(": ", "no accounts in it", Expect(": ", "no app or accounts in it")),
    # load_app names only the consumer half's errors; load_accounts all of them.
    "empty-object.json": Case(
        ": access_token", "is missing", Expect(": consumer_secret", "is missing")
    ),
    "list-of-strings.json": Case(
        ": [3]", "must be an object", Expect(": [0]", "must be an object")
    ),
    "list-of-lists.json": Case(": [0]", "must be an object of credentials"),
    "nested-garbage.json": Case(": accounts[1]: consumer_key", "must be a string, not dict"),
    "wrong-types.json": Case(": access_token", "must be a string, not int", "ok"),
    "null-secret.json": Case(": access_token_secret", "must be a string, not null", "ok"),
    "empty-secret.json": Case(": consumer_secret", "is empty"),
    "app-not-object.json": Case(": ", '"app" must be an object'),
    "accounts-not-list.json": Case(": ", '"accounts" must be a list'),
    "app-missing-secret.json": Case(": app: consumer_secret", "is missing"),
    "app-without-accounts.json": Case(": ", "holds only an app's consumer key and secret", "ok"),
    "app-account-missing-token.json": Case(": accounts[1]: access_token", "is missing", "ok"),
    "mixed-apps.json": Case("", "", Expect(": ", "different apps"), accounts_ok=True),
    # --- JSON: keys and values --------------------------------------------------------------
    "cyrillic-lookalike-key.json": Case(
        ": access_token", "found '\u0430ccess_token': did you mean 'access_token'?", "ok"
    ),
    "misspelled-key.json": Case(": access_token_secret", "did you mean", "ok"),
    "inner-space-secret.json": Case(": consumer_secret", SPACE),
    "inner-newline-escape.json": Case(": access_token_secret", SPACE, "ok"),
    "inner-tab.json": Case(": access_token", SPACE, "ok"),
    "zero-width-space-inside.json": Case(": access_token_secret", SPACE, "ok"),
    # A lone surrogate used to load, then broke save_accounts with a UnicodeEncodeError.
    "lone-surrogate.json": Case(": access_token_secret", SPACE, "ok"),
    # A right-to-left override (an invisible format character) used to load.
    "rtl-override-inside.json": Case(": consumer_secret", SPACE),
    "long-value.json": Case(": access_token_secret", LONG, "ok"),
    "user-id-mismatch.json": Case(": user_id", "does not match the access token", "ok"),
    # A secret pasted as a screen name used to be quoted as the entry's name.
    "secret-as-screen-name.json": Case(": [0]: access_token_secret", "is empty", "ok"),
    # --- encodings and bytes: every format -------------------------------------------------
    "utf16-bom.json": Case(": ", "is UTF-16 encoded"),
    "utf16-bom.env": Case(": ", "is UTF-16 encoded"),
    "utf16-bom.txt": Case(": ", "is UTF-16 encoded"),
    "latin1-byte.json": Case(":4:", "is not valid UTF-8"),
    "latin1-byte.env": Case(":3:", "is not valid UTF-8"),
    "latin1-byte.txt": Case(":3:", "is not valid UTF-8"),
    "nul-byte.json": Case(":4:", "contains a NUL byte"),
    "nul-byte.env": Case(":2:", "contains a NUL byte"),
    "nul-byte.txt": Case(":2:", "contains a NUL byte"),
    # --- .env ---------------------------------------------------------------------------------
    "empty.env": Case(": ", "is empty; no accounts in it"),
    "export-quoted-inner-space.env": Case(":2: TWITTER_CONSUMER_SECRET", SPACE),
    "missing-secret.env": Case(": TWITTER_ACCESS_TOKEN_SECRET", "is missing", "ok"),
    "misspelled-variable.env": Case(
        ": TWITTER_ACCESS_TOKEN_SECRET", "found 'TWITTER_ACCES_TOKEN_SECRET'", "ok"
    ),
    # A variable spelled in lower case used to be dropped without a hint.
    "lowercase-variable.env": Case(
        ": TWITTER_ACCESS_TOKEN_SECRET", "found 'twitter_access_token_secret'", "ok"
    ),
    "cyrillic-lookalike-variable.env": Case(": TWITTER_ACCESS_TOKEN_SECRET", "did you mean", "ok"),
    "unclosed-double-quote.env": Case(":2:", "cannot parse this line"),
    "unclosed-single-quote.env": Case(":4:", "cannot parse this line"),
    "no-equals-sign.env": Case(":2:", "cannot parse this line"),
    "yaml-style.env": Case(":1:", "cannot parse this line"),
    "empty-values.env": Case(
        ":4: TWITTER_ACCESS_TOKEN_SECRET",
        "is empty",
        Expect(":2: TWITTER_CONSUMER_SECRET", "is empty"),
    ),
    "crlf-inner-space.env": Case(":3: TWITTER_ACCESS_TOKEN", SPACE, "ok"),
    "lone-cr-inner-space.env": Case(":3: TWITTER_ACCESS_TOKEN", SPACE, "ok"),
    "tab-inside.env": Case(":4: TWITTER_ACCESS_TOKEN_SECRET", SPACE, "ok"),
    "multiline-double-quoted.env": Case(":4: TWITTER_ACCESS_TOKEN_SECRET", SPACE, "ok"),
    "escaped-newline.env": Case(":4: TWITTER_ACCESS_TOKEN_SECRET", SPACE, "ok"),
    "alias-conflict.env": Case(
        ":6", "'TWITTER_ACCESS_TOKEN_SECRET' and 'TWITTER_OAUTH_TOKEN_SECRET' both give", "ok"
    ),
    "escape-char-inside.env": Case(":2: TWITTER_CONSUMER_SECRET", SPACE),
    "long-value.env": Case(":4: TWITTER_ACCESS_TOKEN_SECRET", LONG, "ok"),
    "user-id-mismatch.env": Case(":5: TWITTER_USER_ID", "does not match the access token", "ok"),
    "only-app.env": Case(": ", "holds only an app's consumer key and secret", "ok"),
    "no-prefix.env": Case(": ", "defines no TWITTER_* credentials"),
    "json-in-env.env": Case(": ", "defines no TWITTER_* credentials"),
    "sniffed-env-inner-space": Case(":2: TWITTER_CONSUMER_SECRET", SPACE),
    # --- the 4-line format ----------------------------------------------------------------
    # The guide's 4-line file with one line too many, after or before the values.
    "guide-four-lines-plus-one.txt": Case(": ", "has 5 non-blank lines (on lines 1, 2, 3, 4, 5)"),
    "guide-four-lines-plus-one-first.txt": Case(": ", "has 5 non-blank lines"),
    "sniffed-five-lines": Case(": ", "has 5 non-blank lines"),
    "three-lines.txt": Case(": ", "has 3 non-blank lines (on lines 1, 2, 3)"),
    "one-line.txt": Case(": ", "(on line 1)"),
    "empty.txt": Case(": ", "is empty; no accounts in it"),
    # No-break and ideographic spaces alone on a line used to count as a value.
    "whitespace-only.txt": Case(": ", "is empty; no accounts in it"),
    "nbsp-blank-line-then-inner-space.txt": Case(":5: access token secret", SPACE, "ok"),
    "inner-space.txt": Case(":3: access token", SPACE, "ok"),
    "crlf-inner-tab.txt": Case(":2: consumer secret", SPACE),
    "lone-cr-inner-space.txt": Case(":2: consumer secret", SPACE),
    "escape-char-inside.txt": Case(":4: access token secret", SPACE, "ok"),
    "labelled-values.txt": Case(
        ":4: access token secret", SPACE, Expect(":2: consumer secret", SPACE)
    ),
    "long-value.txt": Case(":4: access token secret", LONG, "ok"),
    "two-lines-inner-space.txt": Case(":2: consumer secret", SPACE),
}


def corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.name != "README.md")


def fmt_of(name: str) -> Literal["json", "lines", "env"] | None:
    return FORMATS.get(Path(name).suffix)


# --- checks ------------------------------------------------------------------------------


def assert_secret_free(exc: BaseException, *secrets: str) -> None:
    """No secret in the message, the repr, the traceback, or anything chained to it."""
    shown = "".join(traceback.format_exception(exc))
    for secret in secrets:
        assert secret not in str(exc)
        assert secret not in repr(exc)
        assert secret not in shown
    link: BaseException | None = exc
    while link is not None:
        for secret in secrets:
            assert secret not in repr(link)
            assert secret not in repr(link.args)
        # A JSONDecodeError (.doc) or UnicodeDecodeError (.object) carries the whole file.
        assert not hasattr(link, "doc")
        assert not isinstance(link, UnicodeError)
        link = link.__cause__ or link.__context__


def refused(call: Callable[[], object], *secrets: str) -> CredentialsError:
    """Run ``call``; it must raise exactly one `CredentialsError`, fast and secret-free.

    Any other exception escapes ``pytest.raises`` and fails the test.
    """
    start = time.perf_counter()
    with pytest.raises(CredentialsError) as caught:
        call()
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND, f"took {elapsed:.2f} s"
    exc = caught.value
    assert type(exc) in (CredentialsError, CredentialsNotFoundError)
    assert_secret_free(exc, CANARY, *secrets)
    return exc


def bounded(call: Callable[[], T], timeout: float = 10.0) -> T:
    """Run ``call`` in a thread, so that a hang (opening a FIFO) fails the test, not CI."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(call())
        except BaseException as exc:  # handed over to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still running after {timeout} s: it hangs"
    if errors:
        raise errors[0]
    return results[0]


# --- the corpus ------------------------------------------------------------------------------


def test_every_corpus_file_is_a_case() -> None:
    assert corpus_files() == sorted(CASES)
    assert len(CASES) >= 60
    by_format = {fmt: sum(fmt_of(name) == fmt for name in CASES) for fmt in (*FORMATS.values(),)}
    assert all(count >= 10 for count in by_format.values()), by_format


def test_the_canary_is_planted_widely() -> None:
    planted = 0
    for name in CASES:
        data = (CORPUS / name).read_bytes()
        if CANARY.encode() in data or CANARY.encode("utf-16-le") in data:
            planted += 1
    assert planted >= 0.8 * len(CASES)


@pytest.fixture
def corpus_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    # Copied and made private: a file readable by others only warns, and warnings are errors.
    path = tmp_path / str(request.param)
    shutil.copyfile(CORPUS / str(request.param), path)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("corpus_file", sorted(CASES), indirect=True)
def test_corpus_file(corpus_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[corpus_file.name]
    fmt = fmt_of(corpus_file.name)
    if case.accounts_ok:
        accounts = load_accounts(corpus_file, format=fmt)
        assert CANARY not in repr(accounts)
    else:
        exc = refused(lambda: load_accounts(corpus_file, format=fmt))
        message = str(exc)
        assert message.startswith(str(corpus_file))
        assert f"{corpus_file}{case.where}" in message
        assert case.what in message
        # Every other way to the same file fails the same way.
        for call in (
            lambda: load_account(corpus_file, format=fmt),
            lambda: load_account(corpus_file, account=0, format=fmt),
            lambda: load_client(corpus_file, format=fmt),
            lambda: load_clients(corpus_file, format=fmt),
        ):
            assert str(refused(call)) == message
        monkeypatch.setenv("TWCREDS_FILE", str(corpus_file))
        assert str(refused(lambda: load_accounts(format=fmt))) == message

    if case.app == "ok":
        start = time.perf_counter()
        app = load_app(corpus_file, format=fmt)
        assert time.perf_counter() - start < BOUND
        assert CANARY not in repr(app)
        assert CANARY not in str(app)
        return
    app_error = str(refused(lambda: load_app(corpus_file, format=fmt)))
    if case.app == "same":
        assert app_error == message
    else:
        assert f"{corpus_file}{case.app.where}" in app_error
        assert case.app.what in app_error


# --- cases made at test time -------------------------------------------------------------


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:  # sparse: written in no time, and no disk used
        f.truncate(50 * 1024 * 1024)
    path.chmod(0o600)
    tracemalloc.start()
    try:
        exc = refused(lambda: load_accounts(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(exc)
    assert message.startswith(f"{path}: ")
    assert "52,428,800 bytes" in message
    assert f"{MAX_FILE_SIZE:,}-byte limit" in message
    assert peak < 1024 * 1024  # not read: reading would take 50 MB


def test_a_file_just_over_the_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "creds-twitter"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_SIZE + 1)
    path.chmod(0o600)
    assert f"{MAX_FILE_SIZE:,}-byte limit" in str(refused(lambda: load_app(path)))


def test_a_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "accounts.json"
    folder.mkdir()
    for call in (lambda: load_accounts(folder), lambda: load_app(folder)):
        assert str(refused(call)).startswith(f"{folder}: is a directory")


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    message = str(refused(lambda: load_accounts(loop)))
    assert message.startswith(f"{loop}: cannot open it")


def test_a_missing_file_is_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere" / "accounts.json"
    exc = refused(lambda: load_accounts(missing))
    assert isinstance(exc, CredentialsNotFoundError)
    assert str(exc).startswith(f"{missing}: no such file")
    monkeypatch.setenv("TWCREDS_FILE", str(missing))
    exc = refused(lambda: load_account())
    assert isinstance(exc, CredentialsNotFoundError)
    assert str(missing) in str(exc)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "creds.env"
    os.mkfifo(fifo, 0o600)
    try:
        for load in (load_accounts, load_app):
            exc = bounded(partial(refused, partial(load, fifo)))
            assert str(exc).startswith(f"{fifo}: not a regular file")
    finally:
        # Had open() blocked after all, a writer's open lets the stuck thread go.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    for call in (partial(load_accounts, device), partial(load_app, device, format="lines")):
        exc = bounded(partial(refused, call))
        assert str(exc).startswith(f"{device}: not a regular file")


def test_a_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / ".env"
    link.symlink_to("/dev/zero")
    exc = bounded(partial(refused, partial(load_accounts, link)))
    assert str(exc).startswith(f"{link}: not a regular file")


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        assert stat.S_ISSOCK(path.lstat().st_mode)
        message = str(refused(lambda: load_accounts(path)))
    # A socket cannot even be opened (ENXIO); either way the message names the file.
    assert message.startswith(f"{path}: ")


@pytest.fixture
def unreadable_file() -> Iterator[tuple[Path, int, int]]:
    """A file its reader may not read: (path, uid, gid) to read it as; uid -1 for "as we are".

    Root reads anything, so as root the reader is `nobody`, in a folder it may cross.
    """
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    if os.geteuid() != 0:
        folder = Path(tempfile.mkdtemp(prefix="twcreds-test-"))
        uid = gid = -1
    else:
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("running as root, and there is no 'nobody' user to run as")
        folder = Path(tempfile.mkdtemp(prefix="twcreds-test-"))
        folder.chmod(0o711)
        uid, gid = nobody.pw_uid, nobody.pw_gid
    try:
        blocked = [p for p in folder.parents if not p.stat().st_mode & stat.S_IXOTH]
        if uid >= 0 and blocked:
            pytest.skip(f"{blocked[0]} is not searchable by other users")
        path = write_private(folder / "accounts.json", json.dumps({"consumer_secret": CANARY}))
        if uid < 0:
            path.chmod(0)
        yield path, uid, gid
    finally:
        shutil.rmtree(folder)


# Run in a child process, which drops to the given user after importing twcreds.
_READ_AS = textwrap.dedent(
    """
    import json, os, sys, traceback
    from twcreds.errors import CredentialsError
    from twcreds.sources import load_accounts, load_app

    uid, gid, path, canary = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    if uid >= 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    results = []
    for load in (load_accounts, load_app):
        try:
            load(path)
        except CredentialsError as exc:
            shown = "".join(traceback.format_exception(exc))
            results.append(
                {"type": type(exc).__name__, "message": str(exc), "leak": canary in shown}
            )
        except BaseException as exc:
            results.append({"type": type(exc).__name__, "message": str(exc), "leak": False})
        else:
            results.append({"type": None, "message": "", "leak": False})
    print(json.dumps(results))
    """
)


def test_an_unreadable_file_is_refused(unreadable_file: tuple[Path, int, int]) -> None:
    path, uid, gid = unreadable_file
    completed = subprocess.run(
        [sys.executable, "-c", _READ_AS, str(uid), str(gid), str(path), CANARY],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=path.parent,
    )
    assert completed.returncode == 0, completed.stderr
    assert CANARY not in completed.stdout + completed.stderr
    expected = f"{path}: permission denied; make it readable by you: `chmod 600 {path}`"
    for result in json.loads(completed.stdout):
        assert result == {"type": "CredentialsError", "message": expected, "leak": False}

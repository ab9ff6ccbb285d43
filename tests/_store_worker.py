"""Helper processes for tests/test_store.py: real writers to crash, race and starve.

Run as ``python tests/_store_worker.py MODE PATH ...``; it speaks a line protocol on
stdin/stdout so the test decides when things happen:

``zygote PATH COUNT``
    Builds two lists of COUNT accounts (tags "a" and "b"), saves "a", prints ``ready``.
    Then for each ``fork`` line it forks a child that saves "b", "a", "b", ... forever,
    printing ``saved`` after each, and prints the child's pid; for each ``reap`` line it
    waits for that child and prints ``killed`` if SIGKILL ended it, else ``exited CODE``.
    Forking from one warm process makes a trial cost milliseconds, not a Python start-up.
``add PATH FIRST COUNT [REMOVE ...]``
    Prints ``ready``, waits for a line on stdin, removes the named accounts, adds accounts
    FIRST .. FIRST+COUNT-1, prints ``done``.
``fsize PATH LIMIT COUNT``
    Under RLIMIT_FSIZE=LIMIT bytes, saves COUNT accounts; prints the error message as JSON
    and exits 3 if saving failed, exits 0 if it did not.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from twcreds.errors import CredentialsError
from twcreds.models import Account
from twcreds.store import add_account, remove_account, save_accounts

#: Long enough that a list of 2,000 accounts takes a moment to write.
_PAD = "x" * 24


def make_account(index: int, tag: str = "a", consumer_secret: str | None = None) -> Account:
    """A distinct, valid account: unique token, screen name and user id per index."""
    user_id = str(1_000_000 + index)
    return Account(
        consumer_key=f"consumer-key-{tag}",
        consumer_secret=consumer_secret or f"consumer-secret-{tag}",
        access_token=f"{user_id}-{tag}token{index:06d}{_PAD}",
        access_token_secret=f"{tag}tokensecret{index:06d}{_PAD}",
        screen_name=f"{tag}bot{index}",
        user_id=user_id,
    )


def make_accounts(count: int, tag: str) -> list[Account]:
    """``count`` distinct accounts whose every value carries ``tag``."""
    return [make_account(index, tag) for index in range(count)]


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def crash_lists(count: int, via: str) -> tuple[list[Account], list[Account]]:
    """The two contents a killed writer alternates between.

    ``save``: two whole lists. ``add``: one list whose first account `add_account` keeps
    replacing with another version of itself (same user id, other access token).
    """
    first = make_accounts(count, "a")
    if via == "save":
        return first, make_accounts(count, "b")
    other = first[0].model_copy(update={"access_token": f"{first[0].user_id}-other"})
    return first, [other, *first[1:]]


def _zygote(path: str, count: int, via: str = "save") -> int:
    lists = crash_lists(count, via)
    save_accounts(path, lists[0])
    _say("ready")
    child = 0
    for line in sys.stdin:
        command = line.strip()
        if command == "fork":
            child = os.fork()
            if child == 0:
                try:
                    turn = 1
                    while True:
                        if via == "add":
                            add_account(path, lists[turn][0])
                        else:
                            save_accounts(path, lists[turn])
                        _say("saved")
                        turn = 1 - turn
                except BaseException as exc:  # report, never fall back into the loop
                    _say(f"child failed: {exc!r}")
                finally:
                    os._exit(1)
            _say(str(child))
        elif command == "reap":
            _, status = os.waitpid(child, 0)
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                _say("killed")
            else:
                _say(f"exited {os.waitstatus_to_exitcode(status)}")
    return 0


def _add(path: str, first: int, count: int, remove: list[str]) -> int:
    _say("ready")
    sys.stdin.readline()
    for name in remove:
        remove_account(path, name)
    for index in range(first, first + count):
        add_account(path, make_account(index))
    _say("done")
    return 0


def _fsize(path: str, limit: int, count: int) -> int:
    import resource

    # Without this the kernel kills the process at the limit instead of failing the write.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        save_accounts(path, make_accounts(count, "big"))
    except CredentialsError as exc:
        _say(json.dumps(str(exc)))
        return 3
    return 0


def main(argv: list[str]) -> int:
    """Run one MODE; see the module docstring."""
    mode, path, *rest = argv
    if mode == "zygote":
        return _zygote(path, int(rest[0]), *rest[1:2])
    if mode == "add":
        return _add(path, int(rest[0]), int(rest[1]), rest[2:])
    if mode == "fsize":
        return _fsize(path, int(rest[0]), int(rest[1]))
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

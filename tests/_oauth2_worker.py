"""Helper processes for tests/test_oauth2.py: real bots sharing one stored OAuth 2.0 account.

Run as ``python tests/_oauth2_worker.py MODE ...``; a line protocol on stdin/stdout lets the
test decide when things happen:

``post PATH API_BASE NAME THREADS``
    Loads the stored account NAME (its token has expired) into THREADS clients, one per
    thread, prints ``ready``, waits for a line on stdin (the common start signal), then
    every thread posts once; prints ``posted N`` (the posts that succeeded), then one
    ``error MESSAGE`` line per failure.
``zygote PATH API_BASE NAME MARKS``
    Prints ``ready``. For each ``fork`` line it forks a child that refreshes NAME in PATH
    again and again (printing nothing), and prints the child's pid; for each ``reap PID``
    line it waits for that child and prints ``killed`` or ``exited CODE``. Forking from one
    warm process makes a trial cost milliseconds, not an interpreter's start-up. A child
    appends to MARKS, unbuffered, ``S`` as it sends a refresh, ``A`` once X's answer is in
    hand and ``R`` once the new pair is renamed into place: the last mark says where a
    SIGKILL found it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

from twcreds import load_client, post_tweet, refresh_account
from twcreds.errors import TwcredsError


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def post(path: str, api_base: str, name: str, threads: int) -> None:
    clients = [load_client(path, account=name, api_base=api_base) for _ in range(threads)]
    errors: list[str] = []
    posted = []

    def run(index: int) -> None:
        try:
            post_tweet(clients[index], f"hello from process {os.getpid()} thread {index}")
        except TwcredsError as exc:
            errors.append(str(exc).replace("\n", " "))
        else:
            posted.append(index)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    _say("ready")
    sys.stdin.readline()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    _say(f"posted {len(posted)}")
    for error in errors:
        _say(f"error {error}")


def zygote(path: str, api_base: str, name: str, marks: str) -> None:
    # Imported before forking, so that a child starts refreshing at once.
    import twcreds._twython
    import twcreds.store
    import twcreds.tokens

    fd = os.open(marks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    exchange = twcreds.tokens.exchange_refresh
    rename = twcreds.store._fill_and_rename

    def marked_exchange(*args: Any, **kwargs: Any) -> Any:
        os.write(fd, b"S")
        renewed = exchange(*args, **kwargs)
        os.write(fd, b"A")
        return renewed

    def marked_rename(*args: Any, **kwargs: Any) -> None:
        rename(*args, **kwargs)
        os.write(fd, b"R")

    twcreds.tokens.exchange_refresh = marked_exchange
    twcreds.store._fill_and_rename = marked_rename
    _say("ready")
    for line in sys.stdin:
        command = line.split()
        if command == ["fork"]:
            pid = os.fork()
            if pid == 0:  # the child: refresh until killed
                try:
                    while True:
                        refresh_account(path, name, api_base=api_base, timeout=5)
                finally:
                    os._exit(3)
            _say(str(pid))
        elif command[:1] == ["reap"]:
            _, status = os.waitpid(int(command[1]), 0)
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                _say("killed")
            else:
                _say(f"exited {os.waitstatus_to_exitcode(status)}")


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "post":
        post(rest[0], rest[1], rest[2], int(rest[3]))
    elif mode == "zygote":
        zygote(rest[0], rest[1], rest[2], rest[3])
    else:
        raise SystemExit(f"unknown mode {mode!r}")

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
``add-as UID PATH FIRST COUNT``
    As ``add``, as the user UID: the worker starts as root (the interpreter may live where
    UID cannot read) and gives up root before it reads its first line.
``nolock PATH ERRNO``
    Makes the kernel fail every ``flock`` of this process with ERRNO (a seccomp filter, as
    an NFS mount without a lock daemon fails it), then saves an account and adds another;
    prints each error message as a JSON line and exits 3 if both failed. Exits 4 where such
    a filter cannot be installed.
``hold PATH``
    Takes the store's lock on PATH (``flock`` on its lock file, as a writer does), prints
    ``locked`` and holds it until stdin closes.
"""

from __future__ import annotations

import codecs
import ctypes
import fcntl
import json
import os
import platform
import signal
import struct
import sys
from pathlib import Path

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


#: flock's system call number and the audit architecture, where the filter knows them.
_FLOCK_SYSCALL = {"x86_64": (73, 0xC000003E), "aarch64": (32, 0xC00000B7)}


def _fail_flock(error: int) -> bool:
    """Install a seccomp filter that fails every flock(2) of this process with ``error``.

    A real kernel-level failure, where no file system without locking is at hand: the
    store's own code runs unchanged. False if this machine or kernel cannot do it.
    """
    known = _FLOCK_SYSCALL.get(platform.machine())
    if known is None or not sys.platform.startswith("linux"):
        return False
    number, arch = known

    def op(code: int, jump_true: int, jump_false: int, value: int) -> bytes:
        return struct.pack("HBBI", code, jump_true, jump_false, value)

    load, equal, ret = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET
    allow, fail = 0x7FFF0000, 0x00050000 | error  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO
    program = b"".join(
        [
            op(load, 0, 0, 4),  # seccomp_data.arch
            op(equal, 1, 0, arch),
            op(ret, 0, 0, allow),
            op(load, 0, 0, 0),  # seccomp_data.nr
            op(equal, 0, 1, number),
            op(ret, 0, 0, fail),
            op(ret, 0, 0, allow),
        ]
    )

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buffer = ctypes.create_string_buffer(program)
    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
        return False
    return bool(libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(fprog), 0, 0) == 0)


def _nolock(path: str, error: int) -> int:
    if not _fail_flock(error):
        return 4
    probe = os.open(os.devnull, os.O_RDONLY)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX)
    except OSError as exc:
        if exc.errno != error:
            return 4
    else:
        return 4
    finally:
        os.close(probe)
    failed = 0
    for change in (
        lambda: save_accounts(path, make_accounts(1, "new")),
        lambda: add_account(path, make_account(5, "new")),
    ):
        try:
            change()
        except CredentialsError as exc:
            _say(json.dumps(str(exc)))
            failed += 1
    return 3 if failed == 2 else 0


def _hold(path: str) -> int:
    target = Path(path)
    fd = os.open(target.parent / f".{target.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _say("locked")
    sys.stdin.read()
    os.close(fd)
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
    if mode == "add-as":
        # Every module the writer needs is imported first: then root is given up for good.
        codecs.lookup("utf-8-sig")  # loads the codec the store's reader uses
        uid = int(path)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        return _add(rest[0], int(rest[1]), int(rest[2]), [])
    if mode == "nolock":
        return _nolock(path, int(rest[0]))
    if mode == "hold":
        return _hold(path)
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

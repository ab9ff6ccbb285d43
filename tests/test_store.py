"""twcreds.store: private atomic writes, the lock, add and remove, on real files and processes."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests._store_worker import crash_lists, make_account, make_accounts
from tests.conftest import CANARY, write_private
from twcreds.errors import CredentialsError, CredentialsNotFoundError, InsecurePermissionsWarning
from twcreds.models import Account, AccountList
from twcreds.sources import load_accounts
from twcreds.store import add_account, add_accounts, remove_account, save_accounts
from twcreds.store import write_private as write_private_file

WORKER = Path(__file__).with_name("_store_worker.py")
ROOT = Path(__file__).resolve().parents[1]
GUIDE_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

pytestmark = pytest.mark.skipif(os.name != "posix", reason="modes, flock and fork are POSIX")


# --- helpers ---------------------------------------------------------------------------


def records(accounts: list[Account] | AccountList) -> list[dict[str, Any]]:
    return [a.model_dump(mode="json", exclude_none=True) for a in accounts]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def temp_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def worker(
    *args: str, stdin: int | None = subprocess.PIPE, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    # The worker imports the twcreds beside these tests, whatever the working directory.
    environment = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def read_line(stream: IO[str] | None) -> str:
    assert stream is not None
    return stream.readline().strip()


def secret_account(index: int = 0, **changes: Any) -> Account:
    values = make_account(index, "c", consumer_secret=CANARY).model_dump(mode="json")
    return Account(**{**values, **changes})


def message_of(call: Callable[[], object]) -> str:
    """Run a store call that must fail; return everything a user could see of the error."""
    with pytest.raises(CredentialsError) as info:
        call()
    exc = info.value
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    old = os.umask(0o022)

    def set_umask(value: int) -> None:
        os.umask(value)

    try:
        yield set_umask
    finally:
        os.umask(old)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "accounts.json"


def mount(args: list[str]) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here ({result.stderr.strip() or result.returncode})")


def umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


# --- the file written ------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o000, 0o077, 0o277, 0o777])
def test_file_is_0600_and_new_folders_0700_whatever_the_umask(
    tmp_path: Path, umask: Callable[[int], None], mask: int
) -> None:
    path = tmp_path / "new" / "deeper" / "accounts.json"
    umask(mask)
    save_accounts(path, make_accounts(2, "a"))
    add_account(path, make_account(7))
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700
    assert mode(path.parent / ".accounts.json.lock") == 0o600
    assert stat.S_ISREG(os.lstat(path).st_mode)


def test_existing_folder_keeps_its_mode(tmp_path: Path, private_umask: None) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    save_accounts(folder / "accounts.json", make_accounts(1, "a"))
    assert mode(folder) == 0o755


def test_content_is_the_guides_list_that_json_load_reads(store: Path) -> None:
    accounts = make_accounts(3, "a")
    anonymous = Account(
        consumer_key="ck", consumer_secret="cs", access_token="t", access_token_secret="ts"
    )
    save_accounts(store, [*accounts, anonymous])

    text = store.read_text(encoding="utf-8")
    assert text.endswith("]\n")
    assert text.startswith('[\n  {\n    "consumer_key": ')
    with open(store, encoding="utf-8") as stream:
        loaded = json.load(stream)
    assert isinstance(loaded, list)
    # The guide's loop: four values per account, straight into Twython(...).
    four = [tuple(entry[key] for key in GUIDE_KEYS) for entry in loaded]
    assert four == [
        (
            a.consumer_key,
            a.consumer_secret.get_secret_value(),
            a.access_token,
            a.access_token_secret.get_secret_value(),
        )
        for a in [*accounts, anonymous]
    ]
    assert list(loaded[0]) == [*GUIDE_KEYS, "screen_name", "user_id"]
    assert list(loaded[3]) == list(GUIDE_KEYS)  # unknown names are left out, not null


def test_round_trip_through_load_accounts(store: Path) -> None:
    accounts = make_accounts(5, "a")
    save_accounts(store, (a for a in accounts))  # any iterable, consumed once
    assert list(load_accounts(store, format="json")) == accounts
    assert list(load_accounts(store)) == accounts


def test_secret_is_written_but_never_in_a_message(tmp_path: Path, store: Path) -> None:
    first = secret_account(0)
    save_accounts(store, [first])
    assert CANARY in store.read_text(encoding="utf-8")

    returned = add_account(store, secret_account(1))
    removed = remove_account(store, "cbot1")
    assert CANARY not in repr(returned) + str(returned) + repr(removed) + str(removed)

    failures: list[Callable[[], object]] = [
        lambda: save_accounts(store, [first, secret_account(0, screen_name="other")]),
        lambda: add_account(
            store,
            secret_account(5, screen_name="cbot0").model_copy(
                update={"access_token_secret": " inner space"}
            ),
        ),
        lambda: remove_account(store, "nobody"),
        lambda: save_accounts(tmp_path, [first]),
        lambda: save_accounts(store / "below" / "x.json", [first]),
    ]
    broken = write_private(tmp_path / "broken.json", f'[{{"consumer_secret": "{CANARY}",}}]')
    failures.append(lambda: add_account(broken, first))
    for call in failures:
        assert CANARY not in message_of(call)


# --- atomicity -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("via", "count", "trials"), [("save", 2000, 200), ("add", 1000, 100)])
def test_sigkill_mid_save_leaves_the_old_or_the_new_file(
    store: Path, via: str, count: int, trials: int
) -> None:
    """Writers killed at random moments: the file is always one whole list or the other."""
    expected = dict(zip(("a", "b"), map(records, crash_lists(count, via)), strict=True))
    rng = random.Random(20240601)
    zygote = worker("zygote", str(store), str(count), via)
    assert zygote.stdin is not None
    outcomes = {"a": 0, "b": 0}
    caught_mid_write = 0
    try:
        assert read_line(zygote.stdout) == "ready", zygote.communicate()[1]
        for trial in range(trials):
            zygote.stdin.write("fork\n")
            zygote.stdin.flush()
            pid = int(read_line(zygote.stdout))
            forked = time.perf_counter()
            assert read_line(zygote.stdout) == "saved", f"trial {trial}"
            # Kill within the next two saves, timed by this child's own first one, so
            # that the moments spread over whole save cycles however loaded the machine.
            time.sleep(rng.uniform(0, 2 * (time.perf_counter() - forked)))
            os.kill(pid, signal.SIGKILL)
            zygote.stdin.write("reap\n")
            zygote.stdin.flush()
            while (status := read_line(zygote.stdout)) == "saved":
                pass
            assert status == "killed", f"trial {trial}: {status}"

            with open(store, encoding="utf-8") as stream:
                content = json.load(stream)
            matches = [tag for tag, value in expected.items() if content == value]
            assert matches, f"trial {trial}: torn file"
            outcomes[matches[0]] += 1
            assert mode(store) == 0o600
            caught_mid_write += bool(temp_files(store.parent))
    finally:
        zygote.kill()
        zygote.communicate()
    # The kills landed both before and after renames, and some inside a write.
    assert min(outcomes.values()) >= 10, outcomes
    assert caught_mid_write >= 1
    # A killed writer's temporary file holds secrets; the next write sweeps it away.
    save_accounts(store, make_accounts(1, "a"))
    assert temp_files(store.parent) == []


def test_no_temporary_file_after_normal_writes(store: Path) -> None:
    save_accounts(store, make_accounts(2, "a"))
    add_account(store, make_account(9))
    remove_account(store, "abot0")
    assert sorted(os.listdir(store.parent)) == [".accounts.json.lock", "accounts.json"]


def test_stale_temporary_files_of_this_store_are_swept(store: Path) -> None:
    save_accounts(store, make_accounts(1, "a"))
    stale = write_private(store.parent / ".accounts.json.0123456789abcdef.tmp", "[")
    other = write_private(store.parent / ".other.json.0123456789abcdef.tmp", "[")
    mine = write_private(store.parent / ".accounts.json.backup.tmp", "[")
    add_account(store, make_account(1))
    assert not stale.exists()
    assert other.exists()
    assert mine.exists()


# --- concurrency -----------------------------------------------------------------------


def start_together(procs: list[subprocess.Popen[str]]) -> float:
    for proc in procs:
        assert read_line(proc.stdout) == "ready", proc.communicate()[1]
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == "done"
    return time.perf_counter() - started


def test_concurrent_adds_from_20_processes_lose_nothing(store: Path) -> None:
    processes, each = 20, 10
    procs = [worker("add", str(store), str(100 * p), str(each)) for p in range(processes)]
    start_together(procs)

    stored = load_accounts(store, format="json")
    wanted = {f"abot{100 * p + i}" for p in range(processes) for i in range(each)}
    assert len(stored) == processes * each
    assert set(stored.names) == wanted
    assert mode(store) == 0o600
    assert temp_files(store.parent) == []


def test_concurrent_removes_and_adds_lose_nothing(store: Path) -> None:
    processes, each = 12, 3
    save_accounts(store, [make_account(i) for i in range(processes * each)])
    procs = [
        worker(
            "add",
            str(store),
            str(1000 + each * p),
            str(each),
            *(f"@ABOT{each * p + i}" for i in range(each)),
        )
        for p in range(processes)
    ]
    start_together(procs)

    names = load_accounts(store, format="json").names
    assert sorted(names, key=str) == sorted(f"abot{1000 + i}" for i in range(processes * each))
    assert temp_files(store.parent) == []


def test_writers_wait_for_the_lock_file(store: Path) -> None:
    """The lock is `flock` on `.accounts.json.lock`, so other tools can take part in it."""
    save_accounts(store, make_accounts(1, "a"))
    proc = worker("add", str(store), "50", "1")
    assert read_line(proc.stdout) == "ready"
    fd = os.open(store.parent / ".accounts.json.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.5)
        assert load_accounts(store, format="json").names == ["abot0"]
    finally:
        os.close(fd)  # releases the lock
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert load_accounts(store, format="json").names == ["abot0", "abot50"]


# --- add_account -----------------------------------------------------------------------


def test_add_to_a_missing_file_and_folder_starts_a_list(tmp_path: Path) -> None:
    path = tmp_path / "config" / "twcreds" / "accounts.json"
    result = add_account(path, make_account(1))
    assert isinstance(result, AccountList)
    assert list(result) == [make_account(1)]
    assert list(load_accounts(path)) == [make_account(1)]


def test_add_appends_a_new_account(store: Path) -> None:
    save_accounts(store, make_accounts(2, "a"))
    result = add_account(store, make_account(2))
    assert result.names == ["abot0", "abot1", "abot2"]
    assert load_accounts(store, format="json") == result


def test_add_replaces_the_same_user_id_in_place(store: Path) -> None:
    save_accounts(store, make_accounts(3, "a"))
    renamed = make_account(1, "z").model_copy(update={"screen_name": "renamed"})
    assert renamed.user_id == make_account(1).user_id
    result = add_account(store, renamed)
    assert result.names == ["abot0", "renamed", "abot2"]
    assert result[1] == renamed
    assert load_accounts(store, format="json") == result


def test_add_replaces_the_same_screen_name_when_a_user_id_is_unknown(store: Path) -> None:
    old = Account(
        consumer_key="ck", consumer_secret="cs", access_token="old-token",
        access_token_secret="old-secret", screen_name="Bot",
    )  # fmt: skip
    save_accounts(store, [make_account(0), old, make_account(2)])
    new = make_account(1, "n").model_copy(update={"screen_name": "bOT"})
    result = add_account(store, new)
    assert [a.access_token for a in result] == [
        make_account(0).access_token,
        new.access_token,
        make_account(2).access_token,
    ]
    # and the other way round: the stored entry has the id, the new one only the name
    bare = make_account(7, "m").model_copy(update={"screen_name": "BOT", "user_id": None})
    assert add_account(store, bare)[1] == bare


def test_add_replaces_the_same_access_token(store: Path) -> None:
    bare = make_account(1).model_copy(update={"screen_name": None, "user_id": None})
    save_accounts(store, [make_account(0), bare])
    verified = make_account(1)
    assert add_account(store, verified).names == ["abot0", "abot1"]


def test_add_refuses_a_screen_name_held_by_another_user_id(store: Path) -> None:
    """Two user ids under one name are two accounts: replacing would drop working ones."""
    save_accounts(store, make_accounts(2, "a"))
    before = store.read_bytes()
    other = make_account(9).model_copy(update={"screen_name": "ABot1"})
    with pytest.raises(CredentialsError, match=r"user 1000001.*user 1000009") as caught:
        add_account(store, other)
    assert f"twcreds remove 1000001 --file {store}" in str(caught.value)
    assert store.read_bytes() == before
    remove_account(store, "1000001")  # the fix the message names
    assert add_account(store, other).names == ["abot0", "ABot1"]


def test_add_replaces_by_screen_name_when_a_user_id_is_unknown(store: Path) -> None:
    stored = make_accounts(2, "a")
    save_accounts(store, [stored[0], stored[1].model_copy(update={"user_id": None})])
    newer = make_account(9).model_copy(update={"screen_name": "ABot1"})
    assert add_account(store, newer).names == ["abot0", "ABot1"]
    assert load_accounts(store)[1].access_token == newer.access_token


def test_add_accounts_adds_all_or_nothing(store: Path) -> None:
    save_accounts(store, make_accounts(2, "a"))
    before = store.read_bytes()
    clash = make_account(9).model_copy(update={"screen_name": "ABot1"})
    with pytest.raises(CredentialsError):
        add_accounts(store, [make_account(5), clash])
    assert store.read_bytes() == before
    added = add_accounts(store, [make_account(5), make_account(6)])
    assert len(added) == 4


def test_wrong_types_are_type_errors(store: Path) -> None:
    with pytest.raises(TypeError, match="Account"):
        add_account(store, {"consumer_key": "k"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str"):
        remove_account(store, 5)  # type: ignore[arg-type]
    assert not store.exists()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('[{"consumer_key": "a",}]', "not valid JSON"),
        ('[{"consumer_key": "a", "consumer_secret": "b", "access_token": "c"}]', "missing"),
        ("42", "expected an account object"),
    ],
)
def test_add_to_a_malformed_file_leaves_it_untouched(store: Path, content: str, match: str) -> None:
    write_private(store, content)
    with pytest.raises(CredentialsError, match=match) as info:
        add_account(store, make_account(1))
    assert str(store) in str(info.value)
    assert store.read_text(encoding="utf-8") == content
    assert temp_files(store.parent) == []


@pytest.mark.parametrize("content", ["", "\n", "[]\n", '{"accounts": []}'])
def test_add_to_an_empty_file(store: Path, content: str) -> None:
    write_private(store, content)
    assert add_account(store, make_account(1)).names == ["abot1"]


@pytest.mark.parametrize("accounts", [[], [{"access_token": "1-t", "access_token_secret": "s"}]])
def test_a_file_with_an_app_section_is_not_rewritten(store: Path, accounts: list[object]) -> None:
    """The store writes plain lists; it must not drop an app section and its secret."""
    app = {"consumer_key": "app-key", "consumer_secret": CANARY}
    write_private(store, json.dumps({"app": app, "accounts": accounts}))
    before = store.read_bytes()
    for change in (
        lambda: add_account(store, make_account(2)),
        lambda: remove_account(store, "anyone"),
    ):
        with pytest.raises(CredentialsError, match='"app" section') as caught:
            change()
        assert CANARY not in str(caught.value)
        assert store.read_bytes() == before


def test_add_to_a_readable_by_others_file_warns_and_makes_it_private(store: Path) -> None:
    save_accounts(store, make_accounts(1, "a"))
    store.chmod(0o644)
    with pytest.warns(InsecurePermissionsWarning, match="chmod 600"):
        add_account(store, make_account(1))
    assert mode(store) == 0o600


def test_writing_through_a_symlink_replaces_its_target(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "accounts.json"
    real.parent.mkdir()
    link = tmp_path / "accounts.json"
    link.symlink_to(real)
    save_accounts(link, make_accounts(1, "a"))
    add_account(link, make_account(1))
    assert link.is_symlink()
    assert load_accounts(real).names == ["abot0", "abot1"]
    assert (real.parent / ".accounts.json.lock").exists()
    assert mode(real) == 0o600


# --- remove_account --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["abot1", "@abot1", "ABot1", " @ABOT1 ", "1000001"])
def test_remove_by_screen_name_or_user_id(store: Path, name: str) -> None:
    save_accounts(store, make_accounts(3, "a"))
    removed = remove_account(store, name)
    assert removed == make_account(1)
    assert load_accounts(store, format="json").names == ["abot0", "abot2"]


def test_remove_prefers_a_screen_name_made_of_digits(store: Path) -> None:
    digits = make_account(5).model_copy(update={"screen_name": "1000001"})
    save_accounts(store, [make_account(1), digits])
    assert remove_account(store, "1000001") == digits


def test_remove_unknown_name_lists_the_accounts(store: Path) -> None:
    save_accounts(store, make_accounts(2, "a"))
    before = store.read_bytes()
    with pytest.raises(CredentialsError) as info:
        remove_account(store, "@nobody")
    message = str(info.value)
    assert str(store) in message
    assert "@nobody" in message
    assert "@abot0, @abot1" in message
    assert store.read_bytes() == before


def test_remove_the_last_account_leaves_an_empty_list(store: Path) -> None:
    save_accounts(store, [make_account(1)])
    remove_account(store, "abot1")
    assert store.read_text(encoding="utf-8") == "[]\n"
    assert mode(store) == 0o600
    with pytest.raises(CredentialsError, match="no accounts"):
        load_accounts(store)
    with pytest.raises(CredentialsError, match=r"no account @abot1 .*accounts: none"):
        remove_account(store, "abot1")
    assert add_account(store, make_account(2)).names == ["abot2"]


def test_remove_from_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CredentialsNotFoundError, match="no such file"):
        remove_account(tmp_path / "accounts.json", "abot1")
    with pytest.raises(CredentialsNotFoundError, match="no such file"):
        remove_account(tmp_path / "missing" / "accounts.json", "abot1")
    assert os.listdir(tmp_path) == []


# --- save_accounts validation and failures ---------------------------------------------


def test_save_refuses_duplicates_and_keeps_the_old_file(store: Path) -> None:
    save_accounts(store, make_accounts(2, "a"))
    before = store.read_bytes()
    twin = make_account(0).model_copy(update={"screen_name": "ABOT1"})
    with pytest.raises(CredentialsError, match=r"\[0\] and \[1\] have the same screen name") as e:
        save_accounts(store, [make_account(1), twin])
    assert str(store) in str(e.value)
    with pytest.raises(CredentialsError, match="same access token"):
        save_accounts(store, [make_account(1), make_account(1)])
    assert store.read_bytes() == before


def test_save_an_empty_list(store: Path) -> None:
    save_accounts(store, [])
    with open(store, encoding="utf-8") as stream:
        assert json.load(stream) == []


def assert_unchanged(folder: Path, before: dict[str, bytes]) -> None:
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    assert temp_files(folder) == []


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_target_is_a_directory(tmp_path: Path, store: Path) -> None:
    save_accounts(store, make_accounts(1, "a"))
    folder = tmp_path / "adir.json"
    folder.mkdir()
    (folder / "inside").write_text("keep", encoding="utf-8")
    before = snapshot(tmp_path)
    with pytest.raises(CredentialsError, match=r"adir\.json: cannot save .*directory"):
        save_accounts(folder, make_accounts(1, "b"))
    with pytest.raises(CredentialsError, match="is a directory"):
        add_account(folder, make_account(1))
    assert_unchanged(tmp_path, {**before, ".adir.json.lock": b""})
    assert (folder / "inside").read_text(encoding="utf-8") == "keep"


def test_a_file_in_the_way_of_the_folder(tmp_path: Path) -> None:
    blocker = write_private(tmp_path / "config", "not a folder")
    for path in (blocker / "accounts.json", blocker / "deeper" / "accounts.json"):
        with pytest.raises(CredentialsError, match="where its folder should be"):
            save_accounts(path, make_accounts(1, "a"))
        with pytest.raises(CredentialsError, match="where its folder should be"):
            add_account(path, make_account(1))
    assert blocker.read_text(encoding="utf-8") == "not a folder"
    assert os.listdir(tmp_path) == ["config"]


def test_file_size_limit_mid_write_keeps_the_old_file(store: Path) -> None:
    """A write that fails part-way (RLIMIT_FSIZE, like a full disk) leaves no trace."""
    save_accounts(store, make_accounts(1, "a"))
    before = snapshot(store.parent)
    proc = worker("fsize", str(store), "8192", "200", stdin=subprocess.DEVNULL)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    message = json.loads(out)
    assert message.startswith(f"{store}: cannot save the accounts: the file is too large")
    assert "old file is unchanged" in message
    assert_unchanged(store.parent, before)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mount(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(disk)])
    try:
        yield disk
    finally:
        umount(disk)


def test_full_disk_keeps_the_old_file(tiny_disk: Path) -> None:
    store = tiny_disk / "accounts.json"
    save_accounts(store, make_accounts(1, "a"))
    before = snapshot(tiny_disk)
    with pytest.raises(CredentialsError, match="no space left on device; free some space"):
        save_accounts(store, make_accounts(1000, "b"))
    assert_unchanged(tiny_disk, before)

    def fill_up() -> None:
        for index in range(1000):
            add_account(store, make_account(index, "b"))

    with pytest.raises(CredentialsError, match="no space left on device"):
        fill_up()
    assert temp_files(tiny_disk) == []
    # The adds that fit are all there, each write whole.
    assert len(load_accounts(store)) > 1
    assert len(load_accounts(store)) == len(json.loads(store.read_text(encoding="utf-8")))


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ro"
    folder.mkdir()
    save_accounts(folder / "accounts.json", make_accounts(2, "a"))
    if IS_ROOT:
        # Root ignores permission bits; a read-only bind mount stops root too.
        mount(["--bind", str(folder), str(folder)])
        try:
            mount(["-o", "remount,bind,ro", str(folder)])
            yield folder
        finally:
            umount(folder)
    else:
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)


def test_read_only_folder_keeps_the_old_file(read_only_folder: Path) -> None:
    store = read_only_folder / "accounts.json"
    before = snapshot(read_only_folder)
    fix = "save it in a writable folder" if IS_ROOT else "chmod u+w"
    with pytest.raises(CredentialsError, match=fix) as info:
        save_accounts(store, make_accounts(1, "b"))
    assert str(info.value).startswith(f"{store}: cannot save the accounts")
    with pytest.raises(CredentialsError, match=fix):
        add_account(store, make_account(1, "b"))
    with pytest.raises(CredentialsError, match=fix):
        remove_account(store, "abot0")
    assert_unchanged(read_only_folder, before)


def test_write_private_writes_any_secret_file_privately(
    tmp_path: Path, private_umask: None
) -> None:
    target = tmp_path / "new" / "state.json"
    write_private_file(target, b'{"oauth_token_secret": "x"}')
    write_private_file(target, b"second")
    assert target.read_bytes() == b"second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]


def test_write_private_failure_keeps_nothing_half_written(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    with pytest.raises(CredentialsError, match="taken"):
        write_private_file(target, CANARY.encode())
    assert list(tmp_path.iterdir()) == [target]
    assert list(target.iterdir()) == []


def test_paths_with_a_tilde_mean_the_home_folder(tmp_path: Path) -> None:
    # conftest points HOME at a private folder for every test.
    home = Path(os.environ["HOME"])
    save_accounts("~/bots/accounts.json", make_accounts(1, "t"))
    assert [a.screen_name for a in load_accounts(home / "bots" / "accounts.json")] == ["tbot0"]
    add_account("~/bots/accounts.json", make_account(5))
    assert remove_account("~/bots/accounts.json", "tbot0").screen_name == "tbot0"
    assert not (Path.cwd() / "~").exists()


def test_an_unknown_name_lists_at_most_ten_accounts(store: Path) -> None:
    save_accounts(store, make_accounts(15, "n"))
    with pytest.raises(CredentialsError) as caught:
        remove_account(store, "nobody")
    message = str(caught.value)
    assert "@nbot9" in message
    assert "@nbot10" not in message
    assert message.count("@nbot") == 10
    assert "and 5 more" in message


# --- hostile and unusual file systems --------------------------------------------------

OTHER_UID = 65534  # nobody


@pytest.fixture
def sticky(tmp_path: Path) -> Path:
    """A world-writable folder with the sticky bit, as the system's temp folder is."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    return folder


def planted_link(link: Path, target: Path, uid: int = OTHER_UID) -> Path:
    link.symlink_to(target)
    os.lchown(link, uid, uid)
    return link


@pytest.mark.skipif(not IS_ROOT, reason="giving a link to another user needs root")
def test_a_link_planted_by_another_user_in_a_sticky_folder_is_refused(
    tmp_path: Path, sticky: Path
) -> None:
    victim = tmp_path / "victim" / "accounts.json"
    victim.parent.mkdir()
    save_accounts(victim, make_accounts(2, "v"))
    before = snapshot(victim.parent)
    link = planted_link(sticky / "accounts.json", victim)
    folder_link = planted_link(sticky / "config", victim.parent)
    attempts: list[Callable[[], object]] = [
        lambda: save_accounts(link, make_accounts(1, "a")),
        lambda: add_account(link, make_account(1)),
        lambda: remove_account(link, "vbot0"),
        lambda: write_private_file(link, b"x"),
        lambda: save_accounts(folder_link / "accounts.json", make_accounts(1, "a")),
        lambda: add_account(sticky / "." / "config" / ".." / "config" / "accounts.json",
                            make_account(1)),
    ]  # fmt: skip
    for attempt in attempts:
        with pytest.raises(CredentialsError) as caught:
            attempt()
        message = str(caught.value)
        assert f"is a symbolic link owned by another user (uid {OTHER_UID})" in message
        assert f"in the world-writable sticky folder {sticky}" in message
        assert "fs.protected_symlinks" in message
    assert snapshot(victim.parent) == before
    assert sorted(os.listdir(sticky)) == ["accounts.json", "config"]


@pytest.mark.skipif(not IS_ROOT, reason="giving a link to another user needs root")
def test_links_of_the_user_or_of_the_folders_owner_are_followed(
    tmp_path: Path, sticky: Path
) -> None:
    real = tmp_path / "dotfiles" / "accounts.json"
    real.parent.mkdir()
    own = planted_link(sticky / "mine.json", real, uid=os.geteuid())
    save_accounts(own, make_accounts(1, "a"))
    assert load_accounts(real).names == ["abot0"]
    # The kernel's rule too: a link owned by the sticky folder's owner is followed.
    owned = tmp_path / "owned"
    owned.mkdir(mode=0o1777)
    owned.chmod(0o1777)
    os.chown(owned, OTHER_UID, OTHER_UID)
    add_account(planted_link(owned / "accounts.json", real), make_account(1))
    assert load_accounts(real).names == ["abot0", "abot1"]
    # Outside a sticky folder, any link is followed, as the kernel follows it.
    plain = tmp_path / "plain"
    plain.mkdir(mode=0o777)
    remove_account(planted_link(plain / "accounts.json", real), "abot0")
    assert load_accounts(real).names == ["abot1"]


def test_a_flock_that_fails_is_an_error_that_says_what_to_do(store: Path) -> None:
    """A file system without locking (NFS without lockd): ENOLCK, EOPNOTSUPP or EIO."""
    save_accounts(store, make_accounts(2, "a"))
    before = snapshot(store.parent)
    for error, reason in [
        (errno.ENOLCK, "No locks available"),
        (errno.EOPNOTSUPP, "Operation not supported"),
        (errno.EIO, "Input/output error"),
    ]:
        proc = worker("nolock", str(store), str(error), stdin=subprocess.DEVNULL)
        out, err = proc.communicate(timeout=60)
        if proc.returncode == 4:
            pytest.skip("no seccomp filter on this machine to make flock fail")
        assert proc.returncode == 3, out + err
        for message in map(json.loads, out.splitlines()):
            assert message.startswith(f"{store}: cannot save the accounts: ")
            assert f"cannot lock {store.parent / '.accounts.json.lock'} ({reason})" in message
            assert "keep the accounts file on a local disk" in message
            assert message.endswith("The old file is unchanged")
        assert snapshot(store.parent) == before
        assert temp_files(store.parent) == []


def stale_temp(folder: Path, name: str, uid: int | None = None) -> Path:
    temp = write_private(folder / f".{name}.0123456789abcdef.tmp", CANARY)
    if uid is not None:
        os.chown(temp, uid, uid)
    return temp


def test_every_private_write_sweeps_its_own_stale_temporary_files(tmp_path: Path) -> None:
    """convert -o, --state and rescue files go through write_private: a crash there too."""
    target = tmp_path / "pending.json"
    stale = stale_temp(tmp_path, "pending.json")
    other = stale_temp(tmp_path, "other.json")
    write_private_file(target, b"{}")
    assert not stale.exists()
    assert other.exists()
    assert temp_files(tmp_path) == [other.name]


def test_a_live_writers_temporary_file_is_not_swept(store: Path) -> None:
    """A temporary file whose writer still holds it (its lock) is not stale."""
    save_accounts(store, make_accounts(1, "a"))
    live = stale_temp(store.parent, "accounts.json")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        add_account(store, make_account(1))
        write_private_file(store, b"[]\n")
        assert live.exists()
    finally:
        os.close(fd)
    add_account(store, make_account(1))
    assert not live.exists()


@pytest.mark.skipif(not IS_ROOT, reason="files of another user need root")
def test_the_sweep_leaves_other_users_temporary_files_alone(sticky: Path) -> None:
    store = sticky / "accounts.json"
    theirs = stale_temp(sticky, "accounts.json", uid=OTHER_UID)
    save_accounts(store, make_accounts(1, "a"))
    add_account(store, make_account(1))
    assert theirs.exists()


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A sticky, world-writable folder in the system's temp folder, reachable by any user."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="twcreds-shared-"))
    folder.chmod(0o1777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


@pytest.mark.skipif(not IS_ROOT, reason="running a writer as another user needs root")
def test_another_users_stale_temporary_file_does_not_stop_a_write(shared_tmp: Path) -> None:
    store = shared_tmp / "accounts.json"
    theirs = stale_temp(shared_tmp, "accounts.json", uid=os.geteuid())
    proc = worker("add-as", str(OTHER_UID), str(store), "0", "2")
    assert read_line(proc.stdout) == "ready", proc.communicate()[1]
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out.strip()) == (0, "done"), err
    assert load_accounts(store).names == ["abot0", "abot1"]
    assert os.stat(store).st_uid == OTHER_UID
    assert theirs.read_text(encoding="utf-8") == CANARY


def hold_lock(store: Path) -> subprocess.Popen[str]:
    holder = worker("hold", str(store))
    assert read_line(holder.stdout) == "locked", holder.communicate()[1]
    return holder


def release(holder: subprocess.Popen[str]) -> None:
    holder.kill()
    holder.communicate()


def test_waiting_for_the_lock_ends_after_the_timeout(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stopped holder must not block every writer forever."""
    save_accounts(store, make_accounts(1, "a"))
    before = snapshot(store.parent)
    holder = hold_lock(store)
    os.kill(holder.pid, signal.SIGSTOP)  # a writer stopped with Ctrl-Z holds on
    lock = store.parent / ".accounts.json.lock"
    # Another process, waiting as long as $TWCREDS_LOCK_TIMEOUT says.
    proc = worker("add", str(store), "5", "1", env={"TWCREDS_LOCK_TIMEOUT": "0.5"})
    try:
        assert read_line(proc.stdout) == "ready"
        assert proc.stdin is not None
        started = time.monotonic()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 1
        assert time.monotonic() - started >= 0.5
        assert f"CredentialsError: {store}: not changed: another process has held" in err
        assert f"its lock {lock} for 0.5 seconds" in err

        # In this process, with the keyword, which wins over the variable.
        monkeypatch.setenv("TWCREDS_LOCK_TIMEOUT", "600")
        for change in (
            lambda: save_accounts(store, make_accounts(1, "b"), lock_timeout=0.2),
            lambda: add_account(store, make_account(1), lock_timeout=0.2),
            lambda: remove_account(store, "abot0", lock_timeout=0),
        ):
            started = time.monotonic()
            with pytest.raises(CredentialsError, match="TWCREDS_LOCK_TIMEOUT") as caught:
                change()
            assert time.monotonic() - started < 5
            assert str(lock) in str(caught.value)
        assert snapshot(store.parent) == before
    finally:
        release(proc)
        os.kill(holder.pid, signal.SIGCONT)
        release(holder)
    # Once the holder is gone, writers go on.
    assert add_account(store, make_account(1), lock_timeout=0).names == ["abot0", "abot1"]


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "\u0661"])
def test_a_bad_lock_timeout_variable_is_refused_before_anything_is_written(
    store: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TWCREDS_LOCK_TIMEOUT", value)
    with pytest.raises(CredentialsError, match=r"^TWCREDS_LOCK_TIMEOUT: .* seconds") as caught:
        add_account(store, make_account(1))
    assert "export TWCREDS_LOCK_TIMEOUT=30" in str(caught.value)
    assert os.listdir(store.parent) == []


@pytest.mark.parametrize(
    ("value", "error"), [(-1, ValueError), (float("nan"), ValueError), ("5", TypeError)]
)
def test_a_bad_lock_timeout_keyword_is_refused(
    store: Path, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="lock_timeout"):
        add_account(store, make_account(1), lock_timeout=value)  # type: ignore[arg-type]
    assert os.listdir(store.parent) == []


def test_the_lock_timeout_waits_for_a_holder_that_lets_go(store: Path) -> None:
    save_accounts(store, make_accounts(1, "a"))
    holder = hold_lock(store)
    timer = threading.Timer(0.3, release, [holder])
    timer.start()
    try:
        assert add_account(store, make_account(1), lock_timeout=30).names == ["abot0", "abot1"]
    finally:
        timer.join()


# --- the rescue file's name ------------------------------------------------------------


@pytest.mark.parametrize(
    ("screen_name", "user_id", "label"),
    [
        ("/../../x", "1000001", "1000001"),
        ("a/b", None, "account"),
        ("..", None, "account"),
        ("bot.json", "../../1", "account"),
        ("sixteen_letters_", "1000001", "1000001"),
        ("Good_Name_1", "1000001", "Good_Name_1"),
    ],
)
def test_the_rescue_file_is_never_named_after_anything_but_a_screen_name(
    tmp_path: Path, screen_name: str, user_id: str | None, label: str
) -> None:
    from twcreds.store import rescue_account

    store = tmp_path / "deep" / "er" / "accounts.json"
    store.parent.mkdir(parents=True)
    # Folders a path built from the name would walk through.
    (store.parent / "accounts.json.rescued-").mkdir()
    (store.parent / "accounts.json.rescued-a").mkdir()
    values = make_account(1).model_dump(mode="json")
    values.update(screen_name=screen_name, user_id=user_id, access_token="t0ken")
    account = Account.model_validate(values)
    rescued = rescue_account(account, store)
    assert rescued == store.parent / f"accounts.json.rescued-{label}.json"
    assert load_accounts(rescued).names == [screen_name]
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == [str(rescued.relative_to(tmp_path))]


# --- removing accounts that have no name -------------------------------------------------


def guide_account(index: int) -> Account:
    """An account from the guide's 4-line file: no screen name, no user id."""
    return make_account(index, "g").model_copy(update={"screen_name": None, "user_id": None})


@pytest.mark.parametrize("name", ["1", "#1", " #1 ", "1000001"])
def test_remove_an_unnamed_account_by_index_or_its_tokens_user_id(store: Path, name: str) -> None:
    accounts = [make_account(0), guide_account(1), guide_account(2)]
    save_accounts(store, accounts)
    assert remove_account(store, name) == accounts[1]
    assert list(load_accounts(store)) == [accounts[0], accounts[2]]


def test_remove_takes_a_name_or_user_id_before_an_index(store: Path) -> None:
    digits = make_account(5).model_copy(update={"screen_name": "1"})
    save_accounts(store, [guide_account(0), guide_account(1), digits])
    assert remove_account(store, "1") == digits
    assert remove_account(store, "#1") == guide_account(1)
    assert list(load_accounts(store)) == [guide_account(0)]


def test_one_user_under_two_apps_is_removed_by_index(store: Path) -> None:
    first = guide_account(1)
    second = first.model_copy(
        update={"consumer_key": "other-app", "access_token": "1000001-other-token"}
    )
    save_accounts(store, [make_account(0), first, second])
    before = store.read_bytes()
    with pytest.raises(CredentialsError) as caught:
        remove_account(store, "1000001")
    assert str(caught.value) == (
        f"{store}: user 1000001 has 2 accounts here (#1, #2), one per app or kind;"
        f" remove one by its index, as `twcreds list {store}` shows it: `twcreds remove"
        f" '#1' --file {store}` (or remove_account(path, '#1'))"
    )
    assert store.read_bytes() == before
    assert remove_account(store, "#2") == second


@pytest.mark.parametrize("name", ["#3", "3", "#-1", "#\u0661", "#" + "9" * 5000, "nobody"])
def test_remove_names_unnamed_accounts_by_index_when_nothing_matches(
    store: Path, name: str
) -> None:
    save_accounts(store, [make_account(0), guide_account(1), guide_account(2)])
    before = store.read_bytes()
    with pytest.raises(CredentialsError) as caught:
        remove_account(store, name)
    message = str(caught.value)
    assert "(accounts: @abot0, #1 (user 1000001), #2 (user 1000002));" in message
    assert message.endswith(
        "name one by screen name, user id, or index as `twcreds list` shows it (#0 is the first)"
    )
    assert store.read_bytes() == before


def oauth2_account(**values: Any) -> Any:
    from datetime import datetime, timezone

    from twcreds.models import OAuth2Account

    expires = datetime(2030, 1, 1, tzinfo=timezone.utc)
    defaults = {"client_id": "client-id-1", "access_token": CANARY, "expires_at": expires}
    return OAuth2Account(**{**defaults, **values})


def test_one_user_authorized_both_ways_is_removed_by_index(store: Path) -> None:
    """Both kinds may hold one user id; an OAuth 2.0 token never names or labels anyone."""
    both = oauth2_account(user_id="1000001")
    unnamed = oauth2_account(client_id="client-id-2", access_token=f"1000009-{CANARY}")
    save_accounts(store, [make_account(1), both, unnamed])
    with pytest.raises(CredentialsError, match=r"user 1000001 has 2 accounts here \(#0, #1\)"):
        remove_account(store, "1000001")
    with pytest.raises(CredentialsError) as caught:
        remove_account(store, "1000009")  # a bearer token's text is no user id
    assert "(accounts: @abot1, #1 (user 1000001), #2);" in str(caught.value)
    assert CANARY not in str(caught.value)
    assert remove_account(store, "#1") == both
    assert remove_account(store, "1000001") == make_account(1)


def test_a_pending_oauth2_state_may_be_replaced_but_nothing_else(store: Path) -> None:
    from twcreds.authorization import start_oauth2_authorization
    from twcreds.models import OAuth2App
    from twcreds.store import check_pending_target, save_pending_oauth2

    pending = start_oauth2_authorization(
        OAuth2App(client_id="client-id-1"), api_base="http://127.0.0.1:9"
    )
    state = store.parent / "pending.json"
    save_pending_oauth2(state, pending)
    check_pending_target(state)  # either flow's state may be replaced
    save_pending_oauth2(state, pending)
    save_accounts(store, make_accounts(1, "a"))
    before = store.read_bytes()
    with pytest.raises(CredentialsError, match="exists and is not a pending authorization"):
        save_pending_oauth2(store, pending)
    assert store.read_bytes() == before

"""``credential_process``: credentials printed by a command, as AWS defines it.

A secret manager (``pass``, 1Password's ``op``, a vault client) keeps the secrets; twcreds
runs the command the user names (``TWCREDS_CREDENTIAL_PROCESS``, or a store entry
``{"credential_process": "CMD ARGS"}``) and reads one JSON account from its stdout::

    {"Version": 1, "consumer_key": "...", "consumer_secret": "...",
     "access_token": "...", "access_token_secret": "..."}

The command is split as a shell would split it (`shlex.split`) and run without a shell,
with stdin closed and a timeout (`DEFAULT_TIMEOUT`, or ``TWCREDS_CREDENTIAL_PROCESS_TIMEOUT``
seconds), in a session of its own so that a timeout kills whatever it started too. A
failure quotes the last line of its stderr, never its stdout (which holds the secrets).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from twcreds.errors import CredentialsError, printable
from twcreds.formats import Parsed, Record

__all__ = ["DEFAULT_TIMEOUT", "TIMEOUT_VARIABLE", "process_record", "run_credential_process"]

#: Seconds a credential process may take, unless ``TWCREDS_CREDENTIAL_PROCESS_TIMEOUT`` says.
DEFAULT_TIMEOUT = 30.0
TIMEOUT_VARIABLE = "TWCREDS_CREDENTIAL_PROCESS_TIMEOUT"
_MAX_OUTPUT = 1024 * 1024
_QUOTED = 200  # characters of stderr's last line quoted in a message


def _timeout(environ: Mapping[str, str]) -> float:
    text = environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        msg = f"{TIMEOUT_VARIABLE}={printable(text[:20])!r}: must be a number of seconds above 0"
        raise CredentialsError(msg)
    return value


def _split(command: str, label: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:  # an unclosed quote; the message quotes no part of the command
        msg = f"{label}: cannot split the command as a shell would ({exc}); check its quotes"
        raise CredentialsError(msg) from None
    if not argv:
        raise CredentialsError(f"{label}: the command is empty; name a program to run")
    return argv


def run_credential_process(
    command: str, label: str, *, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run a credential process and return the account object it printed (``Version`` removed).

    Args:
        command: the command line, split as a shell would (no shell runs it).
        label: where the command was named, for messages (``"TWCREDS_CREDENTIAL_PROCESS"``).
        environ: where ``TWCREDS_CREDENTIAL_PROCESS_TIMEOUT`` is looked up (``os.environ``).

    Raises:
        CredentialsError: the command cannot be run, times out (it is killed), exits
            non-zero (its stderr's last line is quoted), or prints anything but one JSON
            object with ``"Version": 1``.
    """
    env = os.environ if environ is None else environ
    timeout = _timeout(env)
    argv = _split(command, label)
    program = printable(Path(argv[0]).name)
    where = f"{label} ({program})"
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: a timeout kills its children too
        )
    except FileNotFoundError:
        msg = f"{where}: no such program; check the command, or that {program} is installed"
        raise CredentialsError(msg) from None
    except PermissionError:
        msg = f"{where}: permission denied; make the program executable (`chmod +x`)"
        raise CredentialsError(msg) from None
    except OSError as exc:
        msg = f"{where}: cannot run it ({exc.strerror or type(exc).__name__})"
        raise CredentialsError(msg) from None
    with proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            msg = (
                f"{where}: still running after {timeout:g} seconds; killed. Make it answer"
                f" sooner, or raise {TIMEOUT_VARIABLE}"
            )
            failure: str | None = msg
        else:
            failure = None
    if failure is not None:
        raise CredentialsError(failure)
    if proc.returncode != 0:
        raise CredentialsError(_exit_message(where, proc.returncode, err))
    return _account_object(out, where)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    # Its output is thrown away unread: it may hold half the secrets.
    proc.communicate()


def _exit_message(where: str, status: int, err: bytes) -> str:
    lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    what = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
    if not lines:
        return f"{where}: {what}, saying nothing on stderr"
    last = lines[-1].strip()
    if len(last) > _QUOTED:
        last = last[:_QUOTED] + "..."
    return f"{where}: {what}: {printable(last)}"


def _account_object(out: bytes, where: str) -> dict[str, Any]:
    # Errors are raised outside the handlers: the exception would hold the whole output,
    # secrets included.
    value: Any = None
    msg = ""
    if len(out) > _MAX_OUTPUT:
        msg = f"{where}: printed {len(out):,} bytes; a credential process prints one JSON object"
    elif not out.strip():
        msg = f'{where}: printed nothing; it must print one JSON object with "Version": 1'
    else:
        try:
            value = json.loads(out.decode("utf-8-sig"))
        except UnicodeDecodeError:
            msg = f"{where}: its output is not UTF-8 text; it must print one JSON object"
        except json.JSONDecodeError as exc:
            msg = (
                f"{where}: its output is not JSON ({exc.msg} at line {exc.lineno},"
                f' column {exc.colno}); it must print one object with "Version": 1'
            )
        except (RecursionError, ValueError):
            msg = f"{where}: its output is not a JSON object it could print"
    if msg:
        raise CredentialsError(msg)
    if not isinstance(value, dict):
        msg = (
            f'{where}: printed a JSON {type(value).__name__}; expected one object with "Version": 1'
        )
        raise CredentialsError(msg)
    version = value.pop("Version", None)
    if version != 1 or isinstance(version, bool):
        shown = "no Version" if version is None else "another Version"
        msg = f'{where}: printed {shown}; the object must hold "Version": 1 (AWS\'s format)'
        raise CredentialsError(msg)
    return value


def process_record(command: str, label: str, *, environ: Mapping[str, str] | None = None) -> Parsed:
    """The account a credential process prints, as a source's records (`Parsed`).

    Raises:
        CredentialsError: as `run_credential_process`.
    """
    data = run_credential_process(command, label, environ=environ)
    where = f"{label} ({printable(Path(_split(command, label)[0]).name)})"
    return Parsed(where, [Record(data, where)], origin="process")

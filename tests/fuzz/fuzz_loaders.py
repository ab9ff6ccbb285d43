"""Coverage-guided fuzzing of the loaders with atheris (not part of CI).

Any bytes, as a file of any format (or sniffed), must give accounts or a
`CredentialsError`; anything else — another exception, a hang, a crash — is a finding.

Run::

    pip install atheris
    python tests/fuzz/fuzz_loaders.py -max_total_time=600 -max_len=4096 /tmp/fuzz tests/corpus

Findings are written as ``crash-*`` files; each one becomes a file in ``tests/corpus/`` and a fix.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from pathlib import Path

import atheris

with atheris.instrument_imports():
    # Name the modules: `twcreds` imports its parts lazily, outside this block otherwise.
    import dotenv.parser

    import twcreds.models
    import twcreds.sources
    from twcreds.errors import CredentialsError, InsecurePermissionsWarning
    from twcreds.sources import load_accounts, load_app

INSTRUMENTED = (dotenv.parser, twcreds.models, twcreds.sources)

FORMATS = ("json", "lines", "env", None)
NAMES = {"json": "creds.json", "lines": "creds-twitter", "env": ".env", None: "creds"}
WORKDIR = Path(tempfile.mkdtemp(prefix="twcreds-fuzz-"))


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    fmt = FORMATS[provider.ConsumeIntInRange(0, len(FORMATS) - 1)]
    want_app = provider.ConsumeBool()
    body = provider.ConsumeBytes(provider.remaining_bytes())
    path = WORKDIR / NAMES[fmt]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(body)
    try:
        if want_app:
            load_app(path, format=fmt)  # type: ignore[arg-type]
        else:
            load_accounts(path, format=fmt)  # type: ignore[arg-type]
    except CredentialsError:
        pass


def main() -> None:
    warnings.simplefilter("error", InsecurePermissionsWarning)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

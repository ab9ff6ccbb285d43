"""``python -m twcreds``: the ``twcreds`` command line."""

from __future__ import annotations

from twcreds.cli import main_exit

if __name__ == "__main__":
    main_exit()

"""The ``fake_twitter`` pytest fixture; imported by :mod:`twcreds.testing` only when pytest is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from twcreds.testing._server import FakeTwitter

__all__ = ["fake_twitter"]


@pytest.fixture
def fake_twitter() -> Iterator[FakeTwitter]:
    """A started :class:`FakeTwitter`, stopped after the test.

    Enable it with ``pytest_plugins = ["twcreds.testing"]`` in your top-level conftest.py.
    """
    with FakeTwitter() as fake:
        yield fake

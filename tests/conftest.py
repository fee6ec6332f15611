"""Suite-wide guards."""

import os
import stat
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def dev_null_stays_a_device() -> Iterator[None]:
    """Tests run as root on CI: nothing they start may replace /dev/null with a file.

    (bash does exactly that when HISTFILE=/dev/null; this guard made it visible.)
    """
    yield
    mode = os.stat("/dev/null").st_mode
    assert stat.S_ISCHR(mode), "/dev/null was replaced by a regular file during the tests"

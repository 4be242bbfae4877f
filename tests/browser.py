"""Driving Debian's chromium through Playwright's sync API: the flags, one Playwright for the
whole run (its fixtures are in tests/conftest.py), and browsers of their own for special flags."""

from __future__ import annotations

import contextlib

CHROMIUM = "/usr/bin/chromium"  # Debian's; `make test` installs it (no browser download here)
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


class _Shared:
    """One Playwright for the whole run, started by the first page test. Page tests run last
    (tests/conftest.py orders them so): Playwright's sync API keeps an event loop running in
    this thread from then on, and Django refuses ORM calls while a loop runs unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set, which is set from that moment, for page tests only."""

    playwright = None
    browser = None


@contextlib.contextmanager
def launched(playwright, *extra_args: str):
    """`launch` as a block that closes the browser at its end."""
    browser = launch(playwright, *extra_args)
    try:
        yield browser
    finally:
        browser.close()


def launch(playwright, *extra_args: str):
    """A browser of its own (for flags the shared one lacks: a fake camera, fake audio); the
    caller closes it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, *extra_args])

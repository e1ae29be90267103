"""Helpers for tests of HTML pages in Chromium: the network off, problems collected."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Route

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def offline(page: Page) -> list[str]:
    """Let ``page`` reach this machine only; returns the list of URLs it was refused.

    As on a machine without internet: a page that needs a CDN stays blank.
    """
    refused: list[str] = []

    def route(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    page.route("**/*", route)
    return refused


def problems(page: Page) -> list[str]:
    """Collects the page's script errors and Content-Security-Policy violations."""
    found: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            found.append(f"console: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    return found

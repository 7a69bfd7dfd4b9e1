"""Every page a browser test visits is scanned for Latin-only sentences: every text a staff member reads is Chinese.

The `page` fixture here wraps the one of tests/conftest.py: after each page load, after each htmx swap has
settled, and once more when the test ends, the visible text nodes, placeholders, titles and labels are read and
any run of two or more Latin words without a Chinese character is reported. Codes may follow in brackets where
they help support, so text inside <code>/<pre>/<kbd> or an element marked `data-latin-ok` is not scanned, nor
is GraphiQL (an integrators' tool, in English by design).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.browser.chinese import READ_TEXTS, SKIP_URLS, latin_sentences


@pytest.fixture
async def page(page) -> AsyncIterator:  # the page of tests/conftest.py, scanned
    problems: dict[str, list[str]] = {}

    async def scan() -> None:
        url = page.url
        if not url.startswith("http") or any(p in url for p in SKIP_URLS):
            return
        try:
            texts = await page.evaluate(READ_TEXTS)
        except Exception:  # the page navigated away while being read: the next load is scanned instead
            return
        bad = latin_sentences(texts)
        if bad:
            problems.setdefault(url.split("?")[0], []).extend(bad)

    pending: list[asyncio.Future] = []
    page.on("load", lambda _page: pending.append(asyncio.ensure_future(scan())))
    # htmx swaps (inline errors, filtered lists, polled progress) are scanned too, once they have settled
    await page.expose_function("__regwatchSwapped", lambda: pending.append(asyncio.ensure_future(scan())))
    await page.add_init_script(
        "document.addEventListener('htmx:afterSettle', () => window.__regwatchSwapped && window.__regwatchSwapped())")
    yield page
    if not page.is_closed():
        await scan()
    await asyncio.gather(*pending, return_exceptions=True)
    assert not problems, "pages show English sentences to staff:\n" + "\n".join(
        f"{url}: {sorted(set(texts))}" for url, texts in problems.items())

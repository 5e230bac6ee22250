"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

- ``browser``: Chromium (``/usr/bin/chromium``, installed by ``.ci/run``; Playwright's own
  browser download is never used), one per test package.
- ``page``: a fresh context per test (Chinese locale, Chongqing time zone), PC-sized; the test
  fails if the page reaches any host but the live server, gets an error for a static file,
  throws a JavaScript error or logs an error to the console. ``new_page(**options)`` opens
  more (one per signed-in user), for example ``new_page(java_script_enabled=False)``.
- ``town``: 三河街社区 and 滨江社区 in 三江街道 with a user for each role, all with ``PASSWORD``.
- ``sign_in(page, user)``: through the login page.
- ``width_at(page, PHONE)``: the page's width at that viewport (sideways scrolling if wider).
- ``screenshot(page, name)``: PNGs at phone (360x740) and PC (1366x768) widths into
  ``screenshots/`` (ignored by git), or ``YIBAO_SCREENSHOT_DIR`` (``make screenshots`` writes
  the README's images into ``docs/screenshots/``).

Playwright's sync API runs an asyncio loop in this thread, so Django's ORM would refuse to be
called from the test (SynchronousOnlyOperation): ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while the
browser lives (the ORM is still called from one thread at a time here).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    Route,
    expect,
    sync_playwright,
)

from tests.records import factories as f
from yibao.collection.models import StaffMember

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
PC = {"width": 1366, "height": 768}
# A 58 mm thermal slip is 219 CSS pixels wide (96 to the inch).
SLIP_58MM_PX = round(58 / 25.4 * 96)
PASSWORD = "Sanjiang-2022-desk"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO / os.environ.get("YIBAO_SCREENSHOT_DIR", "screenshots")


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk "
            '(or leave the browser tests out: pytest -m "not browser")'
        )
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            playwright.selectors.set_test_id_attribute("data-test")  # the templates' attribute
            expect.set_options(timeout=15_000)
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def campaign_day(settings):
    """Sanjiang's collection period (benefit year 2023), as in the other test packages."""
    settings.YIBAO_TODAY = f.CAMPAIGN_DAY.isoformat()
    # PBKDF2 costs a third of a second per sign-in; the hasher is not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return f.CAMPAIGN_DAY


@pytest.fixture
def new_page(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """``new_page(**context_options)``: a page in a browser context of its own (its own
    cookies: one signed-in user each), PC-sized unless told otherwise."""
    server = urlsplit(live_server.url).netloc
    problems: list[str] = []
    contexts: list[BrowserContext] = []

    def outside(route: Route) -> None:
        problems.append(f"request outside the live server: {route.request.url}")
        route.abort()

    def on_response(response: Response) -> None:
        if "/static/" in response.url and response.status >= 400:
            problems.append(f"{response.status} for {response.url}")

    def on_console(message: ConsoleMessage) -> None:
        # "Failed to load resource" is also logged for a page refused on purpose (403, a
        # form sent back with 400); static files are checked above, pages by the tests.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console error: {message.text}")

    def make(**options: Any) -> Page:
        context = browser.new_context(
            **{
                "base_url": live_server.url,
                "viewport": PC,
                "locale": "zh-CN",
                "timezone_id": "Asia/Shanghai",
                **options,
            }
        )
        # Generous: CI shares its cores; a page that never comes still fails, just later.
        context.set_default_timeout(30_000)
        context.route(lambda url: urlsplit(url).netloc != server, outside)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        page.on("response", on_response)
        page.on("console", on_console)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


@pytest.fixture
def town(transactional_db):
    """Two villages of 三江街道 and a user of each role, all signing in with ``PASSWORD``."""
    villages = f.area(villages=("三河街社区", "滨江社区"))
    sanhe, binjiang = villages["三河街社区"], villages["滨江社区"]
    township = sanhe.township
    users = SimpleNamespace(
        sanhe=sanhe,
        binjiang=binjiang,
        township=township,
        sanhe_collector=f.user("sanhe", villages=(sanhe,)),
        binjiang_collector=f.user("binjiang", villages=(binjiang,)),
        clerk=f.user("clerk", role=StaffMember.Role.TOWNSHIP, township=township),
        district=f.user("bureau", role=StaffMember.Role.DISTRICT, district=township.district),
    )
    users.auditor = f.user("auditor", role=StaffMember.Role.AUDITOR, township=township)
    names = {
        "sanhe": "陈晓燕",
        "binjiang": "周建国",
        "clerk": "李莉",
        "bureau": "秦俊",
        "auditor": "赵敏",
    }
    for account in get_user_model().objects.all():
        account.first_name = names.get(account.username, "")
        account.set_password(PASSWORD)
        account.save(update_fields=["first_name", "password"])
    return users


def sign_in(page: Page, user, password: str = PASSWORD) -> None:
    """Sign in through the login page and wait for the page it leads to."""
    page.goto("/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def screenshot(page: Page, name: str) -> list[Path]:
    """Save ``<name>-phone.png``, the first screen at 360x740 as the thumb sees it, and
    ``<name>-pc.png``, the whole page at 1366 wide (the window made as tall as the page, so
    that fixed and sticky bars sit where they belong, at the bottom, not mid-page)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    phone = SCREENSHOT_DIR / f"{name}-phone.png"
    resize(page, PHONE)
    page.screenshot(path=str(phone))
    pc = SCREENSHOT_DIR / f"{name}-pc.png"
    resize(page, PC)
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    resize(page, {"width": PC["width"], "height": max(PC["height"], height)})
    page.screenshot(path=str(pc))
    if original:
        page.set_viewport_size(original)
    return [phone, pc]


def resize(page: Page, size: dict[str, int]) -> None:
    """Resize the window and wait until the page has handled it (the resize event comes
    before the next frames: the dashboard's chart redraws itself to the new width there)."""
    page.set_viewport_size(size)
    page.evaluate(
        "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )


def width_at(page: Page, size: dict[str, int]) -> int:
    """The page's width in CSS pixels at viewport ``size``: wider than the viewport means
    the user scrolls sideways."""
    resize(page, size)
    return int(page.evaluate("document.documentElement.scrollWidth"))


def screenshot_print(page: Page, name: str, *, width_px: int = SLIP_58MM_PX) -> Path:
    """Save the page as printed (print media) at ``width_px``: a 58 mm slip by default."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    page.emulate_media(media="print")
    page.set_viewport_size({"width": width_px, "height": 100})  # full_page: as long as the slip
    path = SCREENSHOT_DIR / f"{name}-print.png"
    page.screenshot(path=str(path), full_page=True)
    page.emulate_media(media="screen")
    if original:
        page.set_viewport_size(original)
    return path

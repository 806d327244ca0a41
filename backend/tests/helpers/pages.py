"""The settings page in tests: what every page must satisfy (not blank, every control reachable by
keyboard with a visible focus, no horizontal scroll on a phone), opening a view and waiting until
it has rendered, and the steps many UI tests take (register, add an account by key)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.helpers.service_client import PASSWORD

# Interactive elements a keyboard user must be able to reach (radio groups are one stop).
_CONTROLS_JS = """() => {
  const selector = 'a[href], button, input, select, textarea, summary, [tabindex]';
  const skipped = '[hidden], [inert], dialog:not([open])';
  const keys = new Set();
  let n = 0;
  for (const el of document.querySelectorAll(selector)) {
    if (el.tabIndex < 0 || el.disabled || el.closest(skipped)) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (!box.width && !box.height) continue;
    const text = (el.textContent || el.name || '').trim().slice(0, 30);
    const key = el.type === 'radio'
      ? `radio:${el.name}`
      : `control:${n++}:${el.tagName.toLowerCase()}:${text}`;
    el.dataset.kb = key;
    keys.add(key);
  }
  return [...keys];
}"""

# Records every element that receives focus, and whether the focus is visible on it.
_WATCH_FOCUS_JS = """() => {
  window.__focused = [];
  if (window.__watchingFocus) return;
  window.__watchingFocus = true;
  document.addEventListener('focusin', (event) => {
    const el = event.target;
    const style = getComputedStyle(el);
    const label = el.closest('label');
    const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
      || Boolean(label && getComputedStyle(label).outlineStyle !== 'none');
    window.__focused.push({ key: el.dataset.kb || null, visible });
  });
}"""

# Distinct colours and the share of pixels unlike the most common one, decoded by the browser.
_PIXELS_JS = """async (data) => {
  const image = new Image();
  image.src = 'data:image/png;base64,' + data;
  await image.decode();
  const canvas = new OffscreenCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const pixels = new Uint32Array(ctx.getImageData(0, 0, image.width, image.height).data.buffer);
  const counts = new Map();
  let sampled = 0;
  for (let i = 0; i < pixels.length; i += 3) {
    counts.set(pixels[i], (counts.get(pixels[i]) || 0) + 1);
    sampled += 1;
  }
  const top = Math.max(...counts.values());
  return { colours: counts.size, other: 1 - top / sampled };
}"""


def open_view(page: Page, route: str = "accounts") -> None:
    """Go to a view (`#/route`) of the signed-in page and wait until it has rendered."""
    page.goto(f"/#/{route}")
    expect(page.locator(f'#nav a[href="#/{route}"]')).to_have_attribute("aria-current", "page")
    wait_rendered(page)


def wait_rendered(page: Page) -> None:
    """The view has its heading and has loaded what it shows (main is no longer aria-busy)."""
    expect(page.locator("#page-title")).to_be_visible()
    expect(page.locator("main[aria-busy]")).to_have_count(0)


def screenshot_dir() -> Path:
    """UI_SCREENSHOT_DIR, which the `screenshots` fixture sets (to pytest's temporary directory
    unless it was given)."""
    path = Path(os.environ["UI_SCREENSHOT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def assert_not_blank(page: Page, name: str) -> Path:
    """Save a full-page screenshot and check that it shows something."""
    path = screenshot_dir() / f"{name}.png"
    png = page.screenshot(path=str(path), full_page=True)
    # Decoded by the page itself (its policy allows data: images): no imaging library needed.
    stats = page.evaluate(_PIXELS_JS, base64.b64encode(png).decode())
    assert stats["colours"] >= 16 and stats["other"] >= 0.01, f"{path} looks blank: {stats}"
    return path


def assert_keyboard_reachable(page: Page) -> None:
    """Tab from the top reaches every control, and each shows where the focus is."""
    wanted = set(page.evaluate(_CONTROLS_JS))
    page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    page.evaluate(_WATCH_FOCUS_JS)
    focused: list[dict[str, object]] = []
    for _ in range(3):
        for _ in range(len(wanted) + 4):
            page.keyboard.press("Tab")
        focused = page.evaluate("window.__focused")
        if {f["key"] for f in focused} >= wanted:
            break
    reached = {f["key"] for f in focused}
    assert wanted - reached == set(), f"not reachable by Tab: {sorted(wanted - reached)}"
    invisible = sorted({str(f["key"]) for f in focused if f["key"] and not f["visible"]})
    assert invisible == [], f"focus not visible on: {invisible}"


def assert_no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], f"the page scrolls sideways: {widths}"


def register_in_page(page: Page, username: str) -> None:
    page.goto("/")
    page.get_by_role("button", name="Create a user").click()
    expect(page.get_by_role("heading", name="Create your user")).to_be_visible()
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create user and sign in").click()
    wait_rendered(page)


def add_by_key(page: Page, platform: str, name: str, key: str) -> None:
    open_view(page, "add")
    page.get_by_role("radio", name=platform, exact=True).check()
    page.get_by_label("Account name").fill(name)
    page.get_by_role("radio", name="API key", exact=True).check()
    page.get_by_role("textbox", name="API key").fill(key)
    page.get_by_role("button", name="Add account").click()


def card(page: Page, name: str) -> Locator:
    """An account's card in the list, by the account's name."""
    return page.locator("li.account").filter(has=page.get_by_role("heading", name=name))

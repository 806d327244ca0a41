"""What a view's layout must satisfy, measured in the browser: nothing past the window's edge, no
label squeezed narrower than its text needs, every word in the page's language, and CJK text
drawn with glyphs (not the boxes of a missing font)."""

from __future__ import annotations

from playwright.sync_api import Page

# Shared by the checks below: which elements are seen, and how a problem names one.
_COMMON_JS = """
// Not shown: hidden, or inside a box clipped away for screen readers only (a table's header
// row on a phone, .sr-only).
const clipped = (el) => {
  for (let at = el; at; at = at.parentElement) {
    if (getComputedStyle(at).clip !== 'auto') return true;
  }
  return false;
};
const shown = (el) => {
  if (el.closest('[hidden], dialog:not([open])')) return false;
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden' || clipped(el)) return false;
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0;
};
const name = (el) => {
  const cls = typeof el.className === 'string' && el.className.trim()
    ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
  return `<${el.tagName.toLowerCase()}${cls}> "${(el.textContent || '').trim().slice(0, 40)}"`;
};
"""

# The page no wider than the window, and no element reaching past its edges (a button in a table
# that scrolls sideways is past the edge too: nothing tells a person to scroll for it). Code
# blocks scroll inside their own box, as code must keep its lines. Only the outermost element
# past the edge is named.
_OVERFLOW_JS = (
    "() => {"
    + _COMMON_JS
    + """
  const problems = [];
  const doc = document.documentElement;
  const width = doc.clientWidth;
  if (doc.scrollWidth > width) problems.push(`the page is ${doc.scrollWidth}px wide in ${width}px`);
  const past = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('pre') || !shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.right <= width + 0.5 && box.left >= -0.5) continue;
    past.add(el);
    if (past.has(el.parentElement)) continue;
    const where = `${Math.round(box.left)}..${Math.round(box.right)}px of ${width}px`;
    problems.push(`past the window's edge (${where}): ${name(el)}`);
  }
  return problems;
}"""
)

# Labels that must read on one line (buttons, badges, the menu, chips) must neither wrap nor
# reach out of their box. Headings and labels may wrap, but a box that makes them wrap must
# hold at least six characters a line: "吊/销", "编/辑" or "Last/used" in a squeezed column fail.
# The single-line size is measured by setting `white-space: nowrap` on the element for a moment.
_SQUEEZE_JS = (
    "() => {"
    + _COMMON_JS
    + """
  const oneLine = 'button, .button, .badge, .chip, #nav a';
  const wrapping =
    'th, h1, h2, h3, legend, label, dt, summary, caption, .tile-label, td[data-label]';
  const problems = [];
  for (const el of document.querySelectorAll(`${oneLine}, ${wrapping}`)) {
    if (!shown(el) || !(el.textContent || '').trim()) continue;
    const style = getComputedStyle(el);
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    const inner = el.clientWidth - padding;
    const height = el.getBoundingClientRect().height;
    const saved = el.style.whiteSpace;
    el.style.whiteSpace = 'nowrap';
    const single = { height: el.getBoundingClientRect().height, width: el.scrollWidth - padding };
    el.style.whiteSpace = saved;
    if (el.matches(oneLine)) {
      if (height > single.height + 1) problems.push(`wraps: ${name(el)}`);
      else if (el.scrollWidth > el.clientWidth + 1) {
        problems.push(`text ${el.scrollWidth}px wide in a ${el.clientWidth}px box: ${name(el)}`);
      }
      continue;
    }
    const needed = Math.min(single.width, 6 * parseFloat(style.fontSize));
    if (height > single.height + 1 && inner + 1 < needed) {
      problems.push(`wraps in ${Math.round(inner)}px, needs ${Math.round(needed)}px: ${name(el)}`);
    }
  }
  return problems;
}"""
)

# Every text the page shows, with the language it is shown in (its closest `lang`); code, inputs,
# the pictures' own text and names marked `translate="no"` (a tool's name) are not words of the
# page.
_TEXTS_JS = (
    "() => {"
    + _COMMON_JS
    + """
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.textContent.trim();
    const skipped = 'code, pre, script, svg, option:not(:checked), [translate="no"]';
    if (!text || el.closest(skipped) || !shown(el)) continue;
    texts.push({ text, lang: el.closest('[lang]').lang, where: name(el) });
  }
  for (const el of document.querySelectorAll('input[placeholder]')) {
    if (!shown(el)) continue;
    texts.push({ text: el.placeholder, lang: el.closest('[lang]').lang, where: name(el) });
  }
  return texts;
}"""
)

# Two different Chinese characters drawn with the page's font: identical pixels mean both are the
# missing-glyph box (no CJK font; the set-up installs fonts-noto-cjk).
_CJK_GLYPHS_JS = """() => {
  const draw = (text) => {
    const canvas = new OffscreenCanvas(64, 64);
    const ctx = canvas.getContext('2d');
    ctx.font = `48px ${getComputedStyle(document.body).fontFamily}`;
    ctx.fillText(text, 4, 52);
    return Array.from(ctx.getImageData(0, 0, 64, 64).data);
  };
  const a = draw('吊');
  const b = draw('销');
  return { inked: a.some((v) => v > 0), same: a.every((v, i) => v === b[i]) };
}"""

CJK = r"[\u3400-\u9fff\uf900-\ufaff]"


def overflow_problems(page: Page) -> list[str]:
    return list(page.evaluate(_OVERFLOW_JS))


def squeeze_problems(page: Page) -> list[str]:
    return list(page.evaluate(_SQUEEZE_JS))


def shown_texts(page: Page) -> list[dict[str, str]]:
    return list(page.evaluate(_TEXTS_JS))


def assert_cjk_glyphs(page: Page) -> None:
    drawn = page.evaluate(_CJK_GLYPHS_JS)
    assert drawn["inked"] and not drawn["same"], (
        "Chinese characters are drawn as boxes: install a CJK font (Debian fonts-noto-cjk; "
        "`make browser` does as root)"
    )

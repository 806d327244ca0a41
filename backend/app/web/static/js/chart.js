// A stacked bar chart per day, drawn as inline SVG, with a legend and the numbers as a table.

import { h, fill } from "./dom.js";
import { t, formatNumber } from "./i18n.js";

const HEIGHT = 200;
const MARGIN = { top: 10, right: 8, bottom: 24, left: 48 };
const PALETTE_SIZE = 8;

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= value);
}

function shortDay(day) {
  return day.slice(5); // MM-DD
}

function drawSvg(width, { days, series, label, format }) {
  const plotW = Math.max(50, width - MARGIN.left - MARGIN.right);
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const totals = days.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const top = niceMax(Math.max(0, ...totals));
  const y = (v) => MARGIN.top + plotH - (v / top) * plotH;
  const band = plotW / days.length;
  const barW = Math.max(1, band * 0.7);
  const svg = h("svg:svg", { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, class: "chart-svg", "aria-hidden": "true" });
  const ticks = Number.isInteger(top / 2) ? [0, top / 2, top] : [0, top];
  for (const tick of ticks) {
    svg.append(
      h("svg:line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(tick), y2: y(tick), class: "grid" }),
      h("svg:text", { x: MARGIN.left - 6, y: y(tick) + 4, class: "axis", "text-anchor": "end" }, format(tick)),
    );
  }
  const every = Math.max(1, Math.ceil(days.length / Math.max(1, plotW / 44)));
  days.forEach((day, i) => {
    const x = MARGIN.left + i * band + (band - barW) / 2;
    let base = 0;
    series.forEach((s, index) => {
      const value = s.values[i] || 0;
      if (!value) return;
      svg.append(
        h(
          "svg:rect",
          { x, y: y(base + value), width: barW, height: Math.max(1, y(base) - y(base + value)), class: `bar s${index % PALETTE_SIZE}` },
          h("svg:title", {}, `${day} · ${s.label}: ${format(value)} ${label}`),
        ),
      );
      base += value;
    });
    // Counted from the last day, so today always has its label and none crowd it.
    if ((days.length - 1 - i) % every === 0) {
      const centre = Math.min(x + barW / 2, width - 18); // the last label stays inside
      svg.append(h("svg:text", { x: centre, y: HEIGHT - 6, class: "axis", "text-anchor": "middle" }, shortDay(day)));
    }
  });
  return svg;
}

/** days: ["YYYY-MM-DD", ...]; series: [{label, values}] (one value per day); label: the unit;
 * format: how a value is written (numbers by default). */
export function barChart({ title, days, series, label, format = formatNumber }) {
  const total = series.reduce((sum, s) => sum + s.values.reduce((a, b) => a + b, 0), 0);
  const canvas = h("div", { class: "chart-canvas" });
  const summary = t("chart.summary", { total: format(total), unit: label, days: days.length });
  const figure = h(
    "figure",
    { class: "chart", role: "group", "aria-label": `${title}. ${summary}` },
    h("figcaption", {}, h("span", { class: "chart-title" }, title), h("span", { class: "chart-total" }, summary)),
    canvas,
    h(
      "ul",
      { class: "legend", "aria-label": t("chart.legend") },
      series.map((s, i) => h("li", {}, h("span", { class: `swatch s${i % PALETTE_SIZE}`, "aria-hidden": "true" }), s.label)),
    ),
    h(
      "details",
      { class: "chart-table" },
      h("summary", {}, t("chart.show_numbers")),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("chart.day")), series.map((s) => h("th", { scope: "col" }, s.label)))),
          h(
            "tbody",
            {},
            days
              .map((day, i) => [day, i])
              .filter(([, i]) => series.some((s) => s.values[i]))
              .map(([day, i]) => h("tr", {}, h("th", { scope: "row" }, day), series.map((s) => h("td", {}, format(s.values[i] || 0))))),
          ),
        ),
      ),
    ),
  );
  let width = 0;
  const draw = () => {
    const next = Math.floor(canvas.clientWidth);
    if (next && next !== width) {
      width = next;
      fill(canvas, drawSvg(width, { days, series, label, format }));
    }
  };
  new ResizeObserver(() => requestAnimationFrame(draw)).observe(canvas);
  return figure;
}

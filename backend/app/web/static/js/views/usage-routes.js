// The usage page by route: tokens and answered calls per day of each route asked for, and which
// targets served them (GET /api/v1/oauth/usage/routes, README, *Model routes*).

import { api } from "../api.js";
import { barChart } from "../chart.js";
import { h, fill } from "../dom.js";
import { t, formatNumber } from "../i18n.js";
import { errorText, notice } from "../ui.js";

let drawing = 0;

function byRoute(rows) {
  const result = new Map();
  for (const row of rows) {
    if (!result.has(row.route)) result.set(row.route, { label: row.route, rows: [] });
    result.get(row.route).rows.push(row);
  }
  return [...result.values()];
}

function perDay(groups, days, pick) {
  return groups.map((g) => ({
    label: g.label,
    values: days.map((day) => g.rows.filter((r) => r.day === day).reduce((sum, r) => sum + pick(r), 0)),
  }));
}

function targetsTable(groups) {
  const lines = groups.flatMap((g) => {
    const served = new Map();
    for (const r of g.rows) {
      const target = `${r.platform_id}/${r.model}`;
      const sum = served.get(target) || { requests: 0, tokens: 0 };
      served.set(target, { requests: sum.requests + r.requests, tokens: sum.tokens + r.total_tokens });
    }
    return [...served].map(([target, sum]) => ({ route: g.label, target, ...sum }));
  });
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "route-usage" },
      h("caption", {}, t("usage.routes_caption")),
      h("thead", {}, h("tr", {}, [t("usage.route"), t("usage.route_target"), t("usage.requests"), t("usage.tokens")].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        lines.map((l) => h("tr", {}, h("th", { scope: "row" }, h("code", {}, l.route)), h("td", {}, h("code", {}, l.target)), h("td", {}, formatNumber(l.requests)), h("td", {}, formatNumber(l.tokens)))),
      ),
    ),
  );
}

/** Fill `body` with the usage of the last `days` (ISO dates) by route. */
export async function drawRouteUsage(body, days) {
  const ticket = ++drawing;
  let rows;
  try {
    rows = await api.get(`/api/v1/oauth/usage/routes?days=${days.length}`);
  } catch (failure) {
    if (ticket === drawing) fill(body, notice(errorText(failure), { kind: "error" }));
    return;
  }
  if (ticket !== drawing || !body.isConnected) return; // another choice was made meanwhile
  rows = rows.filter((r) => r.day >= days[0] && r.day <= days[days.length - 1]);
  if (!rows.length) {
    fill(body, notice(t("usage.routes_empty")));
    return;
  }
  const groups = byRoute(rows);
  fill(
    body,
    barChart({ title: t("usage.tokens_per_day"), days, series: perDay(groups, days, (r) => r.total_tokens), label: t("usage.tokens_unit") }),
    barChart({ title: t("usage.requests_per_day"), days, series: perDay(groups, days, (r) => r.requests), label: t("usage.requests_unit") }),
    targetsTable(groups),
  );
}

/** Forget a drawing under way (the view chose another grouping). */
export function stopRouteUsage() {
  drawing += 1;
}

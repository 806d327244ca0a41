// Usage over the last 30 days: tokens and requests per day by account or platform, and how many
// calls succeeded; then what they cost (views/cost.js).

import { api } from "../api.js";
import { barChart } from "../chart.js";
import { costSection } from "./cost.js";
import { h, fill } from "../dom.js";
import { t, formatNumber, platformName } from "../i18n.js";
import { emptyState, pageHeader } from "../ui.js";
import { drawRouteUsage, stopRouteUsage } from "./usage-routes.js";

const DAYS = 30;
let groupBy = "account";

function isoDay(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

/** The usage rows, whatever envelope they come in: one per account, model and day. */
export function usageRows(data) {
  const list = Array.isArray(data) ? data : data?.rows || data?.items || data?.usage || [];
  return list.map((r) => ({
    day: String(r.day || r.date).slice(0, 10),
    accountId: r.account_id,
    accountName: r.account_name,
    platformId: r.platform_id,
    platformName: r.platform_name,
    requests: r.requests ?? r.request_count ?? 0,
    failures: r.failures ?? r.failed ?? 0,
    tokens: r.total_tokens ?? r.tokens ?? (r.prompt_tokens || 0) + (r.completion_tokens || 0),
  }));
}

function lastDays(rows) {
  const latest = rows.reduce((max, r) => (r.day > max ? r.day : max), isoDay(new Date()));
  const end = new Date(`${latest}T12:00:00`);
  return Array.from({ length: DAYS }, (_, i) => isoDay(new Date(end.getTime() - (DAYS - 1 - i) * 86400000)));
}

function groups(rows, accounts, platforms) {
  const accountById = new Map(accounts.map((a) => [String(a.id), a]));
  const nameOf = (id, given) => platformName(id, given || platforms.find((p) => p.platform_id === id)?.platform_name);
  const result = new Map();
  for (const row of rows) {
    const account = accountById.get(String(row.accountId));
    const platformId = row.platformId || account?.platform_id;
    let key;
    let label;
    if (groupBy === "platform") {
      key = platformId;
      label = nameOf(platformId, row.platformName);
    } else {
      key = String(row.accountId);
      const name = row.accountName || account?.account_name || t("usage.deleted_account", { id: row.accountId });
      label = `${name} · ${nameOf(platformId, row.platformName)}`;
    }
    if (!result.has(key)) result.set(key, { label, rows: [] });
    result.get(key).rows.push(row);
  }
  return [...result.values()];
}

function series(groupList, days, pick) {
  return groupList.map((g) => ({
    label: g.label,
    values: days.map((day) => g.rows.filter((r) => r.day === day).reduce((sum, r) => sum + pick(r), 0)),
  }));
}

function rate(requests, failures) {
  const attempts = requests + failures;
  return attempts ? `${((requests / attempts) * 100).toFixed(1)}%` : "—";
}

function tile(label, value) {
  return h("div", { class: "tile" }, h("span", { class: "tile-label" }, label), h("span", { class: "tile-value" }, value));
}

export async function render(main) {
  const header = pageHeader(t("usage.title"));
  const [data, accounts, platforms] = await Promise.all([
    api.get(`/api/v1/oauth/usage?days=${DAYS}`),
    api.get("/api/v1/oauth/accounts"),
    api.get("/api/v1/oauth/platforms"),
  ]);
  const all = usageRows(data);
  const days = lastDays(all);
  const rows = all.filter((r) => r.day >= days[0] && r.day <= days[days.length - 1]);
  if (!rows.length) {
    fill(
      main,
      header,
      emptyState(t("usage.empty_title"), t("usage.empty_text"), h("a", { class: "button secondary", href: "#/playground" }, t("usage.try_playground"))),
    );
    return null;
  }
  const body = h("div", { class: "usage" });
  const draw = () => {
    if (groupBy === "route") return drawRouteUsage(body, days);
    stopRouteUsage();
    const list = groups(rows, accounts, platforms);
    const requests = rows.reduce((s, r) => s + r.requests, 0);
    const failures = rows.reduce((s, r) => s + r.failures, 0);
    const tokens = rows.reduce((s, r) => s + r.tokens, 0);
    fill(
      body,
      h(
        "div",
        { class: "tiles" },
        tile(t("usage.requests"), formatNumber(requests + failures)),
        tile(t("usage.tokens"), formatNumber(tokens)),
        tile(t("usage.success_rate"), rate(requests, failures)),
      ),
      barChart({ title: t("usage.tokens_per_day"), days, series: series(list, days, (r) => r.tokens), label: t("usage.tokens_unit") }),
      barChart({ title: t("usage.requests_per_day"), days, series: series(list, days, (r) => r.requests + r.failures), label: t("usage.requests_unit") }),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "rates" },
          h("caption", {}, t("usage.success_caption")),
          h(
            "thead",
            {},
            h("tr", {}, [t(groupBy === "platform" ? "usage.platform" : "usage.account"), t("usage.succeeded"), t("usage.failed"), t("usage.success_rate")].map((c) => h("th", { scope: "col" }, c))),
          ),
          h(
            "tbody",
            {},
            list.map((g) => {
              const ok = g.rows.reduce((s, r) => s + r.requests, 0);
              const bad = g.rows.reduce((s, r) => s + r.failures, 0);
              return h("tr", {}, h("th", { scope: "row" }, g.label), h("td", {}, formatNumber(ok)), h("td", {}, formatNumber(bad)), h("td", {}, rate(ok, bad)));
            }),
          ),
        ),
      ),
    );
  };
  const choice = (value) =>
    h(
      "label",
      { class: "segment" },
      h("input", {
        type: "radio",
        name: "group-by",
        value,
        checked: groupBy === value,
        onChange: () => {
          groupBy = value;
          draw();
        },
      }),
      h("span", {}, t(`usage.by_${value}`)),
    );
  fill(
    main,
    header,
    h("p", { class: "muted" }, t("usage.period", { days: DAYS })),
    h("fieldset", { class: "segmented" }, h("legend", {}, t("usage.group_by")), choice("account"), choice("platform"), choice("route")),
    body,
  );
  draw();
  const cost = await costSection(data, days);
  if (cost) main.append(cost);
  return null;
}

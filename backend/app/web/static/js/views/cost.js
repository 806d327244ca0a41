// Cost on the usage page: what the calls would have cost at list price, and what free quota
// covered of it — per day as a chart (from the usage rows), and per platform, model and API key
// (/usage/summary) — one block per currency. Models without a price count no cost (their tokens
// are listed apart).

import { api } from "../api.js";
import { barChart } from "../chart.js";
import { h } from "../dom.js";
import { t, getLang, formatNumber } from "../i18n.js";

const LOCALES = { en: "en-GB", zh: "zh-CN" };

/** An amount of money as exact as the books keep it (at most six decimals shown). */
function money(value) {
  return new Intl.NumberFormat(LOCALES[getLang()], { maximumFractionDigits: 6 }).format(Number(value) || 0);
}

function perDay(rows, days, currency, pick) {
  return days.map((day) =>
    rows.filter((r) => r.day.slice(0, 10) === day && r.currency === currency && r.cost !== null).reduce((sum, r) => sum + pick(r), 0),
  );
}

function costTable(caption, head, entries, label) {
  if (!entries.length) return null;
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "cost-table" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, [head, t("cost.cost"), t("cost.free_covered"), t("cost.billed"), t("usage.tokens")].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        entries.map((e) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, label(e)),
            h("td", {}, money(e.cost)),
            h("td", {}, money(e.free_covered)),
            h("td", {}, money(Number(e.cost) - Number(e.free_covered))),
            h("td", {}, formatNumber(e.tokens)),
          ),
        ),
      ),
    ),
  );
}

function currencyBlock(summary, rows, days) {
  const currency = summary.currency;
  const billed = perDay(rows, days, currency, (r) => Number(r.cost) - Number(r.free_covered));
  const covered = perDay(rows, days, currency, (r) => Number(r.free_covered));
  return h(
    "div",
    { class: "cost-currency", "data-currency": currency },
    h("h3", {}, t("cost.in_currency", { currency, cost: money(summary.cost), covered: money(summary.free_covered) })),
    barChart({
      title: t("cost.per_day", { currency }),
      days,
      series: [
        { label: t("cost.billed"), values: billed },
        { label: t("cost.free_covered"), values: covered },
      ],
      label: currency,
      format: money,
    }),
    costTable(t("cost.by_platform"), t("usage.platform"), summary.platforms, (e) => e.platform_id),
    costTable(t("cost.by_model"), t("cost.model"), summary.models, (e) => `${e.platform_id}/${e.model}`),
    costTable(t("cost.by_key"), t("cost.key"), summary.api_keys, (e) => e.name),
  );
}

/** The cost section for the usage rows `data` over `days`; null when nothing was priced. */
export async function costSection(data, days) {
  const summary = await api.get(`/api/v1/oauth/usage/summary?days=${days.length}`);
  const priced = summary.currencies.filter((c) => c.currency);
  if (!priced.length) return null;
  const rows = (Array.isArray(data) ? data : []).filter((r) => r.day);
  const unpriced = summary.currencies.reduce((sum, c) => sum + c.unpriced_tokens, 0);
  return h(
    "section",
    { class: "cost", "aria-labelledby": "cost-title" },
    h("h2", { id: "cost-title" }, t("cost.title")),
    h("p", { class: "muted" }, t("cost.text")),
    unpriced ? h("p", { class: "muted" }, t("cost.unpriced", { tokens: formatNumber(unpriced) })) : null,
    priced.map((c) => currencyBlock(c, rows, days)),
  );
}

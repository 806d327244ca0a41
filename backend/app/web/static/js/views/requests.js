// The request log: your calls, newest first, filtered by platform, account, outcome and date, a
// page at a time (administrators may read everyone's). Never the prompt or the answer: the API
// does not keep them.

import { api } from "../api.js";
import { h, fill } from "../dom.js";
import { t, formatNumber, formatDateTime, platformName } from "../i18n.js";
import { emptyState, errorLine, field, pageHeader } from "../ui.js";

const PAGE = 50;

function option(value, label, selected) {
  return h("option", { value, selected: value === selected }, label);
}

function select(name, options) {
  return h("select", { name }, options);
}

/** The query of the filters as chosen (dates are whole local days). */
function query(form, beforeId) {
  const data = new FormData(form);
  const params = new URLSearchParams({ limit: String(PAGE) });
  for (const name of ["platform", "account_id", "status"]) {
    if (data.get(name)) params.set(name, data.get(name));
  }
  if (data.get("since")) params.set("since", new Date(`${data.get("since")}T00:00:00`).toISOString());
  if (data.get("until")) {
    const end = new Date(`${data.get("until")}T00:00:00`);
    end.setDate(end.getDate() + 1);
    params.set("until", end.toISOString());
  }
  if (beforeId) params.set("before_id", String(beforeId));
  return params;
}

function outcome(row) {
  const failed = row.status >= 400 || row.error_kind;
  const cached = !failed && row.attempts === 0 && row.platform_id;
  const words = failed
    ? [String(row.status), row.error_kind ? t(`requests.kind.${row.error_kind}`) : null, row.error_code]
    : [t("requests.ok"), cached ? t("requests.cached") : null];
  return h(
    "span",
    { class: `badge ${failed ? "badge-expired" : "badge-active"}` },
    words.filter(Boolean).join(" · "),
  );
}

function served(row) {
  const target = row.platform_id ? `${row.platform_id}/${row.model}` : t("requests.not_served");
  const asked = row.route ? t("requests.route", { name: row.route }) : row.model_asked;
  return [h("code", {}, target), asked && asked !== target ? h("span", { class: "sub" }, t("requests.asked", { model: asked })) : null];
}

function tokens(row) {
  if (row.prompt_tokens === null) return "—";
  return t("requests.tokens_in_out", {
    prompt: formatNumber(row.prompt_tokens),
    completion: formatNumber(row.completion_tokens),
  });
}

function latency(row) {
  const total = t("requests.ms", { ms: formatNumber(row.latency_ms) });
  if (row.first_byte_ms === null) return total;
  return [total, h("span", { class: "sub" }, t("requests.first_byte", { ms: formatNumber(row.first_byte_ms) }))];
}

function rowOf(entry, accountName, everyone) {
  return h(
    "tr",
    { "data-id": entry.id },
    h("td", {}, h("time", { datetime: entry.created_at }, formatDateTime(entry.created_at))),
    everyone ? h("td", {}, entry.username || `#${entry.user_id}`) : null,
    h("td", {}, h("code", {}, entry.surface)),
    h("td", {}, served(entry)),
    h("td", {}, entry.account_id ? accountName(entry.account_id) : "—"),
    h("td", {}, outcome(entry)),
    h("td", { class: "num" }, formatNumber(entry.attempts)),
    h("td", { class: "num" }, latency(entry)),
    h("td", { class: "num" }, tokens(entry)),
  );
}

export async function render(main, context) {
  const [accounts, platforms] = await Promise.all([
    api.get("/api/v1/oauth/accounts"),
    api.get("/api/v1/oauth/platforms"),
  ]);
  const names = new Map(accounts.map((a) => [a.id, a.account_name]));
  const accountName = (id) => names.get(id) || t("usage.deleted_account", { id });
  const admin = context.user?.is_admin;
  const form = h(
    "form",
    { class: "filters", "aria-label": t("requests.filters") },
    field(t("requests.platform"), select("platform", [option("", t("requests.any")), platforms.map((p) => option(p.platform_id, platformName(p.platform_id, p.platform_name)))])),
    field(t("requests.account"), select("account_id", [option("", t("requests.any")), accounts.map((a) => option(String(a.id), a.account_name))])),
    field(t("requests.outcome"), select("status", [option("", t("requests.any")), option("ok", t("requests.ok")), option("error", t("requests.failed"))])),
    field(t("requests.since"), h("input", { type: "date", name: "since" })),
    field(t("requests.until"), h("input", { type: "date", name: "until" })),
    admin
      ? h("label", { class: "check" }, h("input", { type: "checkbox", name: "everyone" }), t("requests.everyone"))
      : null,
  );
  const error = errorLine();
  const body = h("tbody", {});
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("requests.more"));
  const list = h("div", {});
  let last = null;

  const everyone = () => Boolean(admin && form.elements.everyone?.checked);
  const table = () =>
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "requests" },
        h("caption", { class: "sr-only" }, t("requests.caption")),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            [
              t("requests.time"),
              everyone() ? t("requests.user") : null,
              t("requests.endpoint"),
              t("requests.model"),
              t("requests.account"),
              t("requests.outcome"),
              t("requests.attempts"),
              t("requests.latency"),
              t("requests.tokens"),
            ]
              .filter((c) => c !== null)
              .map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        body,
      ),
    );

  async function load(next) {
    error.show(null);
    more.disabled = true;
    const path = everyone() ? "/api/v1/admin/requests" : "/api/v1/oauth/requests";
    try {
      const rows = await api.get(`${path}?${query(form, next ? last : null)}`);
      if (!next) {
        fill(body);
        fill(list, rows.length ? table() : emptyState(t("requests.empty_title"), t("requests.empty_text")));
      }
      body.append(...rows.map((row) => rowOf(row, accountName, everyone())));
      if (rows.length) last = rows[rows.length - 1].id;
      more.hidden = rows.length < PAGE;
    } catch (failure) {
      error.show(failure);
    } finally {
      more.disabled = false;
    }
  }

  form.addEventListener("change", () => load(false));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  more.addEventListener("click", () => load(true));
  fill(
    main,
    pageHeader(t("requests.title")),
    h("p", { class: "muted" }, t("requests.intro")),
    form,
    error,
    list,
    h("div", { class: "more" }, more),
  );
  await load(false);
  return null;
}

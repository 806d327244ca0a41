// Alerts as a list: what happened (in the page's language), the service's own words, and when.

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { timeText } from "./ui.js";

const KINDS = new Set(["account_expired", "accounts_exhausted", "success_rate_low", "budget_reached"]);

function alertItem(alert) {
  const open = !alert.resolved_at;
  return h(
    "li",
    { class: `alert alert-${open ? "open" : "resolved"}`, "data-alert-id": alert.id },
    h(
      "div",
      { class: "alert-head" },
      h("strong", {}, t(KINDS.has(alert.kind) ? `alert.kind.${alert.kind}` : "alert.kind.other")),
      alert.platform_id ? h("code", { class: "muted" }, alert.platform_id) : null,
      h("span", { class: `badge badge-${open ? "expired" : "active"}` }, t(open ? "alert.open" : "alert.resolved")),
    ),
    h("p", { class: "alert-message", lang: "en" }, alert.message), // the service words it in English
    h(
      "p",
      { class: "meta" },
      h("span", {}, t("alert.raised_at"), " ", timeText(alert.created_at)),
      open ? null : h("span", {}, t("alert.resolved_at"), " ", timeText(alert.resolved_at)),
    ),
  );
}

/** The alerts, newest first, as a list labelled by the heading with id `labelledBy`. */
export function alertList(alerts, labelledBy) {
  return h("ul", { class: "alerts", "aria-labelledby": labelledBy }, alerts.map(alertItem));
}

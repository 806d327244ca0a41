// How an account's health reads, on the accounts page and in the playground: one rule, from the
// account-status rule the service applies (app/services/account_status.py) — the status as
// shown, the quota's real figures, a rest's end named as such, the last day's calls.

import { h } from "./dom.js";
import { t, formatNumber, formatDateTime, formatRelative, platformName } from "./i18n.js";
import { quotaBar, timeText } from "./ui.js";

/** active, disabled, expired, cooling, exhausted or platform_disabled. */
export function shownStatus(account) {
  return account.shown_status || account.status || "active";
}

/** The day's quota: this service's count against the limit, unless the platform itself said
 * the quota is used up (its own count, which the service cannot see). */
export function quotaView(account) {
  if (account.exhausted_by === "platform") {
    return h(
      "div",
      { class: "quota" },
      h("span", { class: "quota-label" }, t("quota.platform_spent", { used: formatNumber(account.quota_used) })),
    );
  }
  return quotaBar(account.quota_used, account.quota_limit, account.quota_reset_at);
}

/** When a waiting account serves again, named for what it waits for; why a platform is off. */
export function waitLine(account) {
  const status = shownStatus(account);
  if (status === "platform_disabled") {
    return h("p", { class: "wait" }, t("health.platform_off", { platform: platformName(account.platform_id, account.platform_name) }));
  }
  if ((status === "cooling" || status === "exhausted") && account.reset_at) {
    const key = status === "cooling" ? "health.resting_until" : "health.usable_again";
    return h(
      "p",
      { class: "wait" },
      t(key, { when: formatRelative(account.reset_at) }),
      " ",
      h("time", { datetime: account.reset_at, class: "muted" }, `(${formatDateTime(account.reset_at)})`),
    );
  }
  return null;
}

/** The key's hint; a key too short to show part of it says so rather than showing nothing. */
export function keyHint(account) {
  const hint = account.credential_hint;
  if (hint && hint.replace(/…/g, "")) return h("code", {}, hint);
  return account.auth_method === "api_key" ? h("span", {}, t("health.hint_hidden")) : null;
}

/** The last day's calls: how many, the share answered, the median latency, the last error. */
export function callFacts(account) {
  const calls = account.calls;
  if (!calls) return [];
  const fact = (label, value) => h("div", {}, h("dt", {}, label), h("dd", {}, value));
  const rows = [
    fact(
      t("health.calls_day"),
      calls.calls
        ? t("health.calls_rate", { calls: formatNumber(calls.calls), rate: Math.round(calls.success_rate * 100) })
        : t("health.no_calls"),
    ),
  ];
  if (calls.median_latency_ms !== null) {
    rows.push(fact(t("health.median_latency"), t("requests.ms", { ms: formatNumber(calls.median_latency_ms) })));
  }
  if (calls.last_error) {
    const error = calls.last_error;
    const what = [String(error.status), error.error_kind ? t(`requests.kind.${error.error_kind}`) : error.error_code];
    rows.push(fact(t("health.last_error"), [what.filter(Boolean).join(" · "), " ", timeText(error.at)]));
  }
  return rows;
}

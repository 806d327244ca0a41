// Alerts as a list. An administrator reads what happened in the service's own words; a user reads
// it about their own accounts in the page's language, with the button that fixes it.

import { h } from "./dom.js";
import { t, formatRelative, platformName } from "./i18n.js";
import { timeText } from "./ui.js";

const KINDS = new Set(["account_expired", "accounts_exhausted", "success_rate_low", "budget_reached"]);

function alertItem(alert, { message, platform = null, actions = null }) {
  const open = !alert.resolved_at;
  return h(
    "li",
    { class: `alert alert-${open ? "open" : "resolved"}`, "data-alert-id": alert.id },
    h(
      "div",
      { class: "alert-head" },
      h("strong", {}, t(KINDS.has(alert.kind) ? `alert.kind.${alert.kind}` : "alert.kind.other")),
      platform,
      h("span", { class: `badge badge-${open ? "expired" : "active"}` }, t(open ? "alert.open" : "alert.resolved")),
    ),
    message,
    h(
      "p",
      { class: "meta" },
      h("span", {}, t("alert.raised_at"), " ", timeText(alert.created_at)),
      open ? null : h("span", {}, t("alert.resolved_at"), " ", timeText(alert.resolved_at)),
    ),
    actions?.length ? h("div", { class: "actions" }, actions) : null,
  );
}

/** Every alert, newest first, for administrators: the service's words (in English). */
export function alertList(alerts, labelledBy) {
  return h(
    "ul",
    { class: "alerts", "aria-labelledby": labelledBy },
    alerts.map((alert) =>
      alertItem(alert, {
        message: h("p", { class: "alert-message", lang: "en" }, alert.message),
        platform: alert.platform_id ? h("code", { class: "muted" }, alert.platform_id) : null,
      }),
    ),
  );
}

function actionButton(label, onClick) {
  return h("button", { type: "button", class: "secondary small", onClick }, label);
}

/** What a user's alert says about their accounts, and the buttons that fix it. */
function userWords(alert, accounts, { refresh, bindAgain }) {
  const account = accounts.find((a) => a.id === alert.account_id);
  const onPlatform = accounts.filter((a) => a.platform_id === alert.platform_id);
  const platform = platformName(alert.platform_id, (account || onPlatform[0])?.platform_name);
  if (alert.kind === "account_expired" && account) {
    const name = account.account_name || t("accounts.unnamed");
    return {
      text: t("alert.user.account_expired", { platform, name }),
      actions: [
        actionButton(t("accounts.refresh"), (event) => refresh(account, event.currentTarget)),
        actionButton(t("alert.bind_again"), () => bindAgain(alert.platform_id)),
      ],
    };
  }
  if (alert.kind === "accounts_exhausted") {
    const resets = onPlatform.map((a) => a.reset_at).filter(Boolean).sort();
    return {
      text: resets.length
        ? t("alert.user.accounts_exhausted_until", { platform, when: formatRelative(resets[0]) })
        : t("alert.user.accounts_exhausted", { platform }),
      actions: [actionButton(t("alert.add_account"), () => bindAgain(alert.platform_id))],
    };
  }
  const key = { success_rate_low: "alert.user.success_rate_low", budget_reached: "alert.user.budget_reached" }[alert.kind];
  return { text: t(key || "alert.user.other", { platform }), actions: [] };
}

/**
 * A user's alerts about their `accounts`, in the page's words: `actions.refresh(account, button)`
 * and `actions.bindAgain(platformId)` are what its buttons do.
 */
export function userAlertList(alerts, labelledBy, accounts, actions) {
  return h(
    "ul",
    { class: "alerts", "aria-labelledby": labelledBy },
    alerts.map((alert) => {
      const { text, actions: buttons } = userWords(alert, accounts, actions);
      return alertItem(alert, { message: h("p", { class: "alert-message" }, text), actions: buttons });
    }),
  );
}

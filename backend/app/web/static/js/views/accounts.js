// Your accounts: status, quota, last use; refresh, enable/disable, delete. Kept current by polling.

import { callFacts, keyHint, quotaView, shownStatus, waitLine } from "../account-health.js";
import { userAlertList } from "../alerts.js";
import { api } from "../api.js";
import { h, fill, uid } from "../dom.js";
import { t, formatRelative, platformName } from "../i18n.js";
import { flow } from "./add-account.js";
import {
  confirmDialog,
  emptyState,
  errorText,
  notice,
  pageHeader,
  statusBadge,
  timeText,
  toast,
} from "../ui.js";

const POLL_MS = 5000;
export const ACCOUNTS_CHANGED = "oauth-proxy:accounts-changed";

/** The status as the page shows it (account-health.js). */
export const accountStatus = shownStatus;

const COOLDOWN_REASONS = new Set(["rate_limited", "overloaded", "quota_exhausted"]);

function cooldownList(account) {
  const now = Date.now();
  const resting = (account.cooldowns || []).filter((c) => new Date(c.until).getTime() > now);
  if (!resting.length) return null;
  return h(
    "ul",
    { class: "cooldowns" },
    resting.map((c) =>
      h(
        "li",
        {},
        t(`cooldown.${COOLDOWN_REASONS.has(c.reason) ? c.reason : "other"}`, { model: c.model }),
        " ",
        t("cooldown.until", { when: formatRelative(c.until) }),
        c.message ? h("span", { class: "muted" }, ` — ${c.message}`) : null,
      ),
    ),
  );
}

function methodText(method) {
  return t(`method.${method}`);
}

/** The outcome of the account's last test, while the page is open. */
function testLine(result) {
  if (!result) return null;
  const latency = t("requests.ms", { ms: result.latency_ms });
  return result.outcome === "ok"
    ? h("p", { class: "test-result test-ok", role: "status" }, t("health.test_ok", { model: result.model, latency }))
    : h("p", { class: "test-result test-failed", role: "status" }, t("health.test_failed", { latency, message: result.message || result.error_code || result.status }));
}

function accountCard(account, actions, tested) {
  const titleId = uid("account");
  const name = account.account_name || t("accounts.unnamed");
  const status = accountStatus(account);
  const button = (key, label, named, onClick, cls = "secondary small") =>
    h(
      "button",
      { type: "button", class: cls, "data-key": `${key}-${account.id}`, "aria-label": named, onClick },
      label,
    );
  return h(
    "li",
    { class: `card account status-${status}`, "data-account-id": account.id, "aria-labelledby": titleId },
    h(
      "div",
      { class: "account-head" },
      h(
        "div",
        {},
        h("p", { class: "platform" }, platformName(account.platform_id, account.platform_name)),
        h("h2", { id: titleId }, name),
      ),
      statusBadge(status),
    ),
    h(
      "p",
      { class: "meta" },
      methodText(account.auth_method),
      keyHint(account),
    ),
    quotaView(account),
    waitLine(account),
    cooldownList(account),
    account.status_reason ? h("p", { class: "reason" }, account.status_reason) : null,
    h(
      "dl",
      { class: "facts" },
      h("div", {}, h("dt", {}, t("accounts.last_used")), h("dd", {}, timeText(account.last_used_at, t("accounts.never")))),
      account.expires_at
        ? h("div", {}, h("dt", {}, t("accounts.expires")), h("dd", {}, timeText(account.expires_at)))
        : null,
      callFacts(account),
    ),
    testLine(tested),
    h(
      "div",
      { class: "actions" },
      button("test", t("health.test"), t("health.test_named", { name }), (event) =>
        actions.test(account, event.currentTarget),
      ),
      button("refresh", t("accounts.refresh"), t("accounts.refresh_named", { name }), (event) =>
        actions.refresh(account, event.currentTarget),
      ),
      button(
        "toggle",
        t(account.is_active ? "accounts.disable" : "accounts.enable"),
        t(account.is_active ? "accounts.disable_named" : "accounts.enable_named", { name }),
        (event) => actions.toggle(account, event.currentTarget),
      ),
      button("delete", t("accounts.delete"), t("accounts.delete_named", { name }), () => actions.remove(account), "danger small"),
    ),
  );
}

/** Your open alerts above your accounts (nothing when there are none), with their buttons. */
function showAlerts(box, alerts, accounts, actions) {
  const signature = JSON.stringify([alerts, accounts]);
  if (box.dataset.shown === signature) return box;
  box.dataset.shown = signature;
  if (!alerts.length) return fill(box);
  const titleId = "your-alerts";
  return fill(
    box,
    h("section", { class: "notice notice-warning", "aria-labelledby": titleId }, h("h2", { class: "notice-title", id: titleId }, t("alerts.yours")), userAlertList(alerts, titleId, accounts, actions)),
  );
}

export async function render(main) {
  const list = h("div", { class: "account-list" });
  const alertsBox = h("div", { class: "your-alerts" });
  const addLink = h("a", { class: "button primary", href: "#/add" }, t("accounts.add"));
  fill(main, pageHeader(t("accounts.title"), addLink), alertsBox, list);
  let shown = "";
  const tested = new Map(); // account id → the outcome of its last test

  async function load() {
    // Alerts are secondary: when they cannot be read, the accounts still show.
    const [accounts, alerts] = await Promise.all([api.get("/api/v1/oauth/accounts"), api.get("/api/v1/oauth/alerts?state=open").catch(() => null)]);
    if (alerts) showAlerts(alertsBox, alerts, accounts, actions);
    const signature = JSON.stringify(accounts);
    if (signature === shown) return;
    shown = signature;
    const focusedKey = document.activeElement?.dataset?.key;
    if (!accounts.length) {
      fill(
        list,
        emptyState(
          t("accounts.empty_title"),
          t("accounts.empty_text"),
          h("a", { class: "button primary", href: "#/add" }, t("accounts.add_first")),
        ),
      );
      return;
    }
    fill(list, h("ul", { class: "cards", "aria-label": t("accounts.list_label") }, accounts.map((a) => accountCard(a, actions, tested.get(a.id)))));
    if (focusedKey) list.querySelector(`[data-key="${focusedKey}"]`)?.focus();
  }

  // The clicked button is disabled while its action runs (no double submits); the list is then
  // redrawn from the service.
  async function act(button, work, account = null) {
    if (button) button.disabled = true;
    try {
      await work();
      shown = "";
      await load();
    } catch (error) {
      toast(errorText(error, { platform: account && platformName(account.platform_id, account.platform_name) }), "error");
      if (button?.isConnected) button.disabled = false;
    }
  }

  const actions = {
    test: (account, button) =>
      act(button, async () => {
        tested.set(account.id, await api.post(`/api/v1/oauth/accounts/${account.id}/test`));
      }),
    refresh: (account, button) =>
      act(button, async () => {
        const result = await api.post(`/api/v1/oauth/accounts/${account.id}/refresh`);
        const platform = platformName(account.platform_id, account.platform_name);
        toast(t(`refresh.${result.outcome}`, { platform }), result.outcome === "refreshed" || result.outcome === "valid" ? "info" : "error");
      }, account),
    toggle: (account, button) =>
      act(button, async () => {
        const updated = await api.put(`/api/v1/oauth/accounts/${account.id}/toggle`);
        const name = updated.account_name || t("accounts.unnamed");
        toast(t(updated.is_active ? "accounts.enabled" : "accounts.disabled", { name }));
      }),
    bindAgain: (platformId) => {
      flow.platformId = platformId;
      location.hash = "#/add";
    },
    remove: async (account) => {
      const name = account.account_name || t("accounts.unnamed");
      const confirmed = await confirmDialog({
        title: t("accounts.delete_title", { name }),
        text: t("accounts.delete_text"),
        confirm: t("accounts.delete"),
        danger: true,
      });
      if (!confirmed) return;
      await act(null, async () => {
        await api.delete(`/api/v1/oauth/accounts/${account.id}`);
        toast(t("accounts.deleted", { name }));
      });
      document.getElementById("page-title")?.focus();
    },
  };

  try {
    await load();
  } catch (error) {
    fill(list, notice(errorText(error), { kind: "error" }));
  }
  const reload = () => load().catch(() => {});
  const timer = setInterval(reload, POLL_MS);
  const onVisible = () => document.visibilityState === "visible" && reload();
  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener(ACCOUNTS_CHANGED, reload);
  return () => {
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisible);
    window.removeEventListener(ACCOUNTS_CHANGED, reload);
  };
}

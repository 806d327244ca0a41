// Shared pieces of the page: messages, dialogs, badges, the quota bar, copy buttons.

import { ApiError } from "./api.js";
import { h, fill, uid } from "./dom.js";
import { t, getLang, formatNumber, formatDateTime, formatRelative } from "./i18n.js";

let toastTimer = null;
/** A short message in the polite live region (screen readers read it; it fades after a while). */
export function toast(message, kind = "info") {
  const region = document.getElementById("toast");
  fill(region, h("span", { class: `toast-body toast-${kind}` }, message));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => fill(region), 6000);
}

// Every error_code of the README's table (*Error codes*) in the page's own words, saying whose side
// failed (`error.code.<code>` in the locales; `{platform}` is the platform's name where the view
// knows it). A failure without a code (or with a platform's own) is worded by its status.
const WORDED = new Set([
  "validation_error", "invalid_json", "bad_request", "unsupported_method", "invalid_state",
  "missing_login_input", "credential_rejected", "no_account", "no_usable_account",
  "account_expired", "invalid_route_name", "unknown_route_target", "route_unusable",
  "upstream_bad_request", "unauthorized", "invalid_token", "invalid_sign_in", "forbidden",
  "registration_closed", "model_not_allowed", "not_found", "platform_not_found",
  "route_not_found", "model_not_found", "endpoint_not_found", "method_not_allowed", "conflict",
  "username_taken", "login_not_waiting", "payload_too_large", "login_failed", "rate_limited",
  "quota_exhausted", "accounts_resting", "route_exhausted", "budget_exceeded", "accounts_busy",
  "internal_error", "address_refused", "platform_unreachable", "service_unavailable",
  "database_unavailable", "browser_unavailable", "platform_unavailable",
]); // prettier-ignore
// Codes whose server message says what exactly (the field, the platform's own words, the budget):
// it follows the page's sentence as a detail, in the service's words.
const DETAILED = new Set([
  "validation_error", "bad_request", "credential_rejected", "upstream_bad_request", "login_failed",
  "budget_exceeded",
]); // prettier-ignore

function byStatus(status) {
  if (status === 502 || status === 504) return "error.platform_side";
  if (status >= 500) return "error.server";
  return status === 429 ? "error.busy" : "error.refused";
}

/**
 * A failure in words a person understands, in the page's language: `text`, the service's
 * `detail` where it adds something, and the `requestId` support asks for when the failure is not
 * the person's own (5xx, or a code the page does not know).
 */
export function describeError(error, { platform = null } = {}) {
  if (!(error instanceof ApiError)) return { text: t("error.unexpected") };
  if (error.status === 0) return { text: t("error.network") };
  const known = WORDED.has(error.code);
  const vars = { platform: platform || t("error.the_platform") };
  return {
    text: t(known ? `error.code.${error.code}` : byStatus(error.status), vars),
    detail: !known || DETAILED.has(error.code) ? error.message : null,
    requestId: !known || error.status >= 500 ? error.requestId : null,
  };
}

/** describeError as one line of text (a toast, a notice). */
export function errorText(error, context) {
  const { text, detail, requestId } = describeError(error, context);
  return [text, detail && t("error.detail", { detail }), requestId && t("error.request_id", { id: requestId })]
    .filter(Boolean)
    .join(" ");
}

/**
 * A form's error line (role=alert: read out as soon as it appears). `show(error, context)` takes
 * a sentence of the page's own or a failure (context as describeError's).
 */
export function errorLine() {
  const line = h("div", { class: "form-error", role: "alert", hidden: true });
  line.show = (error, context) => {
    line.hidden = !error;
    if (!error || typeof error === "string") return fill(line, error ? h("p", {}, error) : null);
    const { text, detail, requestId } = describeError(error, context);
    return fill(
      line,
      h("p", {}, text),
      detail ? h("p", { class: "error-detail" }, t("error.detail", { detail })) : null,
      requestId ? h("p", { class: "error-request-id" }, t("error.request_id", { id: requestId })) : null,
    );
  };
  return line;
}

export function notice(text, { kind = "info", title = null } = {}) {
  return h(
    "div",
    { class: `notice notice-${kind}` },
    title ? h("strong", { class: "notice-title" }, title) : null,
    h("p", {}, text),
  );
}

export function emptyState(title, text, action = null) {
  return h("div", { class: "empty" }, h("h2", {}, title), h("p", {}, text), action);
}

export function pageHeader(title, ...actions) {
  return h(
    "div",
    { class: "page-header" },
    h("h1", { tabindex: "-1", id: "page-title" }, title),
    actions.length ? h("div", { class: "page-actions" }, actions) : null,
  );
}

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}` }, t(`status.${status}`));
}

/** Used of limit, as a bar with its numbers (or `label`) and when it starts again (worded by the
 * `resets` text). */
export function quotaBar(used, limit, resetAt, { label = null, resets = "quota.resets" } = {}) {
  const id = uid("quota");
  const hasLimit = Number.isFinite(limit) && limit > 0;
  const share = hasLimit ? Math.min(1, used / limit) : 0;
  label ??= hasLimit
    ? t("quota.used_of", { used: formatNumber(used), limit: formatNumber(limit) })
    : t("quota.used_no_limit", { used: formatNumber(used) });
  const bar = h("span", { class: "quota-fill" });
  bar.style.width = `${(share * 100).toFixed(1)}%`;
  if (share >= 0.9) bar.classList.add("quota-high");
  return h(
    "div",
    { class: "quota" },
    h("span", { class: "quota-label", id }, label),
    hasLimit
      ? h(
          "span",
          {
            class: "quota-track",
            role: "progressbar",
            "aria-labelledby": id,
            "aria-valuemin": 0,
            "aria-valuemax": limit,
            "aria-valuenow": Math.min(used, limit),
          },
          bar,
        )
      : null,
    resetAt
      ? h(
          "span",
          { class: "quota-reset" },
          t(resets, { when: formatRelative(resetAt) }),
        )
      : null,
  );
}

export function timeText(value, never) {
  if (!value) return h("span", {}, never);
  return h("time", { datetime: value, title: formatDateTime(value) }, formatRelative(value));
}

/** A button that copies text and says so. */
export function copyButton(getText, label = t("action.copy")) {
  return h(
    "button",
    {
      type: "button",
      class: "secondary small",
      onClick: async (event) => {
        const button = event.currentTarget;
        try {
          await navigator.clipboard.writeText(getText());
          toast(t("copy.done"));
          button.textContent = t("copy.done_short");
          setTimeout(() => {
            button.textContent = label;
          }, 2000);
        } catch {
          toast(t("copy.failed"), "error");
        }
      },
    },
    label,
  );
}

/**
 * A modal dialog (native <dialog>: focus stays inside, Escape closes); resolves with the value
 * of the button that closed it, or "" on Escape. Focus returns to where it was.
 */
export function openDialog({ title, body, buttons }) {
  const opener = document.activeElement;
  const titleId = uid("dialog-title");
  const dialog = h(
    "dialog",
    { class: "dialog", "aria-labelledby": titleId },
    h(
      "form",
      { method: "dialog" },
      h("h2", { id: titleId }, title),
      body,
      h(
        "div",
        { class: "dialog-actions" },
        buttons.map((b) =>
          h("button", { value: b.value, class: b.class || "secondary", autofocus: b.autofocus }, b.label),
        ),
      ),
    ),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(dialog.returnValue);
    });
    dialog.showModal();
  });
}

export async function confirmDialog({ title, text, confirm, danger = false }) {
  const answer = await openDialog({
    title,
    body: h("p", {}, text),
    buttons: [
      { value: "cancel", label: t("action.cancel"), autofocus: true },
      { value: "confirm", label: confirm, class: danger ? "danger" : "primary" },
    ],
  });
  return answer === "confirm";
}

/** A labelled form field: label + control + optional hint, wired with for/aria-describedby. */
export function field(label, control, hint = null) {
  const id = control.id || uid("field");
  control.id = id;
  let hintEl = null;
  if (hint) {
    hintEl = h("span", { class: "hint", id: `${id}-hint` }, hint);
    control.setAttribute("aria-describedby", hintEl.id);
  }
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

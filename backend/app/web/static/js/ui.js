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

// Failures the page words itself, by their error_code (README, *Error codes*: `error.code.<code>`
// in the locales); any other shows the server's message, written in English for people. In English
// too where the server's words name an API route rather than what to do on this page.
const OWN_WORDS = new Set([
  "invalid_sign_in",
  "username_taken",
  "registration_closed",
  "no_usable_account",
  "account_expired",
  "quota_exhausted",
  "accounts_resting",
]);
const OWN_WORDS_IN_ENGLISH_TOO = new Set(["invalid_token", "no_account", "endpoint_not_found"]);

/** An error in words a person understands, in the page's language. */
export function errorText(error) {
  if (!(error instanceof ApiError)) return t("error.unexpected");
  if (error.status === 0) return t("error.network");
  const ownWords = OWN_WORDS_IN_ENGLISH_TOO.has(error.code) || OWN_WORDS.has(error.code);
  if (ownWords && (getLang() !== "en" || OWN_WORDS_IN_ENGLISH_TOO.has(error.code))) {
    return t(`error.code.${error.code}`);
  }
  if (error.status >= 500) return t("error.server", { message: error.message });
  if (error.status === 429) return t("error.busy", { message: error.message });
  if (getLang() === "en") return error.message;
  return t("error.refused", { message: error.message });
}

/** A form's error line (role=alert: read out as soon as it appears). */
export function errorLine() {
  const line = h("p", { class: "form-error", role: "alert", hidden: true });
  line.show = (error) => {
    line.hidden = !error;
    line.textContent = error ? (typeof error === "string" ? error : errorText(error)) : "";
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

/** Used of limit, as a bar with its numbers and when the quota starts again. */
export function quotaBar(used, limit, resetAt) {
  const id = uid("quota");
  const hasLimit = Number.isFinite(limit) && limit > 0;
  const share = hasLimit ? Math.min(1, used / limit) : 0;
  const label = hasLimit
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
          t("quota.resets", { when: formatRelative(resetAt) }),
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

// Following an authorization in progress: the OAuth window, the device code, the browser login.

import { api } from "../api.js";
import { h, fill } from "../dom.js";
import { t, formatRelative, platformName } from "../i18n.js";
import { copyButton, errorLine, errorText, field, notice } from "../ui.js";
import { ACCOUNTS_CHANGED } from "./accounts.js";
import { liveView } from "./live-view.js";

const POLL_MS = 1500;
const TERMINAL = new Set(["completed", "failed", "expired"]);
const OWN_WORDS_REASONS = new Set(["challenge", "unknown_page"]);
// A code the platform asks for without words of its own, by what it is.
const CODE_PROMPTS = { sms: "flow.code_prompt_sms", email: "flow.code_prompt_email" };
export const AUTHORIZATION_MESSAGE = "oauth-proxy:authorization";

// The OAuth window tells its opener when it is done, wherever the user is on the page.
window.addEventListener("message", (event) => {
  if (event.origin !== location.origin || event.data?.type !== AUTHORIZATION_MESSAGE) return;
  if (event.data.ok) window.dispatchEvent(new CustomEvent(ACCOUNTS_CHANGED));
});

function stateText(current) {
  if (current.status === "needs_user_action") return t("flow.needs_action");
  if (current.status === "completing") return t("flow.completing");
  if (current.method === "oauth") return t("flow.oauth_waiting", { platform: platformName(current.platformId, current.platformName) });
  if (current.method === "device") return t("flow.device_waiting");
  if (current.queue_position) return t("flow.queued", { position: current.queue_position });
  if (current.step === "queued") return t("flow.queued_plain");
  return current.step ? t("flow.browser_step", { step: stepText(current.step) }) : t("flow.browser_starting");
}

/** A browser login's step (a code from the service) in words; an unknown code as it is. */
function stepText(step) {
  const key = `flow.step.${step}`;
  const text = t(key);
  return text === key ? step : text;
}

function oauthPart(current) {
  const reopen = () => {
    current.popup = window.open(current.auth_url, "oauth-proxy-authorize", "popup,width=560,height=720");
  };
  return h(
    "div",
    { class: "flow-part" },
    h("p", {}, t("flow.oauth_explain", { platform: platformName(current.platformId, current.platformName) })),
    current.popup === null ? notice(t("flow.popup_blocked"), { kind: "warning" }) : null,
    h("button", { type: "button", class: "secondary", onClick: reopen }, t("flow.oauth_reopen")),
  );
}

function devicePart(current) {
  return h(
    "div",
    { class: "flow-part" },
    h(
      "p",
      {},
      t("flow.device_go"),
      " ",
      h("a", { href: current.verification_uri, target: "_blank", rel: "noopener", translate: "no" }, current.verification_uri),
    ),
    h(
      "div",
      { class: "device-code" },
      h("output", { class: "code", translate: "no", "aria-label": t("flow.device_code") }, current.user_code),
      copyButton(() => current.user_code),
    ),
    current.verification_uri_complete
      ? h("p", {}, h("a", { href: current.verification_uri_complete, target: "_blank", rel: "noopener" }, t("flow.device_open_filled")))
      : null,
    current.expires_at ? h("p", { class: "muted" }, t("flow.expires", { when: formatRelative(current.expires_at) })) : null,
  );
}

function codeForm(current, redraw) {
  const input = h("input", {
    name: "code",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    required: true,
    maxlength: 32,
  });
  const error = errorLine();
  const submit = h("button", { type: "submit", class: "primary" }, t("flow.code_send"));
  const onSubmit = async (event) => {
    event.preventDefault();
    if (!input.value.trim()) {
      error.show(t("flow.code_required"));
      return;
    }
    submit.disabled = true;
    try {
      await api.post(`/api/v1/oauth/sessions/${encodeURIComponent(current.state)}/input`, {
        code: input.value.trim(),
      });
      current.codeSent = true;
      redraw();
    } catch (failure) {
      error.show(failure);
      submit.disabled = false;
    }
  };
  if (!current.codeFocused) {
    current.codeFocused = true;
    queueMicrotask(() => input.focus());
  }
  return h(
    "form",
    { class: "code-form", onSubmit },
    field(current.prompt || t(CODE_PROMPTS[current.code_kind] || "flow.code_prompt"), input),
    error,
    h("div", { class: "form-actions" }, submit),
  );
}

function codeSentNote(current, redraw) {
  const again = () => {
    current.codeSent = false;
    current.codeFocused = false;
    redraw();
  };
  return h(
    "div",
    { class: "code-sent" },
    h("p", {}, t("flow.code_sent")),
    h("button", { type: "button", class: "link", onClick: again }, t("flow.code_again")),
  );
}

/** The page the login browser was on when it asked (fetched with the bearer token). */
function screenshot(current) {
  const image = h("img", { class: "login-shot", alt: t("flow.screenshot_alt"), hidden: true });
  const details = h("details", { class: "shot" }, h("summary", {}, t("flow.screenshot_show")), image);
  // Fetched when asked for: the login may move on (and drop the picture) at any moment.
  details.addEventListener(
    "toggle",
    () => {
      api.blob(`/api/v1/oauth/sessions/${encodeURIComponent(current.state)}/screenshot`)
        .then((blob) => {
          image.src = URL.createObjectURL(blob);
          image.hidden = false;
        })
        .catch((error) => details.append(h("p", { class: "hint" }, errorText(error))));
    },
    { once: true },
  );
  return details;
}

function browserPart(current, live, redraw) {
  const steps = (current.steps || []).filter((step) => step !== "queued");
  const part = h(
    "div",
    { class: "flow-part" },
    steps.length ? h("ol", { class: "steps", "aria-label": t("flow.steps") }, steps.map((s) => h("li", {}, stepText(s)))) : null,
    current.blocked?.length
      ? h("p", { class: "hint" }, t("flow.blocked", { hosts: current.blocked.join(", ") }))
      : null,
  );
  if (current.status !== "needs_user_action") return part;
  if (current.has_screenshot) part.append(screenshot(current));
  const wantsCode = current.reason === "code" || (!current.reason && current.prompt);
  if (wantsCode) {
    part.append(current.codeSent ? codeSentNote(current, redraw) : codeForm(current, redraw));
  } else if (current.prompt || OWN_WORDS_REASONS.has(current.reason)) {
    // What the service asks in its own (English) words is said in the page's language.
    const words = OWN_WORDS_REASONS.has(current.reason) ? t(`flow.reason.${current.reason}`) : current.prompt;
    part.append(h("p", { class: "prompt" }, words));
  }
  if (!wantsCode) live.show();
  return part;
}

/** The panel of the flow in progress; `update()` redraws it from `flow.current`. */
export function flowPanel(flow, { onRestart }) {
  // Cancelling ends the session on the service too: a browser login stops and frees its place.
  const cancel = async () => {
    const current = flow.current;
    if (current && !TERMINAL.has(current.status)) {
      await api.delete(`/api/v1/oauth/sessions/${encodeURIComponent(current.state)}`).catch(() => null);
    }
    onRestart();
  };
  const current = flow.current;
  const status = h("p", { class: "flow-status", role: "status" });
  const body = h("div", {});
  const liveBox = h("div", {});
  let live = null;
  const liveControl = {
    show() {
      if (!live) {
        live = liveView(current.state);
        fill(liveBox, live.element);
      }
    },
  };
  const panel = h(
    "section",
    { class: "card flow", "aria-labelledby": "flow-title" },
    h("h2", { id: "flow-title" }, t("flow.title", { name: current.accountName, platform: platformName(current.platformId, current.platformName) })),
    status,
    body,
    liveBox,
    h("div", { class: "form-actions" }, h("button", { type: "button", class: "secondary", onClick: cancel }, t(TERMINAL.has(current.status) ? "flow.try_again" : "action.cancel"))),
  );
  let drawn = null;
  panel.update = (problem) => {
    // Redraw only on change: a poll must not wipe a code the user is typing.
    const key = JSON.stringify([
      problem?.message, current.status, current.step, current.steps, current.prompt,
      current.reason, current.codeSent, current.error, current.queue_position, current.popup === null,
      current.has_screenshot, current.blocked,
    ]);
    if (key === drawn) return;
    drawn = key;
    const platform = platformName(current.platformId, current.platformName);
    status.textContent = problem ? errorText(problem, { platform }) : stateText(current);
    if (current.status === "failed" || current.status === "expired") {
      status.textContent = t(current.status === "failed" ? "flow.failed" : "flow.expired");
      fill(body, notice(current.error || t("flow.failed"), { kind: "error" }));
      panel.querySelector(".form-actions button").textContent = t("flow.try_again");
      live?.close();
      return;
    }
    if (current.method === "oauth") fill(body, oauthPart(current));
    else if (current.method === "device") fill(body, devicePart(current));
    else fill(body, browserPart(current, liveControl, () => panel.update()));
  };
  panel.close = () => live?.close();
  panel.update();
  return panel;
}

/** Poll the session (and wake up on the OAuth window's message) until it ends. */
export function followSession(flow, panel, onDone) {
  let stopped = false;
  let timer = null;
  async function tick() {
    clearTimeout(timer);
    const current = flow.current;
    if (stopped || !current) return;
    try {
      const session = await api.get(`/api/v1/oauth/sessions/${encodeURIComponent(current.state)}`);
      if (stopped || flow.current !== current) return;
      if (session.step && !(current.steps || []).includes(session.step)) {
        current.steps = [...(current.steps || []), session.step];
      }
      if (session.status !== "needs_user_action") {
        current.codeSent = false;
        current.codeFocused = false;
      }
      Object.assign(current, session);
      panel.update();
      if (session.status === "completed") return onDone(session.account);
      if (TERMINAL.has(session.status)) return null;
    } catch (error) {
      if (stopped) return null;
      panel.update(error);
    }
    timer = setTimeout(tick, POLL_MS);
    return null;
  }
  const onMessage = (event) => {
    if (event.origin === location.origin && event.data?.type === AUTHORIZATION_MESSAGE) tick();
  };
  window.addEventListener("message", onMessage);
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    window.removeEventListener("message", onMessage);
    panel.close();
  };
}

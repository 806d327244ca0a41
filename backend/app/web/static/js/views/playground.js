// Playground: send a message to a platform's model or to one of your routes through your
// accounts and watch the answer stream in, with what served it (the answer's
// x-oauth-proxy-target and x-oauth-proxy-account headers), its tokens and timings.

import { api, stream } from "../api.js";
import { h, fill } from "../dom.js";
import { t, tn, formatNumber, formatDuration, platformName } from "../i18n.js";
import { copyButton, emptyState, errorLine, field, notice, pageHeader } from "../ui.js";
import { quotaView } from "../account-health.js";
import { accountStatus } from "./accounts.js";

const ROUTE = "route:"; // the target select's value for a route: route:<name>
const routeOf = (target) => (target.startsWith(ROUTE) ? target.slice(ROUTE.length) : null);
const conversation = { target: null, model: "", system: "", temperature: "", maxTokens: "", messages: [] };

function messageView(message) {
  return h(
    "li",
    { class: `message message-${message.role}` },
    h("span", { class: "message-role" }, t(`playground.role_${message.role}`)),
    h("div", { class: "message-text" }, message.content),
  );
}

/** The call's body without its transport: the model fields of each route, messages, options. */
function callBody(messages) {
  const body = {};
  const system = conversation.system.trim();
  body.messages = system ? [{ role: "system", content: system }, ...messages] : messages;
  if (conversation.temperature !== "") body.temperature = Number(conversation.temperature);
  if (conversation.maxTokens !== "") body.max_tokens = Number(conversation.maxTokens);
  return body;
}

/** The seed's route takes the platform apart; a route is a model name with no platform. */
function seedBody(messages) {
  const { target, model } = conversation;
  const route = routeOf(target);
  const chosen = route ? { model: route } : { platform: target, ...(model ? { model } : {}) };
  return { ...chosen, ...callBody(messages), stream: true, stream_options: { include_usage: true } };
}

/** The same call on /v1/chat/completions, with an API key from the environment (never the page's
 * session token): `platform/model`, the platform alone (its default model) or the route. */
function curlCommand(messages) {
  const { target, model } = conversation;
  const name = routeOf(target) || (model ? `${target}/${model}` : target);
  const json = JSON.stringify({ model: name, ...callBody(messages) }).replaceAll("'", "'\\''");
  return [
    `curl ${location.origin}/v1/chat/completions \\`,
    '  -H "Authorization: Bearer $OAUTH_PROXY_API_KEY" \\',
    '  -H "Content-Type: application/json" \\',
    `  -d '${json}'`,
  ].join("\n");
}

function fact(label, value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, value));
}

/** What served the answer, its tokens and timings; the account's quota after it. */
async function servedFacts(served, { headers, model, usage, timings, route, platforms }) {
  const target = headers?.get("x-oauth-proxy-target") || model;
  const accountId = headers?.get("x-oauth-proxy-account");
  const accounts = accountId ? await api.get("/api/v1/oauth/accounts").catch(() => []) : [];
  const account = accounts.find((a) => String(a.id) === accountId);
  const nameOf = (id) => platformName(id, platforms.find((p) => p.platform_id === id)?.platform_name);
  const tokens = usage
    ? t("playground.tokens_value", { total: formatNumber(usage.total_tokens), prompt: formatNumber(usage.prompt_tokens), completion: formatNumber(usage.completion_tokens) })
    : t("playground.tokens_unknown");
  fill(
    served,
    h(
      "dl",
      { class: "facts" },
      fact(t("playground.served_by"), target || t("playground.served_unknown")),
      account ? fact(t("playground.account"), `${account.account_name} (${nameOf(account.platform_id)})`) : null,
      route ? fact(t("playground.route"), route) : null,
      fact(t("playground.tokens"), tokens),
      fact(t("playground.first_byte"), timings.firstByte === null ? "—" : formatDuration(timings.firstByte)),
      fact(t("playground.latency"), formatDuration(timings.total)),
    ),
    account ? quotaView(account) : null,
  );
}

/** Stream one answer on the seed's route: `onText(textSoFar)` as it grows; resolves with the
 * answer's headers, model and usage, and its timings as the page saw them. */
async function streamAnswer(body, onText, signal) {
  const started = performance.now();
  const call = { headers: null, model: null, usage: null, timings: { firstByte: null, total: 0 } };
  let text = "";
  call.headers = await stream(
    "/api/v1/oauth/chat/completions",
    body,
    (chunk) => {
      call.timings.firstByte ??= performance.now() - started;
      if (chunk.error) throw new Error(chunk.error.message || String(chunk.error));
      call.model = chunk.model || call.model;
      call.usage = chunk.usage || call.usage;
      const choice = chunk.choices?.[0];
      const piece = choice?.delta?.content ?? choice?.message?.content ?? "";
      if (piece) onText((text += piece));
    },
    { signal },
  );
  call.timings.total = performance.now() - started;
  return call;
}

function targetSelect(platforms, routes, usable) {
  return h(
    "select",
    { name: "target" },
    h(
      "optgroup",
      { label: t("playground.platforms") },
      platforms.map((p) => {
        const count = usable(p);
        const suffix = count ? tn("playground.accounts", count) : t("playground.accounts_none");
        return h("option", { value: p.platform_id, selected: p.platform_id === conversation.target }, `${platformName(p.platform_id, p.platform_name)} — ${suffix}`);
      }),
    ),
    routes.length
      ? h("optgroup", { label: t("playground.routes") }, routes.map((r) => h("option", { value: ROUTE + r.id, selected: ROUTE + r.id === conversation.target }, r.id)))
      : null,
  );
}

/** System prompt, temperature and max tokens, kept with the conversation. */
function optionFields() {
  const system = h("textarea", { name: "system", rows: 2, value: conversation.system });
  const temperature = h("input", { name: "temperature", type: "number", min: 0, max: 2, step: 0.1, inputmode: "decimal", value: conversation.temperature });
  const maxTokens = h("input", { name: "max_tokens", type: "number", min: 1, max: 1000000, step: 1, inputmode: "numeric", value: conversation.maxTokens });
  system.addEventListener("input", () => (conversation.system = system.value));
  temperature.addEventListener("input", () => (conversation.temperature = temperature.value));
  maxTokens.addEventListener("input", () => (conversation.maxTokens = maxTokens.value));
  const invalid = () => (!temperature.validity.valid ? temperature : !maxTokens.validity.valid ? maxTokens : null);
  const view = h(
    "div",
    {},
    field(t("playground.system"), system, t("playground.system_hint")),
    h(
      "div",
      { class: "row" },
      field(t("playground.temperature"), temperature, t("playground.temperature_hint")),
      field(t("playground.max_tokens"), maxTokens, t("playground.default_hint")),
    ),
  );
  return { view, invalid };
}

export async function render(main) {
  const header = pageHeader(t("playground.title"));
  const [platforms, accounts, models] = await Promise.all([
    api.get("/api/v1/oauth/platforms"),
    api.get("/api/v1/oauth/accounts"),
    api.get("/v1/models"),
  ]);
  const enabled = platforms.filter((p) => p.is_enabled);
  if (!enabled.length) {
    fill(main, header, notice(t("playground.no_platforms"), { kind: "warning" }));
    return null;
  }
  if (!accounts.length) {
    const add = h("a", { class: "button primary", href: "#/add" }, t("playground.add_account"));
    fill(main, header, emptyState(t("playground.no_accounts_title"), t("playground.no_accounts_text"), add));
    return null;
  }
  const routes = models.filter((m) => m.owned_by === "route");
  const usable = (p) => accounts.filter((a) => a.platform_id === p.platform_id && accountStatus(a) === "active").length;
  const known = [...enabled.map((p) => p.platform_id), ...routes.map((r) => ROUTE + r.id)];
  if (!known.includes(conversation.target)) conversation.target = (enabled.find(usable) || enabled[0]).platform_id;

  const targetPicker = targetSelect(enabled, routes, usable);
  const modelSelect = h("select", { name: "model" });
  const modelField = field(t("playground.model"), modelSelect);
  const fillModels = () => {
    const platform = enabled.find((p) => p.platform_id === targetPicker.value);
    modelField.hidden = !platform; // a route names its own models
    const offered = platform?.available_models || [];
    if (!offered.includes(conversation.model)) conversation.model = "";
    fill(
      modelSelect,
      h("option", { value: "" }, t("playground.model_auto")),
      offered.map((m) => h("option", { value: m, selected: m === conversation.model }, m)),
    );
  };
  targetPicker.addEventListener("change", () => {
    conversation.target = targetPicker.value;
    fillModels();
  });
  modelSelect.addEventListener("change", () => {
    conversation.model = modelSelect.value;
  });
  fillModels();

  const options = optionFields();
  const input = h("textarea", { name: "message", rows: 3, required: true });
  const transcript = h("ol", { class: "transcript", "aria-label": t("playground.transcript") });
  const status = h("p", { class: "call-status", role: "status" });
  const served = h("div", { class: "served" });
  const error = errorLine();
  const send = h("button", { type: "submit", class: "primary" }, t("playground.send"));
  const stop = h("button", { type: "button", class: "secondary", hidden: true }, t("playground.stop"));
  const clearButton = h("button", { type: "button", class: "ghost" }, t("playground.clear"));
  const pending = () => {
    const text = input.value.trim();
    return text ? [...conversation.messages, { role: "user", content: text }] : conversation.messages;
  };
  const curl = copyButton(() => curlCommand(pending()), t("playground.copy_curl"));
  let controller = null;

  const drawTranscript = () => fill(transcript, conversation.messages.map(messageView));
  clearButton.addEventListener("click", () => {
    conversation.messages = [];
    drawTranscript();
    fill(served);
    status.textContent = "";
    input.focus();
  });
  stop.addEventListener("click", () => controller?.abort());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  /** Whether the form can be sent; says why not and puts the focus there. */
  function checked(text) {
    const invalid = options.invalid();
    const problem = !text ? [input, t("playground.empty_message")] : invalid ? [invalid, t("playground.invalid_option", { field: invalid.labels[0].textContent })] : null;
    error.show(problem ? problem[1] : null);
    problem?.[0].focus();
    return !problem;
  }

  async function onSubmit(event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!checked(text)) return;
    const question = { role: "user", content: text };
    const answer = { role: "assistant", content: "" };
    const body = seedBody([...conversation.messages, question]);
    const route = routeOf(conversation.target);
    transcript.append(messageView(question));
    const answerView = messageView(answer);
    const answerText = answerView.querySelector(".message-text");
    answerView.setAttribute("aria-busy", "true");
    transcript.append(answerView);
    input.value = "";
    send.disabled = true;
    stop.hidden = false;
    fill(served);
    status.textContent = t("playground.streaming");
    controller = new AbortController();
    try {
      const call = await streamAnswer(body, (content) => {
        answer.content = content;
        answerText.textContent = content;
      }, controller.signal);
      conversation.messages.push(question, answer);
      status.textContent = t("playground.done");
      await servedFacts(served, { ...call, route, platforms: enabled });
    } catch (failure) {
      answerView.remove();
      transcript.lastChild?.remove();
      input.value = text;
      status.textContent = "";
      if (failure.name === "AbortError") status.textContent = t("playground.stopped");
      else if (failure.name !== "ApiError") error.show(t("playground.stream_failed", { message: failure.message }));
      else {
        const platform = enabled.find((p) => p.platform_id === targetPicker.value);
        error.show(failure, { platform: platform && platformName(platform.platform_id, platform.platform_name) });
      }
    } finally {
      answerView.removeAttribute("aria-busy");
      send.disabled = false;
      stop.hidden = true;
      controller = null;
    }
  }

  const form = h(
    "form",
    { class: "card playground", onSubmit, novalidate: true },
    h("div", { class: "row" }, field(t("playground.platform"), targetPicker), modelField),
    options.view,
    transcript,
    field(t("playground.message"), input, t("playground.message_hint")),
    error,
    h("div", { class: "form-actions" }, send, stop, clearButton, curl),
    h("p", { class: "hint" }, t("playground.curl_hint")),
    status,
    served,
  );
  fill(main, header, form);
  drawTranscript();
  return () => controller?.abort();
}

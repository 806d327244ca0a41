// Playground: send a message to a platform's model through your accounts and watch the answer
// stream in, with the account that served it and the tokens it used.

import { api, stream } from "../api.js";
import { h, fill } from "../dom.js";
import { t, formatNumber, platformName } from "../i18n.js";
import { errorLine, field, notice, pageHeader, quotaBar } from "../ui.js";
import { accountStatus } from "./accounts.js";

const conversation = { platform: null, model: "", messages: [] };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Which account answered: the X-OAuth-Account-Id header when the service sends one, else the
 * account of that platform whose last use moved during the call (it is recorded as the stream
 * closes, so look a few times).
 */
async function servedBy(headers, before, platformId) {
  const id = headers?.get("x-oauth-account-id");
  const previous = new Map(before.map((a) => [a.id, a.last_used_at]));
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const after = await api.get("/api/v1/oauth/accounts");
    const named = id && after.find((a) => String(a.id) === id);
    if (named) return named;
    const moved = after
      .filter((a) => a.platform_id === platformId && a.last_used_at && a.last_used_at !== previous.get(a.id))
      .sort((a, b) => new Date(b.last_used_at) - new Date(a.last_used_at));
    if (moved.length) return moved[0];
    await sleep(250);
  }
  return null;
}

function messageView(message) {
  return h(
    "li",
    { class: `message message-${message.role}` },
    h("span", { class: "message-role" }, t(`playground.role_${message.role}`)),
    h("div", { class: "message-text" }, message.content),
  );
}

export async function render(main) {
  const header = pageHeader(t("playground.title"));
  const [platforms, accounts] = await Promise.all([
    api.get("/api/v1/oauth/platforms"),
    api.get("/api/v1/oauth/accounts"),
  ]);
  const enabled = platforms.filter((p) => p.is_enabled);
  const usable = (p) => accounts.filter((a) => a.platform_id === p.platform_id && accountStatus(a) === "active").length;
  if (!conversation.platform || !enabled.some((p) => p.platform_id === conversation.platform)) {
    conversation.platform = (enabled.find(usable) || enabled[0])?.platform_id || null;
  }

  const platformSelect = h(
    "select",
    { name: "platform" },
    enabled.map((p) => {
      const count = usable(p);
      const suffix = count ? t("playground.accounts_n", { count }) : t("playground.accounts_none");
      return h("option", { value: p.platform_id, selected: p.platform_id === conversation.platform }, `${platformName(p.platform_id, p.platform_name)} — ${suffix}`);
    }),
  );
  const modelSelect = h("select", { name: "model" });
  const fillModels = () => {
    const platform = enabled.find((p) => p.platform_id === platformSelect.value);
    const models = platform?.available_models || [];
    if (!models.includes(conversation.model)) conversation.model = "";
    fill(
      modelSelect,
      h("option", { value: "" }, t("playground.model_auto")),
      models.map((m) => h("option", { value: m, selected: m === conversation.model }, m)),
    );
  };
  platformSelect.addEventListener("change", () => {
    conversation.platform = platformSelect.value;
    fillModels();
  });
  modelSelect.addEventListener("change", () => {
    conversation.model = modelSelect.value;
  });
  fillModels();

  const input = h("textarea", { name: "message", rows: 3, required: true });
  const transcript = h("ol", { class: "transcript", "aria-label": t("playground.transcript") });
  const status = h("p", { class: "call-status", role: "status" });
  const served = h("div", { class: "served" });
  const error = errorLine();
  const send = h("button", { type: "submit", class: "primary" }, t("playground.send"));
  const stop = h("button", { type: "button", class: "secondary", hidden: true }, t("playground.stop"));
  const clearButton = h("button", { type: "button", class: "ghost" }, t("playground.clear"));
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

  async function onSubmit(event) {
    event.preventDefault();
    const text = input.value.trim();
    error.show(null);
    if (!text) {
      error.show(t("playground.empty_message"));
      input.focus();
      return;
    }
    if (!platformSelect.value) return;
    const question = { role: "user", content: text };
    const answer = { role: "assistant", content: "" };
    const body = {
      platform: platformSelect.value,
      messages: [...conversation.messages, question],
      stream: true,
      stream_options: { include_usage: true },
    };
    if (modelSelect.value) body.model = modelSelect.value;
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
    let usage = null;
    let model = null;
    const before = await api.get("/api/v1/oauth/accounts").catch(() => accounts);
    try {
      const headers = await stream(
        "/api/v1/oauth/chat/completions",
        body,
        (chunk) => {
          if (chunk.error) throw new Error(chunk.error.message || String(chunk.error));
          model = chunk.model || model;
          usage = chunk.usage || usage;
          const choice = chunk.choices?.[0];
          const piece = choice?.delta?.content ?? choice?.message?.content ?? "";
          if (piece) {
            answer.content += piece;
            answerText.textContent = answer.content;
          }
        },
        { signal: controller.signal },
      );
      conversation.messages.push(question, answer);
      status.textContent = t("playground.done");
      const account = await servedBy(headers, before, body.platform).catch(() => null);
      const platform = enabled.find((p) => p.platform_id === body.platform);
      fill(
        served,
        h(
          "dl",
          { class: "facts" },
          h("div", {}, h("dt", {}, t("playground.served_by")), h("dd", {}, account ? `${account.account_name} (${platformName(body.platform, account.platform_name || platform?.platform_name)})` : t("playground.served_unknown"))),
          model ? h("div", {}, h("dt", {}, t("playground.model")), h("dd", {}, model)) : null,
          h("div", {}, h("dt", {}, t("playground.tokens")), h("dd", {}, usage ? t("playground.tokens_value", { total: formatNumber(usage.total_tokens), prompt: formatNumber(usage.prompt_tokens), completion: formatNumber(usage.completion_tokens) }) : t("playground.tokens_unknown"))),
        ),
        account ? quotaBar(account.quota_used, account.quota_limit, account.reset_at) : null,
      );
    } catch (failure) {
      answerView.remove();
      transcript.lastChild?.remove();
      input.value = text;
      status.textContent = "";
      if (failure.name === "AbortError") status.textContent = t("playground.stopped");
      else error.show(failure.name === "ApiError" ? failure : t("playground.stream_failed", { message: failure.message }));
    } finally {
      answerView.removeAttribute("aria-busy");
      send.disabled = false;
      stop.hidden = true;
      controller = null;
    }
  }

  const form = h(
    "form",
    { class: "card playground", onSubmit },
    h("div", { class: "row" }, field(t("playground.platform"), platformSelect), field(t("playground.model"), modelSelect)),
    transcript,
    field(t("playground.message"), input, t("playground.message_hint")),
    error,
    h("div", { class: "form-actions" }, send, stop, clearButton),
    status,
    served,
  );
  fill(main, header, enabled.length ? form : notice(t("playground.no_platforms"), { kind: "warning" }));
  drawTranscript();
  return () => controller?.abort();
}

// An administrator's platform editor: the common fields as a form, the whole configuration as
// JSON on an Advanced tab. Both edit one draft; the OAuth client secret is write-only (the API
// answers it masked and keeps the stored one when it comes back masked or left out).

import { h, uid } from "../dom.js";
import { t } from "../i18n.js";
import { field } from "../ui.js";

const STRATEGIES = ["most_remaining", "round_robin", "least_busy", "fill_first"];

/** A whole number, null when empty, NaN when it is not one (validatePlatform says so). */
function wholeNumber(input) {
  const text = input.value.trim();
  return text === "" ? null : /^\d+$/.test(text) ? Number(text) : NaN;
}

function formFields(draft) {
  const llm = draft.litellm_config || {};
  const quota = draft.quota_config || {};
  const oauth = draft.oauth_config || {};
  const inputs = {
    name: h("input", { value: draft.platform_name || "", maxlength: 100 }),
    enabled: h("input", { type: "checkbox", checked: draft.is_enabled !== false }),
    models: h("textarea", { rows: 4, spellcheck: "false", value: (llm.available_models || []).join("\n") }),
    defaultModel: h("input", { value: llm.default_model || "", spellcheck: "false" }),
    daily: h("input", { inputmode: "numeric", value: quota.daily_limit ?? "" }),
    rate: h("input", { inputmode: "numeric", value: quota.rate_limit ?? "" }),
    strategy: h(
      "select",
      {},
      h("option", { value: "" }, t("admin.f_strategy_default")),
      STRATEGIES.map((s) => h("option", { value: s, selected: quota.strategy === s }, t(`admin.strategy.${s}`))),
    ),
    clientId: h("input", { value: oauth.client_id || "", spellcheck: "false", autocomplete: "off" }),
    clientSecret: h("input", { type: "password", autocomplete: "new-password", placeholder: t(oauth.client_secret ? "admin.f_secret_kept" : "admin.f_secret_none") }),
  };
  const enabledId = uid("enabled");
  inputs.enabled.id = enabledId;
  const element = h(
    "div",
    { class: "platform-form" },
    field(t("admin.f_name"), inputs.name),
    h("div", { class: "field checkbox" }, inputs.enabled, h("label", { for: enabledId }, t("admin.f_enabled"))),
    field(t("admin.f_models"), inputs.models, t("admin.f_models_hint")),
    field(t("admin.f_default_model"), inputs.defaultModel),
    field(t("admin.f_daily"), inputs.daily, t("admin.f_daily_hint")),
    field(t("admin.f_rate"), inputs.rate, t("admin.f_rate_hint")),
    field(t("admin.f_strategy"), inputs.strategy),
    field(t("admin.f_client_id"), inputs.clientId, t("admin.f_client_id_hint")),
    field(t("admin.f_client_secret"), inputs.clientSecret, t("admin.f_client_secret_hint")),
  );
  /** The draft with the form's values written into it. */
  const read = (base) => {
    const config = structuredClone(base);
    config.platform_name = inputs.name.value.trim();
    config.is_enabled = inputs.enabled.checked;
    const models = inputs.models.value.split(/[\n,]/).map((m) => m.trim()).filter(Boolean);
    config.litellm_config = { ...config.litellm_config, available_models: models, default_model: inputs.defaultModel.value.trim() };
    const quotaValues = { daily_limit: wholeNumber(inputs.daily), rate_limit: wholeNumber(inputs.rate), strategy: inputs.strategy.value || null };
    const quotaConfig = { ...(config.quota_config || {}) };
    for (const [key, value] of Object.entries(quotaValues)) {
      if (value === null) delete quotaConfig[key]; // left empty: the service's default
      else quotaConfig[key] = value;
    }
    config.quota_config = quotaConfig;
    const oauthConfig = { ...config.oauth_config };
    if (inputs.clientId.value.trim()) oauthConfig.client_id = inputs.clientId.value.trim();
    else delete oauthConfig.client_id;
    if (inputs.clientSecret.value) oauthConfig.client_secret = inputs.clientSecret.value;
    config.oauth_config = oauthConfig;
    return config;
  };
  return { element, read, focus: () => inputs.name.focus() };
}

/**
 * The editor's body: tabs Form and Advanced (JSON) over one draft. `current()` answers the
 * configuration as edited, or throws the JSON's SyntaxError; a JSON that does not parse keeps its
 * tab and goes to `onInvalid(error)`.
 */
export function platformEditor(config, onInvalid) {
  let draft = config;
  let form = formFields(draft);
  const formBox = h("div", { role: "tabpanel" }, form.element);
  const text = h("textarea", { class: "code-input", rows: 18, spellcheck: "false" });
  const jsonBox = h("div", { role: "tabpanel", hidden: true }, field(t("admin.config_json"), text, t("admin.config_hint")));
  const tabs = [t("admin.tab_form"), t("admin.tab_json")].map((label, i) =>
    h("button", { type: "button", role: "tab", id: uid("platform-tab"), onClick: () => attempt(i) }, label),
  );
  [formBox, jsonBox].forEach((panel, i) => {
    panel.id = uid("platform-panel");
    panel.setAttribute("aria-labelledby", tabs[i].id);
    tabs[i].setAttribute("aria-controls", panel.id);
  });
  let showing = 0;
  const current = () => (showing === 0 ? form.read(draft) : JSON.parse(text.value));
  function show(index) {
    if (index === showing) return;
    draft = current(); // a JSON that does not parse keeps its tab (the caller shows why)
    showing = index;
    if (index === 1) text.value = JSON.stringify(draft, null, 2);
    else form = formFields(draft);
    if (index === 0) formBox.replaceChildren(form.element);
    tabs.forEach((tab, i) => {
      tab.setAttribute("aria-selected", String(i === index));
      tab.tabIndex = i === index ? 0 : -1;
    });
    formBox.hidden = index !== 0;
    jsonBox.hidden = index !== 1;
    if (index === 1) {
      text.focus();
      text.setSelectionRange(0, 0);
      text.scrollTop = 0; // from its first line, not its end
    } else form.focus();
  }
  function attempt(index) {
    try {
      show(index);
      return true;
    } catch (problem) {
      onInvalid(problem);
      return false;
    }
  }
  tabs.forEach((tab, i) => {
    tab.setAttribute("aria-selected", String(i === 0));
    tab.tabIndex = i === 0 ? 0 : -1;
  });
  const list = h("div", { role: "tablist", class: "tabs", "aria-label": t("admin.tabs") }, tabs);
  list.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step || !tabs.includes(document.activeElement)) return;
    event.preventDefault();
    const next = (showing + step + tabs.length) % tabs.length;
    if (attempt(next)) tabs[next].focus();
  });
  return {
    element: h("div", {}, list, formBox, jsonBox),
    current,
    focus: () => form.focus(),
  };
}

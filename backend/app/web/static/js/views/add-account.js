// Add an account: choose the platform, name the account, then bind it by key, OAuth window,
// device code or browser login. A flow in progress survives re-rendering (e.g. a language switch).

import { api } from "../api.js";
import { h, fill } from "../dom.js";
import { t, platformName, platformDescription } from "../i18n.js";
import { errorLine, field, notice, pageHeader, toast } from "../ui.js";
import { ACCOUNTS_CHANGED } from "./accounts.js";
import { followSession, flowPanel } from "./authorization.js";

// Fields of the key form per platform (README "Binding an account"): [name, required, kind, options].
const KEY_FIELDS = {
  default: [["api_key", true]],
  qwen: [["api_key", true], ["region", false, "select", ["cn-beijing", "ap-southeast-1", "us-east-1"]]],
  openai: [["api_key", true], ["organization", false, "text"], ["project", false, "text"]],
  baidu: [["api_key", false], ["access_key", false, "text"], ["secret_key", false]],
  zhipu: [["api_key", true], ["auth_mode", false, "select", ["raw", "jwt"]]],
  spark: [["api_password", false], ["api_key", false], ["api_secret", false]],
};
const KEY_HINTS = { baidu: "cred.hint.baidu", spark: "cred.hint.spark", zhipu: "cred.hint.zhipu" };
const MODEL_PREVIEW = 4;

export const flow = { current: null, platformId: null };

function methodChips(methods) {
  return h("span", { class: "chips" }, methods.map((m) => h("span", { class: "chip" }, t(`method.${m}`))));
}

function platformOption(platform, checked, onChange) {
  const models = platform.available_models || [];
  const more = models.length - MODEL_PREVIEW;
  const id = `platform-${platform.platform_id}`;
  const description = platformDescription(platform);
  // The whole card selects the platform; its name alone names the radio, the rest describes it.
  const input = h("input", {
    type: "radio",
    name: "platform",
    value: platform.platform_id,
    checked,
    disabled: !platform.is_enabled,
    "aria-labelledby": `${id}-name`,
    "aria-describedby": `${id}-details`,
    onChange,
  });
  return h(
    "label",
    { class: `platform-option${platform.is_enabled ? "" : " is-disabled"}` },
    input,
    h(
      "span",
      { class: "po-body" },
      h("span", { class: "po-name", id: `${id}-name` }, platformName(platform.platform_id, platform.platform_name)),
      h(
        "span",
        { class: "po-details", id: `${id}-details` },
        description ? h("span", { class: "po-desc" }, description) : null,
        models.length
          ? h(
              "span",
              { class: "po-models" },
              t("add.models", { models: models.slice(0, MODEL_PREVIEW).join(", ") }),
              more > 0 ? ` ${t("add.more_models", { count: more })}` : "",
            )
          : null,
        platform.is_enabled
          ? methodChips(platform.login_methods)
          : h("span", { class: "po-off" }, t("add.platform_disabled")),
      ),
    ),
  );
}

function keyFields(platform) {
  const specs = KEY_FIELDS[platform.platform_id] || KEY_FIELDS.default;
  const inputs = {};
  const fields = specs.map(([name, required, kind = "password", options]) => {
    let control;
    if (kind === "select") {
      control = h("select", { name }, h("option", { value: "" }, t("cred.default")), options.map((o) => h("option", { value: o }, o)));
    } else {
      control = h("input", {
        name,
        type: kind,
        required,
        autocomplete: "off",
        spellcheck: "false",
        autocapitalize: "none",
      });
    }
    inputs[name] = control;
    return field(t(`cred.${name}`) + (required ? "" : ` ${t("common.optional")}`), control);
  });
  const hint = KEY_HINTS[platform.platform_id];
  return {
    element: h("div", { class: "method-panel" }, hint ? h("p", { class: "hint" }, t(hint)) : null, fields),
    values: () =>
      Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]).filter(([, v]) => v)),
  };
}

function browserFields() {
  const input = (name, type = "text") =>
    h("input", { name, type, autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  const inputs = {
    username: input("username"),
    password: input("password", "password"),
    phone: input("phone", "tel"),
    email: input("email", "email"),
  };
  const optional = (name) => field(`${t(`cred.${name}`)} ${t("common.optional")}`, inputs[name]);
  return {
    element: h(
      "div",
      { class: "method-panel" },
      h("p", { class: "hint" }, t("add.browser_explain")),
      optional("username"),
      optional("password"),
      h("details", { class: "more" }, h("summary", {}, t("add.browser_more")), optional("phone"), optional("email")),
    ),
    values: () =>
      Object.fromEntries(
        Object.entries(inputs)
          .map(([name, el]) => [name, name === "password" ? el.value : el.value.trim()])
          .filter(([, value]) => value),
      ),
  };
}

function methodPanel(method, platform) {
  if (method === "api_key") return keyFields(platform);
  if (method === "browser") return browserFields();
  const text = t(method === "oauth" ? "add.oauth_explain" : "add.device_explain", { platform: platformName(platform.platform_id, platform.platform_name) });
  const extra = {};
  const children = [h("p", { class: "hint" }, text)];
  if (platform.platform_id === "gemini") {
    extra.project = h("input", { name: "project", autocomplete: "off" });
    children.push(field(`${t("cred.project")} ${t("common.optional")}`, extra.project));
  }
  return {
    element: h("div", { class: "method-panel" }, children),
    values: () => (extra.project?.value.trim() ? { project: extra.project.value.trim() } : {}),
  };
}

export async function render(main, ctx) {
  const platforms = await api.get("/api/v1/oauth/platforms");
  const header = pageHeader(t("add.title"));
  if (flow.current) {
    const panel = flowPanel(flow, { onRestart: () => restart(main, ctx) });
    fill(main, header, panel);
    return followSession(flow, panel, finished(ctx));
  }
  if (!platforms.length) {
    fill(main, header, notice(t("add.no_platforms"), { kind: "warning" }));
    return null;
  }
  const usable = platforms.filter((p) => p.is_enabled);
  let platform = usable.find((p) => p.platform_id === flow.platformId) || usable[0] || platforms[0];
  let method = null;
  let panel = null;

  const nameInput = h("input", { name: "account_name", required: true, maxlength: 100, autocomplete: "off" });
  const methodsBox = h("div", { class: "methods" });
  const panelBox = h("div", {});
  const error = errorLine();
  const submit = h("button", { type: "submit", class: "primary" });

  function setMethod(next) {
    method = next;
    panel = methodPanel(method, platform);
    fill(panelBox, panel.element);
    submit.textContent = t(method === "api_key" ? "add.submit_key" : "add.submit_start");
    error.show(null);
  }

  function setPlatform(next) {
    platform = next;
    flow.platformId = next.platform_id;
    nameInput.placeholder = t("add.name_placeholder", { platform: platformName(next.platform_id, next.platform_name) });
    const methods = next.login_methods || [];
    fill(
      methodsBox,
      methods.map((m, i) =>
        h(
          "label",
          { class: "method-option" },
          h("input", { type: "radio", name: "method", value: m, checked: i === 0, onChange: () => setMethod(m) }),
          h("span", {}, t(`method.${m}`)),
        ),
      ).concat(
        // Ways the platform names that this service cannot offer now, and why.
        Object.entries(next.unavailable_methods || {}).map(([m, why]) =>
          h("p", { class: "method-off" }, t("add.method_unavailable", { method: t(`method.${m}`), why })),
        ),
      ),
    );
    setMethod(methods[0] || "api_key");
  }

  async function onSubmit(event) {
    event.preventDefault();
    error.show(null);
    const accountName = nameInput.value.trim();
    if (!accountName) {
      error.show(t("add.name_required"));
      nameInput.focus();
      return;
    }
    // The OAuth window is opened now, inside the click, so that popup blockers allow it.
    const popup = method === "oauth" ? window.open("about:blank", "oauth-proxy-authorize", "popup,width=560,height=720") : null;
    submit.disabled = true;
    try {
      const result = await api.post("/api/v1/oauth/initiate", {
        platform: platform.platform_id,
        account_name: accountName,
        method,
        credentials: panel.values(),
      });
      if (result.account) {
        finished(ctx)(result.account);
        return;
      }
      flow.current = { ...result, method, accountName, platformId: platform.platform_id, platformName: platform.platform_name, status: "pending", popup };
      if (popup && result.auth_url) popup.location.href = result.auth_url;
      await ctx.navigate("add");
    } catch (failure) {
      if (popup) popup.close();
      error.show(failure, { platform: platformName(platform.platform_id, platform.platform_name) });
      submit.disabled = false;
      submit.focus();
    }
  }

  const platformList = h(
    "div",
    { class: "platform-list" },
    platforms.map((p) => platformOption(p, p === platform, () => setPlatform(p))),
  );
  const form = h(
    "form",
    { class: "card form-card", onSubmit, novalidate: true },
    h("fieldset", {}, h("legend", {}, t("add.step_platform")), platformList),
    h(
      "fieldset",
      {},
      h("legend", {}, t("add.step_account")),
      field(t("add.name"), nameInput, t("add.name_hint")),
      h("fieldset", { class: "nested" }, h("legend", {}, t("add.method")), methodsBox),
      panelBox,
    ),
    error,
    h("div", { class: "form-actions" }, submit),
  );
  fill(main, header, form);
  setPlatform(platform);
  return null;
}

function finished(ctx) {
  return (account) => {
    flow.current = null;
    toast(t("add.bound", { name: account?.account_name || "", platform: account ? platformName(account.platform_id, account.platform_name) : "" }));
    window.dispatchEvent(new CustomEvent(ACCOUNTS_CHANGED));
    ctx.navigate("accounts");
  };
}

function restart(main, ctx) {
  if (flow.current?.popup && !flow.current.popup.closed) flow.current.popup.close();
  flow.current = null;
  render(main, ctx).then(() => document.getElementById("page-title")?.focus());
}


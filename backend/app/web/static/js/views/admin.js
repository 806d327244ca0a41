// Administration: platform configs (enable/disable, edit with validation), users and alerts.

import { alertList } from "../alerts.js";
import { api } from "../api.js";
import { budgetBars, budgetEditor } from "./budgets.js";
import { h, fill } from "../dom.js";
import { t, tn, formatList, formatNumber, platformName } from "../i18n.js";
import { confirmDialog, emptyState, errorLine, errorText, field, notice, pageHeader, timeText, toast } from "../ui.js";
import { auditSection } from "./audit.js";
import { platformEditor } from "./platform-form.js";

/** What the service requires of a platform config (app/schemas/platform.py), checked here first. */
export function validatePlatform(config, platformId) {
  const problems = [];
  if (!config || typeof config !== "object" || Array.isArray(config)) return [t("admin.v_object")];
  if (config.platform_id !== undefined && config.platform_id !== platformId) problems.push(t("admin.v_id"));
  if (!config.platform_name || typeof config.platform_name !== "string") problems.push(t("admin.v_name"));
  if (!config.oauth_config || typeof config.oauth_config !== "object") problems.push(t("admin.v_oauth"));
  const llm = config.litellm_config;
  if (!llm || typeof llm !== "object") problems.push(t("admin.v_llm"));
  else {
    for (const key of ["provider", "api_base", "default_model"]) {
      if (!llm[key] || typeof llm[key] !== "string") problems.push(t("admin.v_llm_field", { field: key }));
    }
    if (!Array.isArray(llm.available_models) || !llm.available_models.length) problems.push(t("admin.v_models"));
  }
  const quota = config.quota_config;
  for (const key of ["daily_limit", "rate_limit"]) {
    const value = quota?.[key];
    if (value !== undefined && value !== null && !(Number.isInteger(value) && value >= 0)) problems.push(t("admin.v_quota", { field: key }));
  }
  return problems;
}

function platformPath(platform) {
  return `/api/v1/admin/platforms/${encodeURIComponent(platform.platform_id)}`;
}

/** The editable config: what the admin API answers, without its bookkeeping. */
function configOf(platform) {
  const config = { ...platform };
  delete config.updated_at;
  delete config.account_count;
  return config;
}

function editPlatform(platform, onSaved) {
  const opener = document.activeElement;
  const { platform_id: id, ...editable } = configOf(platform);
  const error = errorLine();
  const invalid = (problem) => error.show(t("admin.v_json", { message: problem.message }));
  const editor = platformEditor(editable, invalid);
  const dialog = h("dialog", { class: "dialog wide", "aria-labelledby": "edit-title" });
  const close = () => dialog.close();
  const onSubmit = async (event) => {
    event.preventDefault();
    error.show(null);
    let config;
    try {
      config = editor.current();
    } catch (problem) {
      invalid(problem);
      return;
    }
    const problems = validatePlatform(config, id);
    if (problems.length) {
      error.show(problems.join(" "));
      return;
    }
    try {
      await api.put(platformPath(platform), { ...config, platform_id: id });
      toast(t("admin.saved", { name: platformName(id, config.platform_name) }));
      close();
      onSaved();
    } catch (failure) {
      error.show(failure);
    }
  };
  fill(
    dialog,
    h(
      "form",
      { onSubmit },
      h("h2", { id: "edit-title" }, t("admin.edit_title", { name: platformName(platform.platform_id, platform.platform_name) })),
      editor.element,
      error,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { type: "button", class: "secondary", onClick: close }, t("action.cancel")),
        h("button", { type: "submit", class: "primary" }, t("action.save")),
      ),
    ),
  );
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener?.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  editor.focus();
}

// OAuth and device code are offered to users only once an administrator has configured the
// client (platforms.login_methods): until then the table says what it needs.
function methodText(method, platform) {
  if ((method === "oauth" || method === "device") && !platform.oauth_config?.client_id) return t("admin.method_needs_client_id", { method: t(`method.${method}`) });
  return t(`method.${method}`);
}

async function platformsSection(section) {
  const platforms = await api.get("/api/v1/admin/platforms");
  const reload = () => platformsSection(section).catch((e) => toast(errorText(e), "error"));
  const toggle = async (platform) => {
    const name = platformName(platform.platform_id, platform.platform_name);
    if (platform.is_enabled) {
      const count = platform.account_count ?? 0;
      const confirmed = await confirmDialog({
        title: t("admin.disable_title", { name }),
        text: tn("admin.disable_text", count, { name }),
        confirm: t("admin.disable"),
        danger: true,
      });
      if (!confirmed) return;
    }
    try {
      await api.put(platformPath(platform), { ...configOf(platform), is_enabled: !platform.is_enabled });
      toast(t(platform.is_enabled ? "admin.platform_disabled" : "admin.platform_enabled", { name: platformName(platform.platform_id, platform.platform_name) }));
      reload();
    } catch (failure) {
      toast(errorText(failure), "error");
    }
  };
  const rows = platforms.map((p) => {
    const name = platformName(p.platform_id, p.platform_name);
    const models = p.available_models || p.litellm_config?.available_models || [];
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, name, h("br"), h("code", { class: "muted" }, p.platform_id)),
      h("td", {}, h("span", { class: `badge badge-${p.is_enabled ? "active" : "disabled"}` }, t(p.is_enabled ? "admin.enabled" : "admin.disabled"))),
      h("td", {}, formatNumber(models.length)),
      h("td", {}, formatList((p.login_methods || p.oauth_config?.login_methods || []).map((m) => methodText(m, p)))),
      h(
        "td",
        {},
        h(
          "div",
          { class: "row-actions" },
          h("button", { type: "button", class: "secondary small", "aria-label": t(p.is_enabled ? "admin.disable_named" : "admin.enable_named", { name }), onClick: () => toggle(p) }, t(p.is_enabled ? "admin.disable" : "admin.enable")),
          h("button", { type: "button", class: "secondary small", "aria-label": t("admin.edit_named", { name }), onClick: () => editPlatform(p, reload) }, t("admin.edit")),
        ),
      ),
    );
  });
  fill(
    section,
    h("h2", { id: "admin-platforms" }, t("admin.platforms")),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", { class: "sr-only" }, t("admin.platforms")),
        h("thead", {}, h("tr", {}, [t("admin.platform"), t("admin.state"), t("admin.models"), t("admin.methods"), t("admin.actions")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows),
      ),
    ),
  );
}

function userBudgetEditor(user, section) {
  const save = (limits) => api.patch(`/api/v1/admin/users/${user.id}`, { limits });
  return budgetEditor({ name: user.username, limits: user.limits }, save, () => usersSection(section));
}

async function usersSection(section) {
  fill(section, h("h2", {}, t("admin.users")));
  const users = await api.get("/api/v1/admin/users");
  if (!users.length) return section.append(emptyState(t("admin.users_empty"), ""));
  return section.append(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, [t("admin.username"), t("admin.role"), t("admin.accounts"), t("admin.joined"), t("budgets.column")].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          {},
          users.map((u) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, u.username),
              h("td", {}, t(u.is_admin ? "admin.role_admin" : "admin.role_user")),
              h("td", {}, formatNumber(u.account_count ?? 0)),
              h("td", {}, timeText(u.created_at)),
              h("td", {}, budgetBars(u.budgets), userBudgetEditor(u, section)),
            ),
          ),
        ),
      ),
    ),
  );
}

const ALERT_FILTERS = ["open", "resolved", "all"];

async function alertsSection(section, filter = "open") {
  const refocus = section.contains(document.activeElement);
  const query = filter === "all" ? "?limit=200" : `?state=${filter}&limit=200`;
  const alerts = await api.get("/api/v1/admin/alerts" + query);
  const select = h(
    "select",
    {
      id: "alert-filter",
      onChange: () => alertsSection(section, select.value).catch((e) => toast(errorText(e), "error")),
    },
    ALERT_FILTERS.map((f) => h("option", { value: f, selected: f === filter }, t(`alert.filter.${f}`))),
  );
  fill(
    section,
    h(
      "div",
      { class: "section-head" },
      h("h2", { id: "admin-alerts" }, t("admin.alerts")),
      h("div", { class: "alert-filter" }, h("label", { for: "alert-filter" }, t("alert.show")), select),
    ),
    alerts.length
      ? alertList(alerts, "admin-alerts")
      : emptyState(t(`admin.alerts_none_${filter}`), t(`admin.alerts_none_${filter}_text`)),
  );
  // The list is redrawn under the filter: keep the keyboard where it was.
  if (refocus) select.focus();
}

export async function render(main, ctx) {
  const header = pageHeader(t("admin.title"));
  if (!ctx.user.is_admin) {
    fill(main, header, notice(t("admin.only"), { kind: "warning" }));
    return null;
  }
  const sections = [1, 2, 3, 4].map(() => h("section", { class: "card" }, h("p", { class: "loading" }, t("common.loading"))));
  fill(main, header, sections);
  const loaders = [platformsSection, usersSection, alertsSection, auditSection];
  await Promise.all(
    loaders.map((load, i) =>
      load(sections[i]).catch((error) => fill(sections[i], notice(errorText(error), { kind: "error" }))),
    ),
  );
  return null;
}

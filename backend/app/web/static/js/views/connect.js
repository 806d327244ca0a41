// "Connect a client": the base URL and key to copy, ready snippets for each client, and the
// caller's models. The snippets are data/connect-clients.json rendered — the README's
// "Connecting a client" section is the same file rendered (tests/test_connect_snippets.py).

import { api } from "../api.js";
import { h, fill, uid } from "../dom.js";
import { t } from "../i18n.js";
import { copyButton } from "../ui.js";

const KEY_PLACEHOLDER = "op-…";
const FALLBACK_MODEL = "qwen/qwen-plus";
let templates = null;

async function loadTemplates() {
  if (!templates) {
    const response = await fetch("/static/data/connect-clients.json", { credentials: "same-origin" });
    if (!response.ok) throw new Error(`connect-clients.json: ${response.status}`);
    templates = (await response.json()).snippets;
  }
  return templates;
}

/** One snippet's text for these values (the placeholders of connect-clients.json). */
function fillIn(snippet, values) {
  return snippet.lines.join("\n").replace(/\{\{(\w+)\}\}/g, (_, name) => values[name]);
}

/** The caller's models: routes first (marked), then each platform's `platform/model`. */
async function callerModels() {
  const entries = await api.get("/v1/models");
  const routes = entries.filter((m) => m.owned_by === "route");
  const models = entries.filter((m) => m.owned_by !== "route" && m.id.includes("/"));
  return { routes, models };
}

function modelList({ routes, models }) {
  const item = (entry, badge) =>
    h("li", {}, h("code", {}, entry.id), badge ? h("span", { class: "badge badge-route" }, badge) : null);
  return h(
    "details",
    { class: "model-list" },
    h("summary", {}, t("connect.models_summary", { count: routes.length + models.length })),
    h(
      "ul",
      {},
      routes.map((r) => item(r, t("connect.route"))),
      models.map((m) => item(m, m.type === "embedding" ? t("connect.embedding") : null)),
    ),
  );
}

function modelPicker({ routes, models }, chosen, onChange) {
  const option = (entry) => h("option", { value: entry.id, selected: entry.id === chosen }, entry.id);
  const select = h(
    "select",
    { name: "connect-model", onChange: () => onChange(select.value) },
    routes.length ? h("optgroup", { label: t("connect.routes") }, routes.map(option)) : null,
    h("optgroup", { label: t("connect.platform_models") }, models.filter((m) => m.type !== "embedding").map(option)),
  );
  const id = uid("connect-model");
  select.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, t("connect.model")), select);
}

/** Tabs (WAI-ARIA tabs pattern: arrows move between them) with one snippet and its Copy each. */
function snippetTabs(snippets, values, chosen, onSelect) {
  const tabs = [];
  const panels = [];
  const select = (index, focus) => {
    tabs.forEach((tab, i) => {
      tab.setAttribute("aria-selected", String(i === index));
      tab.tabIndex = i === index ? 0 : -1;
      panels[i].hidden = i !== index;
    });
    if (focus) tabs[index].focus();
    onSelect(snippets[index].id);
  };
  snippets.forEach((snippet, index) => {
    const tabId = uid("connect-tab");
    const panelId = uid("connect-panel");
    const text = fillIn(snippet, values);
    const label = t(`connect.client_${snippet.id}`);
    tabs.push(
      h("button", { type: "button", role: "tab", translate: "no", id: tabId, "aria-controls": panelId, "data-client": snippet.id, onClick: () => select(index, false) }, label),
    );
    panels.push(
      h(
        "div",
        { role: "tabpanel", id: panelId, "aria-labelledby": tabId, class: "snippet-panel", "data-client": snippet.id },
        h("pre", { tabindex: "0" }, h("code", {}, text)),
        h("div", { class: "snippet-actions" }, copyButton(() => text, t("connect.copy_named", { name: label }))),
      ),
    );
  });
  const list = h("div", { role: "tablist", class: "tabs", "aria-label": t("connect.clients") }, tabs);
  list.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(document.activeElement);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (index < 0 || !step) return;
    event.preventDefault();
    select((index + step + tabs.length) % tabs.length, true);
  });
  select(Math.max(0, snippets.findIndex((s) => s.id === chosen)), false);
  return h("div", { class: "snippets" }, list, panels);
}

function copyRow(label, value, copyable) {
  return h(
    "div",
    { class: "connect-value" },
    h("dt", {}, label),
    h("dd", {}, h("code", {}, value), copyable ? copyButton(() => value, t("connect.copy_named", { name: label })) : null),
  );
}

/**
 * The panel; `key` is a key just created (shown once), else null: the snippets then say op-…
 * and the panel says where a key comes from.
 */
export async function connectPanel(key = null) {
  const [snippets, models] = await Promise.all([loadTemplates(), callerModels()]);
  const chat = models.models.filter((m) => m.type !== "embedding");
  let model = chat[0]?.id || models.routes[0]?.id || FALLBACK_MODEL;
  const values = () => ({ origin: location.origin, base_url: `${location.origin}/v1`, key: key || KEY_PLACEHOLDER, model });
  let client = snippets[0].id;
  const tabsBox = h("div", {});
  const drawTabs = () =>
    fill(tabsBox, snippetTabs(snippets, values(), client, (id) => {
      client = id;
    }));
  drawTabs();
  const hasModels = models.routes.length || chat.length;
  return h(
    "section",
    { class: "card connect", "aria-labelledby": "connect-title" },
    h("h2", { id: "connect-title" }, t("connect.title")),
    h("p", { class: "muted" }, t("connect.text")),
    h(
      "dl",
      { class: "connect-values" },
      copyRow(t("connect.base_url"), values().base_url, true),
      copyRow(t("connect.key"), key || KEY_PLACEHOLDER, Boolean(key)),
    ),
    key ? null : h("p", { class: "hint" }, t("connect.key_hint", { placeholder: KEY_PLACEHOLDER })),
    hasModels
      ? modelPicker(models, model, (chosen) => {
          model = chosen;
          drawTabs();
        })
      : h("p", { class: "hint" }, t("connect.no_models")),
    tabsBox,
    hasModels ? modelList(models) : null,
  );
}

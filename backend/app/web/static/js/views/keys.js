// API keys for the OpenAI-compatible API: create (shown once), list with their budgets, revoke;
// how to connect a client.

import { api } from "../api.js";
import { budgetBars, budgetEditor, myBudgets } from "./budgets.js";
import { connectPanel } from "./connect.js";
import { h, fill } from "../dom.js";
import { t } from "../i18n.js";
import {
  confirmDialog,
  copyButton,
  emptyState,
  errorLine,
  errorText,
  field,
  pageHeader,
  timeText,
  toast,
} from "../ui.js";

export async function render(main) {
  const header = pageHeader(t("keys.title"));
  const path = "/api/v1/auth/api-keys";
  const created = h("div", {});
  const list = h("div", {});
  const name = h("input", { name: "name", required: true, maxlength: 100, autocomplete: "off" });
  const error = errorLine();
  const submit = h("button", { type: "submit", class: "primary" }, t("keys.create"));
  const connectBox = h("div", {}, await connectPanel());
  const mine = await myBudgets();

  async function load() {
    const keys = (await api.get(path)).filter((k) => !k.revoked_at);
    if (!keys.length) {
      fill(list, emptyState(t("keys.empty_title"), t("keys.empty_text")));
      return;
    }
    fill(
      list,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "keys" },
          h("caption", { class: "sr-only" }, t("keys.list_caption")),
          h("thead", {}, h("tr", {}, [t("keys.name"), t("keys.key"), t("keys.created"), t("keys.last_used"), t("budgets.column"), ""].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            {},
            keys.map((key) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, key.name),
                h("td", {}, h("code", {}, key.prefix || key.hint || "")),
                h("td", {}, timeText(key.created_at)),
                h("td", {}, timeText(key.last_used_at, t("accounts.never"))),
                h("td", { class: "key-budgets" }, budgetBars(key.budgets), budgetEditor(key, (limits) => api.patch(`${path}/${key.id}`, { limits }), load)),
                h(
                  "td",
                  {},
                  h(
                    "button",
                    { type: "button", class: "danger small", "aria-label": t("keys.revoke_named", { name: key.name }), onClick: () => revoke(key) },
                    t("keys.revoke"),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  async function revoke(key) {
    const confirmed = await confirmDialog({
      title: t("keys.revoke_title", { name: key.name }),
      text: t("keys.revoke_text"),
      confirm: t("keys.revoke"),
      danger: true,
    });
    if (!confirmed) return;
    try {
      await api.delete(`${path}/${key.id}`);
      toast(t("keys.revoked", { name: key.name }));
      await load();
      document.getElementById("page-title")?.focus();
    } catch (failure) {
      toast(errorText(failure), "error");
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    error.show(null);
    if (!name.value.trim()) {
      error.show(t("keys.name_required"));
      name.focus();
      return;
    }
    submit.disabled = true;
    try {
      const key = await api.post(path, { name: name.value.trim() });
      const secret = key.key || key.api_key || key.secret;
      name.value = "";
      const shown = h("input", { class: "secret", readOnly: true, value: secret, "aria-label": t("keys.new_key") });
      fill(
        created,
        h(
          "div",
          { class: "notice notice-success", role: "region", "aria-labelledby": "new-key-title" },
          h("strong", { id: "new-key-title", class: "notice-title" }, t("keys.created_title", { name: key.name })),
          h("p", {}, t("keys.shown_once")),
          h("div", { class: "secret-row" }, shown, copyButton(() => secret)),
        ),
      );
      fill(connectBox, await connectPanel(secret));
      created.after(connectBox);
      shown.focus();
      shown.select();
      await load();
    } catch (failure) {
      error.show(failure);
    } finally {
      submit.disabled = false;
    }
  }

  fill(
    main,
    header,
    h(
      "form",
      { class: "card inline-form", onSubmit, novalidate: true },
      field(t("keys.name"), name, t("keys.name_hint")),
      error,
      h("div", { class: "form-actions" }, submit),
    ),
    created,
    mine,
    list,
    connectBox,
  );
  await load();
  return null;
}

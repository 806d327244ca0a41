// Model routes (README, *Model routes*): your own, to create, edit and delete, and the
// deployment's, marked (administrators edit those too). A route's targets are picked from the
// models of your platforms (for a deployment route, of every enabled platform) and put in order
// with up and down buttons.

import { api } from "../api.js";
import { h, fill } from "../dom.js";
import { t } from "../i18n.js";
import { confirmDialog, emptyState, errorLine, errorText, field, pageHeader, toast } from "../ui.js";

const STRATEGIES = ["ordered", "weighted", "most_remaining"];
// Refusals this view words itself, by the envelope's error_code (README, *Error codes*).
const ROUTE_CODES = new Set(["invalid_route_name", "unknown_route_target", "route_not_found"]);

function routeError(error) {
  return ROUTE_CODES.has(error?.code) ? t(`routes.error_${error.code}`) : errorText(error);
}

function pathOf(scope, name) {
  const base = scope === "deployment" ? "/api/v1/admin/routes" : "/api/v1/oauth/routes";
  return `${base}/${encodeURIComponent(name)}`;
}

/** The models a target may name, per platform: the caller's platforms, or every enabled one. */
function choicesFor(scope, platforms, accounts) {
  const bound = new Set(accounts.map((a) => a.platform_id));
  return platforms
    .filter((p) => p.is_enabled && (scope === "deployment" || bound.has(p.platform_id)))
    .map((p) => ({
      label: p.platform_name,
      models: [...p.available_models, ...(p.embedding_models || [])].map((m) => `${p.platform_id}/${m}`),
    }));
}

function iconButton(label, text, onClick, { disabled = false, move = null } = {}) {
  return h("button", { type: "button", class: "secondary small", "aria-label": label, disabled, "data-move": move, onClick }, text);
}

/** The list of a draft's targets: order by buttons, weights when `weighted`, remove. */
function targetList(draft, strategy) {
  const list = h("ol", { class: "route-targets" });
  const draw = (focus = null) => {
    const weighted = strategy.value === "weighted";
    const last = draft.targets.length - 1;
    fill(
      list,
      draft.targets.map((target, index) =>
        h(
          "li",
          {},
          h("code", { class: "route-target" }, target.model),
          weighted
            ? h("input", {
                type: "number",
                class: "route-weight",
                min: "0.001",
                step: "any",
                value: target.weight,
                "aria-label": t("routes.weight_of", { model: target.model }),
                onChange: (event) => {
                  target.weight = Number(event.target.value) || 1;
                },
              })
            : null,
          h(
            "span",
            { class: "route-moves" },
            iconButton(t("routes.move_up", { model: target.model }), "↑", () => move(index, -1), { disabled: index === 0, move: "up" }),
            iconButton(t("routes.move_down", { model: target.model }), "↓", () => move(index, 1), { disabled: index === last, move: "down" }),
            iconButton(t("routes.remove_target", { model: target.model }), t("routes.remove"), () => remove(index)),
          ),
        ),
      ),
    );
    if (focus) {
      const row = list.children[focus.index];
      const wanted = row?.querySelector(`[data-move="${focus.move}"]`);
      (wanted && !wanted.disabled ? wanted : row?.querySelector("button:not(:disabled)"))?.focus();
    }
  };
  const move = (index, delta) => {
    const [target] = draft.targets.splice(index, 1);
    draft.targets.splice(index + delta, 0, target);
    draw({ index: index + delta, move: delta < 0 ? "up" : "down" });
  };
  const remove = (index) => {
    draft.targets.splice(index, 1);
    draw({ index: Math.min(index, draft.targets.length - 1), move: "up" });
  };
  list.draw = draw;
  return list;
}

/** The form that creates or edits a route; `onDone(saved)` when it is saved or given up. */
function editor(draft, { isNew, isAdmin, platforms, accounts, onDone }) {
  const error = errorLine();
  const name = h("input", { name: "route-name", value: draft.name, maxlength: 100, autocomplete: "off", readOnly: !isNew, spellcheck: "false" });
  const scope = h(
    "select",
    { name: "scope", disabled: !isNew },
    h("option", { value: "user", selected: draft.scope === "user" }, t("routes.scope_user")),
    h("option", { value: "deployment", selected: draft.scope === "deployment" }, t("routes.scope_deployment")),
  );
  const strategy = h("select", { name: "strategy" }, STRATEGIES.map((s) => h("option", { value: s, selected: s === draft.strategy }, t(`routes.strategy_${s}`))));
  const description = h("input", { name: "description", value: draft.description, maxlength: 500 });
  const targets = targetList(draft, strategy);
  const picker = h("select", { name: "target" });
  const none = h("p", { class: "hint", hidden: true }, t("routes.no_models"));
  const drawPicker = () => {
    const groups = choicesFor(scope.value, platforms, accounts);
    fill(picker, groups.map((g) => h("optgroup", { label: g.label }, g.models.map((m) => h("option", { value: m }, m)))));
    none.hidden = groups.length > 0;
    picker.disabled = add.disabled = !groups.length;
  };
  const add = h("button", { type: "button", class: "secondary", onClick: () => {
    if (!picker.value) return;
    draft.targets.push({ model: picker.value, weight: 1 });
    targets.draw();
  } }, t("routes.add_target"));
  scope.addEventListener("change", drawPicker);
  strategy.addEventListener("change", () => targets.draw());

  async function onSubmit(event) {
    event.preventDefault();
    error.show(null);
    if (!name.value.trim()) return error.show(t("routes.name_required"));
    if (!draft.targets.length) return error.show(t("routes.targets_required"));
    const body = { targets: draft.targets, strategy: strategy.value, description: description.value.trim() };
    try {
      await api.put(pathOf(scope.value, name.value.trim()), body);
      toast(t("routes.saved", { name: name.value.trim() }));
      onDone(true);
    } catch (failure) {
      error.show(routeError(failure));
    }
  }

  drawPicker();
  targets.draw();
  const form = h(
    "form",
    { class: "card route-editor", onSubmit, novalidate: true, "aria-label": isNew ? t("routes.new") : t("routes.edit_named", { name: draft.name }) },
    h("div", { class: "row" }, field(t("routes.name"), name, t("routes.name_hint")), isAdmin ? field(t("routes.scope"), scope) : null),
    h("div", { class: "row" }, field(t("routes.strategy"), strategy, t("routes.strategy_hint")), field(t("routes.description"), description)),
    h("fieldset", { class: "nested" }, h("legend", {}, t("routes.targets")), targets, h("div", { class: "route-add" }, field(t("routes.pick_target"), picker), add), none),
    error,
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, t("routes.save")), h("button", { type: "button", class: "secondary", onClick: () => onDone(false) }, t("action.cancel"))),
  );
  return form;
}

function routeRow(route, { own, mayEdit, edit, remove }) {
  const shipped = route.scope === "deployment" && !route.updated_at;
  // The shipped route's description in the page's language; a saved one as it was written.
  const worded = t(`routes.shipped_description.${route.name}`);
  const description = shipped && !worded.startsWith("routes.") ? worded : route.description;
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, h("code", {}, route.name), description ? h("div", { class: "muted" }, description) : null),
    h("td", {}, h("span", { class: "badge" }, t(`routes.scope_${route.scope}`)), route.scope === "deployment" && own.has(route.name) ? h("div", { class: "muted" }, t("routes.shadowed")) : null),
    h("td", {}, t(`routes.strategy_${route.strategy}`)),
    h("td", {}, h("ol", { class: "route-targets-list" }, route.targets.map((x) => h("li", {}, h("code", {}, x.model), route.strategy === "weighted" ? ` ×${x.weight}` : "")))),
    h(
      "td",
      {},
      mayEdit
        ? h(
            "div",
            { class: "actions" },
            h("button", { type: "button", class: "secondary small", "aria-label": t("routes.edit_named", { name: route.name }), onClick: () => edit(route) }, t("routes.edit")),
            shipped ? null : h("button", { type: "button", class: "danger small", "aria-label": t("routes.delete_named", { name: route.name }), onClick: () => remove(route) }, t("routes.delete")),
          )
        : null,
    ),
  );
}

export async function render(main, context) {
  const isAdmin = Boolean(context.user?.is_admin);
  const editing = h("div", {});
  const list = h("div", {});
  const newButton = h("button", { type: "button", class: "primary", onClick: () => open(null) }, t("routes.new"));
  const [platforms, accounts] = await Promise.all([api.get("/api/v1/oauth/platforms"), api.get("/api/v1/oauth/accounts")]);

  function open(route) {
    const draft = route
      ? { name: route.name, scope: route.scope, strategy: route.strategy, description: route.description, targets: route.targets.map((x) => ({ ...x })) }
      : { name: "", scope: "user", strategy: "ordered", description: "", targets: [] };
    const form = editor(draft, {
      isNew: !route,
      isAdmin,
      platforms,
      accounts,
      onDone: async (saved) => {
        fill(editing);
        if (saved) await load();
        newButton.focus();
      },
    });
    fill(editing, form);
    form.querySelector("input:not([readonly]), select")?.focus();
  }

  async function remove(route) {
    const confirmed = await confirmDialog({ title: t("routes.delete_title", { name: route.name }), text: t("routes.delete_text"), confirm: t("routes.delete"), danger: true });
    if (!confirmed) return;
    try {
      await api.delete(pathOf(route.scope, route.name));
      toast(t("routes.deleted", { name: route.name }));
      await load();
      newButton.focus();
    } catch (failure) {
      toast(routeError(failure), "error");
    }
  }

  async function load() {
    const routes = await api.get("/api/v1/oauth/routes");
    const own = new Set(routes.filter((r) => r.scope === "user").map((r) => r.name));
    const mayEdit = (r) => r.scope === "user" || isAdmin;
    fill(
      list,
      own.size ? null : emptyState(t("routes.empty_title"), t("routes.empty_text")),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "routes" },
          h("caption", {}, t("routes.list_caption")),
          h("thead", {}, h("tr", {}, [t("routes.name"), t("routes.scope"), t("routes.strategy"), t("routes.targets"), t("routes.actions")].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, routes.map((r) => routeRow(r, { own, mayEdit: mayEdit(r), edit: open, remove }))),
        ),
      ),
    );
  }

  fill(main, pageHeader(t("routes.title"), newButton), h("p", { class: "muted" }, t("routes.intro")), editing, list);
  await load();
  return null;
}

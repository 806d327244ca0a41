// The audit log for administrators: who did what, when and from where; filtered by action and by
// user, newest first, older pages appended below.

import { api } from "../api.js";
import { h, fill } from "../dom.js";
import { t } from "../i18n.js";
import { emptyState, errorLine, timeText } from "../ui.js";

const PAGE = 50;
// The actions the service records (README, the audit route); each has `audit.action.<action>`.
const ACTIONS = (
  "user.sign_in user.register user.make_admin user.limits account.create account.refresh " +
  "account.enable account.disable account.delete authorization.end api_key.create api_key.edit " +
  "api_key.revoke platform.save"
).split(" ");

// The outcomes recorded: an action's, an ended authorization's, a refresh's (token_lifecycle.py).
const OUTCOMES = ["success", "failure", "failed", "expired", "cancelled", "refreshed", "valid", "unreachable", "gone"];
const GOOD = new Set(["success", "refreshed", "valid"]);

function actionText(action) {
  return ACTIONS.includes(action) ? t(`audit.action.${action}`) : action;
}

/** What the event's detail says, briefly: scalar values as they are, objects by their keys. */
function detailText(detail) {
  if (!detail) return "";
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${value && typeof value === "object" ? Object.keys(value).join(", ") : value}`)
    .join(" · ");
}

function eventRow(event) {
  return h(
    "tr",
    { "data-audit-id": event.id },
    h("td", {}, timeText(event.created_at)),
    h("td", {}, event.username || (event.user_id ? `#${event.user_id}` : t("audit.system"))),
    h("td", { class: "audit-what" }, actionText(event.action), event.target ? [" ", h("code", { class: "muted audit-target" }, event.target)] : null),
    h("td", {}, h("span", { class: `badge badge-${GOOD.has(event.outcome) ? "active" : "expired"}` }, OUTCOMES.includes(event.outcome) ? t(`audit.outcome.${event.outcome}`) : event.outcome)),
    // The detail is the service's record (names and ids), shown as it is.
    h("td", {}, event.client || "", event.detail ? h("div", { class: "hint audit-detail" }, h("code", {}, detailText(event.detail))) : null),
  );
}

function select(id, options, onChange) {
  return h("select", { id, onChange }, options.map(([value, label]) => h("option", { value }, label)));
}

/** The audit log section of the admin view. */
export async function auditSection(section) {
  const users = await api.get("/api/v1/admin/users");
  const body = h("tbody", {});
  const error = errorLine();
  const older = h("button", { type: "button", class: "secondary", hidden: true }, t("audit.older"));
  const empty = h("div", {});
  let lastId = null;

  async function load(reset) {
    error.show(null);
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (actionSelect.value) query.set("action", actionSelect.value);
    if (userSelect.value) query.set("user_id", userSelect.value);
    if (!reset && lastId) query.set("before_id", String(lastId));
    try {
      const events = await api.get(`/api/v1/admin/audit?${query}`);
      if (reset) fill(body);
      body.append(...events.map(eventRow));
      lastId = events.length ? events[events.length - 1].id : lastId;
      older.hidden = events.length < PAGE;
      fill(empty, body.children.length ? null : emptyState(t("audit.empty"), t("audit.empty_text")));
      table.hidden = !body.children.length;
    } catch (failure) {
      error.show(failure);
    }
  }

  const actionSelect = select("audit-action", [["", t("audit.all_actions")], ...ACTIONS.map((a) => [a, actionText(a)])], () => load(true));
  const userSelect = select("audit-user", [["", t("audit.all_users")], ...users.map((u) => [String(u.id), u.username])], () => load(true));
  older.addEventListener("click", () => load(false));
  const table = h(
    "table",
    {},
    h("caption", { class: "sr-only" }, t("audit.title")),
    h("thead", {}, h("tr", {}, [t("audit.when"), t("audit.who"), t("audit.what"), t("audit.outcome"), t("audit.from")].map((c) => h("th", { scope: "col" }, c)))),
    body,
  );
  fill(
    section,
    h(
      "div",
      { class: "section-head" },
      h("h2", { id: "admin-audit" }, t("audit.title")),
      h(
        "div",
        { class: "audit-filters" },
        h("div", {}, h("label", { for: "audit-action" }, t("audit.action")), actionSelect),
        h("div", {}, h("label", { for: "audit-user" }, t("audit.user")), userSelect),
      ),
    ),
    error,
    h("div", { class: "table-wrap" }, table),
    empty,
    h("div", { class: "form-actions" }, older),
  );
  await load(true);
}

// Budgets: each key's (API keys page) or user's (administration) budgets as bars (used of the
// limit, when it resets), a form to set them, and the budgets an administrator set on you.

import { api } from "../api.js";
import { h } from "../dom.js";
import { t, formatNumber } from "../i18n.js";
import { errorLine, field, quotaBar, toast } from "../ui.js";

const CURRENCIES = ["CNY", "USD"];
const AMOUNT = /^\d{1,6}(\.\d{1,6})?$/;

function figure(kind, value) {
  return kind === "tokens_per_day" ? formatNumber(Number(value)) : value;
}

/** One budget as a bar: used of its limit, and its reset. */
function budgetBar(budget) {
  const [kind, currency] = budget.budget.split(":");
  const label = t(`budgets.${kind}`, { used: figure(kind, budget.used), limit: figure(kind, budget.limit), currency });
  const bar = quotaBar(Number(budget.used), Number(budget.limit), budget.resets_at, { label, resets: "budgets.resets" });
  bar.classList.add("budget");
  bar.dataset.budget = budget.budget;
  return bar;
}

/** A key's or a user's budgets as bars ("none" when there are none). */
export function budgetBars(budgets) {
  if (!budgets?.length) return h("span", { class: "muted" }, t("budgets.none"));
  return h("div", { class: "budgets" }, budgets.map(budgetBar));
}

/** The limits the form's values say, keeping the owner's other limits (a key's models). */
function limitsFrom(owner, tokens, amounts) {
  const limits = { ...(owner.limits || {}) };
  delete limits.tokens_per_day;
  delete limits.cost_per_month;
  if (tokens.value.trim()) limits.tokens_per_day = Number(tokens.value);
  const cost = {};
  for (const [currency, input] of amounts) if (input.value.trim()) cost[currency] = input.value.trim();
  if (Object.keys(cost).length) limits.cost_per_month = cost;
  return Object.keys(limits).length ? limits : null;
}

function problem(tokens, amounts) {
  const count = tokens.value.trim();
  if (count && !(Number.isInteger(Number(count)) && Number(count) >= 1)) return [tokens, t("budgets.bad_tokens")];
  for (const [, input] of amounts) {
    if (input.value.trim() && !AMOUNT.test(input.value.trim())) return [input, t("budgets.bad_amount")];
  }
  return null;
}

/** "Set budgets" for a key or a user (`owner`: its `name` and `limits`): a disclosure with its
 * form; `save(limits)` sends them, `onSaved` runs once they are saved. */
export function budgetEditor(owner, save, onSaved) {
  const current = owner.limits || {};
  const tokens = h("input", { name: "tokens_per_day", inputmode: "numeric", value: current.tokens_per_day ?? "", autocomplete: "off" });
  const amounts = CURRENCIES.map((currency) => [
    currency,
    h("input", { name: `cost_per_month_${currency}`, inputmode: "decimal", value: current.cost_per_month?.[currency] ?? "", autocomplete: "off" }),
  ]);
  const error = errorLine();
  const button = h("button", { type: "submit", class: "primary small" }, t("budgets.save"));
  async function onSubmit(event) {
    event.preventDefault();
    error.show(null);
    const wrong = problem(tokens, amounts);
    if (wrong) {
      error.show(wrong[1]);
      wrong[0].focus();
      return;
    }
    button.disabled = true;
    try {
      await save(limitsFrom(owner, tokens, amounts));
      toast(t("budgets.saved", { name: owner.name }));
      await onSaved();
    } catch (failure) {
      error.show(failure);
      button.disabled = false;
    }
  }
  // Hidden while closed: a closed disclosure's controls are out of the Tab order, and say so.
  const form = h(
    "form",
    { class: "budget-form", onSubmit, novalidate: true, hidden: true },
    field(t("budgets.tokens_field"), tokens, t("budgets.empty_hint")),
    amounts.map(([currency, input]) => field(t("budgets.cost_field", { currency }), input)),
    error,
    h("div", { class: "form-actions" }, button),
  );
  const editor = h(
    "details",
    { class: "budget-editor", onToggle: () => (form.hidden = !editor.open) },
    h("summary", { "aria-label": t("budgets.edit_named", { name: owner.name }) }, t("budgets.edit")),
    form,
  );
  return editor;
}

/** The budgets an administrator set on you, as a card; null when there are none. */
export async function myBudgets() {
  const mine = await api.get("/api/v1/auth/me/budgets");
  if (!mine.budgets.length) return null;
  return h(
    "section",
    { class: "card my-budgets", "aria-labelledby": "my-budgets-title" },
    h("h2", { id: "my-budgets-title" }, t("budgets.mine_title")),
    h("p", { class: "muted" }, t("budgets.mine_text")),
    budgetBars(mine.budgets),
  );
}

// Sign in, or create a user and sign in with it.

import { api, auth } from "../api.js";
import { h, fill } from "../dom.js";
import { t } from "../i18n.js";
import { errorLine, field, notice, toast } from "../ui.js";

let mode = "signin";

export async function render(main, ctx) {
  const registering = mode === "register";
  // The first user to register becomes the administrator: the form says so before, not after.
  const registration = registering ? await api.get("/api/v1/auth/registration").catch(() => null) : null;
  const username = h("input", {
    name: "username",
    autocomplete: "username",
    required: true,
    minlength: registering ? 3 : null,
    maxlength: 64,
    autocapitalize: "none",
    spellcheck: "false",
  });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: registering ? "new-password" : "current-password",
    required: true,
    minlength: registering ? 8 : null,
    maxlength: 256,
  });
  const remember = h("input", { type: "checkbox", name: "remember", id: "remember" });
  const error = errorLine();
  const submit = h("button", { class: "primary", type: "submit" }, t(registering ? "login.register" : "login.submit"));

  async function onSubmit(event) {
    event.preventDefault();
    error.show(null);
    submit.disabled = true;
    const body = { username: username.value.trim(), password: password.value };
    try {
      if (registering) await api.post("/api/v1/auth/register", body);
      const token = await api.post("/api/v1/auth/login", body);
      auth.save(token.access_token, remember.checked);
      const user = await api.get("/api/v1/auth/me");
      toast(t(registering ? "login.registered" : "login.welcome", { name: user.username }));
      mode = "signin";
      await ctx.signedIn(user);
    } catch (failure) {
      error.show(failure);
      submit.disabled = false;
      password.focus();
    }
  }

  const form = h(
    "form",
    { class: "card auth-card", onSubmit, novalidate: false },
    h("h1", { tabindex: "-1", id: "page-title" }, t(registering ? "login.register_title" : "login.title")),
    h("p", { class: "muted" }, t("login.intro")),
    registration?.becomes_admin ? notice(t("login.first_admin_text"), { title: t("login.first_admin") }) : null,
    registration && !registration.open ? notice(t("error.code.registration_closed"), { kind: "warning" }) : null,
    field(t("login.username"), username, registering ? t("login.username_hint") : null),
    field(t("login.password"), password, registering ? t("login.password_hint") : null),
    h("div", { class: "check" }, remember, h("label", { for: "remember" }, t("login.remember"))),
    error,
    h("div", { class: "form-actions" }, submit),
    h(
      "p",
      { class: "switch-mode" },
      t(registering ? "login.have_account" : "login.no_account"),
      " ",
      h(
        "button",
        {
          type: "button",
          class: "link",
          onClick: () => {
            mode = registering ? "signin" : "register";
            render(main, ctx).then(() => document.getElementById("page-title")?.focus());
          },
        },
        t(registering ? "login.to_signin" : "login.to_register"),
      ),
    ),
  );
  fill(main, h("div", { class: "auth-wrap" }, form));
  username.focus();
}

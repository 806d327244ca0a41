// The shell: who is signed in, which API parts exist, the navigation and the hash router.

import { api, auth, onSignedOut } from "./api.js";
import { h, fill } from "./dom.js";
import { t, getLang, setLang } from "./i18n.js";
import { stackTables } from "./tables.js";
import { toast, errorText, notice } from "./ui.js";
import * as accounts from "./views/accounts.js";
import * as addAccount from "./views/add-account.js";
import * as admin from "./views/admin.js";
import * as keys from "./views/keys.js";
import * as login from "./views/login.js";
import * as playground from "./views/playground.js";
import * as requests from "./views/requests.js";
import * as routes from "./views/routes.js";
import * as usage from "./views/usage.js";

const ROUTES = {
  accounts: { view: accounts, nav: "nav.accounts" },
  add: { view: addAccount, nav: "nav.add" },
  usage: { view: usage, nav: "nav.usage" },
  requests: { view: requests, nav: "nav.requests" },
  playground: { view: playground, nav: "nav.playground" },
  keys: { view: keys, nav: "nav.keys" },
  routes: { view: routes, nav: "nav.routes" },
  admin: { view: admin, nav: "nav.admin", admin: true },
};
const DEFAULT_ROUTE = "accounts";

const state = { user: null, cleanup: null, rendering: 0 };

function routeName() {
  const match = /^#\/([\w-]+)/.exec(location.hash);
  return match && match[1] in ROUTES ? match[1] : DEFAULT_ROUTE;
}

export function navigate(name) {
  if (location.hash === `#/${name}`) render({ focus: true });
  else location.hash = `#/${name}`;
}

function renderNav(current) {
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t("nav.main"));
  if (!state.user) return fill(nav);
  const items = Object.entries(ROUTES)
    .filter(([, route]) => !route.admin || state.user.is_admin)
    .map(([name, route]) =>
      h(
        "li",
        {},
        h("a", { href: `#/${name}`, "aria-current": name === current ? "page" : null }, t(route.nav)),
      ),
    );
  return fill(nav, h("ul", {}, items));
}

function renderTools() {
  const other = getLang() === "en" ? "zh" : "en";
  const language = h(
    "button",
    {
      type: "button",
      class: "ghost",
      lang: other === "zh" ? "zh-CN" : "en",
      "aria-label": t("lang.switch_label"),
      onClick: () => {
        setLang(other);
        render({ focus: false });
        document.querySelector(".tools button")?.focus();
      },
    },
    t("lang.other"),
  );
  const signedIn = state.user
    ? [
        h("span", { class: "who", title: t("nav.signed_in_as") }, state.user.username),
        h("button", { type: "button", class: "ghost", onClick: signOut }, t("nav.sign_out")),
      ]
    : [];
  fill(document.getElementById("tools"), language, signedIn);
}

function signOut() {
  auth.clear();
  state.user = null;
  toast(t("login.signed_out"));
  render({ focus: true });
}

const context = {
  get user() {
    return state.user;
  },
  navigate,
  async signedIn(user) {
    state.user = user;
    await render({ focus: true });
  },
};

async function render({ focus }) {
  const ticket = ++state.rendering;
  if (state.cleanup) state.cleanup();
  state.cleanup = null;
  document.getElementById("skip-link").textContent = t("nav.skip");
  const main = document.getElementById("main");
  const name = routeName();
  const route = ROUTES[name];
  const view = state.user ? route.view : login;
  renderNav(state.user ? name : null);
  renderTools();
  document.title = `${t(state.user ? route.nav : "login.title")} · OAuth Proxy`;
  fill(main, h("p", { class: "loading" }, t("common.loading")));
  main.setAttribute("aria-busy", "true");
  try {
    const cleanup = await view.render(main, context);
    if (ticket !== state.rendering) {
      if (cleanup) cleanup();
      return;
    }
    state.cleanup = cleanup || null;
  } catch (error) {
    if (ticket !== state.rendering) return;
    fill(main, notice(errorText(error), { kind: "error", title: t("error.page_failed") }));
  }
  if (ticket === state.rendering) main.removeAttribute("aria-busy");
  // A view may have focused its first field; otherwise the heading takes focus, so a screen
  // reader announces the new page and Tab continues from it.
  if (focus && ticket === state.rendering && !main.contains(document.activeElement)) {
    document.getElementById("page-title")?.focus();
  }
}

async function boot() {
  onSignedOut(() => {
    state.user = null;
    toast(t("error.code.invalid_token"), "error");
    render({ focus: true });
  });
  if (auth.token) {
    try {
      state.user = await api.get("/api/v1/auth/me");
    } catch {
      auth.clear();
    }
  }
  stackTables(document.getElementById("main"));
  // The skip link moves the focus without touching the address (the hash is the route).
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    (document.getElementById("page-title") || document.getElementById("main")).focus();
  });
  window.addEventListener("hashchange", () => {
    if (location.hash.startsWith("#/")) render({ focus: true });
  });
  await render({ focus: false });
}

boot();

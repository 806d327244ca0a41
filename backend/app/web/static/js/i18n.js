// Chinese and English: `t("key", {name})` looks the key up in the chosen language.

import en from "./locales/en.js";
import zh from "./locales/zh.js";

const LANG_KEY = "oauth-proxy.lang";
const dictionaries = { en, zh };
const htmlLang = { en: "en", zh: "zh-CN" };

function initial() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved in dictionaries) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

let lang = initial();

export function getLang() {
  return lang;
}

export function setLang(next) {
  lang = next in dictionaries ? next : "en";
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = htmlLang[lang];
}

export function t(key, vars = {}) {
  const text = dictionaries[lang][key] ?? dictionaries.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// The locales name the shipped platforms in both languages (`platform.<id>.name`); a platform an
// administrator added or renamed keeps the name it was given.
function shipped(platformId, configuredName) {
  const key = `platform.${platformId}.name`;
  return key in en && (!configuredName || [en[key], zh[key]].includes(configuredName));
}

/** A platform's name in the page's language. */
export function platformName(platformId, configuredName) {
  return shipped(platformId, configuredName) ? t(`platform.${platformId}.name`) : configuredName || platformId;
}

/** A platform's description in the page's language (a platform as API answers it). */
export function platformDescription(platform) {
  return shipped(platform.platform_id, platform.platform_name)
    ? t(`platform.${platform.platform_id}.description`)
    : platform.description;
}

const locales = { en: "en-GB", zh: "zh-CN" };

export function formatNumber(value) {
  return new Intl.NumberFormat(locales[lang]).format(value ?? 0);
}

/** `key_one`, `key_other`, …: the plural form the language uses for `count`, with `{count}`. */
export function tn(key, count, vars = {}) {
  const form = `${key}_${new Intl.PluralRules(locales[lang]).select(count)}`;
  const chosen = form in dictionaries[lang] ? form : `${key}_other`;
  return t(chosen, { ...vars, count: formatNumber(count) });
}

/** Milliseconds as "850ms" or "1.25s", in the language's own words for the units. */
export function formatDuration(ms) {
  const [value, unit] = ms < 1000 ? [Math.round(ms), "millisecond"] : [ms / 1000, "second"];
  return new Intl.NumberFormat(locales[lang], { style: "unit", unit, unitDisplay: "narrow", maximumFractionDigits: 2 }).format(value);
}

/** "a, b and c" / "a、b和c". */
export function formatList(items) {
  return new Intl.ListFormat(locales[lang], { type: "conjunction" }).format(items);
}

export function formatDateTime(value) {
  if (!value) return "";
  return new Intl.DateTimeFormat(locales[lang], { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(value),
  );
}

/** "3 minutes ago", "in 2 hours". */
export function formatRelative(value) {
  if (!value) return "";
  const seconds = (new Date(value).getTime() - Date.now()) / 1000;
  const units = [
    ["year", 31536000],
    ["month", 2592000],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  const format = new Intl.RelativeTimeFormat(locales[lang], { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(Math.round(seconds), "second");
}

setLang(lang);

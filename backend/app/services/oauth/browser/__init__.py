"""The browser login engine; import its public API from `app.services.oauth.browser_automation`."""

"""The call path's parts: routing, account selection, error classification, account state,
usage, and the answers' wire shapes. `app.services.oauth.litellm_proxy` puts them together."""

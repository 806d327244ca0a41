"""The settings page: a small single-page app (plain ES modules and CSS) served at `/`."""

"""Login and capture recipes: how to log in to a platform console, read as data from `oauth_config`.

The seed's form works as it stands: `auth_url` + `login_selectors` {username_input,
password_input, submit_button} + `cookie_names` means open the page, fill the username and
the password, click submit, done when the cookies are set, capture those cookies. Any of these
keys of `oauth_config` extends or replaces a part of it:

    "steps": [{"action": "goto", "url": "https://console.example.com/login"},
              {"action": "fill", "selector": "#phone", "value_from": "phone"},
              {"action": "click", "selector": "#send-code"},
              {"action": "wait_for", "selector": "#code"}],   # or "url_pattern": regex
    "code_prompts": [{"selector": "#code", "kind": "sms", "prompt_selector": ".hint",
                      "submit_selector": "#verify"}],
    "challenge_selectors": [".captcha", "#slider", "img.qr-code"],
    "error_selectors": [".error-message"],
    "success": {"cookies": ["session"], "url_pattern": "/console", "element": "#avatar",
                "local_storage_key": "token", "request_url_pattern": "/api/user/info"},
    "capture": {"cookies": ["session"], "local_storage": ["token"],
                "request_header": {"url_pattern": "/api/", "header": "authorization"},
                "response_json": {"url_pattern": "/api/token", "field": "data.access_token"},
                "api_key": {"page_url": "...", "create_selector": "#create",
                            "key_selector": "code.key", "key_pattern": "^sk-"}},
    "validate_request": {"url": "https://console.example.com/api/user/info"},
    "console_url": "https://console.example.com/"          # where refresh reopens; default
                                                           # key_page_url, else auth_url
    "allowed_domains": ["example.com", "examplecdn.com"]   # default: auth_url's host

`value_from` names what the user typed (`username`, `password`, `phone`, `email`) or `code`
(asked for when the step comes). Regexes are Python's, searched (not matched) in the URL.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_EXTENDED_KEYS = ("code_prompts", "challenge_selectors", "error_selectors", "validate_request")

InputName = Literal["username", "password", "phone", "email", "code"]
"""What the user typed, by name; `code` is the SMS/e-mail code given through the handle."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        re.compile(value)
    return value


class GotoStep(_Model):
    action: Literal["goto"]
    url: str


class FillStep(_Model):
    action: Literal["fill"]
    selector: str
    value_from: InputName
    optional: bool = False
    """Skip the step (instead of waiting) when the element is not on the page."""


class ClickStep(_Model):
    action: Literal["click"]
    selector: str
    optional: bool = False


class WaitForStep(_Model):
    action: Literal["wait_for"]
    selector: str | None = None
    url_pattern: str | None = None
    """A regular expression searched in the page's URL."""

    _url_regex = field_validator("url_pattern")(_check_regex)

    @model_validator(mode="after")
    def _one_target(self) -> WaitForStep:
        if (self.selector is None) == (self.url_pattern is None):
            raise ValueError("wait_for needs exactly one of selector or url_pattern")
        return self


Step = Annotated[GotoStep | FillStep | ClickStep | WaitForStep, Field(discriminator="action")]


class CodePrompt(_Model):
    """A page that asks for a one-time code: the login pauses until the user gives it."""

    selector: str
    """Present (visible) when the page asks for the code."""
    input_selector: str | None = None
    """Where the code is typed; defaults to `selector`."""
    submit_selector: str | None = None
    """Clicked after typing the code; unset: press Enter in the input."""
    kind: Literal["sms", "email", "code"] = "code"
    prompt: str | None = None
    """What to tell the user; unset: the page words what `kind` asks in its own language."""
    prompt_selector: str | None = None
    """An element whose text says what is asked (e.g. "We sent a code to 138****0000")."""


class SuccessRule(_Model):
    """Signals that the login finished; every configured one must hold."""

    cookies: tuple[str, ...] = ()
    """Named cookies with a value; a name also matches its split parts (`name.0`, `name.1`)."""
    url_pattern: str | None = None
    element: str | None = None
    local_storage_key: str | None = None
    request_url_pattern: str | None = None
    """An authenticated request seen on the network: a response below 400 from a matching URL."""

    _regexes = field_validator("url_pattern", "request_url_pattern")(_check_regex)

    @property
    def is_empty(self) -> bool:
        return not (
            self.cookies
            or self.url_pattern
            or self.element
            or self.local_storage_key
            or self.request_url_pattern
        )


class RequestHeaderCapture(_Model):
    url_pattern: str
    header: str = "authorization"

    _regex = field_validator("url_pattern")(_check_regex)


class ResponseJsonCapture(_Model):
    url_pattern: str
    field: str
    """A dotted path into the JSON body, e.g. `data.access_token` (list indexes are numbers)."""

    _regex = field_validator("url_pattern")(_check_regex)


class ApiKeyCapture(_Model):
    page_url: str
    key_selector: str
    create_selector: str | None = None
    """Clicked when no usable key is shown (the console reveals a new key once)."""
    attribute: str | None = None
    """Read this attribute of the key element; unset: its value (inputs) or text."""
    key_pattern: str | None = None
    """A usable key matches this regex (so a masked `sk-****` is not taken for one)."""

    _regex = field_validator("key_pattern")(_check_regex)


class CaptureRecipe(_Model):
    cookies: tuple[str, ...] = ()
    local_storage: tuple[str, ...] = ()
    request_header: RequestHeaderCapture | None = None
    response_json: ResponseJsonCapture | None = None
    api_key: ApiKeyCapture | None = None


class ValidateRequest(_Model):
    """A cheap authenticated request that confirms the captured session is accepted."""

    url: str
    method: Literal["GET", "POST"] = "GET"
    expect_status: int = 200


class LoginRecipe(_Model):
    """How to log in to one platform's console and what to take away from it.

    Parse it with `LoginRecipe.from_oauth_config(platform.oauth_config)`.
    """

    auth_url: str
    steps: tuple[Step, ...]
    allowed_domains: tuple[str, ...]
    """Hosts the browser may reach; a domain allows its subdomains; IPs and localhost only
    when listed."""
    success: SuccessRule
    capture: CaptureRecipe
    console_url: str | None = None
    """Where refresh reopens the console with a saved session; defaults to `auth_url`."""
    code_prompts: tuple[CodePrompt, ...] = ()
    challenge_selectors: tuple[str, ...] = ()
    """CAPTCHA, slider, QR code: the user solves it (live view or headed window)."""
    error_selectors: tuple[str, ...] = ()
    """A visible one ends the login as failed, with its text as the message."""
    validate_request: ValidateRequest | None = None

    @model_validator(mode="after")
    def _check(self) -> LoginRecipe:
        if self.success.is_empty:
            raise ValueError("the recipe needs at least one success signal")
        if not self.allowed_domains:
            raise ValueError("the recipe needs allowed_domains")
        return self

    @classmethod
    def from_oauth_config(cls, config: dict[str, Any]) -> LoginRecipe:
        """Build the recipe from a platform's `oauth_config` (the seed's form or the extended one).

        Raises `pydantic.ValidationError` when the config cannot drive a browser login.
        """
        auth_url = config.get("auth_url")
        cookie_names = [name for name in config.get("cookie_names") or [] if name]
        steps = config.get("steps")
        if steps is None:
            steps = [{"action": "goto", "url": auth_url}]
            selectors = config.get("login_selectors") or {}
            for key, value_from in (("username_input", "username"), ("password_input", "password")):
                if selectors.get(key):
                    steps.append(
                        {"action": "fill", "selector": selectors[key], "value_from": value_from}
                    )
            if selectors.get("submit_button"):
                steps.append({"action": "click", "selector": selectors["submit_button"]})
        allowed = config.get("allowed_domains")
        if not allowed and auth_url:
            allowed = [urlsplit(auth_url).netloc.rsplit("@", 1)[-1]]  # host, and its port
        data = {key: config[key] for key in _EXTENDED_KEYS if config.get(key) is not None}
        return cls.model_validate(
            {
                **data,
                "auth_url": auth_url,
                "steps": steps,
                "allowed_domains": allowed or (),
                "success": config.get("success") or {"cookies": cookie_names},
                "capture": config.get("capture") or {"cookies": cookie_names},
                "console_url": config.get("console_url") or config.get("key_page_url"),
            }
        )

    def required_inputs(self) -> set[str]:
        """The user's inputs the steps need up front (the code comes later, when asked)."""
        return {
            step.value_from
            for step in self.steps
            if isinstance(step, FillStep) and step.value_from != "code" and not step.optional
        }

    @property
    def login_form_selectors(self) -> tuple[str, ...]:
        """Selectors whose presence on the console means the saved session is gone."""
        return tuple(
            step.selector
            for step in self.steps
            if isinstance(step, FillStep) and step.value_from in ("username", "password")
        )

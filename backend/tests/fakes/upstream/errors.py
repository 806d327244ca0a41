"""Vendor error bodies, exactly as docs/platforms.md §2-§4 records them.

Each builder returns an `Error` ready for `FakeUpstream.script()`; `.mid_stream(n)` turns it into
the same error inside a 200 stream. These bodies are the project's statement of what each vendor
sends: the service's error classifier is tested against them, so change them only when a vendor
is seen to answer differently (and update platforms.md with it). Request ids are fixed strings in
each vendor's format so that snapshots stay stable.
"""

from __future__ import annotations

from typing import Any

from .behaviours import Error

DASHSCOPE_REQUEST_ID = "9ad5f6e5-c95f-905a-8c49-cea387148724"
ARK_REQUEST_ID = "021764316800000fakeupstream0000000000000000000000abcdef"
ANTHROPIC_REQUEST_ID = "req_011CFakeUpstream000000000"
QIANFAN_ID = "as-fakeupstream0"
SPARK_SID = "cha000b0001@dx19ac0fake000000"


# --- OpenAI ---------------------------------------------------------------------------------


def _openai_body(
    message: str, type_: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def openai_invalid_key() -> Error:
    return Error(
        401,
        _openai_body(
            "Incorrect API key provided: sk-fake*****************0000. You can find your API key "
            "at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
    )


def openai_model_not_found(model: str = "gpt-4.1-mini") -> Error:
    return Error(
        404,
        _openai_body(
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        ),
    )


def openai_unsupported_parameter(param: str = "reasoning_effort") -> Error:
    """A parameter the model does not take (`reasoning_effort` on a model that does not reason)."""
    return Error(
        400,
        _openai_body(
            f"Unsupported parameter: '{param}' is not supported with this model.",
            "invalid_request_error",
            "unsupported_parameter",
            param,
        ),
    )


def openai_missing_key() -> Error:
    """No Authorization header: OpenAI answers 401 with `code: null` (not invalid_api_key)."""
    return Error(
        401,
        _openai_body(
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
            "field (with blank username) if you're accessing the API from your browser and are "
            "prompted for a username and password. You can obtain an API key from "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            None,
        ),
    )


def openai_rate_limited(retry_after: int | None = None, model: str = "gpt-4.1-mini") -> Error:
    """A plain RPM limit: a cooldown, not an exhausted account."""
    headers = {
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "20s",
    }
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    message = (
        f"Rate limit reached for {model} in organization org-fakeupstream on requests per min "
        "(RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit "
        "https://platform.openai.com/account/rate-limits to learn more."
    )
    return Error(429, _openai_body(message, "requests", "rate_limit_exceeded"), headers)


def openai_insufficient_quota(code: str = "insufficient_quota") -> Error:
    """429 that means "out of money": also `credit_balance_exhausted`,
    `organization_spend_limit_exceeded`, `project_spend_limit_exceeded` (pass as `code`)."""
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, read the docs: "
        "https://platform.openai.com/docs/guides/error-codes/api-errors."
    )
    return Error(429, _openai_body(message, code, code))


# --- Qwen / DashScope (OpenAI-compatible mode) -----------------------------------------------


def dashscope(status: int, code: str, message: str, type_: str | None = None) -> Error:
    body = _openai_body(message, type_ or code, code) | {"request_id": DASHSCOPE_REQUEST_ID}
    return Error(status, body)


def dashscope_invalid_key() -> Error:
    return dashscope(
        401, "invalid_api_key", "Incorrect API key provided. ", "invalid_request_error"
    )


def dashscope_arrearage() -> Error:
    """Overdue bill: a 400, so only the code tells it apart from a bad request."""
    return dashscope(
        400, "Arrearage", "Access denied, please make sure your account is in good standing."
    )


def dashscope_free_quota_exceeded() -> Error:
    """New-user free grant used up. Shares its code with the paid TPM limit ("Allocated quota
    exceeded"), so a classifier must read the message."""
    return dashscope(429, "Throttling.AllocationQuota", "Free allocated quota exceeded.")


def dashscope_rate_limited() -> Error:
    return dashscope(
        429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."
    )


# --- Zhipu GLM -------------------------------------------------------------------------------

# code -> (HTTP status, message from open.bigmodel.cn's error-code table). 1305 and 1309's
# statuses are [unverified]: Zhipu documents 429 for its concurrency/balance/account-abnormal
# group, and a classifier must use the code anyway.
ZHIPU_CODES: dict[str, tuple[int, str]] = {
    "1000": (401, "身份验证失败。"),
    "1001": (401, "Header中未收到Authentication参数，无法进行身份验证。"),
    "1002": (401, "Authentication Token非法，请确认Authentication Token正确传递。"),
    "1003": (401, "Authentication Token已过期，请重新生成/获取。"),
    "1004": (401, "通过Authentication Token的验证失败。"),
    "1113": (429, "您的账户已欠费，请充值后重试。"),
    "1210": (400, "API 调用参数有误，请检查文档。"),
    "1211": (400, "模型不存在，请检查模型代码。"),
    "1214": (400, "messages 参数非法。请检查文档。"),
    "1261": (400, "Prompt 超长"),
    "1301": (
        400,
        "系统检测到输入或生成内容可能包含不安全或敏感内容，请您避免输入易产生敏感内容的提示语，"
        "感谢您的配合。",
    ),
    "1302": (429, "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。"),
    "1303": (429, "您当前使用该API的频率过高，请降低频率，或联系客服增加限额。"),
    "1304": (429, "该API已达今日调用次数限额，如有更多需求，请联系客服购买。"),
    "1305": (429, "该模型当前访问量过大，请您稍后再试"),
    "1308": (429, "已达到 5 小时 的使用上限。您的限额将在 2026-11-28 18:00:00 重置。"),
    "1309": (
        429,
        "您的 GLM Coding Plan 套餐已到期，暂无法使用，前往官方续订后即可恢复 "
        "https://bigmodel.cn/claude-code",
    ),
    "1310": (429, "您已达到每周/每月使用上限，您的限额将在 2026-12-01 00:00:00 重置。"),
}


def zhipu(code: str, message: str | None = None) -> Error:
    """`{"error":{"code":"1113","message":…}}` with the HTTP status Zhipu uses for `code`."""
    status, default = ZHIPU_CODES[code]
    return Error(status, {"error": {"code": code, "message": message or default}})


# --- Doubao / Volcengine Ark -----------------------------------------------------------------


def ark(status: int, code: str, message: str, type_: str) -> Error:
    body = {
        "error": {
            "code": code,
            "message": f"{message} Request id: {ARK_REQUEST_ID}",
            "param": "",
            "type": type_,
        }
    }
    return Error(status, body)


def ark_invalid_key() -> Error:
    return ark(
        401,
        "AuthenticationError",
        "The API key or AK/SK in the request is missing or invalid.",
        "Unauthorized",
    )


def ark_account_overdue() -> Error:
    return ark(
        403,
        "AccountOverdueError",
        "The request failed because your account has an overdue balance.",
        "Forbidden",
    )


def ark_rate_limited(code: str = "RateLimitExceeded.EndpointRPMExceeded") -> Error:
    return ark(
        429,
        code,
        "The request failed because you have exceeded the RPM limit for this endpoint.",
        "TooManyRequests",
    )


# --- Anthropic -------------------------------------------------------------------------------

ANTHROPIC_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "messages: at least one message is required"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    404: ("not_found_error", "model: claude-unknown"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timeout"),
    529: ("overloaded_error", "Overloaded"),
}


def anthropic(
    status: int,
    error_type: str | None = None,
    message: str | None = None,
    *,
    retry_after: int | None = None,
) -> Error:
    """`{"type":"error","error":{"type","message"},"request_id"}`; type and message default
    from the status (429 also carries `retry-after` and `anthropic-ratelimit-*` headers)."""
    default_type, default_message = ANTHROPIC_TYPES.get(
        status, ("api_error", "Internal server error")
    )
    body = {
        "type": "error",
        "error": {"type": error_type or default_type, "message": message or default_message},
        "request_id": ANTHROPIC_REQUEST_ID,
    }
    headers: dict[str, str] = {"request-id": ANTHROPIC_REQUEST_ID}
    if status == 429:
        headers |= {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": "2026-11-28T12:00:30Z",
        }
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    return Error(status, body, headers)


def anthropic_overloaded() -> Error:
    return anthropic(529)


def anthropic_billing_error() -> Error:
    return anthropic(402)


def anthropic_credit_balance_too_low() -> Error:
    """The older low-balance answer: a 400 `invalid_request_error`, told apart only by text."""
    return anthropic(
        400,
        "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
        "Billing to upgrade or purchase credits.",
    )


def anthropic_rate_limited(retry_after: int | None = 30) -> Error:
    return anthropic(429, retry_after=retry_after)


# --- Google Gemini ---------------------------------------------------------------------------


def _google(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> Error:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return Error(code, {"error": error})


def _error_info(reason: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }


def gemini_api_key_invalid() -> Error:
    message = "API key not valid. Please pass a valid API key."
    return _google(
        400,
        "INVALID_ARGUMENT",
        message,
        [
            _error_info("API_KEY_INVALID"),
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": message,
            },
        ],
    )


def gemini_unauthenticated(reason: str = "ACCESS_TOKEN_EXPIRED") -> Error:
    """A rejected OAuth access token (`Authorization: Bearer ya29…`)."""
    return _google(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        [_error_info(reason)],
    )


def gemini_missing_credential() -> Error:
    """No key and no token at all: Google answers 403, not 401."""
    return _google(
        403,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
    )


def gemini_quota_exhausted(
    daily: bool = True, retry_delay: str = "37s", model: str = "gemini-2.5-flash"
) -> Error:
    """429 RESOURCE_EXHAUSTED. `daily` names a per-day free-tier quotaId (the account is done
    until midnight Pacific); otherwise a per-minute one (a cooldown of `retry_delay`)."""
    period, limit = ("Day", "250") if daily else ("Minute", "10")
    quota_id = f"GenerateRequestsPer{period}PerProjectPerModel-FreeTier"
    metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n"
        f"* Quota exceeded for metric: {metric}, limit: {limit}, model: {model}\n"
        f"Please retry in {retry_delay}."
    )
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": metric,
                    "quotaId": quota_id,
                    "quotaDimensions": {"location": "global", "model": model},
                    "quotaValue": limit,
                }
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay},
    ]
    return _google(429, "RESOURCE_EXHAUSTED", message, details)


def gemini_overloaded() -> Error:
    return _google(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


def gemini_location_unsupported() -> Error:
    """Free tier not available in the caller's country."""
    return _google(400, "FAILED_PRECONDITION", "User location is not supported for the API use.")


# --- iFlytek Spark ---------------------------------------------------------------------------

# code -> message from iFlytek's error-code table (10003 as platforms.md quotes it).
SPARK_CODES: dict[str, str] = {
    "10003": "invalid data",
    "10004": "用户数据的schema错误",
    "10005": "用户参数值有错误",
    "10007": "用户流量受限：服务正在处理用户当前的问题，需等待处理完成后再发送新的请求。",
    "10013": "输入内容审核不通过，涉嫌违规，请重新调整输入内容",
    "10014": "输出内容涉及敏感信息，审核不通过，后续结果无法展示给用户",
    "10019": "表示本次会话内容有涉及违规信息的倾向",
    "10907": "token数量超过上限。对话历史+问题的字数太多，需要精简输入",
    "11200": "授权错误：该appId没有相关功能的授权 或者 业务量超过限制",
    "11201": "授权错误：日流控超限。超过当日最大访问量的限制",
    "11202": "授权错误：秒级流控超限。秒级并发超过授权路数限制",
    "11203": "授权错误：并发流控超限。并发路数超过授权路数限制",
}


def spark(code: str, message: str | None = None) -> Error:
    """`{"error":{"message":"… (sid: …)","type":"invalid_request_error","code":…}}`.

    The HTTP status per Spark code is [unverified] (platforms.md): 429 is a guess for the two
    flow-control codes 11202/11203 and 400 for everything else (1000x, 11200, 11201, …). A
    classifier must map on `error.code`, never on this status.
    """
    status = 429 if code in {"11202", "11203"} else 400
    text = f"{message or SPARK_CODES[code]} (sid: {SPARK_SID})"
    return Error(
        status, {"error": {"message": text, "type": "invalid_request_error", "code": code}}
    )


def spark_unauthorized() -> Error:
    """Spark's API gateway rejecting the credential, before the model service sees it."""
    return Error(401, {"message": "Unauthorized"})


# --- Baidu Qianfan v2 ------------------------------------------------------------------------


def qianfan(
    code: str,
    error_type: str = "invalid_request_error",
    status: int = 400,
    message: str | None = None,
) -> Error:
    """`{"error":{"code","message","type"},"id":"as-…"}`; 429 code strings are [unverified]."""
    body = {
        "error": {"code": code, "message": message or code.replace("_", " "), "type": error_type},
        "id": QIANFAN_ID,
    }
    return Error(status, body)


def qianfan_invalid_key() -> Error:
    """[unverified] code and message; the status (401) is what matters to the classifier."""
    return qianfan("invalid_iam_token", status=401, message="IAM Certification failed")


# --- credential rejected, per platform -------------------------------------------------------

_OPENAI_KIND_REJECTIONS = {
    "openai": openai_invalid_key,
    "dashscope": dashscope_invalid_key,
    "zhipu": lambda: zhipu("1000"),
    "ark": ark_invalid_key,
    "spark": spark_unauthorized,
    "qianfan": qianfan_invalid_key,
}


def rejected_credential(kind: str, platform: str, *, missing: bool, bearer: bool) -> Error:
    """The answer a platform gives to a wrong (or absent) credential."""
    if kind == "anthropic":
        message = "x-api-key header is required" if missing else "invalid x-api-key"
        return anthropic(401, "authentication_error", message)
    if kind == "gemini":
        if missing:
            return gemini_missing_credential()
        return gemini_unauthenticated() if bearer else gemini_api_key_invalid()
    if missing and platform == "openai":
        return openai_missing_key()
    if missing and platform == "zhipu":
        return zhipu("1001")
    return _OPENAI_KIND_REJECTIONS[platform]()

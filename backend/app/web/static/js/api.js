// The service's API: the bearer token, the {code, message, data} envelope, errors as ApiError.

const TOKEN_KEY = "oauth-proxy.token";

export class ApiError extends Error {
  /**
   * status: the HTTP status (0: the service could not be reached); code: the envelope's
   * error_code (README, *Error codes*), null when the answer had none; requestId: the answer's
   * X-Request-ID, which names the request in the service's logs (for support).
   */
  constructor(status, message, path, code = null, requestId = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.path = path;
    this.code = code;
    this.requestId = requestId;
  }
}

export const auth = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY);
  },
  save(token, remember) {
    this.clear();
    (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(TOKEN_KEY);
  },
};

const listeners = new Set();
/** Called with the ApiError when a signed-in call is refused with 401 (the session ended). */
export function onSignedOut(listener) {
  listeners.add(listener);
}

function headers(body) {
  const result = { Accept: "application/json" };
  if (body !== undefined) result["Content-Type"] = "application/json";
  if (auth.token) result.Authorization = `Bearer ${auth.token}`;
  return result;
}

async function send(method, path, body, signal) {
  try {
    return await fetch(path, {
      method,
      headers: headers(body),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: "same-origin",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "The service could not be reached.", path);
  }
}

/** The error of a failed answer: the envelope's message and error_code, or OpenAI's shape. */
async function errorOf(response, path) {
  let message = response.statusText || "Request failed";
  let code = null;
  try {
    const body = await response.json();
    message = body?.message || body?.error?.message || body?.detail || message;
    code = body?.error_code ?? null;
  } catch {
    // not JSON: keep the status text
  }
  const requestId = response.headers.get("X-Request-ID");
  const error = new ApiError(response.status, String(message), path, code, requestId);
  if (response.status === 401 && auth.token && !path.startsWith("/api/v1/auth/login")) {
    auth.clear();
    listeners.forEach((listener) => listener(error));
  }
  return error;
}

export async function request(method, path, body, { signal } = {}) {
  const response = await send(method, path, body, signal);
  if (!response.ok) throw await errorOf(response, path);
  const envelope = await response.json();
  return envelope && "data" in envelope ? envelope.data : envelope;
}

/** A binary answer (an image) as a Blob. */
async function blob(path, options = {}) {
  const response = await send("GET", path, undefined, options.signal);
  if (!response.ok) throw await errorOf(response, path);
  return response.blob();
}

export const api = {
  blob,
  get: (path, options) => request("GET", path, undefined, options),
  post: (path, body = {}, options) => request("POST", path, body, options),
  put: (path, body, options) => request("PUT", path, body, options),
  patch: (path, body, options) => request("PATCH", path, body, options),
  delete: (path, options) => request("DELETE", path, undefined, options),
};

/**
 * POST and read a server-sent event stream: `onEvent(json)` per `data:` line until `[DONE]`.
 * Resolves with the response headers. A refusal before the stream starts throws an ApiError.
 */
export async function stream(path, body, onEvent, { signal } = {}) {
  const response = await send("POST", path, body, signal);
  if (!response.ok) throw await errorOf(response, path);
  const type = response.headers.get("content-type") || "";
  if (!type.includes("text/event-stream")) {
    const envelope = await response.json();
    onEvent(envelope && "data" in envelope ? envelope.data : envelope);
    return response.headers;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (!data) continue;
      if (data === "[DONE]") return response.headers;
      onEvent(JSON.parse(data));
    }
  }
  return response.headers;
}

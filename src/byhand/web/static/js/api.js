// Talking to the server: JSON requests, and the training stream (server-sent events over a POST).

/** An error whose message is the server's one-sentence `detail`, with the HTTP status. */
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function detailOf(body, status) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail) && body.detail.length) {
    const d = body.detail[0];
    const where = (d.loc || []).filter((p) => p !== "body").join(".");
    return where ? `${where}: ${d.msg}` : d.msg;
  }
  return `the server answered ${status}`;
}

async function answer(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(detailOf(body, response.status), response.status);
  return body;
}

/**
 * A JSON request: GET, or POST when `body` is given (or `method`); a `token`, when given, goes as
 * `Authorization: Bearer`. Resolves to the answer's JSON; rejects with ApiError.
 */
export async function request(path, { body, method, token, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: method || (body === undefined ? "GET" : "POST"),
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  return answer(response);
}

export function getJSON(path) {
  return request(path);
}

export function postJSON(path, data, signal) {
  return request(path, { body: data, signal });
}

export async function postForm(path, form) {
  return answer(await fetch(path, { method: "POST", body: form }));
}

/**
 * POST `data` to a text/event-stream endpoint and call onEvent(name, payload) for each event.
 * Resolves when the stream ends; rejects with ApiError on an HTTP error or an "error" event.
 */
export async function stream(path, data, onEvent, signal) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(data),
    signal,
  });
  if (!response.ok) return answer(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    buffer = buffer.replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const lines = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) lines.push(line.slice(5).replace(/^ /, ""));
      }
      if (!lines.length) continue;
      let payload;
      try {
        payload = JSON.parse(lines.join("\n"));
      } catch {
        payload = lines.join("\n");
      }
      if (name === "error") throw new ApiError(detailOf(payload, 422), 422);
      onEvent(name, payload);
    }
    if (done) break;
  }
}

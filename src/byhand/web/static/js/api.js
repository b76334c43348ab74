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

/** What the page says when a stream ends before its last event (`done` or `error`): the
 * connection was cut, or the server process computing it stopped. */
export const STREAM_CUT = "the training ended without a result: the connection to the server was cut (the server may have stopped or restarted); train again to go on.";

/**
 * POST `data` to a text/event-stream endpoint and call onEvent(name, payload) for each event.
 * Resolves when the stream ends with its `done` event; rejects with ApiError on an HTTP error,
 * an "error" event, or a stream cut before either (STREAM_CUT); with an AbortError when stopped.
 */
export async function stream(path, data, onEvent, signal) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(data),
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(`the server could not be reached (${err.message}): start the training again`, 0);
  }
  if (!response.ok) return answer(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let finished = false; // the `done` event came
  for (;;) {
    let value;
    let done;
    try {
      ({ value, done } = await reader.read());
    } catch (err) {
      if (err.name === "AbortError" || (signal && signal.aborted)) throw err;
      throw new ApiError(STREAM_CUT, 0); // the connection broke while the stream was open
    }
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
      if (name === "done") finished = true;
      onEvent(name, payload);
    }
    if (done) break;
  }
  if (!finished) throw new ApiError(STREAM_CUT, 0);
}

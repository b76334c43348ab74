// What the class pages share: elements made from text, JSON requests with the server's
// one-sentence `detail` as the error, a status line, and starting once the page is read.

/** An error carrying the server's `detail` and the HTTP status it came with. */
export class ClassError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export const $ = (id) => document.getElementById(id);

/** An element whose text is `text`: a user's name stays text, never markup. */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Server-made markup (MathML or the diagram's SVG, never a user's text) into an element. */
export function markup(tag, className, html) {
  const node = element(tag, className);
  node.innerHTML = html;
  return node;
}

/** GET (or POST when `body` is given) JSON; a token, when given, as `Authorization: Bearer`. */
export async function request(url, { body, token, method } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method: method || (body === undefined ? "GET" : "POST"),
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = data && typeof data.detail === "string" ? data.detail : `the server answered ${response.status}`;
    throw new ClassError(detail, response.status);
  }
  return data;
}

/** The page's status line: a sentence, in the error colour when `isError`. */
export function showStatus(id, text, isError = false) {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("is-error", isError);
}

/** `begin(root)` once, when the element `id` exists and the page has been read. */
export function startOn(id, begin) {
  const run = () => {
    const root = $(id);
    if (!root || root.dataset.started) return;
    root.dataset.started = "yes";
    begin(root);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
}

// The page's whole state in the URL: a link reproduces what a student saw.

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The part of the state a link carries, with its short keys. */
export function compact(state) {
  const c = {
    m: state.model,
    x: state.inputs,
    y: state.target,
    lr: state.lr,
    n: state.steps,
    s: state.selected,
    f: state.ran ? 1 : 0,
    b: state.backprop ? 1 : 0,
  };
  if (state.ds) c.d = state.ds;
  if (state.point) c.p = state.point;
  if (state.lesson) c.l = state.lesson; // what a lesson link shows (js/lesson.js)
  return c;
}

export function encode(state) {
  return "#s=" + toBase64Url(JSON.stringify(compact(state)));
}

/** The short code a lesson link carries after #state= (byhand.shortstate), or null. */
export function shortCode(hash) {
  const m = /^#state=(b1\.[A-Za-z0-9_-]+)$/.exec(hash || "");
  return m ? m[1] : null;
}

/** The state from its short keys, or null when they hold no network. */
export function expand(c) {
  if (!c || typeof c !== "object" || !c.m) return null;
  return {
    model: c.m,
    inputs: c.x,
    target: c.y,
    lr: c.lr,
    steps: c.n,
    selected: c.s || null,
    ran: !!c.f,
    backprop: !!c.b,
    ds: c.d && typeof c.d === "object" ? c.d : null,
    point: Array.isArray(c.p) && c.p.length === 2 && c.p.every(Number.isFinite) ? c.p : null,
    lesson: c.l && typeof c.l === "object" ? c.l : null,
  };
}

/** The raw point (x1, x2) a view is asked for when the network takes its input features, else
 * null: the server expands it (byhand/features.py) and answers with the features as inputs. */
export function pointOf(s) {
  return s.model && Array.isArray(s.model.features) && Array.isArray(s.point) && s.point.length === 2 ? s.point : null;
}

/** The state a URL's hash carries, or null when it carries none (or a broken one). */
export function decode(hash) {
  const m = /^#s=([A-Za-z0-9_-]+)$/.exec(hash || "");
  if (!m) return null;
  try {
    return expand(JSON.parse(fromBase64Url(m[1])));
  } catch {
    return null;
  }
}

export function save(state) {
  const hash = encode(state);
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

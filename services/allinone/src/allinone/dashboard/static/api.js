// What every view shares: the page state, DOM helpers, the visible error box, and the public API
// (REST and GraphQL with the bearer token; errors are kept and shown, never swallowed).

export const TOKEN_KEY = "quotient.dashboard.token";

export const $ = (id) => document.getElementById(id);

export const state = {
  token: null,
  claims: null,
  context: null,
  view: null,
  team: null,
  metrics: new Map(), // key -> {name, unit}
  period: null,
  metric: null,
  goals: [],
  alerts: new Map(), // alertId -> alert (camelCase)
  liveIds: new Map(), // alertId -> when the subscription delivered it
  errors: new Map(), // source -> message
  refreshing: false,
  again: false,
  feed: null,
  names: new Map(), // person id -> name, as far as the viewer may know it
};

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// --- errors ------------------------------------------------------------------------------------

export function setError(source, message) {
  state.errors.set(source, String(message));
  renderErrors();
}

export function clearError(source) {
  if (state.errors.delete(source)) renderErrors();
}

function renderErrors() {
  const box = $("errors");
  box.replaceChildren();
  for (const [source, message] of state.errors) {
    const p = el("p", { "data-testid": "error", "data-source": source });
    p.append(el("strong", {}, `${source}: `), message);
    box.append(p);
  }
  box.hidden = state.errors.size === 0;
}

// --- API ---------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function authHeaders() {
  return { Authorization: `Bearer ${state.token}`, Accept: "application/json" };
}

function problemText(body, fallback) {
  if (!body || typeof body !== "object") return fallback;
  const parts = [body.detail || body.title || fallback];
  for (const e of body.errors || []) {
    if (e && typeof e === "object") parts.push(`${e.field ?? ""} ${e.message ?? ""}`.trim());
  }
  return parts.filter(Boolean).join("; ");
}

async function request(method, path, body) {
  const headers = authHeaders();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const parsed = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(`${response.status} ${problemText(parsed, response.statusText)}`, response.status);
  }
  return parsed;
}

export const rest = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body);

/** A file from the API (the token goes in the header, so no plain link), saved by the browser. */
export async function download(path, filename) {
  const response = await fetch(path, { headers: authHeaders(), cache: "no-store" });
  if (!response.ok) {
    const parsed = await response.json().catch(() => null);
    throw new ApiError(`${response.status} ${problemText(parsed, response.statusText)}`, response.status);
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return blob;
}

export function graphqlMessages(errors) {
  return (errors || [])
    .map((e) => (e.path ? `${e.path.join(".")}: ${e.message}` : e.message))
    .join("; ");
}

/** A GraphQL request: its data (possibly partial) and its errors, never thrown away. */
export async function gql(query, variables) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { ...authHeaders(), "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
    cache: "no-store",
  });
  const body = await response.json().catch(() => null);
  if (!body || (!response.ok && !body.data)) {
    const detail = body ? graphqlMessages(body.errors) || problemText(body, "") : "";
    throw new ApiError(`HTTP ${response.status} ${detail}`.trim(), response.status);
  }
  return { data: body.data || {}, errors: body.errors || [] };
}

/** Run one part of a refresh; its failure is shown under its name and cleared when it works. */
export async function step(source, work) {
  try {
    const result = await work();
    clearError(source);
    return { ok: true, result };
  } catch (exc) {
    setError(source, exc.message || String(exc));
    return { ok: false };
  }
}

export function personName(id) {
  return state.names.get(id) || id;
}

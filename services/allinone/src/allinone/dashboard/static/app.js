// Quotient rep dashboard: my progress against pace, the leaderboard, my open alerts (live over a
// GraphQL subscription) and my pay, from the public API with the bearer token given in the URL
// fragment (#token=...). Plain ES module, no build step, no third-party code.
//
// Money and figures arrive as decimal strings and are only ever formatted (Intl.NumberFormat
// formats a decimal string exactly), never added up here: totals are the services'.

const TOKEN_KEY = "quotient.dashboard.token";
const PERIOD_KEY = "quotient.dashboard.period";
const METRIC_KEY = "quotient.dashboard.metric";
const REFRESH_MS = 4000;
const DEFAULT_METRIC = "collected_revenue";

const DASHBOARD_QUERY = `
query Dashboard($period: String!, $me: String!, $metric: String!) {
  leaderboard(metric: $metric, period: $period, limit: 20) {
    rank personId name actual target attainment
  }
  goal: goalTree(ownerKind: "person", ownerId: $me, period: $period, metric: $metric) {
    goalId metric period periodStart periodEnd target effectiveTarget actual attainment
    elapsed expected projectedAttainment
  }
  statement(personId: $me, period: $period)
}`;

const ALERTS_SUBSCRIPTION = `
subscription MyAlerts {
  alerts { alertId rule status severity personId teamId metric period figures evidenceRequested openedAt }
}`;

const RULES = {
  behind_pace: "Behind pace",
  late_entry: "Late data entry",
  stalled_deal: "Stalled deal",
  burst: "Unusual burst of activity",
  repeated_follow_up: "Repeated follow-ups",
  spike_drop: "Spike or drop",
};

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  claims: null,
  context: null,
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
};

// --- token -------------------------------------------------------------------------------------

/** The token from #token=... (then dropped from the address bar) or from this tab's storage. */
function readToken() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const fromUrl = fragment.get("token");
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    // Out of the address bar and history, so it is not bookmarked, shared or shoulder-surfed.
    history.replaceState(null, "", location.pathname + location.search);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** The JWT's claims, for display only: the server verifies the token on every call. */
function decodeClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = part + "=".repeat((4 - (part.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

// --- errors ------------------------------------------------------------------------------------

function setError(source, message) {
  state.errors.set(source, String(message));
  renderErrors();
}

function clearError(source) {
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

class ApiError extends Error {
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

async function rest(path) {
  const response = await fetch(path, { headers: authHeaders(), cache: "no-store" });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(
      `${response.status} ${problemText(body, response.statusText)}`,
      response.status,
    );
  }
  return body;
}

function graphqlMessages(errors) {
  return (errors || [])
    .map((e) => (e.path ? `${e.path.join(".")}: ${e.message}` : e.message))
    .join("; ");
}

/** A GraphQL request: its data (possibly partial) and its errors, never thrown away. */
async function gql(query, variables) {
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

// --- formatting --------------------------------------------------------------------------------

const locale = navigator.language || "en-US";

/** A decimal string in a currency, formatted exactly (no float). */
function money(value, currency) {
  if (value === null || value === undefined || value === "") return "–";
  try {
    return new Intl.NumberFormat(locale, {
      style: "currency",
      currency: currency || "XXX",
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    }).format(String(value));
  } catch {
    return `${value} ${currency || ""}`.trim();
  }
}

function number(value, digits = 2) {
  if (value === null || value === undefined || value === "") return "–";
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(String(value));
}

function percent(value) {
  if (value === null || value === undefined || value === "") return "–";
  return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 }).format(
    String(value),
  );
}

/** A metric's figure in its unit: money in the tenant's currency, ratios as percentages. */
function figure(value, metricKey) {
  const unit = state.metrics.get(metricKey)?.unit;
  if (unit === "currency") return money(value, state.context?.tenant?.currency);
  if (unit === "ratio") return percent(value);
  return number(value);
}

function metricName(key) {
  return state.metrics.get(key)?.name || key;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

// Chart geometry only: a float is fine for where a pixel goes, never for a displayed amount.
const num = (value) => (value === null || value === undefined ? 0 : Number(value));

function setFigure(id, text, raw) {
  const node = $(id);
  node.textContent = text;
  if (raw === null || raw === undefined) node.removeAttribute("data-value");
  else node.setAttribute("data-value", String(raw));
}

// --- who, periods, metrics ---------------------------------------------------------------------

function renderWho() {
  const c = state.claims || {};
  const me = state.context?.me;
  const tenant = state.context?.tenant;
  const who = $("whoami");
  who.replaceChildren(
    el("span", { class: "who-name" }, me?.name || c.sub || "?"),
    el("span", { class: "muted" }, ` · ${c.sub || "?"} · ${tenant?.name || c.tid || "?"}`),
  );
  who.setAttribute("data-subject", c.sub || "");
  who.setAttribute("data-tenant", c.tid || "");
  who.title = `tenant ${c.tid}\nroles ${(c.roles || []).join(", ")}`;
}

function renderPeriods() {
  const select = $("period");
  select.replaceChildren();
  const names = { month: "This month", quarter: "This quarter", year: "This year" };
  for (const p of state.context.periods) {
    const name = p.current ? names[p.kind] || p.kind : "Last month";
    select.append(el("option", { value: p.label }, `${name} (${p.label})`));
  }
  const saved = sessionStorage.getItem(PERIOD_KEY);
  const labels = state.context.periods.map((p) => p.label);
  state.period = labels.includes(saved) ? saved : labels[0];
  select.value = state.period;
}

function renderMetricOptions() {
  const select = $("metric");
  const keys = [...new Set([...state.goals.map((g) => g.metric), state.metric])];
  select.replaceChildren(...keys.map((k) => el("option", { value: k }, metricName(k))));
  select.value = state.metric;
}

function chooseMetric() {
  const mine = state.goals.map((g) => g.metric);
  const saved = sessionStorage.getItem(METRIC_KEY);
  if (saved && mine.includes(saved)) state.metric = saved;
  else if (!mine.includes(state.metric)) {
    state.metric = mine.includes(DEFAULT_METRIC) ? DEFAULT_METRIC : mine[0] || DEFAULT_METRIC;
  }
}

// --- progress ----------------------------------------------------------------------------------

function renderProgress(goal) {
  $("progress-period").textContent = state.period ? `· ${state.period}` : "";
  $("progress-empty").hidden = Boolean(goal);
  $("progress-body").hidden = !goal;
  if (!goal) return;
  setFigure("my-actual", figure(goal.actual, goal.metric), goal.actual);
  setFigure("my-target", figure(goal.effectiveTarget, goal.metric), goal.effectiveTarget);
  setFigure("my-attainment", percent(goal.attainment), goal.attainment);
  setFigure("my-expected", figure(goal.expected, goal.metric), goal.expected);
  setFigure("my-projected", percent(goal.projectedAttainment), goal.projectedAttainment);
  renderPaceBar(goal);
  renderOtherGoals();
}

/** Actual as a bar, with the target and the pace line (where the actual should be by today). */
function renderPaceBar(goal) {
  const W = 640;
  const H = 78;
  const pad = 8;
  const target = num(goal.effectiveTarget);
  const actual = num(goal.actual);
  const expected = num(goal.expected);
  const top = Math.max(target, actual, expected, 1) * 1.08;
  const x = (v) => pad + ((W - 2 * pad) * Math.max(0, v)) / top;
  const ahead = actual >= expected;
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "actual against pace and target" },
    svg("title", {}, `actual ${goal.actual ?? 0}, expected by today ${goal.expected ?? "-"}, target ${goal.effectiveTarget}`),
    svg("rect", { x: pad, y: 26, width: W - 2 * pad, height: 22, rx: 5, class: "track" }),
    svg("rect", {
      x: pad,
      y: 26,
      width: Math.max(0, x(actual) - pad),
      height: 22,
      rx: 5,
      class: ahead ? "bar ahead" : "bar behind",
      "data-testid": "pace-bar-actual",
    }),
    svg("line", { x1: x(expected), x2: x(expected), y1: 18, y2: 56, class: "pace-mark" }),
    svg("text", { x: x(expected), y: 13, class: "mark-label", "text-anchor": "middle" }, "pace"),
    svg("line", { x1: x(target), x2: x(target), y1: 18, y2: 56, class: "target-mark" }),
    svg(
      "text",
      { x: Math.min(x(target), W - 30), y: 72, class: "mark-label", "text-anchor": "middle" },
      "target",
    ),
  );
  $("pace-bar").replaceChildren(chart);
}

/** The day-by-day actual against the straight line to the target (the goals pace view). */
function renderPaceLine(pace, goal) {
  const box = $("pace-line");
  if (!pace || !goal || !pace.points?.length) {
    box.replaceChildren();
    return;
  }
  const W = 640;
  const H = 190;
  const left = 12;
  const right = 12;
  const topPad = 14;
  const bottom = 26;
  const start = Date.parse(`${goal.periodStart}T00:00:00Z`);
  const end = Date.parse(`${goal.periodEnd}T00:00:00Z`);
  const days = Math.max(1, Math.round((end - start) / 86400000) + 1);
  const target = num(pace.target);
  const peak = Math.max(target, ...pace.points.map((p) => num(p.actual)), 1) * 1.05;
  const x = (i) => left + ((W - left - right) * i) / days;
  const y = (v) => H - bottom - ((H - bottom - topPad) * v) / peak;
  const actualPath = pace.points
    .map((p, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(num(p.actual)).toFixed(1)} H${x(i + 1).toFixed(1)}`)
    .join(" ");
  const last = pace.points.length;
  const lastActual = num(pace.points[last - 1].actual);
  box.replaceChildren(
    svg(
      "svg",
      { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "cumulative actual by day against the pace line" },
      svg("title", {}, "cumulative actual by day against the pace line"),
      svg("line", { x1: left, x2: W - right, y1: y(target), y2: y(target), class: "target-line" }),
      svg("text", { x: W - right, y: y(target) - 4, class: "axis", "text-anchor": "end" }, `target ${figure(pace.target, goal.metric)}`),
      svg("line", { x1: x(0), y1: y(0), x2: x(days), y2: y(target), class: "pace-line" }),
      svg("path", { d: actualPath, class: "actual-line" }),
      svg("circle", { cx: x(last), cy: y(lastActual), r: 4, class: "today-dot" }),
      svg("line", { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, class: "axis-line" }),
      svg("text", { x: left, y: H - 8, class: "axis" }, goal.periodStart),
      svg("text", { x: W - right, y: H - 8, class: "axis", "text-anchor": "end" }, goal.periodEnd),
      // The pace view stops at today; a period already over has no "today" on it.
      last < days ? svg("text", { x: x(last), y: H - 8, class: "axis", "text-anchor": "middle" }, "today") : "",
    ),
    el(
      "div",
      { class: "legend" },
      el("span", { class: "key actual" }, "actual"),
      el("span", { class: "key pace" }, "pace line"),
      el("span", { class: "key target" }, "target"),
    ),
  );
}

function renderOtherGoals() {
  const table = $("other-goals");
  const others = state.goals.filter((g) => g.metric !== state.metric || g.dimension);
  table.hidden = others.length === 0;
  table.tBodies[0].replaceChildren(
    ...others.map((g) =>
      el(
        "tr",
        { "data-metric": g.metric },
        el("td", {}, metricName(g.metric) + (g.dimension ? ` (${g.dimension})` : "")),
        el("td", { class: "num" }, figure(g.actual, g.metric)),
        el("td", { class: "num" }, figure(g.effective_target, g.metric)),
        el("td", { class: "num" }, percent(g.attainment)),
      ),
    ),
  );
}

// --- leaderboard -------------------------------------------------------------------------------

function renderLeaderboard(rows) {
  $("board-metric").textContent = `· ${metricName(state.metric)} · ${state.period}`;
  const me = state.claims?.sub;
  const body = $("leaderboard-rows");
  body.replaceChildren(
    ...rows.map((r) => {
      const share = Math.max(0, Math.min(100, num(r.attainment) * 100));
      return el(
        "tr",
        {
          "data-testid": "leaderboard-row",
          "data-person-id": r.personId,
          "data-rank": r.rank,
          "data-attainment": r.attainment,
          class: r.personId === me ? "me" : null,
        },
        el("td", { class: "num rank" }, String(r.rank)),
        el(
          "td",
          { class: "name" },
          el("span", { "data-testid": "leaderboard-name" }, r.name || r.personId),
          r.personId === me ? el("span", { class: "you" }, "you") : null,
        ),
        el(
          "td",
          { class: "attain" },
          el(
            "div",
            { class: "attain-cell" },
            el("span", { class: "meter" }, el("span", { style: `width:${share.toFixed(1)}%` })),
            el("span", { class: "pct", "data-testid": "leaderboard-attainment" }, percent(r.attainment)),
          ),
        ),
        el("td", { class: "num" }, figure(r.actual, state.metric)),
      );
    }),
  );
  $("board-empty").hidden = rows.length > 0;
}

// --- pay ---------------------------------------------------------------------------------------

// Fractions in explanations that read better as percentages (a rate of 0.05 is 5 %).
const PERCENT_KEYS = new Set(["attainment", "rate", "above", "min_attainment"]);
const MONEY_KEYS = new Set(["base", "amount", "commission", "quota", "cap", "guarantee", "original_total", "recomputed_total"]);

function explanationNode(explanation, currency) {
  const box = el("div", { class: "why" });
  if (!explanation || typeof explanation !== "object") return box;
  if (explanation.rule) box.append(el("div", { class: "rule" }, explanation.rule));
  const facts = el("div", { class: "facts" });
  const nested = [];
  for (const [key, value] of Object.entries(explanation)) {
    if (key === "rule" || key === "component") continue;
    if (key === "events" && Array.isArray(value)) {
      facts.append(el("span", { class: "fact" }, `${value.length} event${value.length === 1 ? "" : "s"}`));
      continue;
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== "object") {
      let shown = String(value);
      if (MONEY_KEYS.has(key)) shown = money(value, currency);
      else if (PERCENT_KEYS.has(key)) shown = percent(value);
      facts.append(el("span", { class: "fact" }, `${key.replace(/_/g, " ")}: ${shown}`));
    } else {
      nested.push([key, value]);
    }
  }
  if (facts.childElementCount) box.append(facts);
  if (nested.length) {
    const details = el("details", {}, el("summary", {}, "details"));
    for (const [key, value] of nested) {
      details.append(el("div", { class: "nested-key" }, key.replace(/_/g, " ")));
      details.append(el("pre", {}, JSON.stringify(value, null, 2)));
    }
    box.append(details);
  }
  return box;
}

function renderPay(st) {
  $("pay-empty").hidden = Boolean(st);
  $("pay-body").hidden = !st;
  if (!st) {
    $("pay-status").textContent = "";
    return;
  }
  const currency = st.currency || state.context?.tenant?.currency;
  $("pay-status").textContent = `· ${st.period} · ${st.status}${st.plan ? ` · plan ${st.plan.key} v${st.plan.version}` : ""}`;
  const total = $("pay-total");
  total.textContent = money(st.total, currency);
  total.setAttribute("data-value", st.total);
  total.setAttribute("data-currency", currency || "");
  const meta = $("pay-meta");
  meta.replaceChildren();
  if (st.base !== undefined) meta.append(el("span", {}, `Collected ${money(st.base, currency)}`));
  if (st.quota) meta.append(el("span", {}, `Quota ${money(st.quota, currency)}`));
  if (st.attainment) meta.append(el("span", {}, `Attainment ${percent(st.attainment)}`));
  for (const c of st.conversions || []) {
    if (c.note) meta.append(el("span", { class: "warn" }, c.note));
  }
  $("pay-lines").replaceChildren(
    ...(st.lines || []).map((line) =>
      el(
        "tr",
        { "data-testid": "pay-line", "data-component": line.component, "data-amount": line.amount },
        el("td", {}, line.component, el("div", { class: "muted small" }, line.type || "")),
        el(
          "td",
          { class: "num amount" },
          line.amount === null ? el("span", { class: "muted" }, "waits for the final grade") : money(line.amount, currency),
        ),
        el("td", {}, explanationNode(line.explanation, currency)),
      ),
    ),
  );
}

// --- alerts ------------------------------------------------------------------------------------

/** REST alerts are snake_case, the subscription's camelCase: one shape for rendering. */
function normaliseAlert(a) {
  return {
    alertId: a.alertId ?? a.alert_id,
    rule: a.rule,
    status: a.status,
    severity: a.severity,
    metric: a.metric,
    period: a.period,
    figures: a.figures || {},
    evidenceRequested: a.evidenceRequested ?? a.evidence_requested,
    openedAt: a.openedAt ?? a.opened_at,
  };
}

function alertText(a) {
  const f = a.figures;
  switch (a.rule) {
    case "behind_pace":
      return `Projected ${percent(f.projected)} of target with ${percent(f.elapsed)} of the period gone (warn below ${percent(f.threshold)}).`;
    case "late_entry":
      return `Entered ${number(f.hours_late, 1)} h after it happened (limit ${number(f.late_hours)} h).`;
    case "stalled_deal":
      return `No stage change for ${number(f.days_since_change, 0)} days (limit ${number(f.stalled_days)}).`;
    case "burst":
      return `${number(f.count, 0)} activities today (threshold ${number(f.threshold, 0)}).`;
    case "repeated_follow_up":
      return `${number(f.count, 0)} follow-ups of one customer today (at most ${number(f.follow_up_max, 0)}).`;
    case "spike_drop":
      return `${percent(f.change)} against last month (threshold ±${percent(f.threshold)}).`;
    default:
      return Object.entries(f)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ");
  }
}

function renderAlerts() {
  const list = [...state.alerts.values()]
    .filter((a) => a.status !== "resolved")
    .sort((a, b) => String(b.openedAt).localeCompare(String(a.openedAt)));
  $("alerts").replaceChildren(
    ...list.map((a) =>
      el(
        "li",
        {
          "data-testid": "alert",
          "data-alert-id": a.alertId,
          "data-rule": a.rule,
          "data-live": state.liveIds.has(a.alertId) ? "true" : "false",
          class: `alert ${a.severity}`,
        },
        el(
          "div",
          { class: "alert-head" },
          el("span", { class: `badge ${a.severity}` }, a.severity),
          el("span", { class: "alert-title" }, RULES[a.rule] || a.rule),
          state.liveIds.has(a.alertId) ? el("span", { class: "badge live-badge" }, "new") : null,
        ),
        el("div", { class: "alert-text" }, alertText(a)),
        el(
          "div",
          { class: "muted small" },
          [
            a.metric ? metricName(a.metric) : null,
            a.period,
            a.status,
            a.openedAt ? `opened ${new Date(a.openedAt).toLocaleString(locale)}` : null,
            a.evidenceRequested ? "evidence requested" : null,
          ]
            .filter(Boolean)
            .join(" · "),
        ),
      ),
    ),
  );
  $("alerts-empty").hidden = list.length > 0;
  $("alerts-count").textContent = list.length ? `· ${list.length}` : "";
}

async function loadAlerts() {
  const startedAt = Date.now();
  const rows = await rest("/v1/alerts?status=active&limit=50");
  const fresh = new Map();
  for (const row of rows) {
    const a = normaliseAlert(row);
    fresh.set(a.alertId, a);
  }
  // The list is the truth for statuses, except for an alert the subscription delivered while
  // the list was being read: it stays until the next read.
  for (const [id, at] of state.liveIds) {
    if (!fresh.has(id) && at >= startedAt && state.alerts.has(id)) fresh.set(id, state.alerts.get(id));
  }
  state.alerts = fresh;
  renderAlerts();
}

/** graphql-transport-ws, the few messages this page needs: init (with the token), subscribe,
 * next / error / complete, ping → pong; reconnects with a growing pause. */
class AlertFeed {
  constructor(onAlert, onState, onError) {
    this.onAlert = onAlert;
    this.onState = onState;
    this.onError = onError;
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
  }

  start() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/graphql`, "graphql-transport-ws");
    this.ws = ws;
    this.onState("connecting");
    ws.onopen = () => {
      ws.send(
        JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${state.token}` } }),
      );
    };
    ws.onmessage = (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        this.onError("an unreadable message from the server");
        return;
      }
      switch (msg.type) {
        case "connection_ack":
          this.attempt = 0;
          ws.send(JSON.stringify({ id: "alerts", type: "subscribe", payload: { query: ALERTS_SUBSCRIPTION } }));
          this.onState("live");
          break;
        case "next":
          if (msg.payload?.errors?.length) this.onError(graphqlMessages(msg.payload.errors));
          if (msg.payload?.data?.alerts) this.onAlert(msg.payload.data.alerts);
          break;
        case "error":
          this.onError(graphqlMessages(msg.payload) || "the subscription was refused");
          break;
        case "complete":
          // The server ended the subscription: start over on a fresh connection.
          ws.close(1000, "complete");
          break;
        case "ping":
          ws.send(JSON.stringify({ type: "pong" }));
          break;
        default:
          break;
      }
    };
    ws.onclose = (event) => {
      if (this.ws !== ws || this.stopped) return;
      this.onState("offline");
      if (event.code === 4403) this.onError(`the server refused the token (${event.reason || 4403})`);
      this.attempt += 1;
      const pause = Math.min(30000, 1000 * 2 ** Math.min(this.attempt - 1, 5));
      setTimeout(() => this.start(), pause);
    };
  }

  stop() {
    this.stopped = true;
    this.ws?.close(1000, "bye");
  }
}

function setLive(status) {
  const live = $("live");
  live.setAttribute("data-state", status);
  $("live-text").textContent = `alerts: ${status}`;
  if (status === "live") {
    clearError("alerts feed");
    refresh("reconnected"); // catch up on anything raised while offline
  }
}

function onLiveAlert(item) {
  const a = normaliseAlert(item);
  state.liveIds.set(a.alertId, Date.now());
  state.alerts.set(a.alertId, a);
  const live = $("live");
  live.setAttribute("data-events", String(Number(live.getAttribute("data-events")) + 1));
  renderAlerts();
  refresh("alert"); // an alert usually means new figures
}

// --- refresh -----------------------------------------------------------------------------------

async function loadGoals() {
  const params = new URLSearchParams({ owner_kind: "person", owner_id: state.claims.sub, period: state.period });
  state.goals = await rest(`/v1/goals?${params}`);
  chooseMetric();
  renderMetricOptions();
}

async function loadDashboard() {
  const { data, errors } = await gql(DASHBOARD_QUERY, {
    period: state.period,
    me: state.claims.sub,
    metric: state.metric,
  });
  if (errors.length) setError("graphql", graphqlMessages(errors));
  else clearError("graphql");
  if (data.leaderboard) renderLeaderboard(data.leaderboard);
  if ("goal" in data) renderProgress(data.goal);
  if ("statement" in data) renderPay(data.statement);
  return data.goal;
}

async function loadPace(goal) {
  if (!goal) {
    renderPaceLine(null, null);
    return;
  }
  try {
    renderPaceLine(await rest(`/v1/goals/${goal.goalId}/pace`), goal);
  } catch (exc) {
    // A ratio or average has no day-by-day line: that is not an error, just no chart.
    if (exc.status === 422) renderPaceLine(null, null);
    else throw exc;
  }
}

async function step(source, work) {
  try {
    const result = await work();
    clearError(source);
    return { ok: true, result };
  } catch (exc) {
    setError(source, exc.message || String(exc));
    return { ok: false };
  }
}

async function refresh(reason) {
  if (!state.context) return;
  if (state.refreshing) {
    state.again = true;
    return;
  }
  state.refreshing = true;
  try {
    const goals = await step("goals", loadGoals);
    const [dash, alerts] = await Promise.all([
      step("dashboard", loadDashboard),
      step("alerts", loadAlerts),
    ]);
    const pace = await step("pace", () => loadPace(dash.ok ? dash.result : null));
    if (goals.ok && dash.ok && alerts.ok && pace.ok && !state.errors.has("graphql")) {
      const now = new Date();
      const stamp = $("last-updated");
      stamp.textContent = now.toLocaleTimeString(locale);
      stamp.dateTime = now.toISOString();
      stamp.setAttribute("data-reason", reason);
    }
  } finally {
    state.refreshing = false;
    if (state.again) {
      state.again = false;
      setTimeout(() => refresh("queued"), 0);
    }
  }
}

function schedule() {
  setTimeout(async () => {
    if (!document.hidden) await refresh("timer");
    schedule();
  }, REFRESH_MS);
}

// --- start -------------------------------------------------------------------------------------

async function start() {
  state.token = readToken();
  if (!state.token) {
    $("signin").hidden = false;
    return;
  }
  state.claims = decodeClaims(state.token);
  if (!state.claims?.sub) {
    setError("token", "the token in the address is not a JWT");
    $("signin").hidden = false;
    return;
  }
  if (state.claims.exp && state.claims.exp * 1000 < Date.now()) {
    setError("token", `the token expired at ${new Date(state.claims.exp * 1000).toLocaleString(locale)}`);
  }
  renderWho();
  const ctx = await step("context", () => rest("/dashboard/api/context"));
  if (!ctx.ok) return;
  state.context = ctx.result;
  const catalog = await step("metrics", () => rest("/v1/metrics"));
  for (const m of catalog.ok ? catalog.result : []) {
    const d = m.definition || {};
    state.metrics.set(d.key, { name: d.name, unit: d.unit });
  }
  renderWho();
  renderPeriods();
  $("main").hidden = false;
  $("period").addEventListener("change", (e) => {
    state.period = e.target.value;
    sessionStorage.setItem(PERIOD_KEY, state.period);
    refresh("period");
  });
  $("metric").addEventListener("change", (e) => {
    state.metric = e.target.value;
    sessionStorage.setItem(METRIC_KEY, state.metric);
    refresh("metric");
  });
  $("refresh").addEventListener("click", () => refresh("button"));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh("visible");
  });
  state.feed = new AlertFeed(onLiveAlert, setLive, (m) => setError("alerts feed", m));
  await refresh("start");
  state.feed.start();
  schedule();
}

window.addEventListener("hashchange", () => {
  // A new token pasted into the address: start over with it.
  if (new URLSearchParams(location.hash.replace(/^#/, "")).get("token")) location.reload();
});

start().catch((exc) => setError("dashboard", exc.message || String(exc)));

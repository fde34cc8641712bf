// Quotient dashboard: each role lands on its own view — a rep on their progress against pace,
// the leaderboard, their open alerts (live over a GraphQL subscription) and their pay; a manager
// on the team (views.js); finance on the period's statements (views.js). All from the public API
// with the bearer token given in the URL fragment (#token=...). Plain ES modules, no build step,
// no third-party code; words and formats in Simplified Chinese or English (i18n.js).
//
// Money and figures arrive as decimal strings and are only ever formatted (Intl.NumberFormat
// formats a decimal string exactly), never added up here: totals are the services'.

import { alertItems, normaliseAlert } from "./alerts.js";
import {
  $,
  TOKEN_KEY,
  clearError,
  el,
  gql,
  graphqlMessages,
  rest,
  setError,
  state,
  step,
} from "./api.js";
import { attainmentBars, num, paceLine, svg } from "./charts.js";
import {
  LANGUAGES,
  applyStaticText,
  chooseLanguage,
  day,
  i18n,
  metricLabel,
  moment,
  money,
  number,
  percent,
  periodName,
  rememberLanguage,
  setLanguage,
  t,
} from "./i18n.js";
import { VIEWS, bindFinanceExports, loadFinance, loadTeam, viewsFor } from "./views.js";

const PERIOD_KEY = "quotient.dashboard.period";
const METRIC_KEY = "quotient.dashboard.metric";
const VIEW_KEY = "quotient.dashboard.view";
const TEAM_KEY = "quotient.dashboard.team";
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

// --- formatting --------------------------------------------------------------------------------

export function currency() {
  return state.context?.tenant?.currency;
}

/** A metric's figure in its unit: money in the tenant's currency, ratios as percentages. */
export function figure(value, metricKey) {
  const unit = state.metrics.get(metricKey)?.unit;
  if (unit === "currency") return money(value, currency());
  if (unit === "ratio") return percent(value);
  return number(value);
}

export function metricName(key) {
  return metricLabel(key, state.metrics.get(key)?.name);
}

export function setFigure(id, text, raw) {
  const node = $(id);
  node.textContent = text;
  if (raw === null || raw === undefined) node.removeAttribute("data-value");
  else node.setAttribute("data-value", String(raw));
}

// --- who, language, views, periods, metrics ----------------------------------------------------

function renderWho() {
  const c = state.claims || {};
  const me = state.context?.me;
  const tenant = state.context?.tenant;
  const who = $("whoami");
  who.replaceChildren(
    el("span", { class: "who-name", "data-testid": "who-name" }, me?.name || c.sub || "?"),
    el("span", { class: "muted" }, ` · ${c.sub || "?"} · ${tenant?.name || c.tid || "?"}`),
  );
  who.setAttribute("data-subject", c.sub || "");
  who.setAttribute("data-tenant", c.tid || "");
  who.title = `tenant ${c.tid}\nroles ${(c.roles || []).join(", ")}`;
}

function renderLanguages() {
  const select = $("lang");
  select.replaceChildren(
    ...Object.entries(LANGUAGES).map(([value, name]) => el("option", { value, lang: value }, name)),
  );
  select.value = i18n.lang;
}

function renderViews() {
  const views = viewsFor(state.claims?.roles || [], state.context?.teams || []);
  const box = $("views");
  box.replaceChildren(
    ...views.map((v) =>
      el(
        "button",
        {
          type: "button",
          class: v === state.view ? "tab active" : "tab",
          "data-testid": "view-tab",
          "data-view": v,
          "aria-pressed": v === state.view ? "true" : "false",
        },
        t(`view.${v}`),
      ),
    ),
  );
  box.hidden = views.length < 2;
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== state.view;
  document.body.setAttribute("data-view", state.view || "");
  $("brand-sub").textContent = t(`brand.${state.view || "rep"}`);
  $("metric-control").hidden = state.view !== "rep";
  const teams = state.context?.teams || [];
  $("team-control").hidden = state.view !== "manager" || teams.length < 2;
}

function chooseView() {
  const views = viewsFor(state.claims?.roles || [], state.context?.teams || []);
  const saved = sessionStorage.getItem(VIEW_KEY);
  state.view = views.includes(saved) ? saved : views[0];
  const teams = state.context?.teams || [];
  const savedTeam = sessionStorage.getItem(TEAM_KEY);
  state.team = teams.find((tm) => tm.team_id === savedTeam)?.team_id || teams[0]?.team_id || null;
}

function renderTeams() {
  const select = $("team");
  const teams = state.context?.teams || [];
  select.replaceChildren(...teams.map((tm) => el("option", { value: tm.team_id }, tm.name)));
  if (state.team) select.value = state.team;
}

function renderPeriods() {
  const select = $("period");
  select.replaceChildren();
  for (const p of state.context.periods) {
    const name = p.current ? t(`period.${p.kind}`) : t("period.last");
    select.append(el("option", { value: p.label }, `${name} (${periodName(p.label)})`));
  }
  if (!state.period) {
    const saved = sessionStorage.getItem(PERIOD_KEY);
    const labels = state.context.periods.map((p) => p.label);
    state.period = labels.includes(saved) ? saved : labels[0];
  }
  if ([...select.options].some((o) => o.value === state.period)) select.value = state.period;
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

/** Everything written by the page itself, in the language now chosen. */
function renderLanguage() {
  applyStaticText();
  renderLanguages();
  if (!state.context) return;
  renderWho();
  renderPeriods();
  renderViews();
  renderAlerts();
  const stamp = $("last-updated");
  stamp.textContent = stamp.dateTime ? moment(stamp.dateTime, false) : t("updated.never");
  const live = $("live").getAttribute("data-state");
  $("live-text").textContent = t("live.state", { state: t(`live.${live}`) });
}

// --- progress ----------------------------------------------------------------------------------

function renderProgress(goal) {
  $("progress-period").textContent = state.period ? `· ${periodName(state.period)}` : "";
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
  const title = t("chart.barTitle", {
    actual: figure(goal.actual ?? 0, goal.metric),
    expected: figure(goal.expected, goal.metric),
    target: figure(goal.effectiveTarget, goal.metric),
  });
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title },
    svg("title", {}, title),
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
    svg("text", { x: x(expected), y: 13, class: "mark-label", "text-anchor": "middle" }, t("chart.pace")),
    svg("line", { x1: x(target), x2: x(target), y1: 18, y2: 56, class: "target-mark" }),
    svg(
      "text",
      { x: Math.min(x(target), W - 30), y: 72, class: "mark-label", "text-anchor": "middle" },
      t("chart.target"),
    ),
  );
  $("pace-bar").replaceChildren(chart);
}

/** The pace line chart and its legend into a box (the rep's own goal or the team's). */
export function renderPaceLine(box, pace, goal) {
  if (!pace || !goal || !pace.points?.length) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(
    paceLine(pace, goal, {
      title: t("chart.lineTitle"),
      target: t("chart.targetValue", { value: figure(pace.target, goal.metric) }),
      start: day(goal.periodStart),
      end: day(goal.periodEnd),
      today: t("chart.today"),
    }),
    el(
      "div",
      { class: "legend" },
      el("span", { class: "key actual" }, t("chart.actual")),
      el("span", { class: "key pace" }, t("chart.paceLine")),
      el("span", { class: "key target" }, t("chart.target")),
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

/** Leaderboard rows (shared by the rep's and the team's board). */
export function leaderboardRows(rows, metric) {
  const me = state.claims?.sub;
  return rows.map((r) => {
    const share = Math.max(0, Math.min(100, num(r.attainment) * 100));
    if (r.name) state.names.set(r.personId, r.name);
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
        r.personId === me ? el("span", { class: "you" }, t("you")) : null,
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
      el("td", { class: "num" }, figure(r.actual, metric)),
    );
  });
}

function renderLeaderboard(rows) {
  $("board-metric").textContent = `· ${metricName(state.metric)} · ${periodName(state.period)}`;
  $("leaderboard-rows").replaceChildren(...leaderboardRows(rows, state.metric));
  $("board-empty").hidden = rows.length > 0;
}

// --- pay ---------------------------------------------------------------------------------------

// Fractions in explanations that read better as percentages (a rate of 0.05 is 5 %).
const PERCENT_KEYS = new Set(["attainment", "rate", "above", "min_attainment"]);
const MONEY_KEYS = new Set(["base", "amount", "commission", "quota", "cap", "guarantee", "original_total", "recomputed_total"]);

function explanationNode(explanation, cur) {
  const box = el("div", { class: "why" });
  if (!explanation || typeof explanation !== "object") return box;
  if (explanation.rule) box.append(el("div", { class: "rule" }, explanation.rule));
  const facts = el("div", { class: "facts" });
  const nested = [];
  for (const [key, value] of Object.entries(explanation)) {
    if (key === "rule" || key === "component") continue;
    if (key === "events" && Array.isArray(value)) {
      facts.append(
        el("span", { class: "fact" }, value.length === 1 ? t("pay.event") : t("pay.events", { count: number(value.length, 0) })),
      );
      continue;
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== "object") {
      let shown = String(value);
      if (MONEY_KEYS.has(key)) shown = money(value, cur);
      else if (PERCENT_KEYS.has(key)) shown = percent(value);
      facts.append(el("span", { class: "fact" }, `${key.replace(/_/g, " ")}: ${shown}`));
    } else {
      nested.push([key, value]);
    }
  }
  if (facts.childElementCount) box.append(facts);
  if (nested.length) {
    const details = el("details", {}, el("summary", {}, t("pay.details")));
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
  const cur = st.currency || currency();
  const plan = st.plan ? ` · ${t("pay.plan", { key: st.plan.key, version: st.plan.version })}` : "";
  $("pay-status").textContent = `· ${st.period} · ${t(`st.${st.status}`)}${plan}`;
  const total = $("pay-total");
  total.textContent = money(st.total, cur);
  total.setAttribute("data-value", st.total);
  total.setAttribute("data-currency", cur || "");
  const meta = $("pay-meta");
  meta.replaceChildren();
  if (st.base !== undefined) meta.append(el("span", {}, t("pay.collected", { amount: money(st.base, cur) })));
  if (st.quota) meta.append(el("span", {}, t("pay.quota", { amount: money(st.quota, cur) })));
  if (st.attainment) meta.append(el("span", {}, t("pay.attainment", { value: percent(st.attainment) })));
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
          line.amount === null ? el("span", { class: "muted" }, t("pay.waits")) : money(line.amount, cur),
        ),
        el("td", {}, explanationNode(line.explanation, cur)),
      ),
    ),
  );
}

// --- alerts ------------------------------------------------------------------------------------

function renderAlerts() {
  const items = alertItems(state.alerts, { live: state.liveIds });
  $("alerts").replaceChildren(...items);
  $("alerts-empty").hidden = items.length > 0;
  $("alerts-count").textContent = items.length ? `· ${number(items.length, 0)}` : "";
}

async function loadAlerts() {
  const startedAt = Date.now();
  const rows = await rest(`/v1/alerts?status=active&limit=50&person_id=${encodeURIComponent(state.claims.sub)}`);
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
  $("live-text").textContent = t("live.state", { state: t(`live.${status}`) });
  if (status === "live") {
    clearError("alerts feed");
    refresh("reconnected"); // catch up on anything raised while offline
  }
}

function onLiveAlert(item) {
  const a = normaliseAlert(item);
  state.liveIds.set(a.alertId, Date.now());
  const live = $("live");
  live.setAttribute("data-events", String(Number(live.getAttribute("data-events")) + 1));
  if (a.personId === state.claims?.sub) {
    state.alerts.set(a.alertId, a);
    renderAlerts();
  }
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

// Only sums and counts add up day by day; a ratio or an average has no pace line.
const PACED = new Set(["count", "sum"]);

/** The day-by-day pace of a goal, or null (a ratio or average has no line: not an error). */
export async function loadPace(goalId, metric) {
  if (!goalId) return null;
  const kind = state.metrics.get(metric)?.kind;
  if (kind && !PACED.has(kind)) return null;
  try {
    return await rest(`/v1/goals/${goalId}/pace`);
  } catch (exc) {
    if (exc.status === 422) return null;
    throw exc;
  }
}

async function refreshRep() {
  const goals = await step("goals", loadGoals);
  const [dash, alerts] = await Promise.all([
    step("dashboard", loadDashboard),
    step("alerts", loadAlerts),
  ]);
  const goal = dash.ok ? dash.result : null;
  const pace = await step("pace", async () => renderPaceLine($("pace-line"), await loadPace(goal?.goalId, goal?.metric), goal));
  return goals.ok && dash.ok && alerts.ok && pace.ok && !state.errors.has("graphql");
}

async function refresh(reason) {
  if (!state.context) return;
  if (state.refreshing) {
    state.again = true;
    return;
  }
  state.refreshing = true;
  try {
    let ok;
    if (state.view === "manager") ok = await loadTeam();
    else if (state.view === "finance") ok = await loadFinance(refresh);
    else ok = await refreshRep();
    if (ok) {
      const now = new Date();
      const stamp = $("last-updated");
      stamp.textContent = moment(now, false);
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

/** The shipped CJK face, loaded before any Chinese is laid out: text shaped while it was still
 * loading could keep the missing-glyph boxes of the fallback font. */
async function cjkFont() {
  try {
    await document.fonts.load('14px "Quotient CJK"', "中文");
  } catch {
    // Still readable where the system has a CJK font; the tests check the face loads.
  }
}

async function start() {
  setLanguage(chooseLanguage());
  await cjkFont();
  renderLanguage();
  $("lang").addEventListener("change", (e) => {
    rememberLanguage(e.target.value);
    setLanguage(e.target.value);
    renderLanguage();
    refresh("language");
  });
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
    setError("token", `the token expired at ${moment(state.claims.exp * 1000)}`);
  }
  renderWho();
  const ctx = await step("context", () => rest("/dashboard/api/context"));
  if (!ctx.ok) return;
  state.context = ctx.result;
  i18n.timeZone = state.context.tenant?.timezone || undefined;
  if (state.context.me?.name) state.names.set(state.claims.sub, state.context.me.name);
  for (const [id, name] of Object.entries(state.context.people || {})) state.names.set(id, name);
  const catalog = await step("metrics", () => rest("/v1/metrics"));
  for (const m of catalog.ok ? catalog.result : []) {
    const d = m.definition || {};
    state.metrics.set(d.key, { name: d.name, unit: d.unit, kind: d.kind });
  }
  chooseView();
  renderTeams();
  renderLanguage();
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
  $("team").addEventListener("change", (e) => {
    state.team = e.target.value;
    sessionStorage.setItem(TEAM_KEY, state.team);
    refresh("team");
  });
  $("views").addEventListener("click", (e) => {
    const view = e.target.closest("[data-view]")?.getAttribute("data-view");
    if (!view || view === state.view) return;
    state.view = view;
    sessionStorage.setItem(VIEW_KEY, view);
    for (const source of [...state.errors.keys()]) clearError(source);
    renderViews();
    refresh("view");
  });
  bindFinanceExports();
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

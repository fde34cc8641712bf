// The manager's and finance's views. A manager sees their team: goals and pace (who is behind and
// by how much), the team's open alerts, the team leaderboard, grades against the forced-
// distribution quotas, pending reviews and appeals, and charts (attainment bars, the team's pace
// line, the funnel). Finance sees the period's statements to approve, accruals and the payroll
// exports. Only public API reads; the API decides what each caller may see.

import { alertItems, normaliseAlert } from "./alerts.js";
import { $, download, el, gql, graphqlMessages, post, rest, setError, clearError, state, step } from "./api.js";
import { attainmentBars, funnel, gradeColumns, num } from "./charts.js";
import { currency, figure, leaderboardRows, loadPace, renderPaceLine, setFigure } from "./app.js";
import { money, number, percent, periodName, t } from "./i18n.js";

export const VIEWS = ["rep", "manager", "finance"];
const METRIC = "collected_revenue";

/** The views a token's roles open, the one to land on first. */
export function viewsFor(roles, teams) {
  const has = (...r) => r.some((x) => roles.includes(x));
  const views = [];
  if (has("manager", "admin", "hr") || (teams.length && !has("finance"))) views.push("manager");
  if (has("finance", "admin")) views.push("finance");
  if (has("rep", "assistant", "manager", "committee") || views.length === 0) views.push("rep");
  return views;
}

function team() {
  return (state.context?.teams || []).find((tm) => tm.team_id === state.team) || null;
}

function elapsedOf(period) {
  const p = (state.context?.periods || []).find((x) => x.label === period);
  return p ? p.elapsed : null;
}

function rememberNames() {
  for (const tm of state.context?.teams || []) {
    for (const m of tm.members || []) state.names.set(m.person_id, m.name);
  }
}

const nameOf = (id) => state.names.get(id) || id;

// --- the manager's view --------------------------------------------------------------------------

const TEAM_QUERY = `
query Team($period: String!, $team: String!, $metric: String!) {
  team: goalTree(ownerKind: "team", ownerId: $team, period: $period, metric: $metric) {
    goalId metric period periodStart periodEnd target effectiveTarget actual attainment
    elapsed expected projectedAttainment
  }
  board: leaderboard(metric: $metric, period: $period, teamId: $team, limit: 50) {
    rank personId name actual target attainment
  }
}`;

export async function loadTeam() {
  rememberNames();
  const current = team();
  $("team-none").hidden = Boolean(current);
  $("team-body").hidden = !current;
  if (!current) return true;
  $("team-name").textContent = `· ${current.name} · ${periodName(state.period)}`;
  const teamId = current.team_id;
  const results = await Promise.all([
    step("team", () => loadTeamFigures(teamId)),
    step("team alerts", () => loadTeamAlerts(teamId)),
    step("funnel", () => loadFunnel(teamId)),
    step("grades", () => loadGrades(teamId)),
    step("pending", () => loadPending()),
  ]);
  return results.every((r) => r.ok) && !state.errors.has("graphql");
}

async function loadTeamFigures(teamId) {
  const { data, errors } = await gql(TEAM_QUERY, { period: state.period, team: teamId, metric: METRIC });
  if (errors.length) setError("graphql", graphqlMessages(errors));
  else clearError("graphql");
  const goal = data.team || null;
  const board = data.board || [];
  const elapsed = goal?.elapsed ?? elapsedOf(state.period);
  renderTeamFigures(goal);
  renderBehind(board, elapsed);
  $("team-board-rows").replaceChildren(...leaderboardRows(board, METRIC));
  $("team-board-empty").hidden = board.length > 0;
  renderPaceLine($("team-pace-line"), goal ? await loadPace(goal.goalId, goal.metric) : null, goal);
  $("team-line-empty").hidden = Boolean(goal);
}

function renderTeamFigures(goal) {
  const set = setFigure;
  $("team-figures").hidden = !goal;
  if (!goal) return;
  set("team-actual", figure(goal.actual, goal.metric), goal.actual);
  set("team-target", figure(goal.effectiveTarget, goal.metric), goal.effectiveTarget);
  set("team-attainment", percent(goal.attainment), goal.attainment);
  set("team-expected", figure(goal.expected, goal.metric), goal.expected);
  set("team-projected", percent(goal.projectedAttainment), goal.projectedAttainment);
}

/** Who is behind and by how much: each member's actual against where pace says they should be
 * today (target × the period's elapsed fraction), the furthest behind first; and as bars. */
function renderBehind(board, elapsed) {
  const rows = board
    .filter((r) => r.target !== null && r.target !== undefined)
    .map((r) => {
      const expected = elapsed === null ? null : num(r.target) * num(elapsed);
      const gap = expected === null ? null : expected - num(r.actual);
      return { ...r, expected, gap };
    })
    .sort((a, b) => (b.gap ?? 0) - (a.gap ?? 0));
  $("behind-rows").replaceChildren(
    ...rows.map((r) => {
      const behind = r.gap !== null && r.gap > 0.005;
      const ahead = r.gap !== null && r.gap < -0.005;
      // The gap is a difference of the API's figures for display only (rounded to cents).
      const amount = r.gap === null ? null : Math.abs(r.gap).toFixed(2);
      const words = behind
        ? t("team.behindBy", { amount: figure(amount, METRIC) })
        : ahead
          ? t("team.ahead", { amount: figure(amount, METRIC) })
          : t("team.onPace");
      return el(
        "tr",
        {
          "data-testid": "behind-row",
          "data-person-id": r.personId,
          "data-gap": r.gap === null ? "" : r.gap.toFixed(2),
          class: behind ? "behind" : "ahead",
        },
        el("td", { class: "name" }, r.name || r.personId),
        el("td", { class: "num" }, figure(r.actual, METRIC)),
        el("td", { class: "num" }, figure(r.target, METRIC)),
        el("td", { class: "num" }, percent(r.attainment)),
        el("td", { class: "num" }, r.expected === null ? "–" : figure(r.expected.toFixed(2), METRIC)),
        el("td", { class: behind ? "gap behind" : "gap ahead", "data-testid": "behind-gap" }, words),
      );
    }),
  );
  $("behind-empty").hidden = rows.length > 0;
  $("team-bars").replaceChildren(
    rows.length
      ? attainmentBars(
          rows.map((r) => ({
            key: r.personId,
            label: r.name || r.personId,
            value: r.attainment,
            text: percent(r.attainment),
            behind: r.gap !== null && r.gap > 0.005,
          })),
          elapsed,
          { title: t("chart.bars"), paceLabel: t("chart.pace") },
        )
      : "",
  );
}

async function loadTeamAlerts(teamId) {
  const rows = await rest(`/v1/alerts?team_id=${encodeURIComponent(teamId)}&status=active&limit=200`);
  const alerts = new Map(rows.map((r) => [r.alert_id, normaliseAlert(r)]));
  const items = alertItems(alerts, { who: true });
  $("team-alerts").replaceChildren(...items);
  $("team-alerts-empty").hidden = items.length > 0;
  $("team-alerts-count").textContent = items.length ? `· ${number(items.length, 0)}` : "";
}

async function loadFunnel(teamId) {
  const f = await rest(`/v1/funnel?team_id=${encodeURIComponent(teamId)}&period=${encodeURIComponent(state.period)}`);
  const stages = f.stages || [];
  const any = stages.some((s) => s.deals > 0);
  $("funnel-empty").hidden = any;
  const box = $("funnel");
  if (!any) {
    box.replaceChildren();
    return;
  }
  const conversions = stages.map((s, i) => {
    const tr = (f.transitions || [])[i - 1];
    return i > 0 && tr && tr.conversion !== null ? percent(tr.conversion) : "";
  });
  const notes = el("div", { class: "legend" });
  if (f.overall !== null && f.overall !== undefined) notes.append(el("span", {}, t("funnel.overall", { value: percent(f.overall) })));
  if (f.weakest) {
    const from = t(`stage.${f.weakest.from ?? f.weakest.from_stage}`);
    const to = t(`stage.${f.weakest.to ?? f.weakest.to_stage}`);
    notes.append(
      el(
        "span",
        { class: "warn", "data-testid": "funnel-weakest" },
        t("funnel.weakest", { name: `${from} → ${to}`, conversion: percent(f.weakest.conversion) }),
      ),
    );
  }
  box.replaceChildren(
    funnel(stages, {
      title: t("funnel.title"),
      names: stages.map((s) => t(`stage.${s.stage}`)),
      conversions,
    }),
    notes,
  );
}

async function loadGrades(teamId) {
  const [ranking, grading] = await Promise.all([
    rest(`/v1/scorecards/ranking?period=${encodeURIComponent(state.period)}&team_id=${encodeURIComponent(teamId)}`),
    rest("/v1/grading"),
  ]);
  const distribution = ranking.distribution || {};
  const size = Object.values(distribution).reduce((a, b) => a + b, 0);
  $("grades-period").textContent = `· ${t("grades.period", { period: periodName(state.period) })}`;
  $("grades-empty").hidden = size > 0;
  const quotaOf = new Map();
  for (const q of grading.quotas || []) for (const g of q.grades) quotaOf.set(g, q);
  const bands = (grading.bands || []).map((b) => b.grade);
  const grades = bands.map((grade) => {
    const count = distribution[grade] || 0;
    return { grade, count, min: null, max: null, breach: false };
  });
  const notes = [];
  for (const q of grading.quotas || []) {
    const count = q.grades.reduce((a, g) => a + (distribution[g] || 0), 0);
    const low = q.min_share === null ? null : Math.ceil(num(q.min_share) * size - 1e-9);
    const high = q.max_share === null ? null : Math.floor(num(q.max_share) * size + 1e-9);
    const breach = size > 0 && ((low !== null && count < low) || (high !== null && count > high));
    for (const g of grades) {
      if (q.grades.includes(g.grade) && q.grades.length === 1) {
        g.min = low;
        g.max = high;
      }
      if (q.grades.includes(g.grade)) g.breach = g.breach || breach;
    }
    const share = (value, fallback) => (value === null ? fallback : percent(value));
    const range = size
      ? `${low ?? 0}–${high ?? size}`
      : `${share(q.min_share, percent(0))}–${share(q.max_share, percent(1))}`;
    notes.push(
      el(
        "li",
        { "data-testid": "grade-quota", "data-grades": q.grades.join(","), "data-breach": String(breach), class: breach ? "warn" : "" },
        `${t("grades.quota", { grades: q.grades.join("/"), count, size, range })} · ${t(breach ? "grades.breach" : "grades.ok")}`,
      ),
    );
  }
  if (!grading.forced_distribution) notes.push(el("li", { class: "muted" }, t("grades.off")));
  $("grades-chart").replaceChildren(size > 0 ? gradeColumns(grades, { title: t("grades.title") }) : "");
  $("grades-quotas").replaceChildren(...notes);
}

async function loadPending() {
  const [reviews, appeals, payAppeals] = await Promise.all([
    rest("/v1/reviews/todo"),
    rest("/v1/appeals?status=submitted"),
    rest("/v1/pay-appeals?status=submitted"),
  ]);
  const list = (id, rows, render) => {
    $(id).replaceChildren(...(rows.length ? rows.map(render) : [el("li", { class: "muted" }, t("pending.none"))]));
  };
  list("pending-reviews", reviews, (r) =>
    el(
      "li",
      { "data-testid": "pending-review", "data-person-id": r.person_id },
      t("pending.review", { group: r.group || "", name: nameOf(r.person_id), period: periodName(r.period || "") }),
    ),
  );
  list("pending-appeals", appeals, (a) =>
    el(
      "li",
      { "data-testid": "pending-appeal", "data-person-id": a.person_id },
      t("pending.appeal", { name: nameOf(a.person_id), item: a.item_key, reason: a.reason }),
    ),
  );
  list("pending-pay-appeals", payAppeals, (a) =>
    el(
      "li",
      { "data-testid": "pending-pay-appeal", "data-person-id": a.person_id },
      t("pending.payAppeal", {
        name: nameOf(a.person_id),
        component: a.component,
        period: periodName(a.period),
        reason: a.reason,
      }),
    ),
  );
  const count = reviews.length + appeals.length + payAppeals.length;
  $("pending-count").textContent = count ? `· ${number(count, 0)}` : "";
}

// --- finance's view --------------------------------------------------------------------------------

export async function loadFinance(refresh) {
  rememberNames();
  const result = await step("payouts", () => rest(`/v1/payouts/summary?period=${encodeURIComponent(state.period)}`));
  if (!result.ok) return false;
  renderFinance(result.result, refresh);
  return true;
}

function renderFinance(summary, refresh) {
  const cur = currency();
  $("finance-period").textContent = `· ${periodName(summary.period)}`;
  for (const key of ["earned", "paid", "accrued"]) {
    const node = $(`finance-${key}`);
    node.textContent = money(summary[key], cur);
    node.setAttribute("data-value", summary[key]);
  }
  const rows = summary.people || [];
  const drafts = rows.filter((r) => r.status === "draft").length;
  $("finance-to-approve").textContent = drafts ? t("finance.toApprove", { count: number(drafts, 0) }) : "";
  $("finance-empty").hidden = rows.length > 0;
  const me = state.claims?.sub;
  const roles = state.claims?.roles || [];
  const act = (label, testid, work) => {
    const button = el("button", { type: "button", class: "act", "data-testid": testid }, label);
    button.addEventListener("click", async () => {
      button.disabled = true;
      const done = await step("statement", work);
      if (done.ok) refresh("statement");
      else button.disabled = false;
    });
    return button;
  };
  $("finance-rows").replaceChildren(
    ...rows.map((r) => {
      let action = null;
      if (r.status === "open" && roles.some((x) => ["finance", "admin"].includes(x))) {
        action = act(t("finance.prepare"), "prepare", () =>
          post("/v1/statements/prepare", { person_id: r.person_id, period: summary.period }),
        );
      } else if (r.status === "draft" && r.prepared_by === me) {
        action = el("span", { class: "muted small" }, t("finance.ownDraft"));
      } else if (r.status === "draft") {
        action = act(t("finance.approve"), "approve", () => post(`/v1/statements/${r.statement_id}/approve`));
      } else if (r.status === "approved") {
        action = act(t("finance.markPaid"), "mark-paid", () => post(`/v1/statements/${r.statement_id}/paid`));
      }
      return el(
        "tr",
        {
          "data-testid": "finance-row",
          "data-person-id": r.person_id,
          "data-status": r.status,
          "data-accrued": r.accrued,
          class: r.status === "draft" ? "to-approve" : null,
        },
        el("td", { class: "name" }, el("span", { "data-testid": "finance-name" }, nameOf(r.person_id)), el("span", { class: "muted small" }, ` ${r.person_id}`)),
        el("td", { class: "num" }, money(r.earned, cur)),
        el("td", { class: "num" }, money(r.paid, cur)),
        el("td", { class: "num" }, money(r.accrued, cur)),
        el("td", {}, el("span", { class: `badge st-${r.status}` }, t(`st.${r.status}`))),
        el("td", {}, action),
      );
    }),
  );
  // Accruals as a bar: paid, then earned but not yet paid.
  const earned = num(summary.earned);
  const paidShare = earned > 0 ? Math.min(100, (num(summary.paid) / earned) * 100) : 0;
  $("finance-bar").replaceChildren(
    el(
      "div",
      { class: "stack", "data-testid": "accrual-bar", role: "img", "aria-label": `${t("finance.paid")} ${money(summary.paid, cur)} · ${t("finance.accrued")} ${money(summary.accrued, cur)}` },
      el("span", { class: "paid", style: `width:${paidShare.toFixed(1)}%` }),
      el("span", { class: "accrued", style: `width:${(100 - paidShare).toFixed(1)}%` }),
    ),
  );
}

export function bindFinanceExports() {
  for (const format of ["csv", "xlsx"]) {
    $(`export-${format}`).addEventListener("click", async () => {
      const period = state.period;
      const name = `payroll-${period}.${format}`;
      const done = await step("export", () =>
        download(`/v1/statements/export?period=${encodeURIComponent(period)}&format=${format}`, name),
      );
      if (done.ok) $("export-status").textContent = name;
    });
  }
}

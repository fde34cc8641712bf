// Alerts as people read them: one shape for REST and the subscription, the words in the chosen
// language, and the actionable ones first (open before acknowledged, evidence asked for, most
// severe, the current period's, newest).

import { el, personName, state } from "./api.js";
import { moment, number, percent, periodName, t } from "./i18n.js";

/** REST alerts are snake_case, the subscription's camelCase: one shape for rendering. */
export function normaliseAlert(a) {
  return {
    alertId: a.alertId ?? a.alert_id,
    rule: a.rule,
    status: a.status,
    severity: a.severity,
    personId: a.personId ?? a.person_id,
    teamId: a.teamId ?? a.team_id,
    metric: a.metric,
    period: a.period,
    figures: a.figures || {},
    evidenceRequested: a.evidenceRequested ?? a.evidence_requested,
    openedAt: a.openedAt ?? a.opened_at,
  };
}

export function alertText(a) {
  const f = a.figures;
  switch (a.rule) {
    case "behind_pace":
      return t("alert.behind_pace", {
        projected: percent(f.projected),
        elapsed: percent(f.elapsed),
        threshold: percent(f.threshold),
      });
    case "late_entry":
      return t("alert.late_entry", { hours: number(f.hours_late, 1), limit: number(f.late_hours) });
    case "stalled_deal":
      return t("alert.stalled_deal", {
        days: number(f.days_since_change, 0),
        limit: number(f.stalled_days),
      });
    case "burst":
      return t("alert.burst", { count: number(f.count, 0), threshold: number(f.threshold, 0) });
    case "repeated_follow_up":
      return t("alert.repeated_follow_up", {
        count: number(f.count, 0),
        limit: number(f.follow_up_max, 0),
      });
    case "spike_drop":
      return t("alert.spike_drop", { change: percent(f.change), threshold: percent(f.threshold) });
    default:
      return Object.entries(f)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ");
  }
}

const SEVERITY = { critical: 0, warning: 1, info: 2 };

/** Actionable first: open before acknowledged, evidence asked for, most severe, this period's,
 * then the newest. */
export function byActionable(current) {
  return (a, b) =>
    (a.status === "open" ? 0 : 1) - (b.status === "open" ? 0 : 1) ||
    (a.evidenceRequested ? 0 : 1) - (b.evidenceRequested ? 0 : 1) ||
    (SEVERITY[a.severity] ?? 3) - (SEVERITY[b.severity] ?? 3) ||
    (current.has(a.period) ? 0 : 1) - (current.has(b.period) ? 0 : 1) ||
    String(b.openedAt).localeCompare(String(a.openedAt));
}

function currentPeriods() {
  return new Set((state.context?.periods || []).filter((p) => p.current).map((p) => p.label));
}

/** The open alerts of a map as list items, actionable first; `who` adds the person's name. */
export function alertItems(alerts, { who = false, live = new Map() } = {}) {
  const list = [...alerts.values()]
    .filter((a) => a.status !== "resolved")
    .sort(byActionable(currentPeriods()));
  return list.map((a) =>
    el(
      "li",
      {
        "data-testid": "alert",
        "data-alert-id": a.alertId,
        "data-rule": a.rule,
        "data-status": a.status,
        "data-severity": a.severity,
        "data-evidence": a.evidenceRequested ? "true" : "false",
        "data-person-id": a.personId ?? "",
        "data-live": live.has(a.alertId) ? "true" : "false",
        class: `alert ${a.severity}`,
      },
      el(
        "div",
        { class: "alert-head" },
        el("span", { class: `badge ${a.severity}` }, t(`severity.${a.severity}`)),
        el("span", { class: "alert-title" }, t(`rule.${a.rule}`)),
        who && a.personId ? el("span", { class: "alert-who" }, personName(a.personId)) : null,
        live.has(a.alertId) ? el("span", { class: "badge live-badge" }, t("alerts.new")) : null,
      ),
      el("div", { class: "alert-text" }, alertText(a)),
      el(
        "div",
        { class: "muted small" },
        [
          a.metric ? state.metrics.get(a.metric)?.name || a.metric : null,
          a.period ? periodName(a.period) : null,
          t(`status.${a.status}`),
          a.openedAt ? t("alerts.opened", { when: moment(a.openedAt) }) : null,
          a.evidenceRequested ? t("alerts.evidence") : null,
        ]
          .filter(Boolean)
          .join(" · "),
      ),
    ),
  );
}

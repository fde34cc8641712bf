// Small inline-SVG charts drawn here (no library, nothing fetched): attainment bars against the
// pace mark, a cumulative line against the pace line, a funnel, grades against quotas.
// Floats only place pixels; every number shown is formatted from the API's decimal strings.

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== ""));
  return node;
}

export const num = (value) => (value === null || value === undefined || value === "" ? 0 : Number(value));

/** One horizontal bar per row: attainment (capped at the right edge) with the pace mark.
 * rows: [{key, label, value (fraction), text, behind (bool)}]; pace: the fraction due today. */
export function attainmentBars(rows, pace, { title, paceLabel, testid = "attainment-bars" }) {
  const W = 640;
  const rowH = 26;
  const left = 150;
  const right = 70;
  const top = 18;
  const H = top + rows.length * rowH + 8;
  const peak = Math.max(1.2, num(pace), ...rows.map((r) => num(r.value))) * 1.02;
  const x = (v) => left + ((W - left - right) * Math.max(0, Math.min(v, peak))) / peak;
  const paceX = x(num(pace));
  return svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, "data-testid": testid },
    svg("title", {}, title),
    svg("line", { x1: x(1), x2: x(1), y1: top - 6, y2: H - 4, class: "target-mark" }),
    svg("line", { x1: paceX, x2: paceX, y1: top - 6, y2: H - 4, class: "pace-mark" }),
    svg("text", { x: paceX, y: top - 8, class: "mark-label", "text-anchor": "middle" }, paceLabel),
    ...rows.map((r, i) => {
      const y = top + i * rowH;
      return svg(
        "g",
        { "data-testid": "bar", "data-key": r.key, "data-value": r.value ?? "" },
        svg("text", { x: left - 8, y: y + 16, class: "bar-label", "text-anchor": "end" }, r.label),
        svg("rect", { x: left, y: y + 4, width: W - left - right, height: 16, rx: 4, class: "track" }),
        svg("rect", {
          x: left,
          y: y + 4,
          width: Math.max(0, x(num(r.value)) - left),
          height: 16,
          rx: 4,
          class: r.behind ? "bar behind" : "bar ahead",
        }),
        svg("text", { x: W - right + 6, y: y + 16, class: "bar-value" }, r.text),
      );
    }),
  );
}

/** The day-by-day actual against the straight line to the target (the goals pace view). */
export function paceLine(pace, goal, labels) {
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
  const y = (v) => H - bottom - ((H - bottom - topPad) * Math.max(0, v)) / peak;
  const actualPath = pace.points
    .map((p, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(num(p.actual)).toFixed(1)} H${x(i + 1).toFixed(1)}`)
    .join(" ");
  const last = pace.points.length;
  const lastActual = num(pace.points[last - 1].actual);
  return svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": labels.title },
    svg("title", {}, labels.title),
    svg("line", { x1: left, x2: W - right, y1: y(target), y2: y(target), class: "target-line" }),
    svg("text", { x: W - right, y: y(target) - 4, class: "axis", "text-anchor": "end" }, labels.target),
    svg("line", { x1: x(0), y1: y(0), x2: x(days), y2: y(target), class: "pace-line" }),
    svg("path", { d: actualPath, class: "actual-line" }),
    svg("circle", { cx: x(last), cy: y(lastActual), r: 4, class: "today-dot" }),
    svg("line", { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, class: "axis-line" }),
    svg("text", { x: left, y: H - 8, class: "axis" }, labels.start),
    svg("text", { x: W - right, y: H - 8, class: "axis", "text-anchor": "end" }, labels.end),
    // The pace view stops at today; a period already over has no "today" on it.
    last < days ? svg("text", { x: x(last), y: H - 8, class: "axis", "text-anchor": "middle" }, labels.today) : null,
  );
}

/** Funnel stages as centred bars narrowing with the deals that reached each stage. */
export function funnel(stages, { title, names, conversions }) {
  const W = 640;
  const rowH = 34;
  const H = stages.length * rowH + 6;
  const most = Math.max(1, ...stages.map((s) => s.deals));
  const mid = 250;
  const span = 300;
  return svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, "data-testid": "funnel-chart" },
    svg("title", {}, title),
    ...stages.map((s, i) => {
      const width = Math.max(4, (span * s.deals) / most);
      const y = 3 + i * rowH;
      return svg(
        "g",
        { "data-testid": "funnel-stage", "data-stage": s.stage, "data-deals": s.deals },
        svg("rect", { x: mid - width / 2, y, width, height: rowH - 6, rx: 4, class: "funnel-bar" }),
        svg("text", { x: mid, y: y + 19, class: "funnel-count", "text-anchor": "middle" }, String(s.deals)),
        svg("text", { x: mid + span / 2 + 14, y: y + 19, class: "bar-label" }, names[i]),
        conversions[i] ? svg("text", { x: W - 6, y: y + 19, class: "bar-value", "text-anchor": "end" }, conversions[i]) : null,
      );
    }),
  );
}

/** Grade counts as columns, each with its quota's allowed range shaded behind it. */
export function gradeColumns(grades, { title }) {
  const W = 640;
  const H = 170;
  const bottom = 26;
  const top = 14;
  const most = Math.max(1, ...grades.map((g) => Math.max(g.count, g.max ?? 0, g.min ?? 0)));
  const slot = (W - 20) / Math.max(1, grades.length);
  const y = (v) => H - bottom - ((H - bottom - top) * v) / most;
  return svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, "data-testid": "grade-chart" },
    svg("title", {}, title),
    svg("line", { x1: 10, x2: W - 10, y1: H - bottom, y2: H - bottom, class: "axis-line" }),
    ...grades.map((g, i) => {
      const cx = 10 + slot * i + slot / 2;
      const w = Math.min(70, slot * 0.5);
      const band =
        g.min !== null || g.max !== null
          ? svg("rect", {
              x: cx - w / 2 - 6,
              y: y(g.max ?? most),
              width: w + 12,
              height: Math.max(2, y(g.min ?? 0) - y(g.max ?? most)),
              class: "quota-band",
            })
          : null;
      return svg(
        "g",
        { "data-testid": "grade-column", "data-grade": g.grade, "data-count": g.count },
        band,
        svg("rect", {
          x: cx - w / 2,
          y: y(g.count),
          width: w,
          height: Math.max(0, H - bottom - y(g.count)),
          rx: 3,
          class: g.breach ? "bar behind" : "bar ahead",
        }),
        svg("text", { x: cx, y: y(g.count) - 4, class: "bar-value", "text-anchor": "middle" }, String(g.count)),
        svg("text", { x: cx, y: H - 8, class: "axis", "text-anchor": "middle" }, g.grade),
      );
    }),
  );
}

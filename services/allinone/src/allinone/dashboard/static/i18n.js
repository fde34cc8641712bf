// The dashboard's words in Simplified Chinese and English, and every number, amount and date
// formatted for the chosen language with the Intl APIs (money from decimal strings, exactly).
// The browser's languages choose; the switch in the header overrides, remembered in localStorage.

const LANG_KEY = "quotient.dashboard.lang";
export const LANGUAGES = { "zh-CN": "中文", en: "English" };

const EN = {
  "app.title": "Quotient · Dashboard",
  "brand.rep": "my dashboard",
  "brand.manager": "team dashboard",
  "brand.finance": "finance",
  "view.rep": "Me",
  "view.manager": "Team",
  "view.finance": "Finance",
  "label.view": "View",
  "label.period": "Period",
  "label.metric": "Metric",
  "label.team": "Team",
  "label.language": "Language",
  "who.none": "Not signed in",
  "live.state": "alerts: {state}",
  "live.live": "live",
  "live.offline": "offline",
  "live.connecting": "connecting",
  "updated.label": "Last updated",
  "updated.never": "never",
  "refresh": "Refresh now",
  "signin.title": "Sign in",
  "signin.body":
    "Open this page with your access token in the address fragment: /dashboard/#token=<your token>. The fragment never leaves your browser; the token is kept for this tab only.",
  "period.month": "This month",
  "period.quarter": "This quarter",
  "period.year": "This year",
  "period.last": "Last month",
  "progress.title": "My progress",
  "progress.empty": "No goal for you in this period.",
  "fig.actual": "Actual",
  "fig.target": "Target",
  "fig.attainment": "Attainment",
  "fig.expected": "Expected by today",
  "fig.projected": "Projected",
  "fig.gap": "Behind by",
  "goal": "Goal",
  "board.title": "Leaderboard",
  "board.name": "Name",
  "board.empty": "Nobody on the board yet.",
  "you": "you",
  "pay.title": "My pay",
  "pay.empty": "No pay plan in force for you in this period.",
  "pay.total": "Total",
  "pay.component": "Component",
  "pay.amount": "Amount",
  "pay.how": "How it was worked out",
  "pay.collected": "Collected {amount}",
  "pay.quota": "Quota {amount}",
  "pay.attainment": "Attainment {value}",
  "pay.plan": "plan {key} v{version}",
  "pay.waits": "waits for the final grade",
  "pay.events": "{count} events",
  "pay.event": "1 event",
  "pay.details": "details",
  "alerts.title": "Open alerts",
  "alerts.empty": "No open alerts. Keep it up.",
  "alerts.opened": "opened {when}",
  "alerts.evidence": "evidence requested",
  "alerts.new": "new",
  "alerts.who": "{name}",
  "status.open": "open",
  "status.acknowledged": "acknowledged",
  "status.resolved": "resolved",
  "severity.critical": "critical",
  "severity.warning": "warning",
  "severity.info": "info",
  "rule.behind_pace": "Behind pace",
  "rule.late_entry": "Late data entry",
  "rule.stalled_deal": "Stalled deal",
  "rule.burst": "Unusual burst of activity",
  "rule.repeated_follow_up": "Repeated follow-ups",
  "rule.spike_drop": "Spike or drop",
  "alert.behind_pace":
    "Projected {projected} of target with {elapsed} of the period gone (warn below {threshold}).",
  "alert.late_entry": "Entered {hours} h after it happened (limit {limit} h).",
  "alert.stalled_deal": "No stage change for {days} days (limit {limit}).",
  "alert.burst": "{count} activities today (threshold {threshold}).",
  "alert.repeated_follow_up": "{count} follow-ups of one customer today (at most {limit}).",
  "alert.spike_drop": "{change} against last month (threshold ±{threshold}).",
  "chart.pace": "pace",
  "chart.target": "target",
  "chart.today": "today",
  "chart.actual": "actual",
  "chart.paceLine": "pace line",
  "chart.targetValue": "target {value}",
  "chart.barTitle": "actual {actual}, expected by today {expected}, target {target}",
  "chart.lineTitle": "cumulative actual by day against the pace line",
  "chart.bars": "attainment of each person against where pace says they should be today",
  "team.title": "Team pace",
  "team.empty": "No team goal for this period.",
  "team.none": "You manage no team yet.",
  "team.behind": "Who is behind, and by how much",
  "team.ahead": "ahead by {amount}",
  "team.behindBy": "behind by {amount}",
  "team.onPace": "on pace",
  "team.bars": "Attainment",
  "team.line": "Team pace line",
  "team.alerts": "Open alerts across the team",
  "team.board": "Team leaderboard",
  "funnel.title": "Funnel",
  "funnel.empty": "No deals started in this period.",
  "funnel.weakest": "Weakest stage: {name} ({conversion})",
  "funnel.overall": "Won of leads: {value}",
  "stage.lead_created": "Leads",
  "stage.first_contact": "First contact",
  "stage.quote_sent": "Quote sent",
  "stage.deal_won": "Won",
  "grades.title": "Grades against the forced-distribution quotas",
  "grades.period": "scorecards of {period}",
  "grades.empty": "No graded scorecards in this period yet.",
  "grades.quota": "{grades}: {count} of {size} (allowed {range})",
  "grades.ok": "within quota",
  "grades.breach": "outside quota",
  "grades.off": "Forced distribution is off.",
  "pending.title": "Pending reviews and appeals",
  "pending.reviews": "Reviews to give",
  "pending.appeals": "Score appeals",
  "pending.payAppeals": "Pay appeals",
  "pending.none": "Nothing waiting.",
  "pending.review": "{group} review of {name} · {period}",
  "pending.appeal": "{name} appeals {item}: {reason}",
  "pending.payAppeal": "{name} disputes {component} ({period}): {reason}",
  "finance.title": "Statements of the period",
  "finance.accruals": "Accruals",
  "finance.earned": "Earned",
  "finance.paid": "Paid",
  "finance.accrued": "Accrued",
  "finance.person": "Person",
  "finance.status": "Status",
  "finance.action": "Action",
  "finance.toApprove": "{count} to approve",
  "finance.prepare": "Prepare",
  "finance.approve": "Approve",
  "finance.markPaid": "Mark paid",
  "finance.ownDraft": "prepared by you: someone else approves",
  "finance.exports": "Payroll exports",
  "finance.exportNote": "Approved and paid statements, one row per line, with names and teams.",
  "finance.csv": "Download CSV",
  "finance.xlsx": "Download Excel",
  "finance.empty": "No one has pay for this period.",
  "st.open": "live",
  "st.draft": "to approve",
  "st.approved": "approved",
  "st.paid": "paid",
  "foot": "Figures update live from the CRM; money is shown exactly as the pay service computed it.",
};

const ZH = {
  "app.title": "Quotient · 仪表盘",
  "brand.rep": "我的仪表盘",
  "brand.manager": "团队仪表盘",
  "brand.finance": "财务",
  "view.rep": "我的",
  "view.manager": "团队",
  "view.finance": "财务",
  "label.view": "视图",
  "label.period": "期间",
  "label.metric": "指标",
  "label.team": "团队",
  "label.language": "语言",
  "who.none": "未登录",
  "live.state": "预警推送:{state}",
  "live.live": "实时",
  "live.offline": "离线",
  "live.connecting": "连接中",
  "updated.label": "更新于",
  "updated.never": "尚未更新",
  "refresh": "立即刷新",
  "signin.title": "登录",
  "signin.body":
    "请在地址的片段中带上访问令牌打开本页:/dashboard/#token=<您的令牌>。片段不会离开您的浏览器,令牌只保存在当前标签页。",
  "period.month": "本月",
  "period.quarter": "本季度",
  "period.year": "本年",
  "period.last": "上月",
  "progress.title": "我的进度",
  "progress.empty": "本期间您没有目标。",
  "fig.actual": "实际",
  "fig.target": "目标",
  "fig.attainment": "完成率",
  "fig.expected": "按进度今日应达",
  "fig.projected": "预计完成率",
  "fig.gap": "落后",
  "goal": "目标",
  "board.title": "排行榜",
  "board.name": "姓名",
  "board.empty": "排行榜暂无数据。",
  "you": "我",
  "pay.title": "我的薪酬",
  "pay.empty": "本期间没有适用于您的薪酬方案。",
  "pay.total": "合计",
  "pay.component": "项目",
  "pay.amount": "金额",
  "pay.how": "计算说明",
  "pay.collected": "回款 {amount}",
  "pay.quota": "指标额 {amount}",
  "pay.attainment": "完成率 {value}",
  "pay.plan": "方案 {key} 第 {version} 版",
  "pay.waits": "待最终评级",
  "pay.events": "{count} 笔业务",
  "pay.event": "1 笔业务",
  "pay.details": "明细",
  "alerts.title": "未处理预警",
  "alerts.empty": "没有未处理的预警,继续保持。",
  "alerts.opened": "发起于 {when}",
  "alerts.evidence": "需提供证明",
  "alerts.new": "新",
  "alerts.who": "{name}",
  "status.open": "待处理",
  "status.acknowledged": "已确认",
  "status.resolved": "已解决",
  "severity.critical": "严重",
  "severity.warning": "警告",
  "severity.info": "提示",
  "rule.behind_pace": "进度落后",
  "rule.late_entry": "数据录入延迟",
  "rule.stalled_deal": "商机停滞",
  "rule.burst": "活动量异常激增",
  "rule.repeated_follow_up": "重复跟进",
  "rule.spike_drop": "业绩异常波动",
  "alert.behind_pace": "期间已过 {elapsed},按当前节奏预计完成 {projected}(低于 {threshold} 预警)。",
  "alert.late_entry": "发生 {hours} 小时后才录入(上限 {limit} 小时)。",
  "alert.stalled_deal": "已 {days} 天没有阶段变化(上限 {limit} 天)。",
  "alert.burst": "今日 {count} 条活动(阈值 {threshold})。",
  "alert.repeated_follow_up": "今日对同一客户跟进 {count} 次(最多 {limit} 次)。",
  "alert.spike_drop": "较上月变化 {change}(阈值 ±{threshold})。",
  "chart.pace": "进度",
  "chart.target": "目标",
  "chart.today": "今天",
  "chart.actual": "实际",
  "chart.paceLine": "进度线",
  "chart.targetValue": "目标 {value}",
  "chart.barTitle": "实际 {actual},今日应达 {expected},目标 {target}",
  "chart.lineTitle": "每日累计实际与进度线",
  "chart.bars": "每人的完成率与今日应达进度",
  "team.title": "团队进度",
  "team.empty": "本期间没有团队目标。",
  "team.none": "您目前没有管理的团队。",
  "team.behind": "谁落后了,落后多少",
  "team.ahead": "领先 {amount}",
  "team.behindBy": "落后 {amount}",
  "team.onPace": "符合进度",
  "team.bars": "完成率",
  "team.line": "团队进度线",
  "team.alerts": "团队未处理预警",
  "team.board": "团队排行榜",
  "funnel.title": "销售漏斗",
  "funnel.empty": "本期间没有新开始的商机。",
  "funnel.weakest": "最薄弱环节:{name}({conversion})",
  "funnel.overall": "线索赢单率:{value}",
  "stage.lead_created": "线索",
  "stage.first_contact": "首次接触",
  "stage.quote_sent": "已报价",
  "stage.deal_won": "赢单",
  "grades.title": "评级分布与强制分布配额",
  "grades.period": "{period} 的考核表",
  "grades.empty": "本期间还没有已评级的考核表。",
  "grades.quota": "{grades}:{size} 人中 {count} 人(允许 {range})",
  "grades.ok": "符合配额",
  "grades.breach": "超出配额",
  "grades.off": "未启用强制分布。",
  "pending.title": "待办评价与申诉",
  "pending.reviews": "待我评价",
  "pending.appeals": "考核申诉",
  "pending.payAppeals": "薪酬申诉",
  "pending.none": "暂无待办。",
  "pending.review": "{name} 的{group}评价 · {period}",
  "pending.appeal": "{name} 申诉 {item}:{reason}",
  "pending.payAppeal": "{name} 对 {component}({period})提出异议:{reason}",
  "finance.title": "本期间薪酬单",
  "finance.accruals": "应计",
  "finance.earned": "已挣得",
  "finance.paid": "已发放",
  "finance.accrued": "应计未发",
  "finance.person": "人员",
  "finance.status": "状态",
  "finance.action": "操作",
  "finance.toApprove": "{count} 份待审批",
  "finance.prepare": "生成",
  "finance.approve": "审批",
  "finance.markPaid": "标记已发放",
  "finance.ownDraft": "由您生成:需他人审批",
  "finance.exports": "工资导出",
  "finance.exportNote": "已审批和已发放的薪酬单,每行一项,含姓名与团队。",
  "finance.csv": "下载 CSV",
  "finance.xlsx": "下载 Excel",
  "finance.empty": "本期间没有人有薪酬。",
  "st.open": "实时",
  "st.draft": "待审批",
  "st.approved": "已审批",
  "st.paid": "已发放",
  "metric.collected_revenue": "回款额",
  "metric.new_customer_revenue": "新客户回款",
  "metric.existing_customer_revenue": "老客户回款",
  "metric.invoiced_revenue": "开票额",
  "metric.collection_rate": "回款率",
  "metric.booked_revenue": "签单额",
  "metric.average_order_value": "平均订单额",
  "metric.new_customers": "新客户数",
  "metric.deals_won": "赢单数",
  "metric.visits": "拜访次数",
  "metric.effective_visits": "有效拜访",
  "metric.new_customer_conversion": "新客户转化率",
  "metric.response_time": "响应时长",
  "metric.renewals": "续约数",
  "metric.churned_customers": "流失客户数",
  "metric.repeat_purchase_rate": "复购率",
  "metric.churn_rate": "流失率",
  "metric.proposals_assisted": "协助方案数",
  "metric.data_entry_accuracy": "数据录入准确率",
  "metric.customer_satisfaction": "客户满意度",
  "metric.trainings": "培训次数",
  "metric.training_pass_rate": "培训通过率",
  "foot": "数据随 CRM 实时更新;金额与薪酬服务的计算结果完全一致。",
};

const WORDS = { en: EN, "zh-CN": ZH };

/** The language: the remembered choice, else the first of the browser's languages we speak. */
export function chooseLanguage() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && WORDS[saved]) return saved;
  for (const tag of navigator.languages?.length ? navigator.languages : [navigator.language]) {
    const lower = String(tag || "").toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export function rememberLanguage(lang) {
  localStorage.setItem(LANG_KEY, lang);
}

export const i18n = {
  lang: "en",
  locale: "en-US",
  timeZone: undefined,
};

export function setLanguage(lang) {
  i18n.lang = WORDS[lang] ? lang : "en";
  // English keeps the browser's own English (en-GB dates stay British); Chinese is zh-CN.
  const browser = navigator.language || "en-US";
  i18n.locale = i18n.lang === "en" ? (browser.toLowerCase().startsWith("en") ? browser : "en-US") : "zh-CN";
  document.documentElement.lang = i18n.lang === "en" ? "en" : "zh-CN";
}

/** A message in the current language, with {placeholders} filled in. */
export function t(key, params = {}) {
  const text = WORDS[i18n.lang][key] ?? EN[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** A metric's name: the Chinese name of a standard metric, else the catalog's own name. */
export function metricLabel(key, catalogName) {
  const own = WORDS[i18n.lang][`metric.${key}`];
  return own || catalogName || key;
}

/** Every element with data-i18n gets its text (data-i18n-attr: an attribute instead). */
export function applyStaticText(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    const attr = node.getAttribute("data-i18n-attr");
    const text = t(node.getAttribute("data-i18n"));
    if (attr) node.setAttribute(attr, text);
    else node.textContent = text;
  }
  document.title = t("app.title");
}

const blank = (value) => value === null || value === undefined || value === "";

/** A decimal string in a currency, formatted exactly (no float); ¥ for CNY in every language. */
export function money(value, currency) {
  if (blank(value)) return "–";
  try {
    return new Intl.NumberFormat(i18n.locale, {
      style: "currency",
      currency: currency || "XXX",
      currencyDisplay: "narrowSymbol",
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    }).format(String(value));
  } catch {
    return `${value} ${currency || ""}`.trim();
  }
}

/** Money rounded to whole units, for chart labels. */
export function moneyShort(value, currency) {
  if (blank(value)) return "–";
  try {
    return new Intl.NumberFormat(i18n.locale, {
      style: "currency",
      currency: currency || "XXX",
      currencyDisplay: "narrowSymbol",
      notation: "compact",
      maximumFractionDigits: 1,
    }).format(String(value));
  } catch {
    return String(value);
  }
}

export function number(value, digits = 2) {
  if (blank(value)) return "–";
  return new Intl.NumberFormat(i18n.locale, { maximumFractionDigits: digits }).format(String(value));
}

export function percent(value) {
  if (blank(value)) return "–";
  return new Intl.NumberFormat(i18n.locale, { style: "percent", maximumFractionDigits: 1 }).format(
    String(value),
  );
}

/** A calendar day (YYYY-MM-DD) as the locale writes it. */
export function day(iso) {
  if (!iso) return "–";
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(i18n.locale, { dateStyle: "medium", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** A moment in the tenant's time zone, as the locale writes it. */
export function moment(value, withDate = true) {
  if (!value) return "–";
  const options = withDate
    ? { dateStyle: "medium", timeStyle: "short" }
    : { timeStyle: "medium" };
  return new Intl.DateTimeFormat(i18n.locale, { ...options, timeZone: i18n.timeZone }).format(
    new Date(value),
  );
}

/** A period label (2026-03, 2026-Q2, 2026) named in the locale. */
export function periodName(label) {
  const month = /^(\d{4})-(\d{2})$/.exec(label || "");
  if (month) {
    return new Intl.DateTimeFormat(i18n.locale, { year: "numeric", month: "long", timeZone: "UTC" }).format(
      new Date(Date.UTC(Number(month[1]), Number(month[2]) - 1, 1)),
    );
  }
  const quarter = /^(\d{4})-Q(\d)$/.exec(label || "");
  if (quarter) return i18n.lang === "en" ? `Q${quarter[2]} ${quarter[1]}` : `${quarter[1]}年第${quarter[2]}季度`;
  const year = /^(\d{4})$/.exec(label || "");
  if (year) return i18n.lang === "en" ? year[1] : `${year[1]}年`;
  return label || "";
}

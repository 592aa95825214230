/* usage-ls Usage Dashboard: the Plan limits card.
 *
 * - a gauge per plan window (usage/limits): used share, the time passed as a marker (an even
 *   pace), the level's colour, the reset as a countdown and in the browser's local time, and
 *   "at this pace you reach the 5-hour limit at 16:40" when the pace crosses 100% before the reset;
 * - each window's history in the page's date range (usage/limitHistory): a stepped line per
 *   window, dropping to 0 at each reset;
 * - the plans' value and AI Credits, when usage/limits carries `plans` (older servers do not).
 * The tool picker (All / Claude Code / Codex ...) applies to the whole card; the page's date
 * range to the history. It registers with dashboard.js through window.usageCards and builds its
 * own section after the Insights card. Every name is data: textContent and DOM APIs only.
 */
(function () {
  'use strict';

  const SVG = 'http://www.w3.org/2000/svg';
  const TOOLS = { 'claude-code': 'Claude Code', codex: 'Codex', copilot: 'Copilot', gemini: 'Gemini CLI' };
  // a tool's colour for its 5-hour window, and a deeper one (a lighter one on a dark theme) for
  // its longer windows
  const TOOL_COLORS = { 'claude-code': ['#e07a52', '#a34a2a', '#f5b08f'], codex: ['#14b08a', '#0a6e57', '#7be0c4'],
    copilot: ['#8b5cf6', '#5b34c4', '#c4b1fb'], gemini: ['#4285f4', '#1f5bc4', '#9fc0fa'] };
  const OTHER_COLORS = ['#4e79a7', '#e15759', '#edc948', '#b07aa1', '#76b7b2'];
  const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const LEVELS = ['normal', 'warning', 'error'];
  const HOUR = 3600000, DAY = 24 * HOUR;

  const toolName = (s) => TOOLS[s] || String(s);
  const num = (x) => (typeof x === 'number' && isFinite(x) ? x : null);
  function windowMs(w) {
    if (w === '5h') return 5 * HOUR;
    if (w === '7d') return 7 * DAY;
    const m = /^(\d+)m$/.exec(w);
    return m ? Number(m[1]) * 60000 : null;
  }
  function windowName(w) {
    if (w === '5h') return '5-hour';
    if (w === '7d') return 'weekly';
    const m = /^(\d+)m$/.exec(w);
    if (!m) return String(w);
    const n = Number(m[1]);
    if (n % 1440 === 0) return n / 1440 + '-day';
    if (n % 60 === 0) return n / 60 + '-hour';
    return n + '-minute';
  }
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const pad = (n) => String(n).padStart(2, '0');
  const hhmm = (d) => pad(d.getHours()) + ':' + pad(d.getMinutes());
  const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  /** A moment in the browser's local time: "16:40", "tomorrow 09:12", "Thu 09:12", "Dec 12, 09:12". */
  function when(ms, nowMs) {
    const d = new Date(ms), now = new Date(nowMs);
    if (sameDay(d, now)) return hhmm(d);
    const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
    if (sameDay(d, tomorrow)) return 'tomorrow ' + hhmm(d);
    if (ms > nowMs && ms - nowMs < 6 * DAY) return WEEKDAYS[d.getDay()] + ' ' + hhmm(d);
    return MONTHS[d.getMonth()] + ' ' + d.getDate() + ', ' + hhmm(d);
  }
  const fullTime = (ms) => new Date(ms).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
  /** Time left: "2 h 5 min", "3 d 4 h", "42 min", "less than a minute". */
  function countdown(ms) {
    const mins = Math.floor(ms / 60000);
    if (mins < 1) return 'less than a minute';
    const d = Math.floor(mins / 1440), h = Math.floor((mins % 1440) / 60), m = mins % 60;
    if (d) return d + ' d' + (h ? ' ' + h + ' h' : '');
    if (h) return h + ' h' + (m ? ' ' + m + ' min' : '');
    return m + ' min';
  }
  const pctText = (p) => (p >= 10 || p === 0 ? Math.round(p) : Math.round(p * 10) / 10) + '%';
  function money(x) {
    if (x === null) return null;
    if (Math.abs(x) >= 100 || Number.isInteger(x)) return '$' + Math.round(x).toLocaleString('en-US');
    return '$' + x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  const ratioText = (r) => (r >= 1 ? r.toFixed(1) : r.toFixed(2)) + '×';
  const amount = (x) => (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 }));
  /** A plan's period as its own calendar days ("Dec 1 – Dec 31"): the dates as written (a UTC
   * month is the 1st to the 31st wherever the browser is), the end exclusive at midnight. */
  function periodDays(start, end) {
    const day = (x) => (typeof x === 'string' ? /^(\d{4})-(\d{2})-(\d{2})(?:T00:00(?::00(?:\.0+)?)?)?/.exec(x) : null);
    const a = day(start), b = day(end);
    if (!a || !b) return null;
    const first = new Date(Date.UTC(+a[1], +a[2] - 1, +a[3]));
    const last = new Date(Date.UTC(+b[1], +b[2] - 1, +b[3] - (b[0].length > 10 || /T00:00/.test(end) ? 1 : 0)));
    if (last < first) return null;
    const fmt = (d) => MONTHS[d.getUTCMonth()] + ' ' + d.getUTCDate();
    return fmt(first) + ' – ' + fmt(last);
  }
  function toMs(x) {
    if (num(x) !== null) return x < 1e11 ? x * 1000 : x;
    if (typeof x === 'string') { const t = Date.parse(x); return isFinite(t) ? t : null; }
    return null;
  }

  function make(kit) {
    const el = kit.el;
    const live = kit.mode !== 'static';
    const section = el('section', { class: 'card lim', id: 'limits', 'aria-labelledby': 'limits-title' });
    const tools = el('div', { class: 'seg lim-tools', id: 'limits-tools', role: 'group', 'aria-label': 'Tool' });
    const hint = el('span', { class: 'hint', id: 'limits-hint' });
    const empty = el('div', { class: 'lim-empty', id: 'limits-empty', hidden: true });
    const gauges = el('div', { class: 'lim-gauges', id: 'limits-gauges' });
    const gaugesNote = el('div', { class: 'lim-note', id: 'limits-gauges-note', hidden: true });
    const plans = el('div', { class: 'lim-plans', id: 'limits-plans', hidden: true });
    const histHint = el('span', { class: 'hint', id: 'limits-history-hint' });
    const histNote = el('div', { class: 'lim-note', id: 'limits-history-note', hidden: true });
    const canvas = el('canvas', { id: 'chart-limits', role: 'img', 'aria-label': 'Used share of each plan window over time' });
    const chartBox = el('div', { class: 'chart lim-chart' }, canvas);
    const history = el('div', { class: 'lim-history', id: 'limits-history' },
      el('div', { class: 'lim-sub' }, el('span', { text: 'History' }), histHint), chartBox, histNote);
    const error = el('div', { class: 'ins-error', id: 'limits-error', role: 'status', hidden: true });
    const body = el('div', { class: 'lim-body' }, gauges, gaugesNote, el('div', { class: 'lim-lower' }, history, plans));
    section.append(
      el('div', { class: 'card-h' }, el('h2', { id: 'limits-title', text: 'Plan limits' }), hint, tools),
      empty, body, error);
    kit.place(section);

    let tool = ''; // '' = every tool
    let limits = null, hist = null, histError = null, seq = 0, lastFilter = null, first = true;
    let chart = null;

    // -- loading ------------------------------------------------------------------------------
    // The windows do not depend on the filter and the history only on its dates: both come
    // through the page's cache (emptied when the data changes), so a billing or project change
    // asks nothing. The minute's poll asks afresh; a result the cache hands back later that is
    // older than what the card shows is not put back (`newer`).
    const seenAt = new WeakMap();
    const stamp = (r) => { if (r && typeof r === 'object' && !seenAt.has(r)) seenAt.set(r, performance.now()); return r; };
    const newer = (a, b) => (!b ? a : !a ? b : seenAt.get(a) >= seenAt.get(b) ? a : b);
    function load(filter, current, fresh) {
      const my = ++seq;
      lastFilter = filter;
      const range = { from: filter.from, to: filter.to };
      const boot = kit.boot.data || {};
      const bootFits = first && kit.boot.filter && kit.boot.filter.from === range.from && kit.boot.filter.to === range.to;
      first = false;
      const ask = fresh ? kit.call : kit.api;
      const getLimits = () => (!live || (bootFits && boot.limits) ? Promise.resolve(boot.limits || null) : ask('limits', {}));
      const getHistory = () => {
        if (live && !(bootFits && boot.limitHistory)) return ask('limitHistory', range);
        const h = boot.limitHistory;
        if (h && h.from === range.from && h.to === range.to) return Promise.resolve(h);
        return Promise.reject(new Error('this snapshot holds the history of ' + kit.boot.filter.from + ' – ' + kit.boot.filter.to + ' only'));
      };
      // one after the other: the server answers one request at a time
      return getLimits().then(stamp).then((l) => [l, null], (e) => [null, e]).then(([l, lErr]) =>
        getHistory().then(stamp).then((h) => [l, lErr, h, null], (e) => [l, lErr, null, e])).then(([l, lErr, h, hErr]) => {
        if (my !== seq || !current()) return;
        limits = lErr ? null : newer(l, limits);
        hist = h && hist && hist.from === h.from && hist.to === h.to ? newer(h, hist) : h;
        histError = hErr;
        error.hidden = !lErr;
        error.textContent = lErr ? 'Plan limits are unavailable: ' + String(lErr.message || lErr) : '';
        section.classList.toggle('failed', !!lErr);
        render();
      });
    }

    // -- what the tool picker selects ------------------------------------------------------------
    const windowsOf = () => ((limits && Array.isArray(limits.windows)) ? limits.windows : []).filter((w) => !tool || w.source === tool);
    const plansOf = () => ((limits && Array.isArray(limits.plans)) ? limits.plans : []).filter((p) => p && (!tool || p.tool === tool));
    const seriesOf = () => ((hist && Array.isArray(hist.series)) ? hist.series : []).filter((s) => !tool || s.source === tool);
    function toolsPresent() {
      const seen = new Set();
      for (const w of (limits && limits.windows) || []) seen.add(w.source);
      for (const p of (limits && Array.isArray(limits.plans) ? limits.plans : [])) if (p && p.tool) seen.add(p.tool);
      for (const s of (hist && hist.series) || []) seen.add(s.source);
      return Array.from(seen).sort((a, b) => toolName(a).localeCompare(toolName(b)));
    }

    function renderTools() {
      const present = toolsPresent();
      if (tool && !present.includes(tool)) tool = '';
      tools.hidden = present.length < 2;
      const choices = [['', 'All tools']].concat(present.map((s) => [s, toolName(s)]));
      tools.replaceChildren(...choices.map(([value, label]) => {
        const b = el('button', { type: 'button', text: label, 'data-tool': value, 'aria-pressed': String(value === tool) });
        b.classList.toggle('on', value === tool);
        b.addEventListener('click', () => { tool = value; render(); });
        return b;
      }));
    }

    // -- gauges ---------------------------------------------------------------------------------
    function arcPoint(f, r) {
      const a = Math.PI * (1 - Math.min(1, Math.max(0, f)));
      return [60 + r * Math.cos(a), 60 - r * Math.sin(a)];
    }
    function arc(f0, f1, cls) {
      const [x0, y0] = arcPoint(f0, 48), [x1, y1] = arcPoint(f1, 48);
      const p = document.createElementNS(SVG, 'path');
      p.setAttribute('d', 'M ' + x0.toFixed(2) + ' ' + y0.toFixed(2) + ' A 48 48 0 0 1 ' + x1.toFixed(2) + ' ' + y1.toFixed(2));
      p.setAttribute('class', cls);
      return p;
    }
    function dial(w) {
      const svg = document.createElementNS(SVG, 'svg');
      svg.setAttribute('viewBox', '0 0 120 66');
      svg.setAttribute('class', 'lg-svg');
      svg.setAttribute('aria-hidden', 'true');
      svg.append(arc(0, 1, 'lg-track'));
      const used = Math.max(0, num(w.usedPercent) || 0) / 100;
      const proj = num(w.usedPercent) === null ? null : num(w.projectedPercent);
      if (proj !== null && proj / 100 > used) svg.append(arc(used, Math.min(1, proj / 100), 'lg-ahead'));
      if (used > 0) svg.append(arc(0, Math.min(1, used), 'lg-used'));
      const elapsed = num(w.elapsedPercent);
      if (elapsed !== null) {
        const [x0, y0] = arcPoint(elapsed / 100, 39), [x1, y1] = arcPoint(elapsed / 100, 57);
        const mark = document.createElementNS(SVG, 'line');
        for (const [k, v] of [['x1', x0], ['y1', y0], ['x2', x1], ['y2', y1]]) mark.setAttribute(k, v.toFixed(2));
        mark.setAttribute('class', 'lg-pace');
        svg.append(mark);
      }
      return svg;
    }
    /** When the pace reaches 100%, in ms, if before the reset. From the used share u, the time
     * passed e and the projection p (all % of the window): the rate is (p - u) / (100 - e) per %
     * of the window's time, so 100% is reached at e + (100 - u) / rate. For a reported window
     * (p = u / e x 100) that is the start plus the time so far x 100 / u; for an estimated block,
     * whose projection comes from its burn rate, the same formula holds. */
    function limitAt(w) {
      const u = num(w.usedPercent), p = num(w.projectedPercent), e = num(w.elapsedPercent);
      const len = windowMs(w.window), reset = num(w.resetsAt);
      if (u === null || p === null || e === null || len === null || reset === null) return null;
      if (p <= 100 || u >= 100 || e >= 100 || p <= u) return null;
      const at = e + (100 - u) * (100 - e) / (p - u);
      return reset - len + (len * at) / 100;
    }
    function gauge(w, nowMs) {
      const level = LEVELS.includes(w.level) ? w.level : 'normal';
      const name = windowName(w.window);
      const reset = num(w.resetsAt), used = num(w.usedPercent);
      const elapsed = num(w.elapsedPercent), proj = num(w.projectedPercent);
      const span = w.estimated ? 'block' : 'window';
      const head = el('div', { class: 'lg-head' },
        el('span', { class: 'lg-tool', text: toolName(w.source) }),
        el('span', { class: 'lg-win', text: cap(name) + (w.estimated ? ' block' : '') +
          (w.limitId && w.limitId !== w.source && w.limitId !== 'codex' ? ' · ' + w.limitId : '') }));
      if (w.estimated) {
        head.append(el('span', { class: 'badge lg-est', text: 'estimated',
          title: 'The tool reports no window: a 5-hour block reckoned from your messages (from the first one, as ccusage does)' +
            (used === null ? '. Set block_tokens for the plan in config.toml to see a share.' : ', against the plan\u2019s block_tokens.') }));
      }
      // an estimated block without a token limit has no share: its tokens and cost instead
      const tokens = num(w.tokens), cost = num(w.costUsd);
      const value = used !== null
        ? el('div', { class: 'lg-center' }, el('div', { class: 'lg-value', text: pctText(used) }), el('div', { class: 'lg-unit', text: 'used' }))
        : el('div', { class: 'lg-center' }, el('div', { class: 'lg-value', text: tokens === null ? '–' : kit.fmtTokens(tokens) }),
          el('div', { class: 'lg-unit', text: 'tokens' + (cost === null ? '' : ' · ' + kit.fmtUsd(cost)) }));
      const pace = el('div', { class: 'lg-pace-text' });
      if (elapsed !== null) {
        pace.append(el('span', { class: 'lg-mark', 'aria-hidden': 'true' }), pctText(elapsed) + ' of the time passed');
        const ptok = num(w.projectedTokens), pcost = num(w.projectedCostUsd);
        if (proj !== null) pace.append(' · ', el('span', { class: 'lg-proj', text: 'on pace for ' + pctText(proj) }));
        else if (used === null && ptok !== null) {
          pace.append(' · ', el('span', { class: 'lg-proj', text: 'on pace for ' + kit.fmtTokens(ptok) + (pcost === null ? '' : ' (' + kit.fmtUsd(pcost) + ')') }));
        } else if (used !== null) pace.append(' · too early for a pace');
        pace.title = 'The marker on the gauge: ' + pctText(elapsed) + ' of the ' + span + ' has passed' +
          (used !== null ? ', so an even pace would have used ' + pctText(elapsed) : '') +
          (proj !== null ? '. At the pace so far it ends at ' + pctText(proj) + ' used.' : '.');
      }
      const resetLine = el('div', { class: 'lg-reset', 'data-reset': reset === null ? '' : String(reset), 'data-ends': w.estimated ? 'block' : '' });
      fillReset(resetLine, reset, nowMs);
      const tile = el('div', { class: 'lim-gauge lv-' + level + (w.estimated ? ' estimated' : ''), 'data-source': w.source,
        'data-window': w.window, 'data-level': level, 'data-estimated': w.estimated ? 'true' : 'false' },
      head, el('div', { class: 'lg-dial' }, dial(w), value), pace, resetLine);
      const at = limitAt(w);
      if (used !== null && used >= 100) {
        tile.append(el('div', { class: 'lg-warn', text: 'Limit reached' + (reset !== null ? ': it resets at ' + when(reset, nowMs) : '') }));
      } else if (at !== null) {
        tile.append(el('div', { class: 'lg-warn', 'data-limit-at': String(Math.round(at)),
          text: 'At this pace you reach the ' + name + ' limit at ' + when(at, nowMs), title: fullTime(at) }));
      }
      tile.title = toolName(w.source) + ' ' + name + ' ' + span + (used !== null ? ': ' + pctText(used) + ' used' : '') +
        (w.observedAt && !w.estimated ? ' (reported ' + when(w.observedAt, nowMs) + ')' : '');
      return tile;
    }
    function fillReset(node, reset, nowMs) {
      const block = node.dataset.ends === 'block';
      if (reset === null) { node.textContent = 'Reset time not reported'; return; }
      if (reset <= nowMs) { node.textContent = (block ? 'Ended at ' : 'Reset at ') + when(reset, nowMs); node.title = fullTime(reset); return; }
      node.replaceChildren(block ? 'Ends in ' : 'Resets in ', el('b', { class: 'lg-count', text: countdown(reset - nowMs) }), ' · ' + when(reset, nowMs));
      node.title = fullTime(reset) + ' (your local time)';
    }
    function tick() {
      const nowMs = Date.now();
      for (const node of gauges.querySelectorAll('.lg-reset')) {
        if (node.dataset.reset) fillReset(node, Number(node.dataset.reset), nowMs);
      }
    }

    // -- plans ----------------------------------------------------------------------------------
    function creditsBlock(c) {
      const allowance = num(c.allowance), base = num(c.base), flex = num(c.flex), used = num(c.used), remaining = num(c.remaining);
      if (allowance === null || used === null) return null;
      const total = Math.max(allowance, used, 1e-9);
      const w = (x) => (100 * Math.max(0, x) / total).toFixed(2) + '%';
      const bar = el('div', { class: 'lp-bar', role: 'img',
        'aria-label': 'AI Credits: ' + amount(used) + ' of ' + amount(allowance) + ' used' });
      const b = base === null ? allowance : Math.min(base, allowance);
      const seg = (cls, left, width, title) => { const s = el('span', { class: cls, title }); s.style.left = w(left); s.style.width = w(width); return s; };
      bar.append(seg('lp-base', 0, b, 'Base allowance: ' + amount(b)));
      if (allowance > b) bar.append(seg('lp-flex', b, allowance - b, 'Flex allotment: ' + amount(allowance - b)));
      bar.append(seg('lp-used-base', 0, Math.min(used, b), 'Used from the base: ' + amount(Math.min(used, b))));
      if (used > b) bar.append(seg('lp-used-flex', b, Math.min(used, allowance) - b, 'Used from the flex allotment: ' + amount(Math.min(used, allowance) - b)));
      if (used > allowance) bar.append(seg('lp-used-over', allowance, used - allowance, 'Past the allowance: ' + amount(used - allowance)));
      const left = remaining !== null ? remaining : Math.max(0, allowance - used);
      const reset = toMs(c.resetsAt);
      const parts = [amount(left) + ' left'];
      if (base !== null) parts.push('base ' + amount(base) + (flex !== null && flex > 0 ? ' + flex ' + amount(flex) : ''));
      if (reset !== null) parts.push('resets ' + when(reset, Date.now()));
      return el('div', { class: 'lp-credits' + (used > allowance ? ' over' : used > b ? ' flex' : '') },
        el('div', { class: 'lp-line' }, el('span', { text: 'AI Credits' }),
          el('span', { class: 'lp-num', text: amount(used) + ' / ' + amount(allowance) + ' · ' + pctText(100 * used / Math.max(allowance, 1e-9)) })),
        bar, el('div', { class: 'lp-sub', text: parts.join(' · '), title: reset !== null ? 'Resets ' + fullTime(reset) : '' }));
    }
    function plan(p) {
      const label = typeof p.label === 'string' && p.label ? p.label : String(p.plan || p.tool || 'Plan');
      const price = num(p.monthlyPriceUsd), list = num(p.listPriceUsd), ratio = num(p.valueRatio);
      const line = el('div', { class: 'lp-value' }, el('b', { class: 'lp-label', text: label }));
      const bits = [];
      if (price !== null) bits.push([price === 0 ? 'free' : money(price) + ' this month']);
      // the list price and the ratio stay on one line
      const tail = el('span', { class: 'lp-tail' }, el('b', { class: 'lp-list', text: money(list) }));
      if (ratio !== null) tail.append(' — ', el('span', { class: 'lp-ratio' + (ratio >= 1 ? ' good' : ''), text: ratioText(ratio),
        title: 'Your usage at API list prices divided by what the plan costs this month' }));
      if (list !== null) bits.push(['your usage at list price: ', tail]);
      bits.forEach((b, i) => line.append(i ? '; ' : ': ', ...b));
      const sub = [toolName(p.tool)];
      const period = periodDays(p.periodStart, p.periodEnd);
      if (period) sub.push(period);
      const box = el('div', { class: 'lim-plan', 'data-tool': String(p.tool || '') }, line, el('div', { class: 'lp-sub', text: sub.join(' · ') }));
      const credits = p.credits && typeof p.credits === 'object' ? creditsBlock(p.credits) : null;
      if (credits) box.append(credits);
      return box;
    }

    // -- history --------------------------------------------------------------------------------
    const seriesLabel = (s) => toolName(s.source) + ' ' + windowName(s.window) + (s.limitId && s.limitId !== 'codex' ? ' (' + s.limitId + ')' : '');
    /** Whether the card's background is dark (the page's theme, VS Code's included). */
    function darkTheme() {
      const c = kit.theme().card;
      let rgb = null;
      const hex = /^#([0-9a-f]{6})$/i.exec(c);
      if (hex) rgb = [0, 2, 4].map((k) => parseInt(hex[1].slice(k, k + 2), 16));
      const fn = /rgba?\(\s*(\d+)[ ,]+(\d+)[ ,]+(\d+)/.exec(c);
      if (fn) rgb = fn.slice(1, 4).map(Number);
      return rgb ? 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 110 : false;
    }
    function seriesColor(s, i, dark) {
      const set = TOOL_COLORS[s.source];
      return set ? set[s.window === '5h' ? 0 : dark ? 2 : 1] : OTHER_COLORS[i % OTHER_COLORS.length];
    }
    /** The line a user reads: each observation holds until the next (stepped), a reset drops it
     * to 0, and the last value holds until now (or the range's end). */
    function linePoints(s, startMs, endMs, nowMs) {
      const pts = [];
      const resets = (s.resets || []).slice().sort((a, b) => a - b);
      let ri = 0;
      const dropTo = (t) => {
        for (; ri < resets.length && resets[ri] <= t; ri++) if (pts.length) pts.push({ x: resets[ri], y: 0, reset: true });
      };
      for (const p of s.points || []) {
        dropTo(p.t);
        pts.push({ x: p.t, y: p.usedPercent, obs: true });
      }
      dropTo(Infinity);
      const end = Math.min(endMs, nowMs);
      if (pts.length && pts[pts.length - 1].x < end) pts.push({ x: end, y: pts[pts.length - 1].y, tail: true });
      return pts.filter((p, i) => p.x >= startMs || (pts[i + 1] && pts[i + 1].x > startMs));
    }
    function timeTicks(startMs, endMs) {
      const span = endMs - startMs, ticks = [];
      if (span <= 2 * DAY) {
        const stepH = span <= DAY + HOUR ? 3 : 6;
        const d = new Date(startMs);
        d.setMinutes(0, 0, 0);
        while (d.getTime() < startMs || d.getHours() % stepH) d.setHours(d.getHours() + 1);
        for (; d.getTime() <= endMs; d.setHours(d.getHours() + stepH)) ticks.push({ value: d.getTime() });
      } else {
        const days = Math.round(span / DAY), step = Math.max(1, Math.ceil(days / 10));
        const d = new Date(startMs);
        d.setHours(0, 0, 0, 0);
        if (d.getTime() < startMs) d.setDate(d.getDate() + 1);
        for (; d.getTime() <= endMs; d.setDate(d.getDate() + step)) ticks.push({ value: d.getTime() });
      }
      return ticks;
    }
    function tickLabel(v, span) {
      const d = new Date(v);
      if (span <= 2 * DAY && (d.getHours() || d.getMinutes())) return hhmm(d);
      return MONTHS[d.getMonth()] + ' ' + d.getDate();
    }
    const limitLine = {
      id: 'limLimit',
      afterDatasetsDraw(c) {
        const y = c.scales.y.getPixelForValue(100), area = c.chartArea;
        if (y < area.top || y > area.bottom) return;
        const ctx = c.ctx;
        ctx.save();
        ctx.strokeStyle = c.$limitColor || '#e5484d';
        ctx.setLineDash([4, 4]);
        ctx.lineWidth = 1;
        ctx.beginPath(); ctx.moveTo(area.left, y); ctx.lineTo(area.right, y); ctx.stroke();
        ctx.restore();
      },
    };
    function makeChart() {
      const t = kit.theme();
      chart = new Chart(canvas, {
        type: 'line',
        data: { datasets: [] },
        plugins: [limitLine],
        options: {
          parsing: false,
          interaction: { mode: 'nearest', axis: 'x', intersect: false },
          // 'before': a value holds until the next point, then the line steps to it (Chart.js's
          // 'after' would take the next value right after each point)
          elements: { line: { borderWidth: 2, stepped: 'before' }, point: { hoverRadius: 4 } },
          scales: {
            x: { type: 'linear', grid: { display: false }, ticks: { maxRotation: 0, autoSkip: false, color: t.muted,
              callback: (v) => tickLabel(v, chart ? chart.$span : DAY) },
            afterBuildTicks: (axis) => { axis.ticks = timeTicks(axis.min, axis.max); } },
            y: { min: 0, suggestedMax: 100, grid: { color: t.grid }, ticks: { stepSize: 25, color: t.muted, callback: (v) => v + '%' } },
          },
          plugins: {
            legend: { position: 'top', align: 'end', labels: { color: t.fg, usePointStyle: true, pointStyle: 'line', sort: (a, b) => a.datasetIndex - b.datasetIndex } },
            tooltip: {
              filter: (item) => !item.raw.tail,
              callbacks: {
                title: (items) => (items.length ? fullTime(items[0].raw.x) : ''),
                label: (item) => item.dataset.label + ': ' + (item.raw.reset ? 'reset (0%)' : pctText(item.raw.y) + ' used'),
              },
            },
          },
        },
      });
      chart.$limitColor = '#e5484d';
    }
    function renderHistory() {
      const shown = seriesOf();
      const startMs = hist ? hist.startMs : null, endMs = hist ? hist.endMs : null;
      histHint.textContent = hist ? 'used share of each window, ' + kit.dayLabel(hist.from) + (hist.to !== hist.from ? ' – ' + kit.dayLabel(hist.to) : '') + ' · drops are resets · dashed line: the limit' : '';
      if (histError) {
        histNote.hidden = false;
        histNote.textContent = 'History is unavailable: ' + String(histError.message || histError);
      } else {
        histNote.hidden = shown.length > 0;
        histNote.textContent = shown.length ? '' : 'No window was observed in this date range.';
      }
      chartBox.hidden = !shown.length;
      if (!shown.length) { if (chart) { chart.data.datasets = []; chart.update('none'); } return; }
      if (!chart) makeChart();
      const nowMs = hist.now || Date.now();
      chart.$span = endMs - startMs;
      chart.options.scales.x.min = startMs;
      chart.options.scales.x.max = endMs;
      const top = Math.max(100, ...shown.flatMap((s) => (s.points || []).map((p) => p.usedPercent)));
      chart.options.scales.y.max = top > 100 ? Math.ceil(top / 25) * 25 : 100;
      const dark = darkTheme();
      chart.data.datasets = shown.map((s, i) => {
        const color = seriesColor(s, i, dark);
        const data = linePoints(s, startMs, endMs, nowMs);
        return {
          label: seriesLabel(s), data, borderColor: color, backgroundColor: color + '1a',
          // the short windows filled and thin, the long ones (weekly) a thicker dashed line over them
          fill: s.window === '5h' ? 'origin' : false, borderWidth: s.window === '5h' ? 1.5 : 2.5,
          borderDash: s.window === '5h' ? [] : [7, 4], order: s.window === '5h' ? 1 : 0,
          pointRadius: 0, pointHoverRadius: 4,
          source: s.source, window: s.window,
        };
      });
      chart.update('none');
    }

    // -- the card --------------------------------------------------------------------------------
    function render() {
      const nowMs = Date.now();
      renderTools();
      const ws = windowsOf(), ps = plansOf(), ss = seriesOf();
      const all = (limits && limits.windows ? limits.windows.length : 0) +
        (limits && Array.isArray(limits.plans) ? limits.plans.length : 0) + (hist && hist.series ? hist.series.length : 0);
      const nothing = limits !== null && all === 0 && !histError;
      empty.hidden = !nothing;
      if (nothing) fillEmpty();
      body.hidden = nothing || limits === null;
      hint.textContent = !ws.length ? '' : 'as the tools report them' + (ws.some((w) => w.estimated) ? ', estimated where they do not' : '') +
        ' · the marker on each gauge is the time passed (an even pace)';
      gauges.replaceChildren(...ws.map((w) => gauge(w, nowMs)));
      gauges.hidden = !ws.length;
      // no window now: the ones in the history have reset (or none was ever reported)
      gaugesNote.hidden = ws.length > 0 || (!ss.length && !!tool);
      gaugesNote.textContent = ws.length ? '' : ss.length
        ? (tool ? toolName(tool) + ' has' : 'The tools have') + ' no open window right now: the last ones have reset. A window shows again when the tool next reports it.'
        : 'No 5-hour or weekly window reported yet: Claude Code reports them to its status line command, Codex in its session logs (docs/limits.md).';
      plans.hidden = !ps.length;
      plans.replaceChildren(...(ps.length ? [el('div', { class: 'lim-sub', text: ps.length === 1 ? 'Your plan' : 'Your plans' }), ...ps.map(plan)] : []));
      history.hidden = !ss.length && !histError && !ws.length;
      body.classList.toggle('with-plans', ps.length > 0 && !history.hidden);
      renderHistory();
      section.dataset.windows = String(ws.length);
    }
    function fillEmpty() {
      const code = (t) => el('code', { text: t });
      empty.replaceChildren(
        el('b', { text: 'No plan windows known yet.' }), ' ',
        'Subscribers\u2019 5-hour and weekly windows show here once a tool reports them: ',
        el('br'), '\u2022 Claude Code: set ', code('usage-ls statusline --claude-code'), ' as its ', code('statusLine'),
        ' command in ', code('~/.claude/settings.json'), ' (Claude Code sends the windows to it after every answer);',
        el('br'), '\u2022 Codex: ', code('usage-ls import codex'), ' (the windows are in its session logs; the editor\u2019s watcher keeps them current).',
        el('br'), 'See docs/limits.md. API-key users have no windows.');
    }

    function theme(t) {
      if (!chart) return;
      t = t || kit.theme();
      chart.options.scales.x.ticks.color = t.muted;
      chart.options.scales.y.ticks.color = t.muted;
      chart.options.scales.y.grid.color = t.grid;
      chart.options.plugins.legend.labels.color = t.fg;
      renderHistory(); // the lines' colours follow the theme too
    }

    setInterval(tick, 15000);
    if (live) {
      // the pace moves with the clock: ask again each minute (the server caches per minute)
      setInterval(() => { if (lastFilter) load(lastFilter, () => true, true); }, 60000);
    }
    const card = {
      refresh: (ctx) => load(ctx.filter, ctx.current),
      theme,
      get limits() { return limits; },
      get history() { return hist; },
      get datasets() { return chart ? chart.data.datasets.map((d) => ({ label: d.label, source: d.source, window: d.window, points: d.data.map((p) => ({ x: p.x, y: p.y, reset: !!p.reset, tail: !!p.tail })) })) : []; },
      selectTool: (s) => { tool = s; render(); },
      /** Whether the line of `label` is drawn through (t, used %): a pixel of its colour there. */
      drawnAt(label, t, used) {
        const i = chart ? chart.data.datasets.findIndex((d) => d.label === label) : -1;
        if (i < 0) return false;
        const x = chart.scales.x.getPixelForValue(t), y = chart.scales.y.getPixelForValue(used);
        const r = window.devicePixelRatio || 1, hex = chart.data.datasets[i].borderColor;
        const want = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
        const px = chart.ctx.getImageData(Math.round(x * r) - 2, Math.round(y * r) - 2, 5, 5).data;
        for (let k = 0; k < px.length; k += 4) {
          if (px[k + 3] > 90 && want.every((c, j) => Math.abs(px[k + j] - c) < 40)) return true;
        }
        return false;
      },
    };
    window.usageLimitsCard = card;
    return card;
  }

  (window.usageCards = window.usageCards || []).push(make);
})();

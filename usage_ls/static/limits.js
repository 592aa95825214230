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
  // a tool's colour for its 5-hour window, and a deeper one for its longer windows
  const TOOL_COLORS = { 'claude-code': ['#e07a52', '#a34a2a'], codex: ['#14b08a', '#0a6e57'], copilot: ['#8b5cf6', '#5b34c4'], gemini: ['#4285f4', '#1f5bc4'] };
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
    function load(filter, current) {
      const my = ++seq;
      lastFilter = filter;
      const range = { from: filter.from, to: filter.to };
      const boot = kit.boot.data || {};
      const bootFits = first && kit.boot.filter && kit.boot.filter.from === range.from && kit.boot.filter.to === range.to;
      first = false;
      let getLimits, getHistory;
      if (!live || (bootFits && boot.limits)) getLimits = Promise.resolve(boot.limits || null);
      else getLimits = kit.call('limits', {});
      if (!live || (bootFits && boot.limitHistory)) {
        getHistory = boot.limitHistory && boot.limitHistory.from === range.from && boot.limitHistory.to === range.to
          ? Promise.resolve(boot.limitHistory) : Promise.reject(new Error('the snapshot holds the history of ' + kit.boot.filter.from + ' – ' + kit.boot.filter.to + ' only'));
      } else getHistory = kit.call('limitHistory', range);
      // one after the other: the server answers one request at a time
      return getLimits.then((l) => [l, null], (e) => [null, e]).then(([l, lErr]) =>
        getHistory.then((h) => [l, lErr, h, null], (e) => [l, lErr, null, e])).then(([l, lErr, h, hErr]) => {
        if (my !== seq || !current()) return;
        limits = l; hist = h; histError = hErr;
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
      const used = Math.max(0, w.usedPercent) / 100;
      const proj = num(w.projectedPercent);
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
    /** When the pace reaches 100%, in ms, if before the reset: the window's start plus the time
     * it takes at the rate so far (used / elapsed) to use all of it. */
    function limitAt(w) {
      const proj = num(w.projectedPercent), len = windowMs(w.window), reset = num(w.resetsAt);
      if (proj === null || proj <= 100 || len === null || reset === null || w.usedPercent >= 100) return null;
      return reset - len + (len * 100) / proj;
    }
    function gauge(w, nowMs) {
      const level = LEVELS.includes(w.level) ? w.level : 'normal';
      const name = windowName(w.window);
      const reset = num(w.resetsAt);
      const elapsed = num(w.elapsedPercent), proj = num(w.projectedPercent);
      const head = el('div', { class: 'lg-head' },
        el('span', { class: 'lg-tool', text: toolName(w.source) }),
        el('span', { class: 'lg-win', text: cap(name) + (w.limitId && w.limitId !== w.source && w.limitId !== 'codex' ? ' · ' + w.limitId : '') }));
      if (w.estimated) {
        head.append(el('span', { class: 'badge lg-est', text: 'estimated',
          title: 'No official window from the tool: estimated from your messages (a 5-hour block from the first message)' }));
      }
      const value = el('div', { class: 'lg-center' },
        el('div', { class: 'lg-value', text: pctText(w.usedPercent) }), el('div', { class: 'lg-unit', text: 'used' }));
      const pace = el('div', { class: 'lg-pace-text' });
      if (elapsed !== null) {
        pace.append(el('span', { class: 'lg-mark', 'aria-hidden': 'true' }), pctText(elapsed) + ' of the time passed');
        if (proj !== null) pace.append(' · ', el('span', { class: 'lg-proj', text: 'on pace for ' + pctText(proj) }));
        else pace.append(' · too early for a pace');
        pace.title = 'The marker on the gauge: ' + pctText(elapsed) + ' of the window has passed, so an even pace would have used ' +
          pctText(elapsed) + (proj !== null ? '. At the pace so far the window ends at ' + pctText(proj) + ' used.' : '.');
      }
      const resetLine = el('div', { class: 'lg-reset', 'data-reset': reset === null ? '' : String(reset) });
      fillReset(resetLine, reset, nowMs);
      const tile = el('div', { class: 'lim-gauge lv-' + level, 'data-source': w.source, 'data-window': w.window, 'data-level': level },
        head, el('div', { class: 'lg-dial' }, dial(w), value), pace, resetLine);
      const at = limitAt(w);
      if (w.usedPercent >= 100) {
        tile.append(el('div', { class: 'lg-warn', text: 'Limit reached' + (reset !== null ? ': it resets at ' + when(reset, nowMs) : '') }));
      } else if (at !== null) {
        tile.append(el('div', { class: 'lg-warn', 'data-limit-at': String(Math.round(at)),
          text: 'At this pace you reach the ' + name + ' limit at ' + when(at, nowMs), title: fullTime(at) }));
      }
      tile.title = toolName(w.source) + ' ' + name + ' window: ' + pctText(w.usedPercent) + ' used' +
        (w.observedAt ? ' (reported ' + when(w.observedAt, nowMs) + ')' : '') +
        (elapsed !== null ? '\nThe marker is the share of the window passed: an even pace would have used that much' : '');
      return tile;
    }
    function fillReset(node, reset, nowMs) {
      if (reset === null) { node.textContent = 'Reset time not reported'; return; }
      if (reset <= nowMs) { node.textContent = 'Reset at ' + when(reset, nowMs); node.title = fullTime(reset); return; }
      node.replaceChildren('Resets in ', el('b', { class: 'lg-count', text: countdown(reset - nowMs) }), ' · ' + when(reset, nowMs));
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
      const period = [p.periodStart, p.periodEnd].map(toMs);
      const sub = [toolName(p.tool)];
      if (period[0] !== null && period[1] !== null) {
        const a = new Date(period[0]), b = new Date(period[1] - 1);
        sub.push(MONTHS[a.getMonth()] + ' ' + a.getDate() + ' – ' + MONTHS[b.getMonth()] + ' ' + b.getDate());
      }
      const box = el('div', { class: 'lim-plan', 'data-tool': String(p.tool || '') }, line, el('div', { class: 'lp-sub', text: sub.join(' · ') }));
      const credits = p.credits && typeof p.credits === 'object' ? creditsBlock(p.credits) : null;
      if (credits) box.append(credits);
      return box;
    }

    // -- history --------------------------------------------------------------------------------
    const seriesLabel = (s) => toolName(s.source) + ' ' + windowName(s.window) + (s.limitId && s.limitId !== 'codex' ? ' (' + s.limitId + ')' : '');
    function seriesColor(s, i) {
      const pair = TOOL_COLORS[s.source];
      return pair ? pair[s.window === '5h' ? 0 : 1] : OTHER_COLORS[i % OTHER_COLORS.length];
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
          elements: { line: { borderWidth: 2, stepped: 'after' }, point: { hoverRadius: 4 } },
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
      chart.data.datasets = shown.map((s, i) => {
        const color = seriesColor(s, i);
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
      hint.textContent = 'as the tools report them' + (ws.some((w) => w.estimated) ? ', estimated where they do not' : '') +
        ' · the marker on each gauge is the time passed (an even pace)';
      gauges.replaceChildren(...ws.map((w) => gauge(w, nowMs)));
      gauges.hidden = !ws.length;
      gaugesNote.hidden = ws.length > 0;
      gaugesNote.textContent = ws.length ? '' : (tool ? toolName(tool) + ' has' : 'The tools have') +
        ' no open window right now: the last ones have reset. A window shows again when the tool next reports it.';
      plans.hidden = !ps.length;
      plans.replaceChildren(...(ps.length ? [el('div', { class: 'lim-sub', text: ps.length === 1 ? 'Your plan' : 'Your plans' }), ...ps.map(plan)] : []));
      body.classList.toggle('with-plans', ps.length > 0);
      history.hidden = !ss.length && !histError && !ws.length;
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
      chart.update('none');
    }

    setInterval(tick, 15000);
    if (live) {
      // the pace moves with the clock: ask again each minute (the server caches per minute)
      setInterval(() => { if (lastFilter) load(lastFilter, () => true); }, 60000);
    }
    const card = {
      refresh: (ctx) => load(ctx.filter, ctx.current),
      theme,
      get limits() { return limits; },
      get history() { return hist; },
      get datasets() { return chart ? chart.data.datasets.map((d) => ({ label: d.label, source: d.source, window: d.window, points: d.data.map((p) => ({ x: p.x, y: p.y, reset: !!p.reset, tail: !!p.tail })) })) : []; },
      selectTool: (s) => { tool = s; render(); },
    };
    window.usageLimitsCard = card;
    return card;
  }

  (window.usageCards = window.usageCards || []).push(make);
})();

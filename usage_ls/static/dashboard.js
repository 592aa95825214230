/* usage-ls Usage Dashboard: the page's own script.
 *
 * Data: the first view is embedded (#usage-data); later views come from the protocol's
 * query methods (usage/insights among them, for the Insights card), through the VS Code
 * extension (postMessage, see docs/dashboard.md), the local server (POST /api/<method>), or,
 * in a static snapshot, from the embedded data only.
 * Safety: every name (project, model, user, tool) is data: it reaches the page through
 * textContent / DOM APIs only, never as markup.
 */
(function () {
  'use strict';

  const boot = JSON.parse(document.getElementById('usage-data').textContent);
  const vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : null;
  const MODE = vscode ? 'vscode' : boot.mode === 'browser' ? 'browser' : 'static';
  // the local server answers only requests carrying its run's token, which came in this page's URL
  const AUTH = MODE === 'browser' ? { Authorization: 'Bearer ' + (new URLSearchParams(location.search).get('token') || '') } : {};
  const $ = (id) => document.getElementById(id);
  const app = $('app');
  const SVG = 'http://www.w3.org/2000/svg';
  const TOP_MODELS = 8;
  const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#8cd17d'];
  const OTHER = '#a0a4ab';
  const SPLIT_COLORS = { input: '#3b82f6', output: '#f59e0b', cacheRead: '#14b8a6', cacheWrite: '#a855f7' };
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const SPIKE = '#e5484d';

  // ---- formatting ---------------------------------------------------------------------------
  const nf0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const nf1 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const nf2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const fmtCount = (n) => nf0.format(n);
  const plural = (n, word) => fmtCount(n) + ' ' + word + (n === 1 ? '' : 's');
  const fmtCredits = (x) => nf1.format(x);
  function fmtUsd(x) {
    if (x === null || x === undefined) return 'unpriced';
    if (x === 0) return '$0.00';
    if (Math.abs(x) < 0.01) return '$' + x.toFixed(4);
    return '$' + nf2.format(x);
  }
  function fmtTokens(n) {
    const a = Math.abs(n);
    const units = [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
    for (let i = 0; i < units.length; i++) {
      const [lim, suffix] = units[i];
      if (a >= lim) {
        const v = n / lim;
        if (v >= 999.5 && i > 0) return (n / units[i - 1][0]).toFixed(1) + units[i - 1][1];
        return (v < 100 ? v.toFixed(1) : v.toFixed(0)) + suffix;
      }
    }
    return String(Math.round(n));
  }
  const pct = (part, whole) => (whole > 0 ? (100 * part) / whole : 0);
  const fmtPct = (p) => (p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)) + '%';
  function parseDay(s) {
    const [y, m, d] = s.split('-').map(Number);
    return { y, m, d, wd: new Date(Date.UTC(y, m - 1, d)).getUTCDay() };
  }
  const dayLabel = (s) => { const p = parseDay(s); return MONTHS[p.m - 1] + ' ' + p.d; };
  function shiftDay(s, n) {
    const p = parseDay(s);
    return new Date(Date.UTC(p.y, p.m - 1, p.d + n)).toISOString().slice(0, 10);
  }
  function rangeLabel(from, to) {
    const a = parseDay(from), b = parseDay(to);
    if (from === to) return WEEKDAYS[a.wd] + ', ' + MONTHS[a.m - 1] + ' ' + a.d + ', ' + a.y;
    const left = MONTHS[a.m - 1] + ' ' + a.d + (a.y !== b.y ? ', ' + a.y : '');
    return left + ' – ' + MONTHS[b.m - 1] + ' ' + b.d + ', ' + b.y;
  }

  // ---- DOM helpers: text only -----------------------------------------------------------------
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    if (props) {
      for (const k of Object.keys(props)) {
        const v = props[k];
        if (v === undefined || v === null) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'tabindex') e.setAttribute(k, v);
        else e[k] = v;
      }
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }
  const swatch = (color) => { const s = el('span', { class: 'sw' }); s.style.background = color; return s; };
  const badge = (text, title) => el('span', { class: 'badge unpriced', text, title });

  // ---- state ----------------------------------------------------------------------------------
  const f0 = boot.filter;
  const state = {
    today: boot.today,
    preset: boot.preset,
    from: f0.from, to: f0.to,
    project: f0.project || '', user: f0.user || '', model: f0.model || '',
    tool: f0.tool || '', // one tool's records (usage/tools lists them; the Team view's: from the team's records)
    billing: f0.billing === 'byok' ? 'byok' : 'premium',
    sort: '-timestamp', offset: 0, limit: boot.pageSize || 50,
    session: '', // the interactions of this session only (a click in the Sessions table)
    scope: boot.scope === 'team' ? 'team' : 'local', // 'team': every card from the team database (the switch shows only with [sync] postgres)
  };
  const TEAM_SYNC = !!boot.teamSync && MODE !== 'static';
  const team = () => state.scope === 'team';
  const premium = () => state.billing === 'premium';
  let view = null; // the results on screen: {summary, tokenSplit, projects, users, daily, options}
  let rowsView = { total: 0, rows: [] };
  // usage/insights for the filter `insightsKey` (it arrives after the main numbers)
  let insightsView = null, insightsKey = null, insightsError = null;
  const colors = new Map();
  let nextColor = 0;
  function colorOf(model) {
    if (model === null) return OTHER;
    if (!colors.has(model)) colors.set(model, PALETTE[nextColor++ % PALETTE.length]);
    return colors.get(model);
  }

  function filterParams() {
    const f = { from: state.from, to: state.to };
    if (state.project) f.project = state.project;
    if (state.user) f.user = state.user;
    if (state.model) f.model = state.model;
    if (state.tool) f.tool = state.tool;
    f.billing = state.billing;
    if (team()) f.scope = 'team';
    return f;
  }
  const optionParams = () => ({ from: state.from, to: state.to, billing: state.billing, ...(team() ? { scope: 'team' } : {}) });
  const toolParams = () => ({ from: state.from, to: state.to, ...(team() ? { scope: 'team' } : {}) }); // the Tool picker's: the range only

  // ---- transport --------------------------------------------------------------------------------
  const pending = new Map();
  let nextId = 1;
  function transport(method, params) {
    if (MODE === 'vscode') {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => { pending.delete(id); reject(new Error(method + ': no answer from the editor')); }, 60000);
        pending.set(id, { resolve, reject, timer });
        vscode.postMessage({ type: 'usage-request', id, method: 'usage/' + method, params });
      });
    }
    if (MODE === 'browser') {
      return fetch('/api/' + method, {
        method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH }, body: JSON.stringify(params),
        credentials: 'same-origin', cache: 'no-store',
      }).then((r) => r.json().then((j) => {
        if (!r.ok || j.error) throw new Error((j.error && j.error.message) || r.statusText);
        return j;
      }));
    }
    return Promise.reject(new Error('This is a static snapshot: run `usage-ls dashboard` for live filters.'));
  }
  window.addEventListener('message', (event) => {
    const msg = event.data;
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'usage-response' && pending.has(msg.id)) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(String(msg.error.message || 'request failed')));
      else p.resolve(msg.result);
    } else if (msg.type === 'usage-changed') {
      dataChanged();
    }
  });

  const cache = new Map();
  function api(method, params) {
    const key = method + ' ' + JSON.stringify(params);
    if (cache.has(key)) return cache.get(key);
    const p = transport(method, params);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
    if (cache.size > 300) cache.delete(cache.keys().next().value);
    return p;
  }
  function seed() {
    const d = boot.data, f = filterParams(), o = optionParams();
    const put = (m, p, v) => cache.set(m + ' ' + JSON.stringify(p), Promise.resolve(v));
    put('summary', f, d.summary); put('tokenSplit', f, d.tokenSplit); put('projects', f, d.projects);
    put('users', f, d.users); put('daily', f, d.daily);
    if (d.insights) put('insights', f, d.insights);
    if (d.attribution) put('attribution', f, d.attribution);
    optionCache.set(JSON.stringify(o), d.options);
    put('tools', toolParams(), { tools: d.options.tools || [] });
    if (MODE !== 'static') put('interactions', { ...f, offset: 0, limit: state.limit, sort: state.sort }, d.interactions);
    if (MODE !== 'static' && d.sessions) put('sessions', { ...f, offset: 0, limit: SESSIONS_PAGE }, d.sessions);
  }
  const optionCache = new Map();
  let toolsError = null;
  function options() {
    const o = optionParams(), key = JSON.stringify(o);
    if (optionCache.has(key)) return Promise.resolve(optionCache.get(key));
    // the tools (the Team view's: the team's records'); null when not answered (an editor that
    // does not forward usage/tools): the picker then offers the tool chosen only, and says why
    const tools = api('tools', toolParams()).then((t) => t.tools, (err) => { toolsError = err; return null; });
    return Promise.all([api('projects', o), api('users', o), api('tokenSplit', o), tools]).then(([p, u, m, t]) => {
      const v = { projects: p.projects.map((x) => x.project), users: u.users.map((x) => x.user), models: m.models.map((x) => x.model), tools: t };
      if (t !== null) optionCache.set(key, v);
      return v;
    });
  }

  // ---- refresh ----------------------------------------------------------------------------------
  let gen = 0, done = 0, started = 0;
  function setBusy(busy) {
    app.setAttribute('aria-busy', busy ? 'true' : 'false');
    app.classList.toggle('busy', busy);
  }
  function showError(err) {
    const box = $('error');
    app.classList.toggle('team-down', !!err && team());
    if (!err) { box.hidden = true; box.replaceChildren(); return; }
    box.hidden = false;
    const text = String(err.message || err);
    if (team()) { // the team database is down, refusing or unreachable: say so; Local goes on working
      box.replaceChildren(el('b', { text: 'Team numbers are unavailable. ' }), text,
        el('span', { class: 'err-hint', text: ' The numbers below are not the team\u2019s. Switch to Local for this machine\u2019s usage.' }));
    } else {
      box.textContent = text;
    }
  }

  function refresh(opts) {
    const my = ++gen;
    started = performance.now();
    setBusy(true);
    renderFilters();
    const f = filterParams();
    const main = Promise.all([
      api('summary', f), api('tokenSplit', f), api('projects', f), api('users', f), api('daily', f), options(),
    ]).then(([summary, tokenSplit, projects, users, daily, opts]) => {
      if (my !== gen) return;
      view = { summary, tokenSplit, projects, users, daily, options: opts };
      renderAll();
      app.dataset.mainMs = (performance.now() - started).toFixed(1); // numbers and charts on screen
      return refreshCards(my, f); // then the cards of other scripts (limits.js); they show their own errors
    });
    const rows = Promise.all([loadRows(my, opts && opts.keepPage), loadSessions(my, opts && opts.keepPage)]);
    // insights after the main numbers: the server answers one request at a time, and tips
    // over a long range take longer than the totals
    const ins = main.catch(() => {}).then(() => (my === gen ? loadInsights(my, f) : null));
    const where = ins.catch(() => {}).then(() => (my === gen ? loadWhere(my, f) : null));
    return Promise.all([main, rows, ins, where]).then(() => {
      if (my !== gen) return;
      showError(null);
    }, (err) => {
      if (my === gen) showError(err);
    }).then(() => {
      if (my !== gen) return;
      done++;
      app.dataset.gen = String(done);
      app.dataset.applyMs = (performance.now() - started).toFixed(1);
      setBusy(false);
    });
  }

  function loadRows(my, keepPage) {
    if (!keepPage) state.offset = 0;
    if (MODE === 'static') {
      rowsView = localRows(state.sort, state.offset, state.limit);
      renderRows();
      return Promise.resolve();
    }
    const p = { ...filterParams(), offset: state.offset, limit: state.limit, sort: state.sort };
    if (state.session) p.session = state.session;
    $('rows-table').classList.add('loading');
    return api('interactions', p).then((r) => {
      if (my !== gen) return;
      rowsView = r;
      if (r.rows.length === 0 && state.offset > 0 && r.total > 0) { // the data shrank under us
        state.offset = Math.max(0, Math.floor((r.total - 1) / state.limit) * state.limit);
        return loadRows(my, true);
      }
      renderRows();
      $('rows-table').classList.remove('loading');
      app.dataset.rowsMs = (performance.now() - started).toFixed(1); // the interactions table too
    });
  }

  function loadInsights(my, f) {
    const key = JSON.stringify(f);
    const apply = (ins, err) => {
      if (my !== gen) return;
      insightsView = ins; insightsError = err; insightsKey = key;
      renderInsights();
      charts.daily.update('none'); // the spike marks
    };
    return api('insights', f).then((ins) => apply(ins, null), (err) => apply(null, err));
  }

  function refreshRowsOnly() {
    const my = ++gen;
    started = performance.now();
    setBusy(true);
    return loadRows(my, true).then(() => { if (my === gen) showError(null); }, (err) => { if (my === gen) showError(err); }).then(() => {
      if (my !== gen) return;
      done++;
      app.dataset.gen = String(done);
      app.dataset.applyMs = (performance.now() - started).toFixed(1);
      setBusy(false);
    });
  }

  // Live: the editor says so (usage-changed), or the local server's version moves.
  let changeTimer = null, todayCheckedAt = Date.now();
  function dataChanged() {
    clearTimeout(changeTimer);
    changeTimer = setTimeout(() => {
      cache.clear();
      optionCache.clear();
      checkToday().then(() => refresh({ keepPage: true })).then(markLive);
    }, 250);
  }
  function checkToday(known) {
    const apply = (today) => {
      todayCheckedAt = Date.now();
      if (!today || today === state.today) return;
      state.today = today;
      if (state.preset !== 'custom') [state.from, state.to] = presetRange(state.preset, today);
    };
    if (known) { apply(known); return Promise.resolve(); }
    if (MODE === 'static' || Date.now() - todayCheckedAt < 60000) return Promise.resolve();
    return transport('daily', {}).then((d) => apply(d.days[0] && d.days[0].date), () => {});
  }
  function markLive() {
    const t = new Date();
    $('live').textContent = (MODE === 'static' ? 'Snapshot' : 'Live') + ' · updated ' + t.toTimeString().slice(0, 8);
  }
  // other machines push without this one knowing: the Team view asks again every minute
  if (TEAM_SYNC) setInterval(() => { if (team() && !document.hidden) dataChanged(); }, 60000);
  if (MODE === 'browser') {
    let version = boot.version;
    const poll = () => fetch('/api/version', { cache: 'no-store', headers: AUTH }).then((r) => r.json()).then((v) => {
      if (v.version !== version || v.today !== state.today) {
        version = v.version;
        checkToday(v.today);
        dataChanged();
      }
    }).catch(() => {}).then(() => setTimeout(poll, 2000));
    setTimeout(poll, 2000);
  }

  // ---- cards from other scripts (static/limits.js) ------------------------------------------------------
  // A script before this one pushes `make(kit)` onto window.usageCards; `make` builds its card and
  // returns {refresh(ctx) -> Promise (never rejected: the card shows its own errors), theme(t)}.
  let cards = [];
  function refreshCards(my, f) {
    const ctx = { filter: f, current: () => my === gen };
    return Promise.all(cards.map((c) => Promise.resolve().then(() => c.refresh(ctx)).catch(() => {})));
  }
  function makeCards() {
    const kit = {
      mode: MODE, boot, state, el, api, call: transport, theme, fmtPct, fmtUsd, fmtCount, fmtCredits, fmtTokens,
      dayLabel, place: (node) => $('insights').after(node),
    };
    cards = (window.usageCards || []).map((make) => make(kit));
  }

  // ---- filters ----------------------------------------------------------------------------------
  function presetRange(preset, today) {
    switch (preset) {
      case 'today': return [today, today];
      case 'yesterday': return [shiftDay(today, -1), shiftDay(today, -1)];
      case '7d': return [shiftDay(today, -6), today];
      case '30d': return [shiftDay(today, -29), today];
      case 'month': return [today.slice(0, 8) + '01', today];
      default: return [state.from, state.to];
    }
  }

  function fillSelect(select, label, names, current) {
    const list = names.slice();
    if (current && !list.includes(current)) list.unshift(current);
    const opts = [el('option', { value: '', text: 'All ' + label })];
    for (const n of list) opts.push(el('option', { value: n, text: n }));
    select.replaceChildren(...opts);
    select.value = current || '';
  }

  function renderFilters() {
    for (const b of document.querySelectorAll('#date-presets button')) {
      const on = b.dataset.preset === state.preset;
      b.classList.toggle('on', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    for (const b of document.querySelectorAll('#billing button')) {
      const on = b.dataset.billing === state.billing;
      b.classList.toggle('on', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    for (const b of document.querySelectorAll('#scope button')) {
      const on = b.dataset.scope === state.scope;
      b.classList.toggle('on', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    $('scope').hidden = !TEAM_SYNC;
    app.classList.toggle('team', team());
    $('custom-range').hidden = state.preset !== 'custom';
    $('from').value = state.from;
    $('to').value = state.to;
    $('from').max = state.today; $('to').max = state.today;
    $('range-label').textContent = rangeLabel(state.from, state.to) + (team() ? ' \u00b7 the whole team, every machine' : '');
    $('clear').hidden = !(state.project || state.user || state.model || state.tool);
    app.classList.toggle('byok', !premium());
  }

  function fillPickers() {
    const o = view.options;
    fillSelect($('project'), 'projects', o.projects, state.project);
    fillSelect($('user'), 'users', o.users, state.user);
    fillSelect($('model'), 'models', o.models, state.model);
    fillSelect($('tool'), 'tools', o.tools || [], state.tool);
    $('tool').disabled = MODE === 'static';
    $('tool-pick').title = o.tools === null ? 'The tools are unavailable: ' + String((toolsError && toolsError.message) || toolsError)
      : team() ? 'The tools with team records in this range: one shows only its own records (summed from the team\u2019s records: a member\u2019s login sees its own only)'
      : 'The tools with records in this range (Claude Code, Codex, \u2026): one shows only its own records';
  }

  function wireFilters() {
    for (const b of document.querySelectorAll('#date-presets button')) {
      b.addEventListener('click', () => {
        state.preset = b.dataset.preset;
        if (state.preset !== 'custom') [state.from, state.to] = presetRange(state.preset, state.today);
        refresh();
      });
    }
    const customChanged = () => {
      let a = $('from').value, b = $('to').value;
      if (!a || !b) return;
      if (a > b) [a, b] = [b, a];
      state.preset = 'custom';
      state.from = a; state.to = b;
      refresh();
    };
    $('from').addEventListener('change', customChanged);
    $('to').addEventListener('change', customChanged);
    for (const b of document.querySelectorAll('#billing button')) {
      b.addEventListener('click', () => {
        if (state.billing === b.dataset.billing) return;
        state.billing = b.dataset.billing;
        if (state.sort.replace('-', '') === 'credits' || state.sort.replace('-', '') === 'costUsd') {
          state.sort = (state.sort.startsWith('-') ? '-' : '') + (premium() ? 'credits' : 'costUsd');
        }
        refresh();
      });
    }
    for (const b of document.querySelectorAll('#scope button')) {
      b.addEventListener('click', () => {
        if (state.scope === b.dataset.scope) return;
        state.scope = b.dataset.scope;
        state.session = '';
        state.user = ''; // a user of one scope may not be in the other
        refresh();
      });
    }
    for (const name of ['project', 'user', 'model', 'tool']) {
      $(name).addEventListener('change', () => { state[name] = $(name).value; refresh(); });
    }
    $('clear').addEventListener('click', () => { state.project = state.user = state.model = state.tool = ''; refresh(); });
    $('kpi-budget').addEventListener('click', () => {
      $('insights').scrollIntoView({ block: 'start' });
      $('insights').focus({ preventScroll: true });
    });
    if (MODE === 'static') {
      for (const c of document.querySelectorAll('.filters button, .filters select, .filters input')) c.disabled = true;
      $('static-note').hidden = false;
      $('generated').textContent = boot.generatedAt.replace('T', ' ');
    }
  }
  function filterBy(kind, name) {
    if (MODE === 'static') return;
    state[kind] = state[kind] === name ? '' : name;
    refresh();
  }

  // ---- key metrics ----------------------------------------------------------------------------
  function renderKpis() {
    const s = view.summary;
    const money = $('kpi-money');
    money.querySelector('.k-label').textContent = premium() ? 'Credits' : 'Cost (BYOK)';
    const value = money.querySelector('.k-value');
    if (s.messages > 0 && s.unpricedMessages >= s.messages) value.replaceChildren(badge('unpriced', 'No price is known for these models'));
    else value.textContent = premium() ? fmtCredits(s.credits) : fmtUsd(s.costUsd);
    const sub = money.querySelector('.k-sub');
    sub.replaceChildren();
    if (premium()) sub.append(fmtUsd(s.costUsd) + ' at list price');
    else sub.append('paid with your own keys');
    if (s.unpricedMessages) {
      sub.append(el('br'), badge(fmtCount(s.unpricedMessages) + ' unpriced message' + (s.unpricedMessages === 1 ? '' : 's'),
        'Models no price table knows: not counted in the total (add them under [prices] in config.toml)'));
    }
    $('kpi-messages').querySelector('.k-value').textContent = fmtCount(s.messages);
    $('kpi-messages').querySelector('.k-sub').textContent = s.messages
      ? fmtTokens(s.totalTokens / s.messages) + ' tokens per message' : 'no messages in this range';
    const tok = $('kpi-tokens');
    const tv = tok.querySelector('.k-value');
    tv.textContent = fmtTokens(s.totalTokens);
    tv.title = fmtCount(s.totalTokens) + ' tokens';
    const parts = [
      ['Input', s.inputTokens, SPLIT_COLORS.input, 'input'], ['Output', s.outputTokens, SPLIT_COLORS.output, 'output'],
      ['Cache read', s.cacheReadTokens, SPLIT_COLORS.cacheRead, 'cache-read'], ['Cache write', s.cacheWriteTokens, SPLIT_COLORS.cacheWrite, 'cache-write'],
    ];
    tok.querySelector('.splitbar').replaceChildren(...splitSegments(parts, s.totalTokens));
    tok.querySelector('.k-split').replaceChildren(...parts.map(([label, n, color, key]) =>
      el('span', { class: 'part', 'data-part': key, title: fmtCount(n) + ' ' + label.toLowerCase() + ' tokens' },
        swatch(color), el('span', { class: 'p-label', text: label }), el('b', { text: fmtTokens(n) }))));
  }
  // ---- insights: budgets, burn rate, projections (now); spikes and tips (the range) -----------------
  const insightsFresh = () => insightsKey === JSON.stringify(filterParams());
  const unitOfPage = () => (premium() ? 'credits' : 'usd');
  const fmtAmount = (x, unit) => (unit === 'credits' ? fmtCredits(x) + ' credits' : fmtUsd(x));
  function fmtLimit(b) {
    if (b.unit === 'usd') return fmtUsd(b.limit);
    return Number.isInteger(b.limit) ? fmtCount(b.limit) : fmtCredits(b.limit);
  }
  function dayName(date) {
    if (date === state.today) return 'Today';
    if (date === shiftDay(state.today, -1)) return 'Yesterday';
    return WEEKDAYS[parseDay(date).wd] + ', ' + dayLabel(date);
  }
  const hh = (h) => String(h % 24).padStart(2, '0') + ':00';
  const hourSpan = (s) => hh(s.hour) + '–' + hh(s.hour + 1);
  const budgetLabel = (b) => b.label.replace(/^BYOK (\w)/, (_, c) => c.toUpperCase()); // the page's mode says BYOK
  const budgetLevel = (p) => (p >= 100 ? 'error' : p >= (boot.warnAt || 80) ? 'warning' : 'normal');
  function pageBudgets() {
    return insightsFresh() && insightsView ? insightsView.budgets.filter((b) => (b.unit === 'usd') !== premium()) : [];
  }

  function renderBudgets() {
    const box = $('budgets');
    const mine = pageBudgets();
    box.hidden = !mine.length;
    const rows = mine.map((b) => {
      if (b.used === null) { // the team database has not answered: said, not drawn as 0
        return el('div', { class: 'budget unavailable', 'data-budget': b.budget },
          el('div', { class: 'b-line' }, el('span', { class: 'b-label', text: budgetLabel(b) }),
            el('span', { class: 'b-num', text: 'unavailable' })),
          el('div', { class: 'b-sub', text: b.unavailable || '' }));
      }
      const p = pct(b.used, b.limit);
      const fmt = b.unit === 'usd' ? fmtUsd : fmtCredits;
      const fill = el('span', { class: 'fill' });
      fill.style.width = Math.min(100, p).toFixed(2) + '%';
      const bar = el('div', { class: 'b-bar' }, fill);
      const sub = el('div', { class: 'b-sub' },
        el('span', { class: 'b-left', text: fmt(b.left) + ' left' }),
        ' · ' + (b.budget === 'daily_credits' ? 'resets at midnight' : 'resets ' + dayLabel(b.resets)));
      if (b.projected > b.used + 1e-9) {
        // where today's pace ends the period: a lighter bar beyond what is used
        const ahead = el('span', { class: 'ahead' });
        ahead.style.left = Math.min(100, p).toFixed(2) + '%';
        ahead.style.width = Math.max(0, Math.min(100, b.projectedPercent) - Math.min(100, p)).toFixed(2) + '%';
        bar.append(ahead);
        const over = b.projectedPercent >= 100;
        sub.append(el('span', { class: 'b-proj' + (over ? ' over' : ''),
          text: ' · at today\u2019s pace ' + fmt(b.projected) + ' (' + fmtPct(b.projectedPercent) + ')' + (over ? ' before it resets' : ' by then') }));
      }
      return el('div', { class: 'budget ' + budgetLevel(p) + (b.projectedPercent >= 100 ? ' over' : ''), 'data-budget': b.budget, 'data-project': b.project === null ? '' : b.project,
        title: b.label + ': ' + fmt(b.used) + ' of ' + fmtLimit(b) + (b.unit === 'usd' ? '' : ' credits') + ' used (config.toml [budgets])' },
      el('div', { class: 'b-line' }, el('span', { class: 'b-label', text: budgetLabel(b) }),
        el('span', { class: 'b-num', text: fmt(b.used) + ' / ' + fmtLimit(b) + ' · ' + fmtPct(p) })),
      bar, sub);
    });
    box.replaceChildren(...(rows.length ? [el('div', { class: 'b-head', text: 'Budgets' }), ...rows] : []));
    // the key metric links to the fullest budget
    const link = $('kpi-budget');
    const worst = mine.filter((b) => b.used !== null).sort((a, b) => pct(b.used, b.limit) - pct(a.used, a.limit))[0];
    link.hidden = !worst;
    if (worst) {
      const p = pct(worst.used, worst.limit);
      link.className = 'k-budget link ' + budgetLevel(p);
      link.textContent = budgetLabel(worst) + ': ' + fmtPct(p) + ' of budget used';
      link.title = 'Budgets, burn rate and projections: the Insights card';
    }
  }

  function setStat(id, value, unitText, sub) {
    const box = $(id);
    box.querySelector('.is-value').replaceChildren(value, unitText ? el('span', { class: 'is-unit', text: unitText }) : '');
    box.querySelector('.is-sub').textContent = sub;
  }

  function spikeWho(s) {
    const parts = [];
    if (s.topModel) parts.push(s.topModel.name + ' (' + fmtPct(100 * s.topModel.share) + ')');
    if (s.topProject) parts.push('project ' + s.topProject.name + ' (' + fmtPct(100 * s.topProject.share) + ')');
    const who = s.topUser ? ' · by ' + s.topUser.name + ' (' + fmtPct(100 * s.topUser.share) + ')' : '';
    return parts.length ? 'mostly ' + parts.join(' in ') + who : '';
  }
  const spikeUsual = (s) => (s.kind === 'day' ? 'usual ' : 'a usual busy hour of ') + fmtAmount(s.median, s.unit);
  function spikeSentence(s) {
    return 'Spike' + (s.kind === 'hour' ? ' ' + hourSpan(s) : '') + ': ' + fmtAmount(s.value, s.unit) + ' vs ' + spikeUsual(s);
  }

  function renderSpikes(ins) {
    const list = ins.spikes.slice().reverse(); // the latest first
    const items = list.map((s) => {
      const when = el('div', { class: 'sp-when' }, el('span', { class: 'sp-dot', 'aria-hidden': 'true' }),
        el('span', { text: dayName(s.date) + (s.kind === 'hour' ? ' · ' + hourSpan(s) : '') }),
        el('span', { class: 'sp-kind', text: s.kind === 'day' ? 'day' : 'hour' }));
      const ratio = s.median > 0 ? ' · ' + (s.value / s.median).toFixed(1) + '×' : '';
      const li = el('li', { class: 'spike', 'data-date': s.date, 'data-kind': s.kind },
        when,
        el('div', { class: 'sp-num' }, el('b', { text: fmtAmount(s.value, s.unit) }), ' vs ' + spikeUsual(s) + ratio),
        spikeWho(s) ? el('div', { class: 'sp-who', text: spikeWho(s) }) : null);
      if (MODE !== 'static' && !(state.from === s.date && state.to === s.date)) {
        li.classList.add('click');
        li.tabIndex = 0;
        li.title = 'Show ' + dayLabel(s.date);
        const go = () => { state.preset = 'custom'; state.from = state.to = s.date; refresh(); };
        li.addEventListener('click', go);
        li.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
      }
      return li;
    });
    if (!items.length) items.push(el('li', { class: 'empty', text: 'No unusual days or hours in this range.' }));
    $('ins-spikes').replaceChildren(...items);
    $('spikes-hint').textContent = team() ? 'against the team\u2019s previous 28 days' : 'against your previous 28 days';
  }

  function tipTitle(t) {
    if (t.kind === 'cheaperModel') return 'Use ' + t.alternative + ' instead of ' + t.model + ' for short answers';
    if (t.kind === 'promptCaching') return 'Cache the long prompts of project ' + t.project;
    if (t.kind === 'spikeSource') {
      const who = t.project !== undefined ? 'Project ' + t.project : 'Session ' + t.session;
      return who + ' caused ' + fmtPct(100 * t.share) + ' of the spike on ' + dayLabel(t.date);
    }
    return t.kind;
  }
  function renderTips(ins) {
    const items = ins.tips.map((t) => {
      const save = el('span', { class: 'tip-save' });
      if (premium() && t.savingCredits > 0) save.append('save ≈ ' + fmtCredits(t.savingCredits) + ' credits', el('span', { class: 'tip-usd', text: fmtUsd(t.savingUsd) }));
      else save.append('save ≈ ' + fmtUsd(t.savingUsd) + (premium() ? ' at list price' : ''));
      return el('li', { class: 'tip', 'data-kind': t.kind },
        el('div', { class: 'tip-top' }, el('span', { class: 'tip-title', text: tipTitle(t) }), save),
        el('details', { class: 'tip-how' }, el('summary', { text: 'How this is computed' }), el('p', { text: t.how })));
    });
    if (!items.length) items.push(el('li', { class: 'empty', text: 'Nothing to suggest for this range.' }));
    $('ins-tips').replaceChildren(...items);
    $('tips-hint').textContent = ins.tips.length ? 'biggest saving first' : '';
  }

  function renderInsights() {
    const box = $('insights');
    const fresh = insightsFresh();
    box.classList.toggle('loading', !fresh);
    if (!fresh) return; // the answer for this filter is on its way; keep the last one, dimmed
    const errBox = $('insights-error');
    errBox.hidden = !insightsError;
    errBox.textContent = insightsError ? 'Insights are unavailable: ' + String(insightsError.message || insightsError) : '';
    box.classList.toggle('failed', !!insightsError);
    const ins = insightsView;
    if (!ins) { renderBudgets(); return; }
    const unit = unitOfPage(), key = premium() ? 'credits' : 'byokUsd';
    const perHour = (x) => (premium() ? fmtCredits(x) : fmtUsd(x));
    const asOf = (ins.burnRate.asOf || '').slice(11, 16);
    const burn = ins.burnRate[key], proj = ins.projection;
    setStat('ins-burn', perHour(burn), premium() ? ' credits/h' : '/h', 'over the last hour' + (asOf ? ', as of ' + asOf : ''));
    setStat('ins-eod', perHour(proj.endOfDay[key]), premium() ? ' credits' : '',
      fmtAmount(proj.today[key], unit) + ' so far; pace ' + perHour(proj.pace[key]) + '/h');
    setStat('ins-eom', perHour(proj.endOfMonth[key]), premium() ? ' credits' : '',
      'by ' + dayLabel(proj.monthEnd) + '; ' + fmtAmount(proj.monthToDate[key], unit) + ' so far');
    const hot = burn > 0 && burn > 2 * (proj.pace[key] || 0);
    $('ins-burn').classList.toggle('hot', hot);
    $('ins-burn').title = hot ? 'More than twice today\u2019s average pace' : '';
    renderBudgets();
    renderSpikes(ins);
    renderTips(ins);
    const scope = [state.project && 'project', state.user && 'user', state.model && 'model', state.tool && 'tool'].filter(Boolean);
    $('insights-hint').textContent = (team() ? 'The team\u2019s burn rate and projections at today\u2019s pace' : 'Now: burn rate, projections at today\u2019s pace and budgets') +
      (scope.length ? ' (for this ' + scope.join(', ') + ')' : '') + '. Spikes and tips: ' + rangeLabel(state.from, state.to) + '.';
  }

  // the days of the daily chart to mark: day spikes, and days with a spiking hour
  function spikeDays() {
    const out = new Map();
    if (!insightsFresh() || !insightsView) return out;
    for (const s of insightsView.spikes) {
      if (!out.has(s.date)) out.set(s.date, []);
      out.get(s.date).push(s);
    }
    return out;
  }
  const spikePlugin = {
    id: 'usageSpikes',
    afterDatasetsDraw(chart) {
      const marks = [];
      const byDay = spikeDays();
      const days = view ? view.daily.days : [];
      const zero = chart.scales.y.getPixelForValue(0);
      days.forEach((d, i) => {
        const spikes = byDay.get(d.date);
        if (!spikes) return;
        let top = zero, x = null, width = 0;
        chart.data.datasets.forEach((ds, j) => {
          const bar = chart.getDatasetMeta(j).data[i];
          if (!bar || !chart.isDatasetVisible(j)) return;
          x = bar.x; width = bar.width;
          if (ds.data[i] > 0) top = Math.min(top, bar.y);
        });
        if (x === null) { x = chart.scales.x.getPixelForValue(i); width = 16; }
        const kind = spikes.some((s) => s.kind === 'day') ? 'day' : 'hour';
        marks.push({ index: i, date: d.date, kind, x, top, bottom: zero, width, cy: Math.max(9, top - 13), spikes });
      });
      chart.$spikeMarks = marks;
      $('daily-spikes').hidden = !marks.length;
      const ctx = chart.ctx;
      ctx.save();
      for (const m of marks) {
        ctx.strokeStyle = SPIKE;
        ctx.lineWidth = 2;
        ctx.setLineDash(m.kind === 'day' ? [] : [3, 3]);
        ctx.strokeRect(m.x - m.width / 2 - 3, m.top - 3, m.width + 6, m.bottom - m.top + 3);
        ctx.setLineDash([]);
        ctx.beginPath();
        ctx.arc(m.x, m.cy, 8, 0, 2 * Math.PI);
        ctx.fillStyle = m.kind === 'day' ? SPIKE : theme().card;
        ctx.fill();
        ctx.stroke();
        ctx.fillStyle = m.kind === 'day' ? '#ffffff' : SPIKE;
        ctx.font = 'bold 12px ' + (Chart.defaults.font.family || 'sans-serif');
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText('!', m.x, m.cy + 0.5);
      }
      ctx.restore();
    },
  };
  function spikeMarkAt(x, y) {
    for (const m of charts.daily.$spikeMarks || []) {
      if (Math.abs(x - m.x) <= Math.max(10, m.width / 2 + 3) && y >= m.cy - 10 && y <= m.bottom) return m;
    }
    return null;
  }
  const spikeLines = (m) => m.spikes.flatMap((s) => [spikeSentence(s), spikeWho(s)]).filter(Boolean);
  function splitSegments(parts, total) {
    return parts.filter((p) => p[1] > 0).map(([label, n, color]) => {
      const seg = el('span', { class: 'seg-part', title: label + ' ' + fmtPct(pct(n, total)) });
      seg.style.width = pct(n, total).toFixed(3) + '%';
      seg.style.background = color;
      return seg;
    });
  }

  // ---- model aggregates -------------------------------------------------------------------------
  function modelsRanked() {
    const models = view.tokenSplit.models;
    const top = models.slice(0, TOP_MODELS);
    const rest = models.slice(TOP_MODELS);
    const buckets = top.map((m) => ({ key: m.model, label: m.model, color: colorOf(m.model), stats: m, members: [m.model] }));
    if (rest.length) {
      const agg = { model: null };
      for (const k of ['messages', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'totalTokens', 'credits', 'costUsd', 'unpricedMessages']) {
        agg[k] = rest.reduce((a, m) => a + m[k], 0);
      }
      buckets.push({ key: null, label: rest.length + ' other models', color: OTHER, stats: agg, members: rest.map((m) => m.model) });
    }
    return buckets;
  }
  const moneyOf = (t) => (premium() ? t.credits : t.costUsd);
  const fmtMoney = (x) => (premium() ? fmtCredits(x) + ' credits' : fmtUsd(x));

  // ---- model card (hover a model anywhere) ------------------------------------------------------
  const card = $('model-card');
  let cardKey;
  function statsFor(model) {
    if (model === null) { const b = modelsRanked().find((x) => x.key === null); return b && b.stats; }
    return view.tokenSplit.models.find((m) => m.model === model);
  }
  function showCard(model, x, y, extra) {
    const s = statsFor(model);
    if (!s) { hideCard(); return; }
    const key = model + '|' + (Array.isArray(extra) ? extra.join('|') : extra || '');
    if (cardKey !== key) {
      cardKey = key;
      const name = model === null ? modelsRanked().find((b) => b.key === null).label : model;
      const parts = [
        ['Input', s.inputTokens, SPLIT_COLORS.input], ['Output', s.outputTokens, SPLIT_COLORS.output],
        ['Cache read', s.cacheReadTokens, SPLIT_COLORS.cacheRead], ['Cache write', s.cacheWriteTokens, SPLIT_COLORS.cacheWrite],
      ];
      const rows = parts.map(([label, n, color]) => el('tr', null,
        el('td', null, swatch(color), label), el('td', { class: 'n', text: fmtTokens(n) }), el('td', { class: 'n muted', text: fmtPct(pct(n, s.totalTokens)) })));
      rows.push(el('tr', { class: 'total' }, el('td', { text: 'Total' }), el('td', { class: 'n', text: fmtTokens(s.totalTokens) }), el('td', { class: 'n muted', text: fmtCount(s.totalTokens) })));
      const money = s.messages > 0 && s.unpricedMessages >= s.messages ? badge('unpriced') : fmtMoney(moneyOf(s));
      const bar = el('div', { class: 'splitbar' }, ...splitSegments(parts, s.totalTokens));
      card.replaceChildren(
        el('div', { class: 'mc-title' }, swatch(colorOf(model)), el('span', { class: 'mc-name', text: name })),
        bar,
        el('table', null, el('tbody', null, ...rows)),
        el('div', { class: 'mc-foot' }, el('span', { text: plural(s.messages, 'message') }), el('span', null, money)),
      );
      if (extra) {
        const [first, ...more] = Array.isArray(extra) ? extra : [extra];
        card.append(el('div', { class: 'mc-extra', text: first }), ...more.map((t) => el('div', { class: 'mc-spike', text: t })));
      }
    }
    placeCard(x, y);
  }
  function showNote(key, x, y, title, lines) {
    if (cardKey !== key) {
      cardKey = key;
      card.replaceChildren(
        el('div', { class: 'mc-title' }, el('span', { class: 'sp-dot', 'aria-hidden': 'true' }), el('span', { class: 'mc-name', text: title })),
        ...lines.map((t, i) => el('div', { class: i % 2 === 0 ? 'mc-spike' : 'mc-line', text: t })));
    }
    placeCard(x, y);
  }
  function placeCard(x, y) {
    card.hidden = false;
    const w = card.offsetWidth, h = card.offsetHeight;
    let left = x + 16, top = y + 16;
    if (left + w > window.innerWidth - 8) left = Math.max(8, x - w - 16);
    if (top + h > window.innerHeight - 8) top = Math.max(8, y - h - 16);
    card.style.left = left + 'px';
    card.style.top = top + 'px';
  }
  function hideCard() { card.hidden = true; cardKey = undefined; }
  function hoverModel(node, model, extra) {
    node.addEventListener('mousemove', (e) => showCard(model, e.clientX, e.clientY, extra));
    node.addEventListener('mouseleave', hideCard);
    node.addEventListener('focus', () => { const r = node.getBoundingClientRect(); showCard(model, r.left, r.bottom, extra); });
    node.addEventListener('blur', hideCard);
  }

  // ---- charts -----------------------------------------------------------------------------------
  const charts = {};
  function theme() {
    const cs = getComputedStyle(document.body);
    const v = (name) => cs.getPropertyValue(name).trim();
    return { fg: v('--fg'), muted: v('--muted'), grid: v('--grid'), card: v('--card'), font: v('--font') || 'sans-serif' };
  }
  function applyTheme() {
    const t = theme();
    Chart.defaults.color = t.muted;
    Chart.defaults.borderColor = t.grid;
    Chart.defaults.font.family = t.font;
    Chart.defaults.font.size = 12;
    for (const c of Object.values(charts)) {
      for (const axis of Object.values(c.options.scales || {})) {
        if (axis.grid) axis.grid.color = t.grid;
        if (axis.ticks) axis.ticks.color = t.muted;
        if (axis.title) axis.title.color = t.muted;
      }
      if (c.config.type === 'doughnut') for (const ds of c.data.datasets) ds.borderColor = t.card;
      if (c.options.plugins.legend) c.options.plugins.legend.labels.color = t.fg;
      c.update('none');
    }
    for (const card of cards) if (card.theme) card.theme(t);
  }
  function chartHover(canvas, evt, model, extra) {
    if (model === undefined) { hideCard(); canvas.style.cursor = ''; return; }
    canvas.style.cursor = 'pointer';
    showCard(model, evt.native.clientX, evt.native.clientY, extra);
  }
  const tickTokens = { callback: (v) => fmtTokens(v) };

  function makeCharts() {
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.plugins.legend.labels.boxWidth = 12;
    Chart.defaults.plugins.legend.labels.boxHeight = 12;
    const t = theme();
    charts.trend = new Chart($('chart-trend'), {
      type: 'line',
      data: { labels: [], datasets: [
        { label: 'Input', yAxisID: 'y', borderColor: SPLIT_COLORS.input, backgroundColor: SPLIT_COLORS.input + '22', fill: true, data: [] },
        { label: 'Output', yAxisID: 'y', borderColor: SPLIT_COLORS.output, backgroundColor: SPLIT_COLORS.output, data: [] },
        { label: 'Cache read', yAxisID: 'y1', borderColor: SPLIT_COLORS.cacheRead, backgroundColor: SPLIT_COLORS.cacheRead, borderDash: [5, 4], data: [] },
        { label: 'Cache write', yAxisID: 'y1', borderColor: SPLIT_COLORS.cacheWrite, backgroundColor: SPLIT_COLORS.cacheWrite, borderDash: [2, 3], data: [] },
      ] },
      options: {
        interaction: { mode: 'index', intersect: false },
        elements: { line: { cubicInterpolationMode: 'monotone', borderWidth: 2 }, point: { radius: 0, hoverRadius: 4 } }, // monotone: never dips below 0
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 16 } },
          y: { beginAtZero: true, ticks: tickTokens, title: { display: true, text: 'input / output' }, grid: { color: t.grid } },
          y1: { beginAtZero: true, position: 'right', ticks: tickTokens, title: { display: true, text: 'cache' }, grid: { drawOnChartArea: false } },
        },
        plugins: {
          legend: { position: 'top', align: 'end', labels: { color: t.fg, usePointStyle: true, pointStyle: 'line' } },
          tooltip: { callbacks: { label: (ctx) => ctx.dataset.label + ': ' + fmtCount(ctx.parsed.y) } },
        },
      },
    });
    charts.daily = new Chart($('chart-daily'), {
      type: 'bar',
      data: { labels: [], datasets: [] },
      plugins: [spikePlugin],
      options: {
        layout: { padding: { top: 20 } }, // room for a spike mark over the tallest bar
        interaction: { mode: 'nearest', intersect: true },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { stacked: true, beginAtZero: true, grid: { color: t.grid }, ticks: { callback: (v) => (premium() ? fmtCredits(v) : fmtUsd(v)) } },
        },
        plugins: {
          tooltip: { enabled: false },
          legend: {
            position: 'bottom', labels: { color: t.fg },
            onHover: (evt, item) => chartHover($('chart-daily'), evt, charts.daily.data.datasets[item.datasetIndex].model),
            onLeave: () => hideCard(),
          },
        },
        onHover: (evt, els) => {
          const canvas = $('chart-daily');
          if (!els.length) {
            const m = spikeMarkAt(evt.x, evt.y);
            if (!m) return chartHover(canvas, evt, undefined);
            canvas.style.cursor = 'default';
            return showNote('spike|' + m.date, evt.native.clientX, evt.native.clientY, dayName(m.date), spikeLines(m));
          }
          const ds = charts.daily.data.datasets[els[0].datasetIndex];
          const day = view.daily.days[els[0].index];
          const m = (charts.daily.$spikeMarks || []).find((x) => x.index === els[0].index);
          const extra = [dayLabel(day.date) + ': ' + fmtMoney(ds.data[els[0].index])];
          chartHover(canvas, evt, ds.model, m ? extra.concat(m.spikes.map(spikeSentence)) : extra[0]);
        },
      },
    });
    const donut = (id) => new Chart($(id), {
      type: 'doughnut',
      data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderColor: t.card, borderWidth: 2, hoverOffset: 6 }] },
      options: {
        cutout: '62%',
        layout: { padding: 6 },
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        onHover: (evt, els) => {
          const c = charts[id === 'chart-share-tokens' ? 'shareTokens' : 'shareMoney'];
          if (!els.length) return chartHover($(id), evt, undefined);
          const b = c.$buckets[els[0].index];
          const total = c.data.datasets[0].data.reduce((a, x) => a + x, 0);
          const share = fmtPct(pct(c.data.datasets[0].data[els[0].index], total));
          chartHover($(id), evt, b.key, share + (id === 'chart-share-tokens' ? ' of tokens' : premium() ? ' of credits' : ' of cost'));
        },
      },
    });
    charts.shareTokens = donut('chart-share-tokens');
    charts.shareMoney = donut('chart-share-money');
    for (const id of ['chart-trend', 'chart-daily', 'chart-share-tokens', 'chart-share-money']) {
      $(id).addEventListener('mouseleave', hideCard);
    }
  }

  function renderCharts() {
    const days = view.daily.days;
    const labels = days.map((d) => dayLabel(d.date));
    // a day or two is too short for lines: the same series as grouped bars
    const few = days.length <= 2;
    const tr = charts.trend;
    tr.data.labels = labels;
    const keys = ['inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens'];
    tr.data.datasets.forEach((ds, i) => {
      ds.data = days.map((d) => d[keys[i]]);
      ds.type = few ? 'bar' : 'line';
      ds.backgroundColor = few || i > 0 ? ds.borderColor : ds.borderColor + '22';
      ds.maxBarThickness = 56;
    });
    tr.options.plugins.legend.labels.pointStyle = few ? 'rect' : 'line';
    tr.options.scales.x.offset = few;
    tr.update();

    const buckets = modelsRanked();
    const members = new Map();
    for (const b of buckets) for (const m of b.members) members.set(m, b);
    $('daily-title').textContent = premium() ? 'Daily credits by model' : 'Daily cost by model';
    const unpriced = view.summary.unpricedMessages;
    $('daily-hint').textContent = unpriced ? fmtCount(unpriced) + ' unpriced messages are not in the bars' : '';
    const dc = charts.daily;
    dc.data.labels = labels;
    dc.data.datasets = buckets.map((b) => ({
      label: b.label, model: b.key, backgroundColor: b.color, borderRadius: 2, maxBarThickness: 48,
      data: days.map((d) => {
        let v = 0;
        for (const [m, x] of Object.entries(d.byModel)) if (members.get(m) === b) v += premium() ? x.credits : x.costUsd;
        return v;
      }),
    })).filter((ds) => ds.data.some((v) => v > 0));
    dc.update('none');

    const setDonut = (c, values) => {
      c.$buckets = buckets;
      c.data.labels = buckets.map((b) => b.label);
      c.data.datasets[0].data = values;
      c.data.datasets[0].backgroundColor = buckets.map((b) => b.color);
      c.update('none');
    };
    setDonut(charts.shareTokens, buckets.map((b) => b.stats.totalTokens));
    setDonut(charts.shareMoney, buckets.map((b) => Math.max(0, moneyOf(b.stats))));
    $('share-money-caption').textContent = premium() ? 'by credits' : 'by cost';
    renderLegend(buckets);
  }

  function renderLegend(buckets) {
    const totalTokens = view.tokenSplit.models.reduce((a, m) => a + m.totalTokens, 0);
    const totalMoney = view.tokenSplit.models.reduce((a, m) => a + moneyOf(m), 0);
    const items = buckets.map((b) => {
      const s = b.stats;
      const money = s.messages > 0 && s.unpricedMessages >= s.messages ? badge('unpriced') : fmtPct(pct(moneyOf(s), totalMoney));
      const li = el('li', { tabindex: '0', 'data-model': b.key === null ? '' : b.key },
        swatch(b.color), el('span', { class: 'lg-name', text: b.label }),
        el('span', { class: 'lg-v', text: fmtPct(pct(s.totalTokens, totalTokens)), title: 'share of tokens' }),
        el('span', { class: 'lg-v' }, money));
      hoverModel(li, b.key);
      if (b.key !== null) li.addEventListener('click', () => filterBy('model', b.key));
      return li;
    });
    if (!items.length) items.push(el('li', { class: 'empty', text: 'No usage in this range' }));
    else items.unshift(el('li', { class: 'lg-head' }, el('span'), el('span'), el('span', { class: 'lg-v', text: 'tokens' }), el('span', { class: 'lg-v', text: premium() ? 'credits' : 'cost' })));
    $('model-legend').replaceChildren(...items);
  }

  // ---- tables -------------------------------------------------------------------------------------
  function moneyCell(value, unpriced, messages, kind) {
    const td = el('td', { class: 'n money' });
    if (messages > 0 && unpriced >= messages) { td.append(badge('unpriced', 'No price is known for this model')); return td; }
    td.append(kind === 'credits' ? fmtCredits(value) : fmtUsd(value));
    const active = (kind === 'credits') === premium();
    if (!active) td.classList.add('dim');
    if (unpriced > 0 && active) td.append(' ', badge('+' + fmtCount(unpriced) + ' unpriced', plural(unpriced, 'message') + ' without a price ' + (unpriced === 1 ? 'is' : 'are') + ' not included'));
    return td;
  }
  const tokenCell = (n) => el('td', { class: 'n', text: fmtTokens(n), title: fmtCount(n) });
  const emptyRow = (cols, text) => el('tr', { class: 'empty' }, el('td', { colSpan: cols, text }));

  function sparkline(values, color) {
    const w = 84, h = 22;
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    svg.setAttribute('width', w);
    svg.setAttribute('height', h);
    svg.setAttribute('class', 'spark');
    svg.setAttribute('aria-hidden', 'true');
    const max = Math.max(0, ...values) || 1, n = values.length;
    const pts = values.map((v, i) => [n === 1 ? w / 2 : 1 + (i * (w - 2)) / (n - 1), h - 2 - (v / max) * (h - 4)]);
    if (n === 1) {
      const c = document.createElementNS(SVG, 'circle');
      c.setAttribute('cx', pts[0][0]); c.setAttribute('cy', pts[0][1]); c.setAttribute('r', 2.5); c.setAttribute('fill', color);
      svg.append(c);
      return svg;
    }
    const line = pts.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join(' ');
    const area = document.createElementNS(SVG, 'polygon');
    area.setAttribute('points', '1,' + (h - 2) + ' ' + line + ' ' + (w - 1) + ',' + (h - 2));
    area.setAttribute('fill', color);
    area.setAttribute('fill-opacity', '0.15');
    const pl = document.createElementNS(SVG, 'polyline');
    pl.setAttribute('points', line);
    pl.setAttribute('fill', 'none');
    pl.setAttribute('stroke', color);
    pl.setAttribute('stroke-width', '1.5');
    pl.setAttribute('stroke-linejoin', 'round');
    svg.append(area, pl);
    return svg;
  }

  function renderModelsTable() {
    const models = view.tokenSplit.models;
    const total = models.reduce((a, m) => a + m.totalTokens, 0);
    const days = view.daily.days;
    const rows = models.map((m) => {
      const share = pct(m.totalTokens, total);
      const bar = el('span', { class: 'sharebar' });
      const fill = el('span');
      fill.style.width = share.toFixed(2) + '%';
      fill.style.background = colorOf(m.model);
      bar.append(fill);
      const tr = el('tr', { class: 'click', tabindex: '0', 'data-model': m.model, title: 'Filter by this model' },
        el('td', { class: 'name' }, swatch(colorOf(m.model)), el('span', { text: m.model })),
        el('td', { class: 'n', text: fmtCount(m.messages) }),
        tokenCell(m.inputTokens), tokenCell(m.outputTokens), tokenCell(m.cacheReadTokens), tokenCell(m.cacheWriteTokens),
        el('td', { class: 'n strong', text: fmtTokens(m.totalTokens), title: fmtCount(m.totalTokens) }),
        moneyCell(m.credits, m.unpricedMessages, m.messages, 'credits'),
        moneyCell(m.costUsd, m.unpricedMessages, m.messages, 'usd'),
        el('td', { class: 'n share' }, bar, el('span', { text: fmtPct(share) })),
        el('td', { class: 'trend' }, sparkline(days.map((d) => (d.byModel[m.model] ? d.byModel[m.model].totalTokens : 0)), colorOf(m.model))),
      );
      hoverModel(tr, m.model);
      tr.addEventListener('click', () => filterBy('model', m.model));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') filterBy('model', m.model); });
      return tr;
    });
    $('models-table').tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(11, 'No usage in this range')]));
  }

  function renderDimTable(tableId, list, key, kind, withCredits) {
    const rows = list.map((p) => {
      const name = p[key];
      const active = state[kind] === name;
      const cells = [
        el('td', { class: 'name' }, el('span', { text: name }), active ? el('span', { class: 'chip', text: 'filtered' }) : null),
        el('td', { class: 'n', text: fmtCount(p.messages) }),
        tokenCell(p.totalTokens),
      ];
      if (withCredits) cells.push(moneyCell(p.credits, p.unpricedMessages, p.messages, 'credits'), moneyCell(p.costUsd, p.unpricedMessages, p.messages, 'usd'));
      else cells.push(premium() ? moneyCell(p.credits, p.unpricedMessages, p.messages, 'credits') : moneyCell(p.costUsd, p.unpricedMessages, p.messages, 'usd'));
      const tr = el('tr', { class: 'click' + (active ? ' active' : ''), tabindex: '0', title: active ? 'Click to clear this filter' : 'Filter by this ' + kind }, ...cells);
      tr.dataset[kind] = name;
      tr.addEventListener('click', () => filterBy(kind, name));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') filterBy(kind, name); });
      return tr;
    });
    const cols = withCredits ? 5 : 4;
    $(tableId).tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(cols, 'No usage in this range')]));
  }

  // ---- interactions ---------------------------------------------------------------------------------
  const SORTS = {
    timestamp: (r) => r.timestamp, project: (r) => r.project.toLowerCase(), model: (r) => r.model.toLowerCase(), user: (r) => r.user.toLowerCase(),
    inputTokens: (r) => r.inputTokens, outputTokens: (r) => r.outputTokens, cacheReadTokens: (r) => r.cacheReadTokens,
    cacheWriteTokens: (r) => r.cacheWriteTokens, totalTokens: (r) => r.totalTokens,
    credits: (r) => (r.credits === null ? -1 : r.credits), costUsd: (r) => (r.costUsd === null ? -1 : r.costUsd),
  };
  function sortRows(rows, sort) {
    const desc = sort.startsWith('-'), col = sort.replace(/^[-+]/, '');
    const key = SORTS[col] || SORTS.timestamp;
    const out = rows.slice();
    out.sort((a, b) => {
      const x = key(a), y = key(b);
      let c = x < y ? -1 : x > y ? 1 : 0;
      if (c === 0) c = a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
      return desc ? -c : c;
    });
    return out;
  }
  function localRows(sort, offset, limit) {
    const all = boot.data.interactions.rows.filter((r) => !state.session || r.session === state.session);
    return { total: all.length, rows: sortRows(all, sort).slice(offset, offset + limit) };
  }

  function renderRows() {
    const money = premium() ? 'credits' : 'costUsd';
    $('rows-money').textContent = premium() ? 'Credits' : 'Cost';
    $('rows-money').dataset.sort = money;
    const col = state.sort.replace(/^[-+]/, ''), desc = state.sort.startsWith('-');
    for (const th of document.querySelectorAll('#rows-table th')) {
      const on = th.dataset.sort === col;
      th.classList.toggle('asc', on && !desc);
      th.classList.toggle('desc', on && desc);
      th.setAttribute('aria-sort', on ? (desc ? 'descending' : 'ascending') : 'none');
    }
    const rows = rowsView.rows.map((r) => {
      const value = premium() ? r.credits : r.costUsd;
      const moneyTd = el('td', { class: 'n money' });
      if (value === null || (r.costSource === 'unpriced' && !premium())) moneyTd.append(badge('unpriced', 'No price is known for this model'));
      else moneyTd.append(premium() ? fmtCredits(value) : fmtUsd(value));
      const modelTd = el('td', { class: 'name' }, swatch(colorOf(r.model)), el('span', { text: r.model }));
      hoverModel(modelTd, r.model);
      return el('tr', null,
        el('td', { class: 'time', text: r.timestamp.slice(0, 16).replace('T', ' ') , title: r.timestamp }),
        el('td', { class: 'name', text: r.project }), modelTd, el('td', { class: 'name', text: r.user }),
        el('td', { class: 'n', text: fmtCount(r.inputTokens) }), el('td', { class: 'n', text: fmtCount(r.outputTokens) }),
        el('td', { class: 'n', text: fmtCount(r.cacheReadTokens) }), el('td', { class: 'n', text: fmtCount(r.cacheWriteTokens) }),
        el('td', { class: 'n strong', text: fmtCount(r.totalTokens) }), moneyTd);
    });
    $('rows-table').tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(10, 'No interactions in this range')]));
    const first = rowsView.total ? state.offset + 1 : 0;
    const last = state.offset + rowsView.rows.length;
    let label = fmtCount(first) + '–' + fmtCount(last) + ' of ' + fmtCount(rowsView.total);
    if (MODE === 'static' && boot.data.interactions.total > rowsView.total) {
      label += ' newest (' + fmtCount(boot.data.interactions.total) + ' in range)';
    }
    $('rows-label').textContent = label;
    $('prev').disabled = state.offset <= 0;
    $('next').disabled = last >= rowsView.total;
  }

  function wireRows() {
    for (const th of document.querySelectorAll('#rows-table th[data-sort]')) {
      th.tabIndex = 0;
      const go = () => {
        const col = th.dataset.sort;
        const cur = state.sort.replace(/^[-+]/, '');
        const textual = ['project', 'model', 'user'].includes(col);
        if (cur === col) state.sort = state.sort.startsWith('-') ? col : '-' + col;
        else state.sort = textual ? col : '-' + col;
        state.offset = 0;
        refreshRowsOnly();
      };
      th.addEventListener('click', go);
      th.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
    }
    $('prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - state.limit); refreshRowsOnly(); });
    $('next').addEventListener('click', () => { state.offset += state.limit; refreshRowsOnly(); });
    $('page-size').value = String(state.limit);
    $('page-size').addEventListener('change', () => { state.limit = Number($('page-size').value); state.offset = 0; refreshRowsOnly(); });
    $('export').addEventListener('click', exportCsv);
  }

  // ---- sessions (usage/sessions): one row per conversation; a click shows its interactions ------
  const SESSIONS_PAGE = 10;
  let sessionsView = { total: 0, sessions: [] }, sessionsOffset = 0;
  function loadSessions(my, keepPage) {
    if (!keepPage) sessionsOffset = 0;
    if (MODE === 'static') {
      const all = (boot.data.sessions || { sessions: [] }).sessions;
      sessionsView = { total: all.length, sessions: all.slice(sessionsOffset, sessionsOffset + SESSIONS_PAGE) };
      renderSessions();
      return Promise.resolve();
    }
    return api('sessions', { ...filterParams(), offset: sessionsOffset, limit: SESSIONS_PAGE }).then((r) => {
      if (my !== gen) return;
      sessionsView = r;
      renderSessions();
    });
  }
  function fmtDuration(ms) {
    const min = Math.floor(ms / 60000);
    if (min < 1) return Math.floor(ms / 1000) + 's';
    const h = Math.floor(min / 60), m = min % 60;
    if (h >= 24) return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
    return h ? h + 'h ' + String(m).padStart(2, '0') + 'm' : m + 'm';
  }
  function subagentCell(s) {
    const td = el('td', { class: 'n' });
    if (!s.subagents.messages) { td.classList.add('dim'); td.textContent = '—'; return td; }
    const pct = s.subagentShare * 100;
    td.textContent = pct < 1 ? '<1%' : Math.round(pct) + '%';
    td.title = plural(s.subagents.messages, 'message') + ', ' + fmtCount(s.subagents.totalTokens) + ' tokens, ' + fmtUsd(s.subagents.costUsd) + ' by sub-agents';
    return td;
  }
  function pickSession(id) {
    state.session = state.session === id ? '' : id;
    state.offset = 0;
    renderSessions();
    refreshRowsOnly();
  }
  function renderSessions() {
    $('sessions-money').textContent = premium() ? 'Credits' : 'Cost';
    const rows = sessionsView.sessions.map((s) => {
      const active = state.session === s.session;
      const models = el('td', { class: 'name', title: s.models.join(', ') });
      s.models.forEach((m, i) => { if (i) models.append(', '); models.append(swatch(colorOf(m)), el('span', { text: m })); });
      const tr = el('tr', { class: 'click' + (active ? ' active' : ''), tabindex: '0', title: active ? 'Click to show every interaction again' : 'Show this session\'s interactions' },
        el('td', { class: 'time', text: s.start.slice(0, 16).replace('T', ' '), title: s.start + ' – ' + s.lastActivity }),
        el('td', { class: 'name mono', text: s.session.slice(0, 8), title: s.session },
          active ? el('span', { class: 'chip', text: 'filtered' }) : null),
        el('td', { class: 'name', text: s.projects.join(', '), title: s.tools.join(', ') }),
        models,
        el('td', { class: 'n', text: fmtDuration(s.durationMs) }),
        el('td', { class: 'n', text: fmtCount(s.messages) }),
        tokenCell(s.totalTokens),
        premium() ? moneyCell(s.credits, s.unpricedMessages, s.messages, 'credits') : moneyCell(s.costUsd, s.unpricedMessages, s.messages, 'usd'),
        subagentCell(s));
      tr.dataset.session = s.session;
      tr.addEventListener('click', () => pickSession(s.session));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') pickSession(s.session); });
      return tr;
    });
    $('sessions-table').tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(9, 'No sessions in this range')]));
    const last = sessionsOffset + sessionsView.sessions.length;
    $('sessions-label').textContent = sessionsView.total ? fmtCount(sessionsOffset + 1) + '–' + fmtCount(last) + ' of ' + fmtCount(sessionsView.total) : '';
    $('sessions-prev').disabled = sessionsOffset <= 0;
    $('sessions-next').disabled = last >= sessionsView.total;
    const chip = $('rows-session');
    chip.replaceChildren();
    if (state.session) {
      chip.append(el('span', { class: 'hint', text: 'session ' + state.session + ' ' }),
        el('button', { type: 'button', class: 'link', id: 'rows-session-clear', text: 'show all', onclick: () => pickSession(state.session) }));
    }
  }
  function wireSessions() {
    const page = (delta) => {
      sessionsOffset = Math.max(0, sessionsOffset + delta);
      const my = gen;
      loadSessions(my, true).catch(showError);
    };
    $('sessions-prev').addEventListener('click', () => page(-SESSIONS_PAGE));
    $('sessions-next').addEventListener('click', () => page(SESSIONS_PAGE));
  }

  // ---- CSV ------------------------------------------------------------------------------------------
  const CSV_COLUMNS = [
    ['timestamp', 'timestamp'], ['date', 'date'], ['project', 'project'], ['model', 'model'], ['user', 'user'], ['billing', 'billing'],
    ['inputTokens', 'input_tokens'], ['outputTokens', 'output_tokens'], ['cacheReadTokens', 'cache_read_tokens'],
    ['cacheWriteTokens', 'cache_write_tokens'], ['totalTokens', 'total_tokens'], ['credits', 'credits'], ['costUsd', 'cost_usd'],
    ['costSource', 'cost_source'], ['provider', 'provider'], ['feature', 'feature'], ['session', 'session'],
  ];
  // Numbers stay bare (null: empty); every other value is text and always quoted (RFC 4180:
  // "…", a " inside doubled), so a name with , ; " or a line break in it stays one cell. Text
  // starting with a formula character (= + - @, tab, CR: OWASP's list) gets a leading ' inside
  // the quotes, so a spreadsheet shows it as text instead of evaluating it. A spreadsheet set to
  // split on ; or tab (Excel's default in many locales) does not see our quotes: a cell can start
  // after any ;, tab or line break inside a name, so a ' goes there too when a formula character
  // follows (spaces and " between them included): "a;=1+1;b" is written "a;'=1+1;b".
  const FORMULA_AFTER_SPLIT = /([;\t\r\n])(?=[ "]*[=+\-@\t\r])/g;
  function csvCell(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
    let s = String(v).replace(FORMULA_AFTER_SPLIT, "$1'");
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return '"' + s.replace(/"/g, '""') + '"';
  }
  function toCsv(rows) {
    const lines = [CSV_COLUMNS.map((c) => csvCell(c[1])).join(',')];
    for (const r of rows) lines.push(CSV_COLUMNS.map((c) => csvCell(r[c[0]])).join(','));
    return '\ufeff' + lines.join('\r\n') + '\r\n';
  }
  async function allRows() {
    if (MODE === 'static') return sortRows(localRows(state.sort, 0, Infinity).rows, state.sort);
    const f = { ...filterParams(), sort: state.sort };
    if (state.session) f.session = state.session;
    const out = [];
    let total = Infinity;
    while (out.length < total) {
      const page = await transport('interactions', { ...f, offset: out.length, limit: 10000 });
      total = page.total;
      out.push(...page.rows);
      $('export').textContent = 'Exporting ' + fmtCount(out.length) + ' / ' + fmtCount(total) + '…';
      if (!page.rows.length) break;
    }
    return out;
  }
  let noteTimer = null;
  function note(text) {
    const n = $('export-note');
    n.textContent = text;
    clearTimeout(noteTimer);
    noteTimer = setTimeout(() => { n.textContent = ''; }, 6000);
  }
  async function exportCsv() {
    const btn = $('export');
    btn.disabled = true;
    try {
      const rows = await allRows();
      const csv = toCsv(rows);
      const name = 'usage-' + state.from + (state.to !== state.from ? '_' + state.to : '') + '-' + state.billing + '.csv';
      const what = 'CSV of ' + plural(rows.length, 'row');
      if (vscode) {
        // the extension asks where to save it; the page is not told whether it was saved
        vscode.postMessage({ type: 'usage-export', format: 'csv', filename: name, content: csv });
        note(what + ' handed to VS Code to save');
        // in case the editor does not offer to save it: the clipboard holds it too (as text: no BOM)
        if (navigator.clipboard) navigator.clipboard.writeText(csv.slice(1)).then(() => note(what + ' handed to VS Code to save; also copied to the clipboard'), () => {});
      } else {
        note(what + ' downloading as ' + name);
        const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
        const a = el('a', { href: url, download: name });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      }
      app.dataset.exported = String(rows.length);
    } catch (err) {
      showError(err);
    } finally {
      btn.textContent = 'Export CSV';
      btn.disabled = false;
    }
  }


  // ---- "Where it went": cost per agent, skill, plugin, MCP server, query source ------------------------
  // Self-contained: its own card (made here, placed before Interactions), its request
  // (usage/attribution, after the main numbers like Insights) and its rendering. Names are data
  // (textContent only).
  const WHERE_KINDS = [['agent', 'Agents'], ['skill', 'Skills'], ['plugin', 'Plugins'], ['mcp', 'MCP servers'], ['query', 'Query source']];
  const WHERE_TOP = 6;
  let whereView = null, whereError = null;
  function whereCard() {
    if ($('where')) return;
    const card = el('section', { class: 'card span3 where', id: 'where', 'aria-labelledby': 'where-title' },
      el('div', { class: 'card-h' }, el('h2', { id: 'where-title', text: 'Where it went' }),
        el('span', { class: 'hint', id: 'where-hint' })),
      el('div', { class: 'where-grid', id: 'where-grid' }));
    const rows = $('rows-table').closest('.card');
    rows.parentNode.insertBefore(card, rows);
  }
  function loadWhere(my, f) {
    const apply = (v, err) => { if (my === gen) { whereView = v; whereError = err; renderWhere(); } };
    return api('attribution', f).then((v) => apply(v, null), (err) => apply(null, err));
  }
  function whereMoney(t) {
    return t.messages > 0 && t.unpricedMessages >= t.messages ? badge('unpriced') : fmtMoney(moneyOf(t) || 0);
  }
  function renderWhere() {
    whereCard();
    const grid = $('where-grid'), hint = $('where-hint'), v = whereView;
    hint.textContent = '';
    if (!v) {
      const why = whereError ? 'Unavailable: ' + String(whereError.message || whereError) : '';
      grid.replaceChildren(el('div', { class: 'where-empty', text: why }));
      return;
    }
    const total = moneyOf(v.total) || 0, part = moneyOf(v.attributed) || 0;
    if (v.attributed.messages) {
      hint.textContent = fmtMoney(part) + ' of ' + fmtMoney(total) + ' (' + fmtPct(pct(part, total)) + ') attributed · ' +
        plural(v.total.messages - v.attributed.messages, 'message') + ' without attribution (main threads, other tools)';
    }
    const cols = [];
    for (const [kind, label] of WHERE_KINDS) {
      const list = (v.by[kind] || []).slice().sort((a, b) => (moneyOf(b) || 0) - (moneyOf(a) || 0) || b.totalTokens - a.totalTokens);
      if (!list.length) continue;
      const top = list.slice(0, WHERE_TOP), rest = list.slice(WHERE_TOP);
      const max = Math.max(...top.map((e) => moneyOf(e) || 0)) || 1;
      const items = top.map((e) => {
        const bar = el('span', { class: 'where-bar' }, el('span', { class: 'fill' }));
        bar.firstChild.style.width = Math.max(2, (100 * (moneyOf(e) || 0)) / max) + '%';
        return el('li', { 'data-name': e.name, title: plural(e.messages, 'message') + ', ' + fmtTokens(e.totalTokens) + ' tokens' },
          el('div', { class: 'where-line' }, el('span', { class: 'where-name', text: e.name }), el('span', { class: 'where-v' }, whereMoney(e))),
          bar);
      });
      if (rest.length) items.push(el('li', { class: 'where-more', text: '+ ' + plural(rest.length, 'more') }));
      cols.push(el('div', { class: 'where-col', 'data-kind': kind }, el('div', { class: 'ins-head', text: label }), el('ul', { class: 'where-list' }, ...items)));
    }
    if (!cols.length) {
      cols.push(el('div', { class: 'where-empty', text: 'No attributed usage in this range. Claude Code\u2019s sub-agents, skills, plugins and ' +
        'MCP servers show here, from its transcripts or its OpenTelemetry events (usage-ls setup claude-code).' }));
    }
    grid.replaceChildren(...cols);
  }

  // ---- all together -----------------------------------------------------------------------------------
  function renderAll() {
    for (const m of view.options.models) colorOf(m);
    for (const m of view.tokenSplit.models) colorOf(m.model);
    fillPickers();
    renderFilters();
    renderKpis();
    renderCharts();
    renderModelsTable();
    renderDimTable('projects-table', view.projects.projects, 'project', 'project', true);
    renderDimTable('users-table', view.users.users, 'user', 'user', false);
    $('users-money').textContent = premium() ? 'Credits' : 'Cost';
    renderInsights();
    hideCard();
  }

  function watchTheme() {
    const obs = new MutationObserver(() => applyTheme());
    obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
    if (window.matchMedia) window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
  }

  function start() {
    $('foot-note').textContent = MODE === 'vscode' ? 'numbers from the language server' :
      MODE === 'browser' ? 'served on this machine only; nothing leaves it' : 'static snapshot generated ' + boot.generatedAt.replace('T', ' ');
    makeCharts();
    makeCards();
    applyTheme();
    wireFilters();
    wireRows();
    wireSessions();
    watchTheme();
    seed();
    if (MODE === 'static') $('live').textContent = 'Snapshot';
    else markLive();
    const first = refresh();
    first.then(() => {
      performance.mark('usage-first-render');
      window.usageDashboard.ready = true;
    });
  }

  window.usageDashboard = {
    ready: false, mode: MODE, state, toCsv,
    get view() { return view; }, get rows() { return rowsView; }, get insights() { return insightsView; },
    get sessions() { return sessionsView; },
    get where() { return whereView; },
    get spikeMarks() { return (charts.daily.$spikeMarks || []).map((m) => ({ index: m.index, date: m.date, kind: m.kind, x: m.x, y: m.cy })); },
  };
  start();
})();

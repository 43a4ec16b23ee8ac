/*
 * callgate's live dashboard: plain script, no build step. It asks for the API token once and keeps it
 * in sessionStorage (this tab only), then follows GET /v1/events (server-sent events, read with fetch
 * so the token travels in the Authorization header, never in a URL), and looks numbers up with
 * GET /v1/numbers/{n}. Every value is written as text (textContent), never as HTML.
 */
'use strict';

(function () {
  const KEY = 'callgate.token';
  const MAX_ROWS = 50;
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(KEY);
  let stream; // AbortController of the event stream
  let chart;
  let chartReasons = [];

  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

  async function api(path) {
    const res = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) {
      logout('The token was refused: ' + (body.error ? body.error.message : res.statusText));
      throw new Error('unauthorized');
    }
    return { status: res.status, body };
  }

  function showLogin(message) {
    $('main').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('token').focus();
  }

  function logout(message) {
    sessionStorage.removeItem(KEY);
    token = null;
    if (stream) stream.abort();
    setConnected(false);
    showLogin(message);
  }

  function setConnected(on) {
    const c = $('conn');
    c.textContent = on ? 'live' : 'not connected';
    c.className = 'pill ' + (on ? 'on' : 'off');
  }

  async function start() {
    $('login').hidden = true;
    $('main').hidden = false;
    $('logout').hidden = false;
    try {
      const { status, body } = await api('/v1/stats');
      if (status !== 200) throw new Error(body.error ? body.error.message : 'HTTP ' + status);
      showStats(body);
      fillCampaigns(body);
      follow();
    } catch (e) {
      if (e.message !== 'unauthorized') $('login-error').textContent = String(e.message || e);
    }
  }

  /* ------------------------------------------------------------------ live events */

  async function follow() {
    if (!token) return;
    stream = new AbortController();
    try {
      const res = await fetch('/v1/events', {
        headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
        signal: stream.signal,
      });
      if (res.status === 401) return logout('The token was refused.');
      if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
      setConnected(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          onEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
    }
    setConnected(false);
    if (token) setTimeout(follow, 2000);
  }

  function onEvent(block) {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (data.length === 0) return;
    const value = JSON.parse(data.join('\n'));
    if (event === 'decisions') value.forEach(addDecision);
    else if (event === 'stats') showStats(value);
  }

  function addDecision(d) {
    const tbody = $('live').tBodies[0];
    const tr = el('tr', undefined, 'fresh');
    tr.dataset.id = d.id;
    tr.dataset.verdict = d.verdict;
    tr.append(
      el('td', time(d.decidedAt)),
      (() => {
        const td = el('td');
        td.append(el('span', d.verdict + (d.failMode ? ' (fail mode)' : ''), 'verdict ' + d.verdict));
        return td;
      })(),
      el('td', d.to),
      el('td', d.campaign),
      el('td', d.reasons.join(', ') || (d.monitorOnly ? 'monitor mode' : ''), 'reasons'),
      el('td', when(d.retryAfter)),
      el('td', d.source),
    );
    tbody.prepend(tr);
    while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(tbody.rows.length - 1);
    $('live-empty').hidden = true;
  }

  /* ------------------------------------------------------------------ last hour */

  function showStats(s) {
    $('totals').textContent = `${s.totals.decisions} decisions (${s.totals.blocked} blocked) since ${time(s.since)}`;
    // the chart: one series per reason seen in the hour, most frequent first (at most 8)
    const sums = {};
    for (const m of s.minutes) for (const [r, n] of Object.entries(m.blocked)) sums[r] = (sums[r] || 0) + n;
    const reasons = Object.keys(sums)
      .sort((a, b) => sums[b] - sums[a])
      .slice(0, 8);
    $('chart-empty').hidden = reasons.length > 0;
    const xs = s.minutes.map((m) => Date.parse(m.start) / 1000);
    const data = [xs, ...reasons.map((r) => s.minutes.map((m) => m.blocked[r] || 0))];
    const box = $('chart');
    if (!chart || reasons.join() !== chartReasons.join()) {
      if (chart) chart.destroy();
      chartReasons = reasons;
      const palette = ['#b42318', '#dc6803', '#7f56d9', '#0e7090', '#c11574', '#4e5ba6', '#667085', '#027a48'];
      chart = new uPlot(
        {
          width: Math.max(320, box.clientWidth || 480),
          height: 220,
          scales: { x: { time: true } },
          axes: [{}, { label: 'blocked per minute' }],
          series: [{}, ...reasons.map((r, i) => ({ label: r, stroke: palette[i], width: 2 }))],
        },
        data,
        box,
      );
    } else chart.setData(data);

    const tbody = $('campaigns').tBodies[0];
    tbody.replaceChildren();
    const most = Math.max(1, ...s.campaigns.map((c) => c.attempts));
    for (const c of s.campaigns) {
      const tr = el('tr');
      tr.dataset.campaign = c.campaign;
      const bar = el('div', undefined, 'bar');
      bar.style.width = `${Math.round((100 * c.attempts) / most)}%`;
      const barCell = el('td');
      barCell.style.width = '40%';
      barCell.append(bar);
      tr.append(
        el('td', c.campaign),
        el('td', String(c.attempts)),
        el('td', String(c.allowed)),
        el('td', String(c.blocked)),
        barCell,
      );
      tbody.append(tr);
    }
  }

  function fillCampaigns(s) {
    const select = $('lookup-campaign');
    select.replaceChildren();
    for (const c of s.campaigns) if (c.campaign !== 'other') select.append(el('option', c.campaign));
  }

  /* ------------------------------------------------------------------ lookup */

  async function lookup(ev) {
    ev.preventDefault();
    const out = $('lookup-result');
    out.replaceChildren(el('p', 'Looking up…', 'muted'));
    const n = $('lookup-number').value.trim();
    const campaign = $('lookup-campaign').value;
    const { status, body } = await api(
      `/v1/numbers/${encodeURIComponent(n)}` + (campaign ? `?campaign=${encodeURIComponent(campaign)}` : ''),
    );
    out.replaceChildren();
    if (status !== 200) {
      const msg = body.error
        ? body.error.problems?.map((p) => p.message).join('; ') || body.error.message
        : 'HTTP ' + status;
      out.append(el('p', msg, 'error'));
      return;
    }
    const dl = el('dl');
    dl.id = 'lookup-facts';
    const row = (k, v, id) => {
      const dd = el('dd', v);
      if (id) dd.id = id;
      dl.append(el('dt', k), dd);
    };
    row('number', `${body.number} (${body.territory || '?'}, ${body.timeZone || '?'})`);
    row('campaign', `${body.campaign} of ${body.professional}`);
    row(
      'may be called',
      body.nextCallAt === null
        ? 'not until something changes'
        : Date.parse(body.nextCallAt) <= Date.parse(body.now)
          ? 'now'
          : `from ${when(body.nextCallAt)}`,
      'lookup-next',
    );
    if (body.blockedBy.length > 0)
      row('blocked by', body.blockedBy.map((r) => `${r.code}: ${r.message}`).join('\n'), 'lookup-blocked');
    row(
      `attempts (${body.attempts.windowDays} days)`,
      `${body.attempts.counted} of ${body.attempts.max}`,
      'lookup-attempts',
    );
    for (const a of body.attempts.list)
      row(
        '',
        `${when(a.at)} · ${a.campaign}${a.outcome ? (a.outcome.answered ? ' · answered' : ' · not answered') : ''}`,
      );
    row(
      'consent',
      `${body.consent.status.replace('_', ' ')} (${body.consent.regime} regime, basis ${body.consent.basis})`,
      'lookup-consent',
    );
    row(
      'do-not-call',
      body.doNotCall.listed
        ? 'LISTED'
        : body.doNotCall.entries.length
          ? 'entries for other professionals'
          : 'not listed',
      'lookup-dnc',
    );
    if (body.refusals.length) row('refusals', body.refusals.map((r) => when(r.at)).join(', '));
    out.append(dl);
  }

  /* ------------------------------------------------------------------ wiring */

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    token = $('token').value.trim();
    $('token').value = '';
    sessionStorage.setItem(KEY, token);
    start();
  });
  $('logout').addEventListener('click', () => logout(''));
  $('lookup-form').addEventListener('submit', (ev) =>
    lookup(ev).catch((e) => ($('lookup-result').textContent = String(e))),
  );
  window.addEventListener('resize', () => chart && chart.setSize({ width: $('chart').clientWidth, height: 220 }));

  if (token) start();
  else showLogin('');
})();

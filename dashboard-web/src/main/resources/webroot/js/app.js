// Sluice dashboard: everything arrives over the WebSocket (a snapshot at least once a second and on
// every state change); controls are commands on the same socket, each carrying the bearer token.

import { AgentSocket } from './socket.js';
import { Charts } from './charts.js';
import { Heatmap, LEGEND } from './heatmap.js';
import { esc, num, full, duration, eta, clock, pct, finish, bytes, lag } from './format.js';
import { WeekStrip } from './week.js';
import { ReportCard } from './report.js';

const $ = id => document.getElementById(id);
const state = {
  snapshot: null,
  selected: decodeURIComponent((location.hash.match(/job=([^&]+)/) || [])[1] || ''),
  events: [],
  history: {},
  control: { enabled: false, actions: { available: [], unavailable: {} } },
  token: sessionStorage.getItem('sluice.token') || '',
  tokenOk: false,
};

const charts = new Charts($('chart-rate'), $('chart-latency'));
const week = new WeekStrip($('week'), $('advice'));
const report = new ReportCard($('report'));
const heatmap = new Heatmap($('heatmap'), $('tip'), seq => command('retry', { segment: seq }, `retry segment ${seq}`));
$('legend').innerHTML = LEGEND.map(([k, n]) => `<span><i class="s-${k}"></i>${n}</span>`).join('')
  + '<span class="hot-key"><b class="hot-mark"></b>hot: copied last</span>';

const socket = new AgentSocket(onMessage, (st, text) => {
  $('conn').dataset.state = st;
  $('conn-text').textContent = text;
  if (st === 'live' && state.token) checkToken(state.token, true);
});

function onMessage(msg) {
  if (msg.type === 'hello') {
    state.control = msg.control || state.control;
    state.history = msg.history || {};
    state.events = msg.events || [];
    state.chartJob = null;
    renderAudit(true);
    renderControls();
  } else if (msg.type === 'snapshot') {
    state.snapshot = msg;
    const before = state.selected;
    if (msg.events && msg.events.length) {
      state.events.push(...msg.events);
      if (state.events.length > 500) state.events.splice(0, state.events.length - 500);
    }
    render();
    if (state.selected !== before || !state.auditShown) renderAudit(true);
    else if (msg.events && msg.events.length) renderAudit(false, msg.events.length);
  }
}

// ---- token ----

$('auth').addEventListener('submit', e => {
  e.preventDefault();
  const t = $('token').value.trim();
  if (t) checkToken(t, false);
});
$('lock').addEventListener('click', () => {
  state.token = '';
  state.tokenOk = false;
  sessionStorage.removeItem('sluice.token');
  renderControls();
});

async function checkToken(t, quiet) {
  const r = await socket.request({ type: 'auth', token: t });
  state.tokenOk = r.ok;
  if (r.ok) {
    state.token = t;
    sessionStorage.setItem('sluice.token', t);
    $('token').value = '';
  } else if (r.status !== 0) {
    $('token').value = '';
    state.token = '';
    sessionStorage.removeItem('sluice.token');
  }
  if (!quiet || !r.ok) toast(r.message, !r.ok);
  renderControls();
}

// Who paused the job (an operator, or Sluice itself: the drift monitor, the final verification) and why.
function pauseSentence(j) {
  return 'paused' + (j.pausedBy ? ` by ${j.pausedBy}` : '') + (j.pauseReason ? `: ${j.pauseReason}` : '');
}

// ---- controls ----

document.querySelectorAll('#controls button').forEach(b => b.addEventListener('click', () => {
  const action = b.dataset.action;
  if (action === 'pace') {
    const v = $('rate-input').value.trim();
    // The same rule as the API: above 0, or none (unpaced); 0 would read as "stop", which is Pause.
    if (v === '') {
      if (confirm(`Remove the rate limit of job ${state.selected} (unpaced)?`)) command('pace', { rowsPerSecond: null }, 'unpaced');
      return;
    }
    if (!(Number(v) > 0)) { toast('enter rows per second above 0 (empty: unpaced; to stop the job, pause it)', true); return; }
    command('pace', { rowsPerSecond: Number(v) }, 'set rate');
    return;
  }
  if ((action === 'abort' || action === 'rollback')
      && !confirm(`${action === 'abort' ? 'Abort' : 'Roll back'} job ${state.selected}? This cannot be undone from here.`)) return;
  command(action, {}, action);
}));

async function command(action, args, what) {
  if (!state.tokenOk) { toast('controls are read-only: enter the token first', true); return; }
  const r = await socket.request({ type: 'command', token: state.token, action, job: state.selected, ...args });
  toast(r.message || what, !r.ok);
  if (r.status === 401) { state.tokenOk = false; renderControls(); }
}

function renderControls() {
  const on = state.tokenOk && state.control.enabled;
  $('mode').textContent = on ? 'controls on' : 'read-only';
  $('mode').classList.toggle('on', on);
  $('token').hidden = on;
  $('unlock').hidden = on;
  $('lock').hidden = !on;
  $('token').disabled = !state.control.enabled;
  $('unlock').disabled = !state.control.enabled;
  const job = currentJob();
  const avail = state.control.actions.available || [];
  const unavail = state.control.actions.unavailable || {};
  for (const b of document.querySelectorAll('#controls button')) {
    const a = b.dataset.action;
    let why = '';
    if (!state.control.enabled) why = 'control is off on this agent (no http.token / SLUICE_TOKEN configured)';
    else if (!state.tokenOk) why = 'read-only: enter the bearer token to use controls';
    else if (unavail[a]) why = unavail[a];
    else if (!avail.includes(a)) why = 'not available';
    else if (!job || !job.live) why = 'this job does not run on this agent';
    else if (a === 'pause' && job.paused) why = 'already paused';
    else if (a === 'resume' && !job.paused) why = 'not paused';
    b.disabled = !!why;
    b.title = why || '';
  }
  $('rate-input').disabled = $('btn-pace').disabled;
  const notes = [];
  if (!state.control.enabled) notes.push('Control is off on this agent: no token is configured (http.token or SLUICE_TOKEN). The dashboard is read-only.');
  else if (!state.tokenOk) notes.push('Read-only. Enter the bearer token above to pause, resume, set the rate or retry segments.');
  for (const [a, why] of Object.entries(unavail)) notes.push(`${a}: ${why}.`);
  $('control-note').textContent = notes.join(' ');
}

// ---- rendering ----

function currentJob() {
  const jobs = (state.snapshot && state.snapshot.jobs) || [];
  return jobs.find(j => j.name === state.selected) || null;
}

function render() {
  const s = state.snapshot;
  const jobs = s.jobs || [];
  // None chosen (or gone): a job this agent runs, not merely the ledger's first (often one long ended).
  if (!jobs.find(j => j.name === state.selected) && jobs.length) state.selected = (jobs.find(j => j.live) || jobs[0]).name;
  renderBanners(s);
  renderAgent(s);
  renderOverview(jobs);
  const job = currentJob();
  $('job').hidden = !job;
  if (job) renderJob(job, s);
  renderControls();
}

function renderBanners(s) {
  const out = [];
  if (s.ledgerError) out.push(`<div class="banner error">${esc(s.ledgerError)}</div>`);
  const cfg = s.agent && s.agent.config;
  const last = cfg && cfg.lastReload;
  if (last && !last.ok) {
    out.push(`<div class="banner error"><b>Config reload rejected</b> at ${esc(last.at.slice(11, 19))}: ${esc(last.message)}</div>`);
  }
  $('banners').innerHTML = out.join('');
}

function renderAgent(s) {
  const a = s.agent || {};
  const cfg = a.config || {};
  const last = cfg.lastReload && cfg.lastReload.ok ? ` · reloaded ${esc(cfg.lastReload.at.slice(11, 19))}` : '';
  $('agent').innerHTML = `agent ${esc(a.id)} · v${esc(a.version)}` + (cfg.hash ? ` · config ${esc(cfg.hash.slice(0, 8))}${last}` : '');
}

function stateBadges(j) {
  let b = `<span class="badge ${esc(j.state)}">${esc(j.state.replace('_', ' '))}</span>`;
  if (j.paused) b += ` <span class="badge paused">paused</span>`;
  const t = j.live && j.live.throttle;
  if (t && t.throttled && t.code !== 'paused' && t.code !== 'drift') b += ` <span class="badge throttled" title="${esc(t.reason)}">throttled</span>`;
  return b;
}

function renderOverview(jobs) {
  $('overview').innerHTML = jobs.map(j => {
    const segs = j.segments || {};
    const total = j.segmentsPlanned || 0;
    const verified = segs.verified || 0;
    const rows = j.rowsDone || 0;
    const e = eta(j.eta, j);
    const f = finish(j.finish);
    const agents = (j.agents || []).filter(a => a.alive !== false);
    return `<article class="jobcard${j.name === state.selected ? ' selected' : ''}" data-job="${esc(j.name)}">
      <div class="row"><span class="name">${esc(j.name)}</span><span>${stateBadges(j)}</span></div>
      <div class="bar" title="${full(rows)} of ${full(j.rowsPlanned)} rows; ${verified} of ${total} segments verified">
        <span class="done" style="width:${pct(rows, j.rowsPlanned)}%"></span><span class="ver" style="width:${pct(verified, total)}%"></span></div>
      <div class="row muted small"><span>${pct(rows, j.rowsPlanned).toFixed(1)}% · ${num(rows)} / ${num(j.rowsPlanned)} rows</span>
        <span>${verified}/${total} verified</span></div>
      <div class="figs"><span><b>${num(j.jobRowsPerSecond ?? (j.live && j.live.rowsPerSecond))}</b> rows/s</span>
        <span>ETA <b>${esc(e.main)}</b> <span class="muted">${esc(e.range)}</span></span>
        <span class="finish" title="${esc(j.finish ? j.finish.said : '')}">finish <b>${esc(f.main)}</b></span>
        <span class="muted">${agents.length} agent${agents.length === 1 ? '' : 's'}: ${esc(agents.map(a => a.host || a.id).join(', ') || '–')}</span></div>
      ${j.paused ? `<div class="pause-reason small">${esc(pauseSentence(j))}</div>` : ''}
    </article>`;
  }).join('') || '<div class="none">No jobs in the ledger yet.</div>';
}

$('overview').addEventListener('click', e => {
  const card = e.target.closest('.jobcard');
  if (!card) return;
  state.selected = card.dataset.job;
  history.replaceState(null, '', '#job=' + encodeURIComponent(state.selected));
  render();
  renderAudit(true);
});

function tile(k, v, s) {
  return `<div class="tile"><div class="k">${k}</div><div class="v">${v}</div><div class="s">${s || '&nbsp;'}</div></div>`;
}

function renderJob(j, s) {
  const live = j.live || {};
  $('job-name').textContent = j.name;
  $('job-tables').textContent = `${j.sourceTable} → ${j.targetTable}`;
  $('job-state').innerHTML = stateBadges(j)
    + (j.paused ? ` <span class="pause-reason" id="pause-reason">${esc(pauseSentence(j))}</span>` : '')
    + (j.reason ? ` <span class="muted">${esc(j.reason)}</span>` : '');
  const segs = j.segments || {};
  const e = eta(j.eta, j);
  const limit = live.rateBudget ?? live.rateLimit;
  $('tiles').innerHTML = [
    tile('Progress', pct(j.rowsDone, j.rowsPlanned).toFixed(1) + '%', `${num(j.rowsDone)} / ${num(j.rowsPlanned)} rows`),
    tile('Rows/s (job)', num(j.jobRowsPerSecond), `this agent ${num(live.rowsPerSecond)}`),
    tile('ETA', esc(e.main), esc(e.range)),
    `<div class="tile wide" id="finish-tile" title="${esc(j.finish ? j.finish.said : '')}"><div class="k">Finish</div>`
      + `<div class="v" id="finish-at">${esc(finish(j.finish).main)}</div><div class="s" id="finish-range">${esc(finish(j.finish).range || '&nbsp;')}</div></div>`,
    tile('Rate limit', limit == null ? (j.live ? 'unpaced' : '–') : num(limit),
      live.rateLimit != null && live.rateBudget != null && live.rateLimit !== live.rateBudget ? `this agent's share ${num(live.rateLimit)}` : 'rows/s in force'),
    tile('Concurrency', live.concurrencyLimit ?? '–', `${live.inFlight ?? 0} segment(s) in flight`),
    tile('Batch latency', live.latencyP50Ms != null ? live.latencyP50Ms + ' ms' : '–',
      live.latencyP95Ms != null ? `p95 ${live.latencyP95Ms} ms · ${live.batchRows} rows/batch` : 'p50 of the last second'),
    tile('Segments', `${segs.verified || 0}/${j.segmentsPlanned || 0}`, `${segs.failed || 0} failed · ${(segs.copying || 0) + (segs.copied || 0)} in flight`),
    tile('Retries', num(live.retries), 'transient errors retried'),
  ].join('');
  renderFinish(j.finish);
  week.show(j.name);
  report.show(j.name, j.state);
  $('seg-summary').textContent = Object.entries(segs).map(([k, v]) => `${v} ${k}`).join(' · ');
  heatmap.render(j.name, j.heatmap || { firstSeq: 0, cells: '' });
  renderCharts(j, s);
  renderThrottle(live, j);
  renderVerification(j.verification || {});
  renderBacklog(live);
  renderFailed(j.failed || []);
  renderAgents(j.agents || []);
}

function renderFinish(f) {
  const note = $('finish-note');
  if (!f) { note.textContent = ''; return; }
  note.className = 'finish-note' + (f.windowClosed ? ' closed' : '');
  note.textContent = [f.said, f.trend].filter(Boolean).join(' · ');
}

function renderCharts(j, s) {
  if (state.chartJob !== j.name) {
    state.chartJob = j.name;
    charts.reset(state.history[j.name] || []);
  }
  const live = j.live || {};
  charts.push(s.at / 1000, j.jobRowsPerSecond, live.rowsPerSecond, live.rateBudget ?? live.rateLimit, live.latencyP50Ms, live.latencyP95Ms);
}

function renderThrottle(live, j) {
  if (!j.live) { $('throttle').innerHTML = '<div class="none">This job does not run on this agent.</div>'; return; }
  const t = live.throttle || {};
  let h = `<div class="kv"><span class="k">decision</span><span class="${t.throttled ? 'bad' : 'ok'}">${t.throttled ? 'throttled' : 'running freely'}</span>`;
  if (t.throttled) h += `<span class="k">reason</span><span>${esc(t.reason || t.code)}</span>`;
  if (j.paused) h += `<span class="k">paused</span><span class="bad">${esc(pauseSentence(j))}</span>`;
  h += `<span class="k">rate in force</span><span>${live.rateLimit == null ? 'unpaced' : full(live.rateLimit) + ' rows/s'}</span>`;
  if (t.rateReason) h += `<span class="k">slowed</span><span>${esc(t.rateReason)}</span>`;
  h += `<span class="k">concurrency</span><span>${live.concurrencyLimit} (in flight ${live.inFlight})</span></div>`;
  const sensors = t.sensors || [];
  h += sensors.length ? `<table><tr><th>sensor</th><th>value</th><th>threshold</th><th>age</th><th></th></tr>${sensors.map(x =>
    `<tr><td style="overflow-wrap:anywhere">${esc(x.name)}</td><td class="num">${typeof x.value === 'number' ? +x.value.toFixed(2) : '–'} ${esc(x.unit || '')}</td><td class="num">${x.threshold ?? '–'}</td>`
    + `<td class="num">${x.ageSeconds ?? '–'}s</td><td class="${x.healthy ? 'ok' : 'bad'}">${x.healthy ? 'healthy' : 'unhealthy'}</td></tr>`).join('')}</table>`
    : '<div class="none" style="margin-top:8px">No health sensors reported by this agent.</div>';
  $('throttle').innerHTML = h;
}

function renderVerification(v) {
  $('verification').innerHTML = `<div class="kv">
    <span class="k">verified</span><span>${v.verified ?? 0} of ${v.segments ?? 0} segments (${pct(v.verified, v.segments).toFixed(0)}%)</span>
    <span class="k">method</span><span>row count + order-independent hash, both sides</span>
    <span class="k">mismatches re-copied</span><span class="${v.mismatchesRecopied ? 'bad' : ''}">${v.mismatchesRecopied ?? 0}</span>
    <span class="k">failed on mismatch</span><span class="${v.failedMismatch ? 'bad' : ''}">${v.failedMismatch ?? 0}</span></div>`;
}

function renderBacklog(live) {
  const b = live.backlog;
  const c = live.cache;
  let h = '<div class="kv">';
  h += b ? `<span class="k">backlog</span><span>${full(b.rows)} changes · oldest ${duration(b.oldestAgeSeconds)}</span>`
      + `<span class="k">applied</span><span id="applier-rate">${b.keysAppliedPerSecond == null ? '–' : full(b.keysAppliedPerSecond)} keys/s · ${full(b.keysApplied ?? 0)} keys applied by this agent</span>`
    : '<span class="k">backlog</span><span class="none">not reported (no change capture on this agent)</span>';
  // Why the applier's latest batch failed (it retries), shown until a batch goes through again.
  if (b && b.applierFailing && b.lastApplierError) h += `<span class="k">applier</span><span id="applier-error" class="warn">${esc(b.lastApplierError)}</span>`;
  h += walCapture(live.wal);
  h += c ? `<span class="k">cache hit ratio</span><span>${c.hitRatio == null ? '–' : (100 * c.hitRatio).toFixed(1) + '%'}</span>`
      + `<span class="k">cache</span><span>${full(c.size)} rows · ${full(c.hits)} hits · ${full(c.misses)} misses · ${full(c.evictions)} evicted</span>`
    : '<span class="k">cache</span><span class="none">not reported (no row cache on this agent)</span>';
  $('backlog').innerHTML = h + '</div>';
}

// Capture from the WAL: keys/s, lag behind the source's commits, the WAL its slot holds back (and what that does to the job).
function walCapture(w) {
  if (!w) return '';
  if (!w.readHere) return `<span class="k">capture</span><span id="wal-capture">from the WAL · slot ${esc(w.slot)} is read by another agent</span>`;
  let h = `<span class="k">capture</span><span id="wal-capture">from the WAL${w.reading ? '' : ' (reconnecting)'} · `
    + `${full(w.keysPerSecond ?? 0)} keys/s · lag ${lag(w.lagSeconds)}</span>`
    + `<span class="k">slot</span><span id="wal-slot">${esc(w.slot)} retains ${bytes(w.retainedBytes)} of WAL</span>`;
  if (!w.reading && w.lastReaderError) h += `<span class="k">reader</span><span id="wal-error" class="bad">${esc(w.lastReaderError)}</span>`;
  if (w.slotReason) h += `<span class="k">slot risk</span><span id="wal-risk" class="${w.slotAction === 'throttle' ? '' : 'bad'}">${esc(w.slotReason)}</span>`;
  return h;
}

function renderFailed(failed) {
  if (!failed.length) { $('failed').innerHTML = '<div class="none">No failed segments.</div>'; return; }
  $('failed').innerHTML = `<table><tr><th>seg</th><th>range</th><th>error</th><th></th></tr>${failed.map(f =>
    `<tr><td class="num">${f.seq}</td><td>${esc(f.lower ?? '−∞')} … ${esc(f.upper ?? '+∞')}</td>`
    + `<td class="err">${esc(f.error)}${f.errorKey ? `<br><span class="muted">${esc(f.errorKey)}</span>` : ''}</td>`
    + `<td><button class="small retry" data-seq="${f.seq}" ${state.tokenOk ? '' : 'disabled title="read-only"'}>Retry</button></td></tr>`).join('')}</table>`;
}

$('failed').addEventListener('click', e => {
  const b = e.target.closest('button.retry');
  if (b) command('retry', { segment: Number(b.dataset.seq) }, 'retry');
});

function renderAgents(agents) {
  $('agents').innerHTML = agents.length ? `<table><tr><th>agent</th><th>host</th><th class="num">segments</th><th class="num">rows/s</th><th class="num">heartbeat</th></tr>${agents.map(a =>
    `<tr><td>${esc(a.id)}${a.self ? ' <span class="muted">(this)</span>' : ''}</td><td>${esc(a.host)}</td><td class="num">${a.segmentsHeld}</td>`
    + `<td class="num">${num(a.rowsPerSecond)}</td><td class="num ${a.alive === false ? 'bad' : ''}">${a.heartbeatAgeSeconds ?? '–'}s ago</td></tr>`).join('')}</table>`
    : '<div class="none">No agent is working on this job.</div>';
}

function kindClass(k) {
  if (/fail|reject|mismatch|lost/.test(k)) return 'failed';
  if (/verified|completed|in_sync/.test(k)) return 'verified';
  if (/paused|resumed|operator|throttle|waiting|running|released/.test(k)) return 'paused';
  if (/^config/.test(k)) return 'config';
  return '';
}

function renderAudit(all, fresh = 0) {
  state.auditShown = !!state.selected;
  const list = state.events.filter(e => !e.job || e.job === state.selected).slice(-200).reverse();
  const newest = all ? 0 : fresh;
  $('audit').innerHTML = list.map((e, i) => `<li class="${i < newest ? 'new' : ''}"><span class="muted">${esc(clock(e.at))}</span>`
    + `<span class="kind ${kindClass(e.kind)}">${esc(e.kind)}</span><span class="${kindClass(e.kind)}">${esc(e.message)}</span></li>`).join('')
    || '<li class="none">No events yet.</li>';
}

function toast(text, bad) {
  const t = document.createElement('div');
  t.className = 'toast' + (bad ? ' bad' : '');
  t.textContent = text;
  $('toasts').appendChild(t);
  setTimeout(() => t.remove(), 5000);
}

renderControls();

// The final report of the selected job (GET /api/jobs/{job}/report): stored when the job completed,
// aborted or was rolled back; for a job still running, the ledger as it stands (provisional).

import { esc, full, duration } from './format.js';

export class ReportCard {
  constructor(el) {
    this.el = el;
    this.job = null;
    this.state = null;
    this.fetchedAt = 0;
  }

  async show(job, state) {
    const ended = ['completed', 'aborted', 'rolled_back'].includes(state);
    const changed = job !== this.job || state !== this.state;
    this.job = job;
    this.state = state;
    if (!changed && (ended || Date.now() - this.fetchedAt < 30000)) return;
    this.fetchedAt = Date.now();
    try {
      const r = await fetch(`/api/jobs/${encodeURIComponent(job)}/report`);
      if (job !== this.job) return;
      if (!r.ok) { this.el.innerHTML = `<div class="none">No report (HTTP ${r.status}).</div>`; return; }
      this.render(await r.json());
    } catch (_) { /* the socket banner already says the agent is unreachable */ }
  }

  render(r) {
    const rows = r.rows || {};
    const time = r.time || {};
    const v = r.verification || {};
    const segs = r.segments || {};
    const retries = r.retries || {};
    const windows = (r.windows && r.windows.used) || [];
    const held = Object.entries(time.waitingSeconds || {}).map(([k, s]) => `${esc(k)} ${duration(s)}`).join(' · ') || 'never';
    const byClass = Object.entries(retries.byClass || {}).map(([k, n]) => `${esc(k)}: ${n}`).join(' · ');
    const verified = v.finalPass ? `final pass: ${v.unrepaired ? v.unrepaired + ' unrepaired differences' : 'equal'}` : 'no final pass';
    this.el.innerHTML = `<div class="report-head"><span class="badge ${esc(r.outcome)}">${esc(String(r.outcome || '').replace('_', ' '))}</span>`
      + (r.final === false ? ' <span class="muted" id="report-kind">provisional: the job has not ended</span>'
        : ' <span class="muted" id="report-kind">final report</span>')
      + ` <a class="small" href="/api/jobs/${encodeURIComponent(r.job)}/report" target="_blank" rel="noopener">JSON</a></div>`
      + `<div class="kv">`
      + `<span class="k">duration</span><span>${duration(r.durationSeconds)}</span>`
      + `<span class="k">rows</span><span id="report-rows">${full(rows.copied)} copied of ${full(rows.planned)} planned · ${full(rows.changesApplied)} changes applied</span>`
      + `<span class="k">rate</span><span>${full(r.rate && r.rate.averageRowsPerSecond)} rows/s on average</span>`
      + `<span class="k">running</span><span>${duration(time.runSeconds)}${time.slowedSeconds ? ` (slowed ${duration(time.slowedSeconds)})` : ''}</span>`
      + `<span class="k">held</span><span>${held}</span>`
      + `<span class="k">windows used</span><span>${windows.length ? windows.map(w => `${esc(w.from.slice(0, 16).replace('T', ' '))} – ${esc(w.to.slice(11, 16))}`).join(' · ') : '–'}</span>`
      + `<span class="k">retries</span><span>${retries.total || 0}${byClass ? ` (${byClass})` : ''}</span>`
      + `<span class="k">segments</span><span>${Object.entries(segs.byState || {}).map(([k, n]) => `${n} ${esc(k)}`).join(' · ')}`
      + `${(segs.parked || []).length ? ` · ${segs.parked.length} parked` : ''}${(segs.repaired || []).length ? ` · ${segs.repaired.length} repaired` : ''}</span>`
      + `<span class="k">verification</span><span>${v.segmentsVerified ?? 0} segments verified · ${esc(verified)}</span>`
      + `<span class="k">capture lag peak</span><span>${r.capture && r.capture.lagPeakSeconds != null ? duration(r.capture.lagPeakSeconds) : '–'}</span>`
      + `</div>`;
  }
}

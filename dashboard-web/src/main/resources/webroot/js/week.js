// The learned week: one cell an hour (rows Monday..Sunday, columns 00..23, in the job's time zone),
// shaded by the source users' transactions per second; the hours the job's schedule windows leave
// open carry a teal band, so a person sees at a glance whether the windows sit in the quiet hours.
// Below it, the advisor's proposal and its reasoning (from GET /api/advice, refreshed every minute).

import { esc, num } from './format.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export class WeekStrip {
  constructor(el, adviceEl) {
    this.el = el;
    this.adviceEl = adviceEl;
    this.advice = null;
    this.job = null;
    this.fetchedAt = 0;
  }

  /** Shows the week of {@code job}; fetches the advice when it is a minute old or the job changed. */
  async show(job) {
    const changed = job !== this.job;
    this.job = job;
    if (changed && this.advice) this.render();
    if (!changed && Date.now() - this.fetchedAt < 60000) return;
    this.fetchedAt = Date.now();
    try {
      const r = await fetch('/api/advice');
      if (!r.ok) { this.error(`advice unavailable (HTTP ${r.status})`); return; }
      this.advice = await r.json();
      this.render();
    } catch (_) { /* the socket banner already says the agent is unreachable */ }
  }

  error(text) {
    this.adviceEl.innerHTML = `<div class="none">${esc(text)}</div>`;
  }

  render() {
    const a = this.advice;
    const j = (a.jobs || []).find(x => x.job === this.job);
    if (!j) {
      this.el.innerHTML = '';
      this.error('This job is not in this agent\'s config: no advice for it here.');
      return;
    }
    const w = j.week;
    const max = Math.max(0, ...w.xactsPerSecond.filter(v => v !== null));
    let h = '<div class="wk-hours"><span></span>' + Array.from({ length: 24 }, (_, i) => `<span>${i % 3 === 0 ? String(i).padStart(2, '0') : ''}</span>`).join('') + '</div>';
    for (let d = 0; d < 7; d++) {
      h += `<div class="wk-row"><span class="wk-day">${DAYS[d]}</span>`;
      for (let hr = 0; hr < 24; hr++) {
        const c = d * 24 + hr;
        const x = w.xactsPerSecond[c];
        const level = x === null ? -1 : max > 0 ? x / max : 0;
        const open = w.open[c];
        const cls = 'wk-cell' + (x === null ? ' unmeasured' : '') + (open > 0 ? ' open' : '');
        const style = x === null ? '' : ` style="--load:${level.toFixed(3)}"`;
        const title = `${DAYS[d]} ${String(hr).padStart(2, '0')}:00 ${w.zone}: `
          + (x === null ? 'not measured yet' : `${num(x)} transactions/s, ${w.busy[c] ?? '–'} sessions in a transaction`)
          + (open > 0 ? ` · window open${open < 1 ? ` ${Math.round(open * 60)} min` : ''}` : ' · outside the windows');
        h += `<span class="${cls}" data-hour="${c}" data-open="${open}"${style} title="${esc(title)}"></span>`;
      }
      h += '</div>';
    }
    h += `<div class="wk-legend muted small"><span><i class="wk-swatch quiet"></i>quiet</span><span><i class="wk-swatch busy"></i>busiest hour`
      + ` (${num(max)} tx/s)</span><span><i class="wk-swatch unmeasured"></i>not measured</span><span><i class="wk-swatch open"></i>`
      + `configured windows: ${esc(w.windows)}</span><span>${esc(w.zone)}</span></div>`;
    this.el.innerHTML = h;
    const p = j.proposed || {};
    let t = '';
    if (a.note) t += `<div class="wk-note">${esc(a.note.charAt(0).toUpperCase() + a.note.slice(1))}.</div>`;
    t += `<div class="kv"><span class="k">proposed windows</span><span id="advice-windows">${esc(p.windows ?? 'keep the configured ones')}</span>`
      + `<span class="k">proposed rate</span><span id="advice-rate">${p.rowsPerSecond == null ? 'keep the configured one' : num(p.rowsPerSecond) + ' rows/s'}</span>`
      + (p.finish ? `<span class="k">finished around</span><span>${esc(new Date(p.finish).toLocaleString('en-GB'))}</span>` : '')
      + `<span class="k">data</span><span>${a.hoursOfData} h recorded</span></div>`;
    t += `<details class="wk-why"><summary>Why</summary><ol>${(j.reasoning || []).map(r => `<li>${esc(r)}</li>`).join('')}</ol></details>`;
    this.adviceEl.innerHTML = t;
  }
}

// The segment heatmap: one cell a segment, coloured by state; hovering shows the segment's range,
// rows, attempts and error (fetched from /api/jobs/{job}/segments/{seq}, cached a few seconds).

import { esc, full } from './format.js';

const NAMES = { p: 'pending', c: 'copying', C: 'copied', v: 'verified', f: 'failed', r: 'rolling back', R: 'rolled back' };
export const LEGEND = Object.entries(NAMES);

// Cell i is segment firstSeq + i, unless a re-plan left holes in the numbering: then seqs lists them.
const seqOf = (heat, i) => (heat.seqs ? heat.seqs[i] : heat.firstSeq + i);

export class Heatmap {
  constructor(el, tip, onClickFailed) {
    this.el = el;
    this.tip = tip;
    this.job = null;
    this.cache = new Map();
    this.onClickFailed = onClickFailed;
    el.addEventListener('mousemove', e => this.hover(e));
    el.addEventListener('mouseleave', () => { tip.hidden = true; });
    el.addEventListener('click', e => {
      const c = e.target.closest('.cell');
      if (c && c.classList.contains('s-f')) this.onClickFailed(Number(c.dataset.seq));
    });
  }

  render(job, heat) {
    if (job !== this.job) {
      this.job = job;
      this.el.textContent = '';
      this.cache.clear();
    }
    const cells = heat.cells || '';
    // Few segments get big cells; thousands still fit on one screen.
    const size = cells.length <= 60 ? 30 : cells.length <= 300 ? 20 : cells.length <= 2000 ? 13 : 8;
    this.el.style.setProperty('--cell', size + 'px');
    const hot = new Set(heat.hot || []);
    const kids = this.el.children;
    while (kids.length > cells.length) this.el.lastChild.remove();
    for (let i = 0; i < cells.length; i++) {
      let c = kids[i];
      if (!c) {
        c = document.createElement('div');
        this.el.appendChild(c);
      }
      const cls = 'cell s-' + cells[i];
      if (c.className !== cls) {
        c.className = cls;
        c.dataset.state = NAMES[cells[i]] || cells[i];
        this.cache.delete(seqOf(heat, i));
      }
      c.dataset.seq = seqOf(heat, i);
      // A data attribute, not a class: the class is the state.
      if (hot.has(seqOf(heat, i))) c.dataset.hot = '1';
      else delete c.dataset.hot;
    }
  }

  async hover(e) {
    const c = e.target.closest('.cell');
    if (!c) { this.tip.hidden = true; return; }
    const seq = Number(c.dataset.seq);
    this.place(e);
    this.tip.hidden = false;
    const cached = this.cache.get(seq);
    if (cached && Date.now() - cached.at < 3000) { this.show(cached.s); return; }
    this.tip.innerHTML = `<b>segment ${seq}</b> · ${esc(c.dataset.state)}<br><span class="muted">loading…</span>`;
    try {
      const r = await fetch(`/api/jobs/${encodeURIComponent(this.job)}/segments/${seq}`);
      if (!r.ok) return;
      const s = await r.json();
      this.cache.set(seq, { at: Date.now(), s });
      if (!this.tip.hidden) this.show(s);
    } catch (_) { /* the socket banner already says the agent is unreachable */ }
  }

  place(e) {
    const x = Math.min(e.clientX + 14, window.innerWidth - 390);
    const y = Math.min(e.clientY + 14, window.innerHeight - 160);
    this.tip.style.left = Math.max(4, x) + 'px';
    this.tip.style.top = y + 'px';
  }

  show(s) {
    const range = `${s.lower ?? '(−∞'} … ${s.upper ?? '+∞)'}`;
    this.tip.innerHTML = `<b>segment ${s.seq}</b> · ${esc(s.state)}<br>`
      + `range <b>${esc(range)}</b><br>`
      + `rows ${full(s.rowsCopied)} copied of ${full(s.rowsPlanned)} planned · attempts ${s.attempts}`
      + (s.changesSeen ? `<br>${full(s.changesSeen)} captured changes seen${s.heat != null ? ` · heat ${s.heat}` : ''}` : '')
      + (s.hot ? '<br><b class="hot-word">hot</b>: the users write here; copied last (cold-first order)' : '')
      + (s.owner ? `<br>owner ${esc(s.owner)}` : '')
      + (s.error ? `<br><span class="err">${esc(s.error)}</span>` : '')
      + (s.errorKey ? `<br><span class="muted">${esc(s.errorKey)}</span>` : '');
  }
}

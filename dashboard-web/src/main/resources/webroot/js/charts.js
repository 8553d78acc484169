// Throughput and latency charts (uPlot from its WebJar), fed one point a second.

const WINDOW_S = 600;
const AXIS = { stroke: '#8b96a5', grid: { stroke: '#222b38', width: 1 }, ticks: { stroke: '#283140' } };

function opts(el, series, yLabel) {
  return {
    width: Math.max(280, el.clientWidth),
    height: 200,
    cursor: { drag: { x: false, y: false } },
    legend: { show: true },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [{ ...AXIS }, { ...AXIS, label: yLabel, size: 56, values: (u, v) => v.map(x => x >= 1000 ? Math.round(x / 100) / 10 + 'k' : x) }],
    series: [{}, ...series],
  };
}

export class Charts {
  constructor(rateEl, latencyEl) {
    this.rateEl = rateEl;
    this.latencyEl = latencyEl;
    this.data = { t: [], job: [], agent: [], limit: [], p50: [], p95: [] };
    this.rate = new uPlot(opts(rateEl, [
      { label: 'job (all agents)', stroke: '#2dd4bf', width: 2, fill: 'rgba(45,212,191,.08)' },
      { label: 'this agent', stroke: '#3b82f6', width: 1 },
      { label: 'rate limit', stroke: '#f59e0b', width: 1, dash: [6, 4] },
    ], 'rows/s'), [[], [], [], []], rateEl);
    this.latency = new uPlot(opts(latencyEl, [
      { label: 'p50', stroke: '#a78bfa', width: 2 },
      { label: 'p95', stroke: '#ef4444', width: 1 },
    ], 'ms'), [[], [], []], latencyEl);
    new ResizeObserver(() => this.resize()).observe(rateEl);
  }

  resize() {
    this.rate.setSize({ width: Math.max(280, this.rateEl.clientWidth), height: 200 });
    this.latency.setSize({ width: Math.max(280, this.latencyEl.clientWidth), height: 200 });
  }

  /** Replaces the history (on connect, or when another job is shown); rows: [t, agent, job, p50, p95, limit]. */
  reset(rows) {
    this.data = { t: [], job: [], agent: [], limit: [], p50: [], p95: [] };
    for (const r of rows || []) this.push(r[0], r[2], r[1], r[5], r[3], r[4], false);
    this.draw();
  }

  push(t, job, agent, limit, p50, p95, draw = true) {
    const d = this.data;
    if (d.t.length && t - d.t[d.t.length - 1] < 0.9) return;
    d.t.push(t); d.job.push(job ?? null); d.agent.push(agent ?? null); d.limit.push(limit ?? null);
    d.p50.push(p50 ?? null); d.p95.push(p95 ?? null);
    while (d.t.length && d.t[0] < t - WINDOW_S) for (const k of Object.keys(d)) d[k].shift();
    if (draw) this.draw();
  }

  draw() {
    const d = this.data;
    this.rate.setData([d.t, d.job, d.agent, d.limit]);
    this.latency.setData([d.t, d.p50, d.p95]);
  }
}

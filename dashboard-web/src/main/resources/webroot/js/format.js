// Formatting helpers: numbers people read at a glance, durations as "4m 10s", HTML escaping.

export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

export function num(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1e9) return (n / 1e9).toFixed(a >= 1e10 ? 0 : 1) + 'G';
  if (a >= 1e6) return (n / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
  if (a >= 1e4) return (n / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
  return Math.round(n).toLocaleString('en-US');
}

export function full(n) {
  return n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US');
}

export function duration(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '–';
  s = Math.max(0, Math.round(s));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
  return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
}

/** "4m 10s (3m – 6m)", or why there is no estimate. */
export function eta(e, job) {
  if (job.paused) return { main: 'paused', range: '' };
  if (['completed', 'in_sync', 'rolled_back'].includes(job.state)) return { main: 'done', range: '' };
  if (!e || e.seconds === null || e.seconds === undefined) return { main: '–', range: 'measuring…' };
  if (e.seconds === 0) return { main: 'done', range: '' };
  return { main: duration(e.seconds), range: duration(e.low) + ' – ' + duration(e.high) };
}

export function clock(at) {
  if (!at) return '';
  const d = new Date(at.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  return Number.isNaN(d.getTime()) ? at.slice(11, 19) : d.toLocaleTimeString('en-GB');
}

/** Bytes as people read them: "512 kB", "1.5 GB". */
export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 || n >= 100 ? Math.round(n) : n.toFixed(1)) + ' ' + units[i];
}

/** A lag in seconds: "0.4s" under ten seconds, else as a duration. */
export function lag(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '–';
  return s < 10 ? s.toFixed(1) + 's' : duration(s);
}

export function pct(a, b) {
  return b > 0 ? Math.min(100, (100 * a) / b) : 0;
}

/** A calendar time people read: "Tue 8 Dec 03:10" (local to the browser). */
export function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return d.toLocaleString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** The finish date: main text, its range, and the sentence (window closed, trend) for a tooltip or a line. */
export function finish(f) {
  if (!f) return { main: '–', range: '', note: '' };
  if (!f.at) return { main: '–', range: f.said || '', note: f.said || '' };
  const sameDay = f.latest && new Date(f.earliest).toDateString() === new Date(f.latest).toDateString();
  const hm = iso => new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  const range = !f.latest ? `from ${when(f.earliest)}` : sameDay ? `${hm(f.earliest)} – ${hm(f.latest)}` : `${when(f.earliest)} – ${when(f.latest)}`;
  const note = (f.windowClosed ? `window closed: no earlier than ${when(f.noEarlierThan)}. ` : '') + (f.trend ? f.trend : '');
  return { main: when(f.at), range, note: note.trim() };
}

// The operations page: this process's throughput, deliveries and queues, live, with charts drawn
// on <canvas> by hand. The API key stays in this tab's memory and session storage and only ever
// travels in the Authorization header.
import { readEvents } from './sse.js';

const KEY = 'fanout.opsKey';
/** Samples drawn: five minutes at one a second, what the server keeps for a new page. */
const HISTORY = 300;
const CHANNELS = ['push', 'email'];
const OUTCOMES = [
  'sent',
  'suppressed_quiet_hours',
  'suppressed_no_consent',
  'suppressed_preference',
  'suppressed_no_address',
  'suppressed_frequency_cap',
  'deferred',
  'duplicate',
  'failed',
  'unknown',
  'dead_lettered',
];
/** Chart groups of outcomes: nine lines would be unreadable. */
const GROUPS = [
  { label: 'sent', color: '#146c2e', outcomes: ['sent'] },
  {
    label: 'suppressed',
    color: '#6b3fa0',
    outcomes: OUTCOMES.filter((o) => o.startsWith('suppressed_')),
  },
  { label: 'deferred', color: '#8a4b00', outcomes: ['deferred'] },
  { label: 'duplicate', color: '#4b5563', outcomes: ['duplicate'] },
  {
    label: 'failed, unknown or dead-lettered',
    color: '#b3261e',
    outcomes: ['failed', 'unknown', 'dead_lettered'],
  },
];

const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
// Axis steps go down to 0.25: two digits label every gridline with its true value.
const axisFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

const state = { key: '', history: [], abort: null };

async function connect(key) {
  state.key = key;
  const res = await fetch('/v1/ops/metrics', { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok) {
    state.key = '';
    $('key-error').textContent =
      res.status === 401 || res.status === 403
        ? "That key was not accepted: it takes an API key of this box's operator tenant."
        : `The server answered ${res.status}.`;
    return;
  }
  sessionStorage.setItem(KEY, key);
  $('key-error').textContent = '';
  $('key-card').hidden = true;
  $('dash').hidden = false;
  $('forget').hidden = false;
  show(await res.json());
  void follow();
}

function forget(message = '') {
  state.abort?.abort();
  state.key = '';
  state.history = [];
  sessionStorage.removeItem(KEY);
  $('dash').hidden = true;
  $('forget').hidden = true;
  $('key-card').hidden = false;
  $('key-error').textContent = message;
  setLive('idle', '');
}

function setLive(name, text) {
  $('live').dataset.state = name;
  $('live').textContent = text;
}

/** Follows /v1/ops/stream, reconnecting after a pause until the key is forgotten. */
async function follow() {
  state.abort?.abort();
  const abort = new AbortController();
  state.abort = abort;
  while (!abort.signal.aborted) {
    setLive('connecting', 'connecting…');
    let status = 0;
    try {
      status = await readEvents(
        '/v1/ops/stream',
        { authorization: `Bearer ${state.key}` },
        (e) => {
          if (e.event === 'history') return backfill(JSON.parse(e.data));
          if (e.event !== 'metrics') return;
          setLive('live', 'live');
          show(JSON.parse(e.data));
        },
        abort.signal,
      );
    } catch {
      if (abort.signal.aborted) return;
    }
    if (status === 401 || status === 403) return forget('The key is no longer accepted.');
    setLive('offline', 'offline, retrying…');
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** The server's last minutes of samples, sent first on each stream: the charts start filled. */
function backfill(samples) {
  if (!Array.isArray(samples) || samples.length === 0) return;
  const last = samples.at(-1);
  state.history = samples.slice(-HISTORY, -1);
  document.body.dataset.backfilled = String(samples.length);
  show(last);
}

function byGroup(outcomes, group) {
  return group.outcomes.reduce((n, o) => n + (outcomes[o]?.perSecond ?? 0), 0);
}

function show(snap) {
  state.history.push(snap);
  if (state.history.length > HISTORY) state.history.shift();
  $('events-rate').textContent = fmt.format(snap.events.perSecond);
  $('rows-rate').textContent = fmt.format(snap.inboxRows.perSecond);
  $('events-total').textContent = fmt.format(snap.events.total);
  $('rows-total').textContent = fmt.format(snap.inboxRows.total);
  renderDeliveries(snap);
  renderQueues(snap);
  const h = state.history;
  chart('throughput', [
    { label: 'events / s', color: '#0b57d0', values: h.map((s) => s.events.perSecond) },
    { label: 'inbox rows / s', color: '#146c2e', values: h.map((s) => s.inboxRows.perSecond) },
  ]);
  for (const channel of CHANNELS) {
    chart(
      channel,
      GROUPS.map((g) => ({
        label: `${channel} ${g.label} / s`,
        color: g.color,
        values: h.map((s) => byGroup(s.deliveries[channel], g)),
      })),
    );
  }
  chart('queues', [
    { label: 'push waiting', color: '#0b57d0', values: h.map((s) => depth(s.queues.push)) },
    { label: 'email waiting', color: '#146c2e', values: h.map((s) => depth(s.queues.email)) },
    { label: 'push dead letters', color: '#b3261e', values: h.map((s) => s.queues.push.deadLettered) },
    { label: 'email dead letters', color: '#8a4b00', values: h.map((s) => s.queues.email.deadLettered) },
  ]);
}

function depth(q) {
  return q.visible + q.inFlight + q.delayed;
}

function cell(text, header = false) {
  const td = document.createElement(header ? 'th' : 'td');
  if (header) td.scope = 'row';
  td.textContent = text;
  return td;
}

function renderDeliveries(snap) {
  const rows = OUTCOMES.map((o) => {
    const tr = document.createElement('tr');
    tr.append(cell(o.replaceAll('_', ' '), true));
    for (const c of CHANNELS) {
      const r = snap.deliveries[c][o];
      tr.append(cell(`${fmt.format(r.perSecond)} / ${fmt.format(r.total)}`));
    }
    return tr;
  });
  $('deliveries').replaceChildren(...rows);
}

function renderQueues(snap) {
  const rows = CHANNELS.map((c) => {
    const q = snap.queues[c];
    const tr = document.createElement('tr');
    tr.append(cell(c, true), cell(fmt.format(q.visible)), cell(fmt.format(q.inFlight)));
    tr.append(cell(fmt.format(q.delayed)), cell(fmt.format(q.deadLettered)));
    return tr;
  });
  $('queues').replaceChildren(...rows);
}

/** A line chart of the last HISTORY samples, scaled to a round maximum, with a legend. */
function chart(name, series) {
  const canvas = $(`chart-${name}`);
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  const pad = { left: 44, right: 8, top: 8, bottom: 18 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const step = niceStep(Math.max(0, ...series.flatMap((s) => s.values)) / 4);
  const max = step * 4;
  const ticks = [];
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#4b5563';
  g.strokeStyle = '#d0d5dd';
  g.lineWidth = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const y = pad.top + h - (h * i) / 4;
    g.beginPath();
    g.moveTo(pad.left, y);
    g.lineTo(pad.left + w, y);
    g.stroke();
    const label = axisFmt.format(step * i);
    ticks.push(label);
    g.fillText(label, pad.left - 6, y);
  }
  canvas.dataset.ticks = ticks.join('|');
  g.textAlign = 'left';
  g.textBaseline = 'alphabetic';
  g.fillText(`last ${HISTORY / 60} min`, pad.left, height - 4);
  g.lineWidth = 2;
  for (const s of series) {
    g.strokeStyle = s.color;
    g.beginPath();
    s.values.forEach((v, i) => {
      const x = pad.left + (w * (HISTORY - s.values.length + i)) / (HISTORY - 1);
      const y = pad.top + h - (h * v) / max;
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    });
    g.stroke();
  }
  canvas.dataset.samples = String(series[0]?.values.length ?? 0);
  const latest = series.map((s) => `${s.label} ${fmt.format(s.values.at(-1) ?? 0)}`).join(', ');
  canvas.setAttribute('aria-label', `${canvas.getAttribute('aria-label').split(' — ')[0]} — now: ${latest}`);
  legend(name, series);
}

function legend(name, series) {
  const list = $(`legend-${name}`);
  if (list.childElementCount === series.length) return;
  list.replaceChildren(
    ...series.map((s) => {
      const li = document.createElement('li');
      li.style.setProperty('--swatch', s.color);
      li.textContent = s.label;
      return li;
    }),
  );
}

/**
 * The gridline step: 1, 2, 2.5 or 5 times a power of ten, at least `value`, and at least 0.25 so
 * an idle chart has a scale. Four steps make the top, so every gridline is a round value and its
 * label is exact (0.25 / 0.5 / 0.75, never 0.3 / 0.8).
 */
function niceStep(value) {
  if (value <= 0.25) return 0.25;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void connect($('key').value.trim());
});
$('forget').addEventListener('click', () => forget());
window.addEventListener('resize', () => state.history.length > 0 && show(state.history.pop()));

const saved = sessionStorage.getItem(KEY);
if (saved) void connect(saved);

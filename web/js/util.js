// Shared helpers of the viewer page: DOM building, token labels, colour maps, canvas set-up,
// the tooltip, small charts. Every script adds to the one global `GB`.
'use strict';
const GB = {};

// el('div', {class: 'x', onclick: f}, child, 'text', ...) -> HTMLElement
GB.el = function (tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'style' && typeof v === 'object') {
      for (const [name, value] of Object.entries(v)) {
        if (name.startsWith('--')) e.style.setProperty(name, value); else e.style[name] = value;
      }
    }
    else if (k in e && k !== 'list') e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
};

GB.clear = function (e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
};

// A token's label as the page shows it: whitespace made visible.
GB.show = function (label) {
  if (label === undefined) return '?';
  const text = label.replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/\r/g, '␍');
  return /^ +$/.test(text) ? text.replace(/ /g, '␣') : text;
};

GB.fmtProb = function (p) {
  if (p === null || p === undefined) return '–';
  if (p >= 0.995) return p.toFixed(3);
  if (p >= 0.0995) return p.toFixed(2);
  if (p >= 0.001) return p.toFixed(3);
  return p.toExponential(1);
};

GB.fmt = function (x, digits) {
  if (x === null || x === undefined || !isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(2);
  return x.toFixed(digits === undefined ? 3 : digits);
};

// ---- colour maps: t in [0, 1] (diverging: [-1, 1]) -> [r, g, b] ----
function gradient(stops) {
  const rgb = stops.map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
  return function (t) {
    t = Math.min(1, Math.max(0, t || 0)) * (rgb.length - 1);
    const i = Math.min(rgb.length - 2, Math.floor(t)), f = t - i;
    return [0, 1, 2].map((c) => Math.round(rgb[i][c] + (rgb[i + 1][c] - rgb[i][c]) * f));
  };
}
GB.blues = gradient(['#ffffff', '#dbe7f5', '#9ac3e3', '#4a91c9', '#1c5ea8', '#0b2f6b']);
GB.prob = gradient(['#ffffff', '#e5f5d7', '#a6dcb6', '#4fb3bf', '#2b7bb9', '#2c3e8f', '#1d1a55']);
const redBlue = gradient(['#1f5fa6', '#6fa8d3', '#f5f5f5', '#ec8c6b', '#b3202c']);
GB.diverging = (t) => redBlue((Math.max(-1, Math.min(1, t || 0)) + 1) / 2);
GB.css = (rgb, a) => (a === undefined ? `rgb(${rgb[0]},${rgb[1]},${rgb[2]})` : `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${a})`);
// Text colour readable on a background colour.
GB.ink = (rgb) => (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 150 ? '#1b1f24' : '#ffffff');

const HEAD_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#edc948',
  '#76b7b2', '#ff9da7', '#9c755f', '#1f77b4', '#d62728', '#8c564b'];
GB.headColour = (h) => (h < HEAD_COLOURS.length ? HEAD_COLOURS[h]
  : `hsl(${(h * 137.5) % 360}, 62%, 48%)`);

// ---- canvas ----
// Sizes a canvas to css pixels w × h at the screen's density; returns its 2-D context, scaled
// so drawing uses css pixels.
GB.canvas2d = function (canvas, w, h) {
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = w + 'px';
  canvas.style.height = h + 'px';
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
};

// Draws `text` cut to fit `width` (css px) with an ellipsis.
GB.fitText = function (ctx, text, x, y, width) {
  if (ctx.measureText(text).width <= width) return ctx.fillText(text, x, y);
  let lo = 0, hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(text.slice(0, mid) + '…').width <= width) lo = mid; else hi = mid - 1;
  }
  ctx.fillText(text.slice(0, lo) + '…', x, y);
};

// ---- the tooltip: one floating box for the whole page ----
GB.tip = (function () {
  let box = null;
  return {
    show(ev, content) {
      if (!box) {
        box = GB.el('div', {class: 'tooltip'});
        document.body.append(box);
      }
      GB.clear(box).append(content);
      box.style.display = 'block';
      const r = box.getBoundingClientRect();
      let x = ev.clientX + 14, y = ev.clientY + 14;
      if (x + r.width > window.innerWidth - 8) x = ev.clientX - r.width - 14;
      if (y + r.height > window.innerHeight - 8) y = ev.clientY - r.height - 14;
      box.style.left = x + 'px';
      box.style.top = y + 'px';
    },
    hide() {
      if (box) box.style.display = 'none';
    },
  };
})();

// ---- line charts: Chart.js (Debian's libjs-chart.js, compiled into the page) ----
// series: [{name, values: [number|null], colour, dots: bool}]; opts: {xLabels, xTitle, yTitle,
// hline: {value, label}, mark: {x, label}, yMin}. Draws on `canvas` (w × h CSS pixels); returns
// the Chart (GB.pruneCharts() destroys those whose canvas has left the page).
GB.charts = [];
GB.pruneCharts = function () {
  GB.charts = GB.charts.filter((c) => (c.canvas && c.canvas.isConnected ? true : (c.destroy(), false)));
};
GB.lineChart = function (canvas, w, h, series, opts) {
  opts = opts || {};
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';
  Chart.defaults.font.size = 11;
  Chart.defaults.color = '#5c6570';
  const n = Math.max(...series.map((s) => s.values.length), 1);
  const labels = Array.from({length: n}, (_, i) => (opts.xLabels ? opts.xLabels[i] : String(i)));
  const finite = (v) => (v === null || v === undefined || !isFinite(v) ? null : v);
  const datasets = series.map((s) => ({
    label: s.name, data: s.values.map(finite), borderColor: s.colour, backgroundColor: s.colour,
    borderWidth: 2, pointRadius: s.dots !== false && n <= 80 ? 2.5 : 0, pointHoverRadius: 4,
  }));
  if (opts.hline) datasets.push({label: opts.hline.label, data: labels.map(() => opts.hline.value),
    borderColor: '#9aa3ad', borderDash: [4, 4], borderWidth: 1, pointRadius: 0, pointHoverRadius: 0});
  // The threshold's label, and a vertical line at opts.mark.x.
  const notes = {
    id: 'gbNotes',
    afterDatasetsDraw(chart) {
      const {ctx, chartArea: a, scales} = chart;
      ctx.save();
      ctx.font = '11px system-ui, sans-serif';
      if (opts.hline) {
        ctx.fillStyle = '#5c6570';
        ctx.textAlign = 'right';
        ctx.textBaseline = 'bottom';
        ctx.fillText(opts.hline.label, a.right, scales.y.getPixelForValue(opts.hline.value) - 2);
      }
      if (opts.mark) {
        const x = scales.x.getPixelForValue(opts.mark.x);
        ctx.strokeStyle = ctx.fillStyle = '#d9480f';
        ctx.beginPath();
        ctx.moveTo(x, a.top);
        ctx.lineTo(x, a.bottom);
        ctx.stroke();
        ctx.textAlign = 'left';
        ctx.textBaseline = 'top';
        ctx.fillText(opts.mark.label, x + 4, a.top);
      }
      ctx.restore();
    },
  };
  canvas.style.width = w + 'px';
  canvas.style.height = h + 'px';
  canvas.width = w;
  canvas.height = h;
  const chart = new Chart(canvas, {
    type: 'line',
    data: {labels, datasets},
    options: {
      responsive: false, animation: false, normalized: true,
      interaction: {mode: 'index', intersect: false},
      plugins: {
        legend: {display: false},
        tooltip: {callbacks: {label: (c) => `${c.dataset.label}: ${GB.fmt(c.parsed.y, 4)}`}},
      },
      scales: {
        x: {title: {display: !!opts.xTitle, text: opts.xTitle}, grid: {display: false},
          ticks: {autoSkip: true, maxRotation: 0}},
        y: {min: opts.yMin, title: {display: !!opts.yTitle, text: opts.yTitle}, grid: {color: '#e3e6ea'},
          ticks: {callback: (v) => (v === 0 || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5) ? String(+v.toPrecision(3)) : v.toExponential(1))}},
      },
    },
    plugins: [notes],
  });
  GB.charts.push(chart);
  return chart;
};

// A legend: [{name, colour}] -> element.
GB.legend = (series) => GB.el('div', {class: 'legend'},
  series.map((s) => GB.el('span', {}, GB.el('i', {style: {background: s.colour}}), s.name)));

// Horizontal bars: rows [{label, value (0..1), text, colour, title}] -> element.
GB.bars = (rows) => GB.el('div', {class: 'bars'}, rows.map((r) =>
  GB.el('div', {class: 'bar-row', title: r.title || ''},
    GB.el('span', {class: 'bar-label'}, r.label),
    GB.el('span', {class: 'bar-track'},
      GB.el('span', {class: 'bar-fill', style: {width: (100 * Math.max(0, Math.min(1, r.value))) + '%',
        background: r.colour || 'var(--accent)'}})),
    GB.el('span', {class: 'bar-text'}, r.text))));

// Runs fn and records its time under name in window.__glassbox.timings (ms).
GB.timed = function (name, fn) {
  const t0 = performance.now();
  const out = fn();
  const ms = performance.now() - t0;
  window.__glassbox.timings[name] = ms;
  return out;
};

// The state tests and scripts can read: what the panels drew, and how long it took.
window.__glassbox = {ready: false, runs: 0, timings: {}};

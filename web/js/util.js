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

// ---- a line chart on a canvas ----
// series: [{name, values: [number|null], colour, dots: bool}]; opts: {xLabels, xTitle, yTitle,
// hline: {value, label}, mark: {x, label}, yMin}. Returns the chart's geometry for hit tests.
GB.lineChart = function (canvas, w, h, series, opts) {
  opts = opts || {};
  const ctx = GB.canvas2d(canvas, w, h);
  const pad = {l: 52, r: 12, t: 14, b: 34};
  const n = Math.max(...series.map((s) => s.values.length), 1);
  let lo = opts.yMin !== undefined ? opts.yMin : Infinity, hi = -Infinity;
  for (const s of series) for (const v of s.values) if (v !== null && isFinite(v)) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (opts.hline) {
    hi = Math.max(hi, opts.hline.value);
    lo = Math.min(lo, opts.hline.value);
  }
  if (!isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-12) hi = lo + 1;
  hi += (hi - lo) * 0.06;
  const X = (i) => pad.l + (n === 1 ? (w - pad.l - pad.r) / 2 : (i * (w - pad.l - pad.r)) / (n - 1));
  const Y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (h - pad.t - pad.b);
  ctx.font = '11px system-ui, sans-serif';
  ctx.strokeStyle = '#e3e6ea';
  ctx.fillStyle = '#5c6570';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let k = 0; k <= 4; ++k) {
    const v = lo + ((hi - lo) * k) / 4, y = Y(v);
    ctx.beginPath();
    ctx.moveTo(pad.l, y);
    ctx.lineTo(w - pad.r, y);
    ctx.stroke();
    ctx.fillText(GB.fmt(v, Math.abs(hi - lo) < 10 ? 2 : 0), pad.l - 6, y);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const every = Math.max(1, Math.ceil(n / Math.max(1, (w - pad.l - pad.r) / 34)));
  for (let i = 0; i < n; i += every)
    ctx.fillText(opts.xLabels ? opts.xLabels[i] : String(i), X(i), h - pad.b + 5);
  if (opts.xTitle) ctx.fillText(opts.xTitle, (pad.l + w - pad.r) / 2, h - 14);
  if (opts.yTitle) {
    ctx.save();
    ctx.translate(11, (pad.t + h - pad.b) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(opts.yTitle, 0, -4);
    ctx.restore();
  }
  if (opts.hline) {
    ctx.setLineDash([4, 4]);
    ctx.strokeStyle = '#9aa3ad';
    ctx.beginPath();
    ctx.moveTo(pad.l, Y(opts.hline.value));
    ctx.lineTo(w - pad.r, Y(opts.hline.value));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'bottom';
    ctx.fillText(opts.hline.label, w - pad.r, Y(opts.hline.value) - 2);
  }
  if (opts.mark) {
    ctx.strokeStyle = '#d9480f';
    ctx.fillStyle = '#d9480f';
    ctx.beginPath();
    ctx.moveTo(X(opts.mark.x), pad.t);
    ctx.lineTo(X(opts.mark.x), h - pad.b);
    ctx.stroke();
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(opts.mark.label, X(opts.mark.x) + 4, pad.t);
  }
  for (const s of series) {
    ctx.strokeStyle = s.colour;
    ctx.fillStyle = s.colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || !isFinite(v)) return (pen = false);
      if (pen) ctx.lineTo(X(i), Y(v)); else ctx.moveTo(X(i), Y(v));
      pen = true;
    });
    ctx.stroke();
    if (s.dots !== false && n <= 80)
      s.values.forEach((v, i) => {
        if (v === null || !isFinite(v)) return;
        ctx.beginPath();
        ctx.arc(X(i), Y(v), 2.5, 0, 2 * Math.PI);
        ctx.fill();
      });
  }
  return {X, Y, n, pad};
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

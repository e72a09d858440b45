// Attention head view (after BertViz's head view): the prompt's tokens in two columns, queries
// on the left and keys on the right, and for each selected head of the chosen layer a line from
// each query to each key it attends to, the weight as the line's opacity. Hovering a token keeps
// only its lines. Long prompts scroll: the canvas is the size of the view and draws the rows and
// lines that cross it. Weights arrive 8-bit (GET attention: u8 [n_heads, n(n+1)/2]).
'use strict';
(function () {
  const ROW = 20, TOP = 30, COL = 170, BUCKETS = 16;

  // One head's lines with weight ≥ thr8/255: flat [q, k, w8, q, k, w8, ...], sorted by q.
  function lineSet(pattern, n, head, thr8) {
    const base = head * (n * (n + 1)) / 2, out = [];
    for (let q = 0; q < n; ++q) {
      const row = base + (q * (q + 1)) / 2;
      for (let k = 0; k <= q; ++k) {
        const w = pattern[row + k];
        if (w >= thr8 && w > 0) out.push(q, k, w);
      }
    }
    return Uint32Array.from(out);
  }

  // First index (in triples) of a line with query ≥ q.
  function firstFrom(lines, q) {
    let lo = 0, hi = lines.length / 3;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (lines[3 * mid] < q) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  GB.panel({
    id: 'attention',
    title: 'Attention',
    build(root, info) {
      const m = info.models[0];
      this.layer = 0;
      this.heads = new Set(Array.from({length: m.n_heads}, (_, h) => h));
      this.minWeight = 0.02;
      this.hover = null;
      const layerSel = GB.el('select', {class: 'layer-select', onchange: (e) => this.setLayer(Number(e.target.value))},
        Array.from({length: m.n_layers}, (_, L) => GB.el('option', {value: L}, `Layer ${L}`)));
      this.layerSel = layerSel;
      this.chips = Array.from({length: m.n_heads}, (_, h) => GB.el('button', {
        type: 'button', class: 'head-chip on', 'data-head': h, style: {'--c': GB.headColour(h)},
        title: `head ${h} (shift-click: only this head)`,
        onclick: (e) => this.toggleHead(h, e.shiftKey)}, `H${h}`));
      const weight = GB.el('input', {type: 'range', min: 0, max: 0.5, step: 0.01, value: this.minWeight,
        oninput: (e) => {
          this.minWeight = Number(e.target.value);
          weightText.textContent = this.minWeight.toFixed(2);
          this.rebuild();
        }});
      const weightText = GB.el('span', {class: 'mono'}, this.minWeight.toFixed(2));
      root.append(
        GB.el('div', {class: 'controls'}, layerSel,
          GB.el('div', {class: 'chips'}, this.chips,
            GB.el('button', {type: 'button', class: 'link', onclick: () => this.setHeads(this.chips.map((_, h) => h))}, 'all'),
            GB.el('button', {type: 'button', class: 'link', onclick: () => this.setHeads([])}, 'none')),
          GB.el('label', {class: 'weight'}, 'min weight ', weight, ' ', weightText)),
        GB.el('div', {class: 'hint'}, 'Queries on the left attend to keys on the right; a line\'s opacity is the attention weight. ' +
          'Hover a token to see only its attention. Shift-click a head to show it alone.'));
      this.scroll = GB.el('div', {class: 'hv-scroll'});
      this.spacer = GB.el('div', {class: 'hv-spacer'});
      this.canvas = GB.el('canvas', {class: 'hv-canvas'});
      this.scroll.append(this.canvas, this.spacer);
      this.detail = GB.el('div', {class: 'hv-detail dim'}, ' ');
      root.append(this.scroll, this.detail);
      this.scroll.addEventListener('scroll', () => this.paint());
      this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
      this.canvas.addEventListener('mouseleave', () => {
        this.hover = null;
        this.paint();
      });
      window.addEventListener('resize', () => this.paint());
    },

    // Opens a layer with the given heads (from the model view and the head scores).
    open(layer, heads) {
      this.layer = layer;
      this.layerSel.value = layer;
      this.setHeads(heads, true);
      this.drawn = null;
      GB.select('attention');
    },
    setLayer(L) {
      this.layer = L;
      this.drawn = null;
      GB.drawActive();
    },
    setHeads(heads, quiet) {
      this.heads = new Set(heads);
      this.chips.forEach((c, h) => c.classList.toggle('on', this.heads.has(h)));
      if (!quiet) this.rebuild();
    },
    toggleHead(h, only) {
      if (only) return this.setHeads([h]);
      const s = new Set(this.heads);
      if (s.has(h)) s.delete(h); else s.add(h);
      this.setHeads([...s]);
    },

    async draw(run) {
      const t0 = performance.now();
      const layer = this.layer;
      this.pattern = new Uint8Array(await GB.fetch('attention', {layer}, true));
      window.__glassbox.timings['attention.fetch'] = performance.now() - t0;
      this.n = run.tokens.length;
      if (this.pattern.length !== run.n_heads * (this.n * (this.n + 1)) / 2) throw new Error('attention data of the wrong size');
      this.shownLayer = layer;
      this.rebuild();
    },

    // Line sets of the selected heads at the current threshold, then a repaint.
    rebuild() {
      if (!this.pattern || !GB.state.run) return;
      const t0 = performance.now();
      const thr8 = Math.max(1, Math.ceil(this.minWeight * 255 - 1e-9));
      this.lines = new Map();
      for (const h of [...this.heads].sort((a, b) => a - b)) this.lines.set(h, lineSet(this.pattern, this.n, h, thr8));
      window.__glassbox.timings['attention.lines'] = performance.now() - t0;
      const lines = this.lines, layer = this.shownLayer, n = this.n, minWeight = this.minWeight;
      window.__glassbox.headView = {
        layer, n, minWeight, heads: [...lines.keys()],
        // [[query, key, weight], ...] of one head's drawn line set
        lines(h) {
          const l = lines.get(h), out = [];
          for (let i = 0; l && i < l.length; i += 3) out.push([l[i], l[i + 1], l[i + 2] / 255]);
          return out;
        },
        count: [...lines.values()].reduce((s, l) => s + l.length / 3, 0),
      };
      const full = TOP + n * ROW + 10;
      this.scroll.style.height = Math.min(full, Math.max(320, window.innerHeight - 330)) + 'px';
      this.paint();
      this.spacer.style.height = Math.max(0, full - this.canvas.clientHeight) + 'px';
    },

    paint() {
      if (!this.lines || this.root.hidden) return;
      const t0 = performance.now();
      const run = GB.state.run, n = this.n;
      const w = Math.max(480, Math.min(960, this.scroll.clientWidth)), h = this.scroll.clientHeight;
      const ctx = GB.canvas2d(this.canvas, w, h);
      const y0 = this.scroll.scrollTop, yOf = (p) => TOP + p * ROW + ROW / 2 - y0;
      const first = Math.max(0, Math.floor((y0 - TOP) / ROW)), last = Math.min(n - 1, Math.ceil((y0 + h - TOP) / ROW));
      const xl = COL, xr = w - COL, hv = this.hover;
      this.geometry = {w, xl, xr};

      // Lines, per head and opacity bucket: one path each.
      ctx.lineWidth = hv ? 2 : 1.4;
      for (const [head, l] of this.lines) {
        const paths = Array.from({length: BUCKETS}, () => new Path2D());
        const used = new Uint8Array(BUCKETS);
        for (let i = 3 * firstFrom(l, hv && hv.side === 'q' ? hv.pos : first); i < l.length; i += 3) {
          const q = l[i], k = l[i + 1];
          if (hv && hv.side === 'q' && q !== hv.pos) break;
          if (hv && hv.side === 'k' && k !== hv.pos) continue;
          if (k > last) continue;
          const b = Math.min(BUCKETS - 1, Math.floor((l[i + 2] / 256) * BUCKETS));
          paths[b].moveTo(xl + 6, yOf(q));
          paths[b].lineTo(xr - 6, yOf(k));
          used[b] = 1;
        }
        ctx.strokeStyle = GB.headColour(head);
        for (let b = 0; b < BUCKETS; ++b) if (used[b]) {
          ctx.globalAlpha = Math.min(1, (b + 0.5) / BUCKETS * (hv ? 1.25 : 1));
          ctx.stroke(paths[b]);
        }
      }
      ctx.globalAlpha = 1;

      // Attention of the hovered token, as the other column's background.
      const weights = new Float32Array(n);
      if (hv) for (const [, l] of this.lines) for (let i = 0; i < l.length; i += 3) {
        if (hv.side === 'q' && l[i] === hv.pos) weights[l[i + 1]] = Math.max(weights[l[i + 1]], l[i + 2] / 255);
        if (hv.side === 'k' && l[i + 1] === hv.pos) weights[l[i]] = Math.max(weights[l[i]], l[i + 2] / 255);
      }
      ctx.font = '13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
      ctx.textBaseline = 'middle';
      for (let p = first; p <= last; ++p) {
        const label = GB.show(GB.label(run.tokens[p])), y = yOf(p);
        for (const side of ['q', 'k']) {
          const right = side === 'k', x = right ? xr : xl;
          const isHover = hv && hv.side === side && hv.pos === p;
          const wgt = hv && hv.side !== side ? weights[p] : 0;
          if (isHover || wgt > 0) {
            ctx.fillStyle = isHover ? '#ffe8a3' : GB.css([59, 91, 219], Math.min(0.85, wgt));
            ctx.fillRect(right ? x : x - COL + 20, y - ROW / 2 + 1, COL - 24, ROW - 2);
          }
          ctx.fillStyle = wgt > 0.5 ? '#fff' : '#1b1f24';
          ctx.textAlign = right ? 'left' : 'right';
          GB.fitText(ctx, label, right ? x + 4 : x - 4, y, COL - 34);
        }
        ctx.fillStyle = '#9aa3ad';
        ctx.font = '10px system-ui, sans-serif';
        ctx.textAlign = 'right';
        ctx.fillText(String(p), 26, y);
        ctx.font = '13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
      }
      // Column titles, on a band that stays at the top.
      ctx.fillStyle = 'rgba(255,255,255,0.94)';
      ctx.fillRect(0, 0, w, TOP - 6);
      ctx.fillStyle = '#5c6570';
      ctx.font = '600 11px system-ui, sans-serif';
      ctx.textAlign = 'right';
      ctx.fillText('QUERY (attends from)', xl - 4, 12);
      ctx.textAlign = 'left';
      ctx.fillText('KEY (attended to)', xr + 4, 12);
      ctx.textAlign = 'center';
      ctx.fillText(`layer ${this.shownLayer} · ${this.lines.size} head${this.lines.size === 1 ? '' : 's'}`, w / 2, 12);
      window.__glassbox.timings['attention.draw'] = performance.now() - t0;
    },

    onMove(e) {
      if (!this.geometry) return;
      const r = this.canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
      const p = Math.floor((y + this.scroll.scrollTop - TOP) / ROW);
      const {xl, xr} = this.geometry;
      let hv = null;
      if (p >= 0 && p < this.n) {
        if (x < xl + 6) hv = {side: 'q', pos: p};
        else if (x > xr - 6) hv = {side: 'k', pos: p};
      }
      const same = (a, b) => (a === b) || (a && b && a.side === b.side && a.pos === b.pos);
      if (same(hv, this.hover)) return;
      this.hover = hv;
      this.paint();
      this.describe();
    },

    // Under the view: the hovered token's strongest links.
    describe() {
      const hv = this.hover, box = GB.clear(this.detail);
      if (!hv) return box.append(' ');
      const run = GB.state.run, links = [];
      for (const [head, l] of this.lines) for (let i = 0; i < l.length; i += 3)
        if ((hv.side === 'q' && l[i] === hv.pos) || (hv.side === 'k' && l[i + 1] === hv.pos))
          links.push({head, other: hv.side === 'q' ? l[i + 1] : l[i], w: l[i + 2] / 255});
      links.sort((a, b) => b.w - a.w);
      box.append(GB.el('b', {}, `«${GB.show(GB.label(run.tokens[hv.pos]))}» (${hv.pos}) `),
        hv.side === 'q' ? 'attends to: ' : 'is attended by: ',
        ...links.slice(0, 12).map((x) => GB.el('span', {class: 'link-item', style: {'--c': GB.headColour(x.head)}},
          `H${x.head} «${GB.show(GB.label(run.tokens[x.other]))}» ${x.other}: ${x.w.toFixed(2)}`)),
        links.length > 12 ? ` … ${links.length - 12} more` : '');
    },
  });
})();

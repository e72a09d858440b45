// Neuron view: a layer's MLP activations (mlp.hook_post). The top neurons by their largest
// activation over the prompt; their activations as a heat map over the tokens; the chosen
// neuron's activation on each token (as the text's background, and as a curve); and every
// neuron of the layer at once. Data: GET neurons (top list, scales) and GET neuron_map
// (i8 [n, d_mlp]; activation ≈ value · scale[neuron]).
'use strict';
(function () {
  GB.panel({
    id: 'neurons',
    title: 'Neurons',
    build(root, info) {
      this.root = root;
      this.layer = 0;
      this.neuron = null;
      this.layerSel = GB.el('select', {class: 'layer-select', onchange: (e) => {
        this.layer = Number(e.target.value);
        this.neuron = null;
        this.drawn = null;
        GB.drawActive();
      }}, Array.from({length: info.models[0].n_layers}, (_, L) => GB.el('option', {value: L}, `Layer ${L}`)));
      root.append(GB.el('div', {class: 'controls'}, this.layerSel,
        GB.el('span', {class: 'hint'}, 'MLP activations (mlp.hook_post): red positive, blue negative.')));
      this.body = GB.el('div', {class: 'nv-layout'});
      root.append(this.body);
    },

    async draw(run) {
      const t0 = performance.now();
      const layer = this.layer;
      const [meta, map] = await Promise.all([GB.fetch('neurons', {layer}), GB.fetch('neuron_map', {layer}, true)]);
      const n = run.tokens.length, d = meta.d_mlp, q = new Int8Array(map);
      if (q.length !== n * d) throw new Error('neuron data of the wrong size');
      this.data = {meta, q, n, d, layer};
      let maxAbs = 0;
      for (const s of meta.scale) maxAbs = Math.max(maxAbs, 127 * s);
      this.data.maxAbs = maxAbs || 1;
      if (this.neuron === null && meta.top.length) this.neuron = meta.top[0].neuron;
      const body = GB.clear(this.body);
      this.list = GB.el('div', {class: 'nv-list'});
      this.heat = GB.el('canvas', {class: 'nv-heat'});
      this.detail = GB.el('div', {class: 'nv-detail'});
      this.overview = GB.el('canvas', {class: 'nv-overview'});
      body.append(
        GB.el('div', {class: 'nv-side'}, GB.el('h3', {}, `Top neurons of layer ${layer}`), this.list),
        GB.el('div', {class: 'nv-main'},
          GB.el('h3', {}, 'Top neurons over the prompt'),
          GB.el('div', {class: 'nv-heat-scroll'}, this.heat),
          this.detail,
          GB.el('h3', {}, `All ${d} neurons`, GB.el('span', {class: 'dim'}, ' (positions down, neurons across; click to choose one)')),
          this.overview));
      this.drawList();
      this.drawHeat();
      this.drawDetail();
      this.drawOverview();
      window.__glassbox.neurons = {layer, d_mlp: d, top: meta.top.map((t) => t.neuron), neuron: this.neuron};
      window.__glassbox.timings['neurons.draw'] = performance.now() - t0;
    },

    value(pos, neuron) {
      const {q, d, meta} = this.data;
      return q[pos * d + neuron] * meta.scale[neuron];
    },

    choose(neuron) {
      this.neuron = neuron;
      window.__glassbox.neurons.neuron = neuron;
      this.drawList();
      this.drawDetail();
    },

    drawList() {
      const run = GB.state.run, list = GB.clear(this.list);
      for (const t of this.data.meta.top)
        list.append(GB.el('div', {class: 'nv-item' + (t.neuron === this.neuron ? ' selected' : ''),
          onclick: () => this.choose(t.neuron)},
        GB.el('span', {class: 'mono'}, `#${t.neuron}`),
        GB.el('span', {class: 'nv-max', style: (() => {
          const rgb = GB.diverging(t.max / this.data.maxAbs);
          return {background: GB.css(rgb), color: GB.ink(rgb)};
        })()}, GB.fmt(t.max, 2)),
        GB.el('span', {class: 'dim'}, `«${GB.show(GB.label(run.tokens[t.at]))}» ${t.at}`)));
    },

    drawHeat() {
      const run = GB.state.run, {n, meta, maxAbs} = this.data, top = meta.top;
      const cw = Math.max(6, Math.min(40, Math.floor(1400 / n))), rh = 16, left = 58, head = n <= 120 ? 64 : 8;
      const w = left + n * cw + 8, h = head + top.length * rh + 4;
      const ctx = GB.canvas2d(this.heat, w, h);
      ctx.font = '11px ui-monospace, Menlo, Consolas, monospace';
      ctx.textBaseline = 'middle';
      if (n <= 120) for (let p = 0; p < n; ++p) {
        ctx.save();
        ctx.translate(left + p * cw + cw / 2, head - 4);
        ctx.rotate(-Math.PI / 3);
        ctx.fillStyle = '#3a4148';
        ctx.textAlign = 'left';
        GB.fitText(ctx, GB.show(GB.label(run.tokens[p])), 0, 0, 70);
        ctx.restore();
      }
      top.forEach((t, r) => {
        ctx.fillStyle = '#3a4148';
        ctx.textAlign = 'right';
        ctx.fillText(`#${t.neuron}`, left - 6, head + r * rh + rh / 2);
        for (let p = 0; p < n; ++p) {
          ctx.fillStyle = GB.css(GB.diverging(this.value(p, t.neuron) / maxAbs));
          ctx.fillRect(left + p * cw, head + r * rh, cw - (cw > 8 ? 1 : 0), rh - 1);
        }
      });
      this.heat.onmousemove = (e) => {
        const r = this.heat.getBoundingClientRect(), p = Math.floor((e.clientX - r.left - left) / cw),
          row = Math.floor((e.clientY - r.top - head) / rh);
        if (p < 0 || p >= n || row < 0 || row >= top.length) return GB.tip.hide();
        GB.tip.show(e, GB.el('div', {}, GB.el('b', {}, `neuron ${top[row].neuron}`),
          ` at «${GB.show(GB.label(run.tokens[p]))}» (${p}): ${GB.fmt(this.value(p, top[row].neuron), 3)}`));
      };
      this.heat.onmouseleave = () => GB.tip.hide();
      this.heat.onclick = (e) => {
        const r = this.heat.getBoundingClientRect(), row = Math.floor((e.clientY - r.top - head) / rh);
        if (row >= 0 && row < top.length) this.choose(top[row].neuron);
      };
    },

    drawDetail() {
      const box = GB.clear(this.detail), j = this.neuron;
      if (j === null) return;
      const run = GB.state.run, {n} = this.data;
      const values = Array.from({length: n}, (_, p) => this.value(p, j));
      let peak = 0;
      values.forEach((v, p) => { if (v > values[peak]) peak = p; });
      const scale = Math.max(...values.map(Math.abs)) || 1;
      box.append(GB.el('h3', {}, `Neuron ${j} of layer ${this.data.layer}`,
        GB.el('span', {class: 'dim'}, ` · max ${GB.fmt(values[peak], 3)} at «${GB.show(GB.label(run.tokens[peak]))}» (${peak}) · 8-bit values`)));
      box.append(GB.el('div', {class: 'nv-text'}, run.tokens.map((id, p) => {
        const bg = GB.diverging(values[p] / scale);
        return GB.el('span', {class: 'nv-tok', style: {background: GB.css(bg), color: GB.ink(bg)},
          title: `${p}: ${GB.fmt(values[p], 3)}`}, GB.show(GB.label(id)));
      })));
      const chart = GB.el('canvas', {});
      box.append(chart);
      GB.lineChart(chart, Math.min(1100, Math.max(360, this.root.clientWidth - 340)), 170,
        [{name: 'activation', values, colour: '#b3202c'}], {xTitle: 'position', yTitle: 'activation'});
    },

    drawOverview() {
      const {n, d, q, meta, maxAbs} = this.data;
      const c = this.overview;
      c.width = d;
      c.height = n;
      const ctx = c.getContext('2d'), img = ctx.createImageData(d, n);
      const lut = Array.from({length: 255}, (_, i) => GB.diverging((i - 127) / 127));
      const k = meta.scale.map((s) => (127 * s) / maxAbs);  // value -> lut offset per neuron
      for (let p = 0; p < n; ++p) for (let j = 0; j < d; ++j) {
        const rgb = lut[127 + Math.round(q[p * d + j] * k[j])], o = 4 * (p * d + j);
        img.data[o] = rgb[0];
        img.data[o + 1] = rgb[1];
        img.data[o + 2] = rgb[2];
        img.data[o + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      const width = Math.min(this.root.clientWidth - 330, Math.max(d, 360));
      c.style.width = width + 'px';
      c.style.height = Math.min(320, Math.max(60, n * 3)) + 'px';
      c.onclick = (e) => {
        const r = c.getBoundingClientRect();
        this.choose(Math.min(d - 1, Math.floor(((e.clientX - r.left) / r.width) * d)));
      };
      c.onmousemove = (e) => {
        const r = c.getBoundingClientRect();
        const j = Math.min(d - 1, Math.floor(((e.clientX - r.left) / r.width) * d));
        const p = Math.min(n - 1, Math.floor(((e.clientY - r.top) / r.height) * n));
        GB.tip.show(e, GB.el('div', {}, GB.el('b', {}, `neuron ${j}`),
          ` at «${GB.show(GB.label(GB.state.run.tokens[p]))}» (${p}): ${GB.fmt(this.value(p, j), 3)}`));
      };
      c.onmouseleave = () => GB.tip.hide();
    },
  });
})();

// Diff (glassbox view -m A -m B): the same tokens through both models, compared hook by hook
// (analysis/run_diff). Per layer, the relative error ‖b − a‖ / ‖a‖ of the residual stream after
// the block and of the attention and MLP outputs, the first layer past the threshold, and per
// position the KL divergence of the next-token distributions and whether their top tokens agree.
'use strict';
(function () {
  GB.panel({
    id: 'diff',
    title: 'Diff',
    hidden: (info) => info.models.length < 2,
    build(root, info) {
      this.root = root;
      this.names = info.models.map((m) => `${m.name || m.arch} (${m.file})`);
      this.body = GB.el('div', {});
      root.append(GB.el('div', {class: 'hint'}, `A: ${this.names[0]} · B: ${this.names[1]} — the prompt's tokens through both models.`), this.body);
    },

    async draw(run) {
      const d = await GB.fetch('diff', {});
      const body = GB.clear(this.body);
      const width = Math.max(360, Math.min(900, this.root.clientWidth - 40));
      body.append(GB.el('div', {class: 'iv-summary'},
        GB.el('span', {class: 'badge ' + (d.first_layer === null ? 'ok' : 'bad')},
          d.first_layer === null ? `no layer above the threshold ${d.threshold}` : `first diverging layer: L${d.first_layer}`),
        GB.el('span', {class: 'dim'}, ` · next-token KL(A‖B) mean ${GB.fmt(d.kl_mean, 4)}, max ${GB.fmt(d.kl_max, 4)} nats` +
          ` · top-1 agreement ${(100 * d.top1_agreement).toFixed(1)}%`)));
      const chart = GB.el('canvas', {});
      GB.lineChart(chart, width, 260, [
        {name: 'residual stream', values: d.layers.map((l) => l.resid_post), colour: '#3b5bdb'},
        {name: 'attention out', values: d.layers.map((l) => l.attn_out), colour: '#f28e2b'},
        {name: 'MLP out', values: d.layers.map((l) => l.mlp_out), colour: '#59a14f'},
      ], {xLabels: d.layers.map((l) => 'L' + l.layer), xTitle: 'layer', yTitle: 'relative error', yMin: 0,
        hline: {value: d.threshold, label: 'threshold'},
        mark: d.first_layer === null ? undefined : {x: d.first_layer, label: 'first above threshold'}});
      body.append(GB.el('h3', {}, 'Divergence by layer'), chart, GB.legend([
        {name: 'residual stream after the block', colour: '#3b5bdb'}, {name: 'attention output', colour: '#f28e2b'},
        {name: 'MLP output', colour: '#59a14f'}]));
      const kl = GB.el('canvas', {});
      GB.lineChart(kl, width, 200, [{name: 'KL', values: d.kl, colour: '#7048e8'}],
        {xTitle: 'position', yTitle: 'KL(A‖B), nats', yMin: 0});
      body.append(GB.el('h3', {}, 'Next-token divergence by position'), kl);
      body.append(GB.el('h3', {}, 'Top-1 predictions'), GB.el('div', {class: 'diff-tokens'}, run.tokens.map((id, p) => {
        const same = d.top1_a[p] === d.top1_b[p];
        return GB.el('span', {class: 'tok' + (same ? '' : ' differs')},
          GB.el('span', {class: 'tok-text'}, GB.show(GB.label(id))),
          GB.el('span', {class: 'tok-pred'}, 'A ' + GB.show(GB.label(d.top1_a[p]))),
          GB.el('span', {class: 'tok-pred'}, 'B ' + GB.show(GB.label(d.top1_b[p]))));
      })));
      window.__glassbox.diff = {first_layer: d.first_layer, layers: d.layers, threshold: d.threshold};
    },
  });
})();

// Head scores and statistics. Ranked heads of each kind (analysis/head_scores: previous-token,
// duplicate-token and induction scores on repeated random tokens; entropy, sink and distance on
// the prompt) as layer × head maps with the top heads listed; per layer the residual stream's
// norm, the attention and MLP output norms, the logit-lens and attention entropies, and the
// NaN/Inf count of every hook the run observed.
'use strict';
(function () {
  const SCORES = [
    ['induction', 'Induction', 'attention to the token after an earlier copy of the current token'],
    ['prev_token', 'Previous token', 'attention to the position just before'],
    ['duplicate', 'Duplicate token', 'attention to earlier copies of the current token'],
    ['sink', 'Sink', 'attention to the first position'],
    ['entropy', 'Entropy', 'of the attention on the prompt, nats (focused heads first)'],
    ['distance', 'Distance', 'mean distance to the attended keys, positions'],
  ];

  function headMap(grid, maxValue, onPick) {
    const L = grid.length, H = grid[0].length, cell = Math.max(8, Math.min(26, Math.floor(170 / H)));
    const c = GB.el('canvas', {class: 'hs-map'});
    const ctx = GB.canvas2d(c, 24 + H * cell, L * cell);
    ctx.font = '9px system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let l = 0; l < L; ++l) {
      if (L <= 16 || l % 4 === 0) {
        ctx.fillStyle = '#7b848e';
        ctx.fillText('L' + l, 20, l * cell + cell / 2);
      }
      for (let h = 0; h < H; ++h) {
        ctx.fillStyle = GB.css(GB.blues(maxValue > 0 ? grid[l][h] / maxValue : 0));
        ctx.fillRect(24 + h * cell, l * cell, cell - 1, cell - 1);
      }
    }
    const at = (e) => {
      const r = c.getBoundingClientRect();
      return [Math.floor((e.clientY - r.top) / cell), Math.floor((e.clientX - r.left - 24) / cell)];
    };
    c.addEventListener('mousemove', (e) => {
      const [l, h] = at(e);
      if (l < 0 || l >= L || h < 0 || h >= H) return GB.tip.hide();
      GB.tip.show(e, GB.el('div', {}, GB.el('b', {}, `L${l} H${h}`), ' ', GB.fmt(grid[l][h], 3)));
    });
    c.addEventListener('mouseleave', () => GB.tip.hide());
    c.addEventListener('click', (e) => {
      const [l, h] = at(e);
      if (l >= 0 && l < L && h >= 0 && h < H) onPick(l, h);
    });
    return c;
  }

  const openHead = (l, h) => {
    GB.tip.hide();
    GB.panels.find((p) => p.id === 'attention').open(l, [h]);
  };

  GB.panel({
    id: 'stats',
    title: 'Heads & stats',
    build(root) {
      this.root = root;
      this.body = GB.el('div', {});
      root.append(this.body);
    },

    async draw(run) {
      const [heads, lens] = await Promise.all([GB.fetch('heads', {}), GB.fetch('lens', {block: run.lens_blocks - 1})]);
      const body = GB.clear(this.body);
      body.append(GB.el('h3', {}, 'Head scores', GB.el('span', {class: 'dim'},
        ' · layers down, heads across; click a head to open it')));
      if (heads.error) body.append(GB.el('div', {class: 'error'}, 'head scores unavailable: ' + heads.error));
      else {
        const cards = GB.el('div', {class: 'hs-grid'});
        for (const [key, title, doc] of SCORES) {
          const grid = heads.scores[key];
          const max = Math.max(...grid.flat());
          cards.append(GB.el('div', {class: 'hs-card', 'data-score': key},
            GB.el('div', {class: 'hs-title'}, title), GB.el('div', {class: 'dim small'}, doc),
            headMap(grid, max, openHead),
            GB.el('ol', {class: 'hs-top'}, heads.ranked[key].slice(0, 5).map((r) =>
              GB.el('li', {onclick: () => openHead(r.layer, r.head)},
                GB.el('span', {class: 'mono'}, `L${r.layer} H${r.head}`), ' ', GB.fmt(r.score, key === 'entropy' || key === 'distance' ? 2 : 3))))));
        }
        body.append(cards);
      }

      // Per-layer numbers.
      const L = run.n_layers, stats = run.stats.layers, layerNames = Array.from({length: L}, (_, l) => 'L' + l);
      const charts = GB.el('div', {class: 'chart-row'});
      const width = Math.max(340, Math.min(560, (this.root.clientWidth - 60) / 2));
      const norms = GB.el('canvas', {});
      GB.lineChart(norms, width, 220, [
        {name: 'residual stream (after the block)', values: stats.map((s) => s.resid_norm), colour: '#3b5bdb'},
        {name: 'attention output', values: stats.map((s) => s.attn_out_norm), colour: '#f28e2b'},
        {name: 'MLP output', values: stats.map((s) => s.mlp_out_norm), colour: '#59a14f'},
      ], {xLabels: layerNames, xTitle: 'layer', yTitle: 'mean L2 norm', yMin: 0});
      const lastCol = lens.ids[0].length - 1;
      const lensEntropy = lens.entropy.slice(0, L).map((row) => row[lastCol]);
      const attnEntropy = heads.scores ? heads.scores.entropy.map((row) => row.reduce((a, b) => a + b, 0) / row.length) : [];
      const ent = GB.el('canvas', {});
      GB.lineChart(ent, width, 220, [
        {name: 'logit lens at the last position (entering the layer)', values: lensEntropy, colour: '#7048e8'},
        {name: 'attention, mean over heads', values: attnEntropy, colour: '#e15759'},
      ], {xLabels: layerNames, xTitle: 'layer', yTitle: 'entropy, nats', yMin: 0});
      charts.append(
        GB.el('div', {}, GB.el('h3', {}, 'Norms by layer'), norms, GB.legend([
          {name: 'residual stream', colour: '#3b5bdb'}, {name: 'attention out', colour: '#f28e2b'}, {name: 'MLP out', colour: '#59a14f'}])),
        GB.el('div', {}, GB.el('h3', {}, 'Entropy by layer'), ent, GB.legend([
          {name: 'logit lens (last position)', colour: '#7048e8'}, {name: 'attention (mean of heads)', colour: '#e15759'}])));
      body.append(charts);

      // Non-finite values, hooks in forward order.
      const HOOKS = ['hook_resid_pre', 'attn.hook_pattern', 'hook_attn_out', 'hook_resid_mid', 'mlp.hook_post',
        'hook_mlp_out', 'hook_resid_post'];
      const hooks = HOOKS.filter((k) => stats.some((s) => k in s.nonfinite));
      const bad = stats.filter((s) => Object.values(s.nonfinite).some((c) => c > 0));
      const table = GB.el('table', {class: 'nan-table'},
        GB.el('tr', {}, GB.el('th', {}, 'layer'), hooks.map((k) => GB.el('th', {}, k))),
        stats.map((s) => GB.el('tr', {'data-layer': s.layer}, GB.el('td', {}, 'L' + s.layer), hooks.map((k) => {
          const c = s.nonfinite[k];
          if (c === undefined) return GB.el('td', {class: 'dim'}, '');
          return GB.el('td', {class: c > 0 ? 'flag-bad' : 'flag-ok'}, c > 0 ? `${c} NaN/Inf` : '✓');
        }))));
      body.append(GB.el('h3', {}, 'NaN / Inf', GB.el('span', {class: bad.length ? 'badge bad' : 'badge ok'},
        bad.length ? `${bad.length} layer(s) with non-finite values` : 'all values finite')), table);
      window.__glassbox.stats = {nonfiniteLayers: bad.map((s) => s.layer), layers: stats.length};

      // Residual norm by layer and position.
      body.append(GB.el('h3', {}, 'Residual stream norm by position',
        GB.el('span', {class: 'dim'}, ' · rows: embeddings, then after each layer')));
      const grid = run.stats.resid_norm, n = run.tokens.length;
      const c = GB.el('canvas', {class: 'norm-map'});
      c.width = n;
      c.height = grid.length;
      const ctx = c.getContext('2d'), img = ctx.createImageData(n, grid.length);
      const max = Math.max(...grid.flat().filter((v) => v !== null)) || 1;
      grid.forEach((row, r) => row.forEach((v, p) => {
        const rgb = v === null ? [230, 40, 40] : GB.blues(v / max);
        img.data.set([...rgb, 255], 4 * (r * n + p));
      }));
      ctx.putImageData(img, 0, 0);
      c.style.width = Math.min(this.root.clientWidth - 40, Math.max(240, n * 14)) + 'px';
      c.style.height = grid.length * 12 + 'px';
      c.addEventListener('mousemove', (e) => {
        const r = c.getBoundingClientRect(), p = Math.floor(((e.clientX - r.left) / r.width) * n),
          row = Math.floor(((e.clientY - r.top) / r.height) * grid.length);
        if (p < 0 || p >= n || row < 0 || row >= grid.length) return;
        GB.tip.show(e, GB.el('div', {}, GB.el('b', {}, row === 0 ? 'embeddings' : `after L${row - 1}`),
          ` · «${GB.show(GB.label(run.tokens[p]))}» (${p}) · ‖x‖ = ${GB.fmt(grid[row][p], 2)}`));
      });
      c.addEventListener('mouseleave', () => GB.tip.hide());
      body.append(c);
    },
  });
})();

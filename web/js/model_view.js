// Model view: every head of every layer as a small heat map of its attention pattern (queries
// down, keys across; for long prompts each pixel is the largest weight of a block of them).
// Clicking one opens it in the head view. Data: GET thumbs, u8 [n_layers, n_heads, t, t].
'use strict';
(function () {
  GB.panel({
    id: 'model',
    title: 'Model view',
    build(root) {
      this.root = root;
      root.append(GB.el('div', {class: 'hint'}, 'Attention patterns of all layers (rows) and heads (columns): ' +
        'query position down, key position across, darker is more attention. Click a head to open it in the head view.'));
      this.grid = GB.el('div', {class: 'mv-grid'});
      root.append(this.grid);
    },

    async draw(run) {
      const t0 = performance.now();
      const data = new Uint8Array(await GB.fetch('thumbs', {}, true));
      const t = run.thumb_side, L = run.n_layers, H = run.n_heads;
      if (data.length !== L * H * t * t) throw new Error('thumbnail data of the wrong size');
      // Head scores for the tooltips, asked for at the first hover (they take a forward pass).
      let heads = null, asked = false;
      const wantScores = () => {
        if (asked) return;
        asked = true;
        GB.fetch('heads', {}).then((r) => { heads = r.scores; }).catch(() => {});
      };
      const cell = Math.max(34, Math.min(84, Math.floor((this.root.clientWidth - 60) / H) - 6));
      const grid = GB.clear(this.grid);
      grid.style.gridTemplateColumns = `40px repeat(${H}, ${cell}px)`;
      grid.append(GB.el('span', {}));
      for (let h = 0; h < H; ++h) grid.append(GB.el('span', {class: 'mv-col'}, `H${h}`));
      // Colours through a square root, so weak but structured attention shows.
      const lut = Array.from({length: 256}, (_, v) => GB.blues(Math.sqrt(v / 255)));
      for (let layer = 0; layer < L; ++layer) {
        grid.append(GB.el('span', {class: 'mv-row'}, `L${layer}`));
        for (let h = 0; h < H; ++h) {
          const c = GB.el('canvas', {class: 'thumb', width: t, height: t, 'data-layer': layer, 'data-head': h,
            style: {width: cell + 'px', height: cell + 'px'}});
          const img = c.getContext('2d').createImageData(t, t), base = (layer * H + h) * t * t;
          for (let i = 0; i < t * t; ++i) {
            const rgb = lut[data[base + i]];
            img.data.set(rgb, 4 * i);
            img.data[4 * i + 3] = 255;
          }
          c.getContext('2d').putImageData(img, 0, 0);
          const score = (name) => (heads && heads[name] ? GB.fmt(heads[name][layer][h], 2) : '–');
          c.addEventListener('mouseenter', wantScores);
          c.addEventListener('mousemove', (e) => GB.tip.show(e, GB.el('div', {},
            GB.el('b', {}, `L${layer} H${h}`),
            GB.el('div', {class: 'dim'}, `prev-token ${score('prev_token')} · induction ${score('induction')} · ` +
              `duplicate ${score('duplicate')}`),
            GB.el('div', {class: 'dim'}, `entropy ${score('entropy')} · sink ${score('sink')} · distance ${score('distance')}`))));
          c.addEventListener('mouseleave', () => GB.tip.hide());
          c.addEventListener('click', () => {
            GB.tip.hide();
            GB.panels.find((p) => p.id === 'attention').open(layer, [h]);
          });
          grid.append(c);
        }
      }
      window.__glassbox.modelView = {layers: L, heads: H, cells: grid.querySelectorAll('canvas.thumb').length, side: t};
      window.__glassbox.timings['model.draw'] = performance.now() - t0;
    },
  });
})();

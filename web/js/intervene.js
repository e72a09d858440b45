// Intervene: zero-ablate attention heads (blocks.L.attn.hook_z[head=H] set to 0, as
// `glassbox run --ablate` does) and see how the next-token distribution at the last position
// changes. Click a head to ablate it alone, shift-click to ablate several together; "scan"
// ablates each head in turn and colours the grid by the KL divergence it causes.
'use strict';
(function () {
  GB.panel({
    id: 'intervene',
    title: 'Intervene',
    build(root, info) {
      this.root = root;
      const m = info.models[0];
      this.selected = [];
      root.append(GB.el('div', {class: 'hint'}, 'Click a head to zero-ablate it (its output hook_z set to 0) and compare ' +
        'the next-token distribution with the clean run. Shift-click to ablate several heads together.'));
      this.grid = GB.el('div', {class: 'iv-grid', style: {gridTemplateColumns: `40px repeat(${m.n_heads}, 38px)`}});
      this.grid.append(GB.el('span', {}));
      for (let h = 0; h < m.n_heads; ++h) this.grid.append(GB.el('span', {class: 'mv-col'}, `H${h}`));
      this.cells = [];
      for (let l = 0; l < m.n_layers; ++l) {
        this.grid.append(GB.el('span', {class: 'mv-row'}, `L${l}`));
        this.cells.push(Array.from({length: m.n_heads}, (_, h) => {
          const b = GB.el('button', {type: 'button', class: 'iv-head', 'data-layer': l, 'data-head': h,
            title: `L${l} H${h}`, onclick: (e) => this.pick(l, h, e.shiftKey)}, '');
          this.grid.append(b);
          return b;
        }));
      }
      this.scanButton = GB.el('button', {type: 'button', class: 'secondary', onclick: () => this.scan()}, 'Scan: ablate each head');
      this.scanNote = GB.el('span', {class: 'dim small'}, '');
      this.result = GB.el('div', {class: 'iv-result'});
      root.append(GB.el('div', {class: 'iv-layout'},
        GB.el('div', {}, this.grid, GB.el('div', {class: 'controls'}, this.scanButton, this.scanNote)),
        this.result));
    },

    draw(run) {
      this.selected = [];
      this.kl = null;
      for (const row of this.cells) for (const c of row) {
        c.classList.remove('on');
        c.style.background = '';
        c.textContent = '';
      }
      this.scanNote.textContent = '';
      GB.clear(this.result).append(GB.el('div', {class: 'dim'}, 'Choose a head to ablate.'));
    },

    async pick(l, h, add) {
      if (!GB.state.run) return;
      if (add) {
        const i = this.selected.findIndex(([a, b]) => a === l && b === h);
        if (i >= 0) this.selected.splice(i, 1); else this.selected.push([l, h]);
      } else {
        this.selected = [[l, h]];
      }
      this.cells.forEach((row, a) => row.forEach((c, b) =>
        c.classList.toggle('on', this.selected.some(([x, y]) => x === a && y === b))));
      if (!this.selected.length) return this.draw(GB.state.run);
      const heads = this.selected.map(([a, b]) => `${a}.${b}`).join(',');
      const t0 = performance.now();
      try {
        const reply = await GB.fetch('ablate', {heads});
        window.__glassbox.timings['intervene.ablate'] = performance.now() - t0;
        this.show(reply);
      } catch (e) {
        GB.clear(this.result).append(GB.el('div', {class: 'error'}, e.message));
      }
    },

    show(reply) {
      const run = GB.state.run, box = GB.clear(this.result);
      const before = reply.clean_top[0], after = reply.top[0];
      const names = reply.heads.map(([l, h]) => `L${l} H${h}`).join(', ');
      box.append(GB.el('h3', {}, `Zero-ablating ${names}`),
        GB.el('div', {class: 'dim small mono'}, reply.ablate.join('  ')),
        GB.el('div', {class: 'iv-summary'},
          GB.el('span', {class: 'iv-pred'}, `«${GB.show(GB.label(before.id))}» ${GB.fmtProb(before.prob)}`),
          GB.el('span', {class: 'arrow'}, ' → '),
          GB.el('span', {class: 'iv-pred' + (before.id !== after.id ? ' changed' : '')}, `«${GB.show(GB.label(after.id))}» ${GB.fmtProb(after.prob)}`),
          GB.el('span', {class: 'dim'}, ` · KL(clean ‖ ablated) = ${GB.fmt(reply.kl_clean_to_intervened, 4)} nats`)));
      const table = GB.el('table', {class: 'iv-table'},
        GB.el('tr', {}, GB.el('th', {}, 'token'), GB.el('th', {}, 'ablated'), GB.el('th', {}, 'clean'), GB.el('th', {}, 'change')),
        reply.top.map((t) => {
          const d = t.prob - t.clean_prob;
          return GB.el('tr', {'data-id': t.id},
            GB.el('td', {class: 'mono'}, GB.show(GB.label(t.id))),
            GB.el('td', {}, GB.el('span', {class: 'iv-bar'}, GB.el('i', {style: {width: 100 * t.prob + '%'}})), ' ', GB.fmtProb(t.prob)),
            GB.el('td', {}, GB.el('span', {class: 'iv-bar clean'}, GB.el('i', {style: {width: 100 * t.clean_prob + '%'}})), ' ', GB.fmtProb(t.clean_prob)),
            GB.el('td', {class: d >= 0 ? 'up' : 'down'}, (d >= 0 ? '+' : '') + d.toFixed(4)));
        }));
      box.append(table);
      window.__glassbox.intervene = {heads: reply.heads, top: reply.top, kl: reply.kl_clean_to_intervened,
        top1: after.id, clean_top1: before.id, run: run.run};
    },

    async scan() {
      const run = GB.state.run;
      if (!run) return;
      this.scanButton.disabled = true;
      const L = this.cells.length, H = this.cells[0].length, kl = [];
      try {
        for (let l = 0; l < L; ++l) for (let h = 0; h < H; ++h) {
          this.scanNote.textContent = `L${l} H${h}…`;
          const r = await GB.fetch('ablate', {heads: `${l}.${h}`});
          if (GB.state.run !== run) return;
          kl.push([l, h, r.kl_clean_to_intervened]);
        }
        const max = Math.max(...kl.map((x) => x[2])) || 1;
        for (const [l, h, v] of kl) {
          const c = this.cells[l][h], rgb = GB.blues(Math.sqrt(v / max));
          c.style.background = GB.css(rgb);
          c.style.color = GB.ink(rgb);
          c.textContent = v >= 0.01 ? v.toFixed(v >= 10 ? 0 : 1) : '';
          c.title = `L${l} H${h}: KL ${GB.fmt(v, 4)} nats`;
        }
        this.scanNote.textContent = `colour: KL(clean ‖ ablated), largest ${GB.fmt(max, 3)} nats`;
      } catch (e) {
        this.scanNote.textContent = e.message;
      } finally {
        this.scanButton.disabled = false;
      }
    },
  });
})();

// Logit lens: the residual stream before each block (and after the last) read through the final
// norm and the unembedding. Rows are layers (the last row is the model's output), columns are
// positions; each cell shows its top token, coloured by its probability. Positions arrive in
// blocks (GET lens?block=B) as the view scrolls to them; the canvas draws the visible columns.
'use strict';
(function () {
  const CW = 92, RH = 26, LEFT = 78, TOP = 44;

  // "blocks.3.hook_resid_pre" -> "L3 in"; the last row -> "output".
  const rowName = (hook, last) => (last ? 'output' : 'L' + hook.split('.')[1] + ' in');

  GB.panel({
    id: 'lens',
    title: 'Logit lens',
    build(root) {
      this.root = root;
      root.append(GB.el('div', {class: 'hint'}, 'What each layer would predict if the model stopped there: ' +
        'the residual stream entering each block, read through the final norm and unembedding. ' +
        'Each cell: the top next token at that position, coloured by its probability. Hover for the top 3.'));
      this.scroll = GB.el('div', {class: 'lens-scroll'});
      this.canvas = GB.el('canvas', {class: 'lens-canvas'});
      this.spacer = GB.el('div', {class: 'lens-spacer'});
      this.scroll.append(this.canvas, this.spacer);
      root.append(this.scroll, GB.el('div', {class: 'scale-legend'}, 'probability ',
        GB.el('span', {class: 'scale-bar prob-bar'}), ' 0 → 1'));
      this.scroll.addEventListener('scroll', () => this.paint());
      this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
      this.canvas.addEventListener('mouseleave', () => GB.tip.hide());
      window.addEventListener('resize', () => this.paint());
    },

    async draw(run) {
      this.blocks = new Map();  // block -> reply
      this.pending = new Set();
      const lastBlock = run.lens_blocks - 1;
      const first = await GB.fetch('lens', {block: lastBlock});
      this.blocks.set(lastBlock, first);
      this.rows = first.rows;
      this.n = run.tokens.length;
      const full = LEFT + this.n * CW + 12;
      this.spacer.style.width = full + 'px';
      this.scroll.scrollLeft = full;  // the end of the prompt first
      const blocks = this.blocks, rows = this.rows, B = run.lens_block;
      window.__glassbox.lens = {
        rows: rows.length, n: this.n,
        loaded: () => [...blocks.keys()],
        // top tokens and probabilities of a cell, if its block is loaded
        cell(row, pos) {
          const b = blocks.get(Math.floor(pos / B));
          return b ? {ids: b.ids[row][pos - b.from], probs: b.probs[row][pos - b.from]} : null;
        },
      };
      this.paint();
    },

    cell(row, pos) {
      const b = this.blocks.get(Math.floor(pos / GB.state.run.lens_block));
      if (!b) return null;
      const i = pos - b.from;
      return {ids: b.ids[row][i], probs: b.probs[row][i], entropy: b.entropy[row][i]};
    },

    // Fetches the blocks of positions first..last that are not loaded yet.
    need(first, last) {
      const run = GB.state.run, B = run.lens_block;
      for (let b = Math.floor(first / B); b <= Math.floor(last / B); ++b) {
        if (this.blocks.has(b) || this.pending.has(b)) continue;
        this.pending.add(b);
        GB.fetch('lens', {block: b}).then((reply) => {
          if (GB.state.run !== run) return;
          this.blocks.set(b, reply);
          this.pending.delete(b);
          this.paint();
        }).catch((e) => GB.status(e.message, 'error'));
      }
    },

    paint() {
      if (!this.rows || this.root.hidden) return;
      const t0 = performance.now();
      const run = GB.state.run, n = this.n, R = this.rows.length;
      const w = this.scroll.clientWidth, h = TOP + R * RH + 6;
      const ctx = GB.canvas2d(this.canvas, w, h);
      const x0 = this.scroll.scrollLeft;
      const first = Math.max(0, Math.floor((x0 - 0) / CW) - 1), last = Math.min(n - 1, Math.ceil((x0 + w - LEFT) / CW));
      this.need(first, last);
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'center';
      for (let p = first; p <= last; ++p) {
        const x = LEFT + p * CW - x0;
        ctx.fillStyle = '#5c6570';
        ctx.font = '10px system-ui, sans-serif';
        ctx.fillText(String(p), x + CW / 2, 10);
        ctx.fillStyle = '#1b1f24';
        ctx.font = '600 12px ui-monospace, Menlo, Consolas, monospace';
        GB.fitText(ctx, GB.show(GB.label(run.tokens[p])), x + CW / 2, 28, CW - 8);
        ctx.font = '12px ui-monospace, Menlo, Consolas, monospace';
        for (let r = 0; r < R; ++r) {
          const c = this.cell(r, p), y = TOP + r * RH;
          if (!c) {
            ctx.fillStyle = '#f1f3f5';
            ctx.fillRect(x + 1, y + 1, CW - 2, RH - 2);
            continue;
          }
          const bg = GB.prob(c.probs[0]);
          ctx.fillStyle = GB.css(bg);
          ctx.fillRect(x + 1, y + 1, CW - 2, RH - 2);
          ctx.fillStyle = GB.ink(bg);
          GB.fitText(ctx, GB.show(GB.label(c.ids[0])), x + CW / 2, y + RH / 2, CW - 8);
        }
      }
      // Row names over a band at the left.
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, LEFT - 4, h);
      ctx.font = '12px system-ui, sans-serif';
      ctx.textAlign = 'right';
      for (let r = 0; r < R; ++r) {
        ctx.fillStyle = r === R - 1 ? '#1b1f24' : '#5c6570';
        ctx.fillText(rowName(this.rows[r], r === R - 1), LEFT - 10, TOP + r * RH + RH / 2);
      }
      ctx.fillStyle = '#5c6570';
      ctx.font = '600 10px system-ui, sans-serif';
      ctx.fillText('POSITION', LEFT - 10, 10);
      ctx.fillText('INPUT', LEFT - 10, 28);
      window.__glassbox.timings['lens.draw'] = performance.now() - t0;
    },

    onMove(e) {
      const r = this.canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
      const p = Math.floor((x + this.scroll.scrollLeft - LEFT) / CW), row = Math.floor((y - TOP) / RH);
      const c = x > LEFT && p >= 0 && p < this.n && row >= 0 && row < this.rows.length ? this.cell(row, p) : null;
      if (!c) return GB.tip.hide();
      const run = GB.state.run;
      GB.tip.show(e, GB.el('div', {},
        GB.el('b', {}, `${rowName(this.rows[row], row === this.rows.length - 1)} · position ${p} «${GB.show(GB.label(run.tokens[p]))}»`),
        GB.el('div', {class: 'dim'}, this.rows[row]),
        c.ids.map((id, k) => GB.el('div', {class: 'mono'}, `${GB.fmtProb(c.probs[k])}  ${GB.show(GB.label(id))}`)),
        GB.el('div', {class: 'dim'}, `entropy ${GB.fmt(c.entropy, 2)} nats`)));
    },
  });
})();

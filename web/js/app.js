// The page's frame: model header, prompt box, tokens with their predictions, the tabs of the
// panels, and running a prompt. Panels register with GB.panel({...}) and draw the current run
// when their tab is shown.
'use strict';
GB.state = {info: null, run: null, labels: {}, pos: 0, cache: new Map()};
GB.panels = [];

// The label of a token id (from the replies' "labels").
GB.label = (id) => GB.state.labels[id] !== undefined ? GB.state.labels[id] : '#' + id;
GB.addLabels = (reply) => Object.assign(GB.state.labels, (reply && reply.labels) || {});

// A request about the current run, made once per run and shared.
GB.fetch = function (name, params, binary) {
  const run = GB.state.run;
  const key = name + JSON.stringify(params || {});
  if (!GB.state.cache.has(key)) {
    const p = GB.api.get(run.run, name, params, binary).then((reply) => {
      if (!binary) GB.addLabels(reply);
      return reply;
    });
    p.catch(() => GB.state.cache.delete(key));
    GB.state.cache.set(key, p);
  }
  return GB.state.cache.get(key);
};

// panel: {id, title, build(root), draw(run) -> Promise|undefined, hidden}
GB.panel = function (panel) {
  GB.panels.push(panel);
  return panel;
};


GB.select = function (id) {
  for (const p of GB.panels) {
    const active = p.id === id;
    p.tab.classList.toggle('active', active);
    p.root.hidden = !active;
  }
  GB.state.active = id;
  GB.drawActive();
};

GB.drawActive = async function () {
  const p = GB.panels.find((q) => q.id === GB.state.active);
  const run = GB.state.run;
  if (!p || !run || p.drawn === run.run) return;
  p.drawn = run.run;
  const t0 = performance.now();
  const panels = document.getElementById('panels');
  const busy = setTimeout(() => panels.classList.add('loading'), 120);
  try {
    await p.draw(run);
    window.__glassbox.timings['panel.' + p.id] = performance.now() - t0;
    p.root.dataset.run = run.run;  // drawn for this run (tests wait for it)
  } catch (e) {
    p.drawn = null;
    GB.status(`${p.title}: ${e.message}`, 'error');
  } finally {
    clearTimeout(busy);
    panels.classList.remove('loading');
    GB.pruneCharts();  // those of what the panel drew before
  }
};

// Shows a message in the status line (kind: '', 'busy', 'error').
GB.status = function (text, kind) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = 'status ' + (kind || '');
};

function describeModel(m) {
  return GB.el('span', {class: 'model', title: m.file}, GB.el('b', {}, m.name || m.arch),
    GB.el('span', {class: 'dim'}, ` ${m.arch} · ${m.n_layers} layers × ${m.n_heads} heads · d_model ${m.d_model} · ` +
      `d_mlp ${m.d_mlp} · vocab ${m.d_vocab} · context ${m.n_ctx}`));
}

// The prompt box's request: text, or token ids for models without a tokenizer.
function promptRequest() {
  const text = document.getElementById('prompt').value;
  if (GB.state.info.models[0].tokenizer) return {text, bos: document.getElementById('bos').checked};
  const ids = text.split(/[\s,]+/).filter((t) => t.length);
  if (!ids.every((t) => /^\d+$/.test(t))) throw new Error('this model has no tokenizer: give token ids, e.g. 1, 2, 3');
  return {tokens: ids.map(Number)};
}

GB.runPrompt = async function () {
  const button = document.getElementById('run-button');
  let request;
  try {
    request = promptRequest();
  } catch (e) {
    return GB.status(e.message, 'error');
  }
  button.disabled = true;
  GB.status('running…', 'busy');
  const t0 = performance.now();
  try {
    const run = await GB.api.run(request);
    const ms = performance.now() - t0;
    GB.state.run = run;
    GB.state.labels = {};
    GB.addLabels(run);
    GB.state.cache = new Map();
    GB.state.pos = run.tokens.length - 1;
    window.__glassbox.timings.run = ms;
    GB.timed('tokens', () => GB.drawTokens());
    for (const p of GB.panels) p.drawn = null;
    await GB.drawActive();
    const t = run.timing_ms || {};
    GB.status(`${run.tokens.length} tokens · ${Math.round(ms)} ms` +
      (t.forward !== undefined ? ` (forward pass ${Math.round(t.forward)} ms)` : ''), '');
    window.__glassbox.runs += 1;
    window.__glassbox.runId = run.run;
  } catch (e) {
    GB.status(e.message, 'error');
  } finally {
    button.disabled = GB.api.isStatic;
  }
};

// ---- tokens and next-token predictions ----
GB.drawTokens = function () {
  const run = GB.state.run, box = GB.clear(document.getElementById('tokens'));
  const pred = run.predictions;
  const chips = run.tokens.map((id, p) => {
    const top = pred.ids[p][0], prob = pred.probs[p][0], bg = GB.prob(prob);
    return GB.el('span', {class: 'tok' + (p === GB.state.pos ? ' selected' : ''), 'data-pos': p,
      title: `position ${p} · token #${id}`, onclick: () => GB.selectPos(p)},
    GB.el('span', {class: 'tok-text'}, GB.show(GB.label(id))),
    GB.el('span', {class: 'tok-pred', style: {background: GB.css(bg), color: GB.ink(bg)}},
      GB.show(GB.label(top))));
  });
  box.append(...chips);
  GB.drawNext();
};

GB.selectPos = function (p) {
  GB.state.pos = p;
  for (const c of document.querySelectorAll('#tokens .tok'))
    c.classList.toggle('selected', Number(c.dataset.pos) === p);
  GB.drawNext();
};

GB.drawNext = function () {
  const run = GB.state.run, p = GB.state.pos, last = p === run.tokens.length - 1;
  const rows = last ? run.top.map((t) => [t.id, t.prob])
    : run.predictions.ids[p].map((id, k) => [id, run.predictions.probs[p][k]]);
  const box = GB.clear(document.getElementById('next'));
  box.append(GB.el('h3', {}, last ? 'Next token' : `After position ${p}`,
    GB.el('span', {class: 'dim'}, ` «${GB.show(GB.label(run.tokens[p]))}»`)),
  GB.bars(rows.map(([id, prob]) => ({label: GB.show(GB.label(id)), value: prob, text: GB.fmtProb(prob),
    colour: GB.css(GB.prob(0.25 + 0.6 * prob)), title: `token #${id}`}))),
  GB.el('div', {class: 'dim small'}, `entropy ${GB.fmt(run.predictions.entropy[p], 2)} nats`));
};

// ---- start ----
GB.start = async function () {
  let info;
  try {
    info = await GB.api.info();
  } catch (e) {
    return GB.status('cannot reach the glassbox server: ' + e.message, 'error');
  }
  GB.state.info = info;
  const header = document.getElementById('model-info');
  header.append(describeModel(info.models[0]));
  if (info.models[1]) header.append(GB.el('span', {class: 'vs'}, 'vs'), describeModel(info.models[1]));

  const tabs = document.getElementById('tabs'), panels = document.getElementById('panels');
  for (const p of GB.panels) {
    if (p.hidden && p.hidden(info)) continue;
    p.tab = GB.el('button', {class: 'tab', type: 'button', 'data-panel': p.id, onclick: () => GB.select(p.id)}, p.title);
    p.root = GB.el('div', {class: 'panel', id: 'panel-' + p.id, hidden: true});
    tabs.append(p.tab);
    panels.append(p.root);
    p.build(p.root, info);
  }
  GB.panels = GB.panels.filter((p) => p.tab);
  GB.select(GB.panels[0].id);

  const prompt = document.getElementById('prompt');
  const hasTok = info.models[0].tokenizer;
  document.getElementById('bos-label').hidden = !hasTok;
  prompt.placeholder = hasTok ? 'Type a prompt and press Run (Ctrl+Enter)' : 'Token ids, e.g. 1, 2, 3 (this model has no tokenizer)';
  if (info.prompt) {
    prompt.value = info.prompt.text !== undefined ? info.prompt.text : info.prompt.tokens.join(', ');
    document.getElementById('bos').checked = !!info.prompt.bos;
  }
  document.getElementById('prompt-form').addEventListener('submit', (e) => {
    e.preventDefault();
    GB.runPrompt();
  });
  prompt.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      GB.runPrompt();
    }
  });
  if (GB.api.isStatic) {
    prompt.readOnly = true;
    document.getElementById('run-button').disabled = true;
    document.getElementById('static-note').hidden = false;
  }
  window.__glassbox.ready = true;
  if (info.prompt) await GB.runPrompt();
  else GB.status(`ready · prompts up to ${info.max_tokens} tokens`, '');
};

window.addEventListener('DOMContentLoaded', GB.start);

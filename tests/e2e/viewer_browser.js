// Drives the viewer page in Debian's chromium with playwright-core (headless, no sandbox, no
// background networking, a fresh profile) and writes what the page shows to a JSON file for
// test_viewer_browser.py to check against the command line and trace files. Screenshots of each
// panel go to the artefacts folder.
//
//   node viewer_browser.js CONFIG.json RESULT.json
// CONFIG: {scenario: "text" | "diff" | "circuit" | "large" | "static", url, prompt, prompt2, layer, heads,
//          ablate: [layer, head], thumb: [layer, head], shots: folder, allowed: url prefix}
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const {chromium} = require('playwright-core');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const result = {requests: [], outside: [], errors: [], timings: {}};
const WAIT = {timeout: 600000};  // generous: test machines may be busy

async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-default-apps', '--disable-extensions'],
    viewport: {width: 1440, height: 1000},
  });
  // Every request the page makes is seen here; none may leave the allowed origin.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    result.requests.push(url);
    if (!url.startsWith(config.allowed)) {
      result.outside.push(url);
      return route.abort();
    }
    return route.continue();
  });
  context.on('request', (r) => {
    if (!r.url().startsWith(config.allowed) && !r.url().startsWith('data:')) result.outside.push(r.url());
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => result.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') result.errors.push(m.text()); });
  return {context, page, profile};
}

const state = (page, expr) => page.evaluate(expr);

async function shot(page, name, selector) {
  fs.mkdirSync(config.shots, {recursive: true});
  const file = path.join(config.shots, `${config.scenario}-${name}.png`);
  if (selector) await page.locator(selector).screenshot({path: file});
  else await page.screenshot({path: file, fullPage: false});
}

// Opens a tab and waits until its panel has drawn the current run.
async function openTab(page, id) {
  const t0 = Date.now();
  await page.click(`.tab[data-panel=${id}]`);
  await page.waitForFunction((id) => {
    const p = document.getElementById('panel-' + id);
    return p && p.dataset.run === String(window.__glassbox.runId);
  }, id, WAIT);
  result.timings['tab.' + id] = Date.now() - t0;
}

async function runPrompt(page, text) {
  const runs = await state(page, () => window.__glassbox.runs);
  const t0 = Date.now();
  await page.fill('#prompt', text);
  await page.click('#run-button');
  await page.waitForFunction((n) => window.__glassbox.runs > n, runs, WAIT);
  result.timings.run = Date.now() - t0;
}

// The head view with `layer` and exactly `heads` selected; returns what it drew.
async function headView(page, layer, heads) {
  await openTab(page, 'attention');
  await page.selectOption('#panel-attention select.layer-select', String(layer));
  await page.click('#panel-attention button.link:text("none")');
  for (const h of heads) await page.click(`#panel-attention .head-chip[data-head="${h}"]`);
  await page.waitForFunction(([layer, heads]) => {
    const hv = window.__glassbox.headView;
    return hv && hv.layer === layer && JSON.stringify(hv.heads) === JSON.stringify(heads);
  }, [layer, heads], WAIT);
  return state(page, () => {
    const hv = window.__glassbox.headView;
    return {layer: hv.layer, heads: hv.heads, minWeight: hv.minWeight, n: hv.n,
      lines: Object.fromEntries(hv.heads.map((h) => [h, hv.lines(h)]))};
  });
}

async function lensLastRow(page) {
  await openTab(page, 'lens');
  // Scroll through every block so each is loaded.
  const n = await state(page, () => window.__glassbox.lens.n);
  await page.evaluate(() => { document.querySelector('.lens-scroll').scrollLeft = 0; });
  await page.waitForFunction((n) => {
    const l = window.__glassbox.lens;
    for (let p = 0; p < n; ++p) if (!l.cell(l.rows - 1, p)) {
      const s = document.querySelector('.lens-scroll');
      s.scrollLeft = Math.max(0, 78 + p * 92 - 100);
      return false;
    }
    return true;
  }, n, WAIT);
  return state(page, () => {
    const l = window.__glassbox.lens;
    return Array.from({length: l.n}, (_, p) => l.cell(l.rows - 1, p).ids[0]);
  });
}

async function ablate(page, layer, head) {
  await openTab(page, 'intervene');
  await page.click(`.iv-head[data-layer="${layer}"][data-head="${head}"]`);
  await page.waitForFunction(([l, h]) => {
    const iv = window.__glassbox.intervene;
    return iv && iv.heads.length === 1 && iv.heads[0][0] === l && iv.heads[0][1] === h;
  }, [layer, head], WAIT);
  return state(page, () => ({...window.__glassbox.intervene,
    summary: document.querySelector('#panel-intervene .iv-summary').textContent}));
}

async function textScenario(page) {
  await page.goto(config.url);
  await page.waitForFunction(() => window.__glassbox.ready, null, WAIT);
  await runPrompt(page, config.prompt);
  result.run = await state(page, () => ({runId: window.__glassbox.runId,
    tokens: [...document.querySelectorAll('#tokens .tok')].length}));
  await shot(page, 'page');
  await shot(page, 'tokens', '.tokens-card');
  result.headView = await headView(page, config.layer, config.heads);
  await page.hover('#panel-attention canvas.hv-canvas', {position: {x: 120, y: 30 + 20 * 3 + 10}});
  await shot(page, 'attention', '#panels');
  await openTab(page, 'model');
  result.modelView = await state(page, () => ({...window.__glassbox.modelView,
    dom: document.querySelectorAll('#panel-model canvas.thumb').length}));
  await shot(page, 'model', '#panels');
  await page.click(`canvas.thumb[data-layer="${config.thumb[0]}"][data-head="${config.thumb[1]}"]`);
  await page.waitForFunction(([l, h]) => {
    const hv = window.__glassbox.headView;
    return hv && hv.layer === l && hv.heads.length === 1 && hv.heads[0] === h &&
      !document.getElementById('panel-attention').hidden;
  }, config.thumb, WAIT);
  result.thumbOpened = true;
  result.lensLastRow = await lensLastRow(page);
  await page.evaluate(() => { const s = document.querySelector('.lens-scroll'); s.scrollLeft = s.scrollWidth; });
  await shot(page, 'lens', '#panels');
  await openTab(page, 'neurons');
  result.neurons = await state(page, () => window.__glassbox.neurons);
  await shot(page, 'neurons', '#panels');
  await openTab(page, 'stats');
  result.stats = await state(page, () => window.__glassbox.stats);
  await shot(page, 'stats', '#panels');
  result.ablation = await ablate(page, config.ablate[0], config.ablate[1]);
  await shot(page, 'intervene', '#panels');
  if (await page.$('.tab[data-panel=diff]')) {
    await openTab(page, 'diff');
    result.diff = await state(page, () => window.__glassbox.diff);
    await shot(page, 'diff', '#panels');
  }
  // Edit the prompt and run again: everything follows.
  await runPrompt(page, config.prompt2);
  result.run2 = await state(page, () => ({runId: window.__glassbox.runId,
    tokens: [...document.querySelectorAll('#tokens .tok')].length}));
  result.lensLastRow2 = await lensLastRow(page);
  result.headView2 = await headView(page, config.layer, config.heads);
}

async function circuitScenario(page) {
  await page.goto(config.url);
  await page.waitForFunction(() => window.__glassbox.ready, null, WAIT);
  await runPrompt(page, config.prompt);
  result.prevHead = await headView(page, 0, [2]);
  await shot(page, 'attention-prev-token', '#panels');
  result.inductionHead = await headView(page, 1, [1]);
  await shot(page, 'attention-induction', '#panels');
  await openTab(page, 'model');
  await shot(page, 'model', '#panels');
  await openTab(page, 'stats');
  await shot(page, 'stats', '#panels');
  result.ablation = await ablate(page, 1, 1);
  await shot(page, 'intervene', '#panels');
}

// Two models: the diff panel.
async function diffScenario(page) {
  await page.goto(config.url);
  await page.waitForFunction(() => window.__glassbox.ready, null, WAIT);
  await runPrompt(page, config.prompt);
  await openTab(page, 'diff');
  result.diff = await state(page, () => window.__glassbox.diff);
  await shot(page, 'diff', '#panels');
}

// A long prompt on a bigger model: everything draws; timings are reported, not asserted.
async function largeScenario(page) {
  await page.goto(config.url);
  await page.waitForFunction(() => window.__glassbox.ready, null, WAIT);
  await runPrompt(page, config.prompt);
  result.headView = await headView(page, config.layer, config.heads);
  await shot(page, 'attention', '#panels');
  await openTab(page, 'model');
  result.modelView = await state(page, () => window.__glassbox.modelView);
  await shot(page, 'model', '#panels');
  await openTab(page, 'neurons');
  await shot(page, 'neurons', '#panels');
  await openTab(page, 'lens');
  await shot(page, 'lens', '#panels');
  // Scrolling the head view and the lens repaints only what is in view.
  const t0 = Date.now();
  await openTab(page, 'attention');
  for (let i = 1; i <= 10; ++i)
    await page.evaluate((i) => { document.querySelector('.hv-scroll').scrollTop = i * 1500; }, i);
  result.timings.headViewScroll10 = Date.now() - t0;
  result.pageTimings = await state(page, () => window.__glassbox.timings);
}

async function staticScenario(page) {
  await page.goto(config.url);
  await page.waitForFunction(() => window.__glassbox.runs >= 1, null, WAIT);
  result.headView = await headView(page, config.layer, config.heads);
  await shot(page, 'attention', '#panels');
  result.lensLastRow = await lensLastRow(page);
  result.ablation = await ablate(page, config.ablate[0], config.ablate[1]);
  await openTab(page, 'stats');
  await openTab(page, 'neurons');
  await shot(page, 'page');
}

(async () => {
  const {context, page, profile} = await launch();
  try {
    await {text: textScenario, diff: diffScenario, circuit: circuitScenario, large: largeScenario, static: staticScenario}[config.scenario](page);
  } catch (e) {
    result.failure = String(e && e.stack || e);
    try { await shot(page, 'failure'); } catch (e2) { /* the page is gone */ }
  } finally {
    await context.close();
    fs.rmSync(profile, {recursive: true, force: true});
    fs.writeFileSync(process.argv[3], JSON.stringify(result));
  }
})();

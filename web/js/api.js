// Where the page's data comes from: the glassbox server that sent it (fetch /api/...), or, in a
// page written by `glassbox view --html`, the replies recorded in it (#gb-data). Requests are
// named as the recorded replies are: "attention?layer=3" (the run id is added for the server).
'use strict';
GB.api = (function () {
  const recorded = JSON.parse(document.getElementById('gb-data').textContent);
  const isStatic = recorded !== null;

  function decode64(text) {
    const bin = atob(text), out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; ++i) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  async function check(response) {
    if (response.ok) return response;
    let message = `HTTP ${response.status}`;
    try {
      message = (await response.json()).error || message;
    } catch (e) { /* not JSON */ }
    throw new Error(message);
  }

  function lookup(key, binary) {
    const r = recorded.replies[key];
    if (r === undefined) throw new Error(`this page was saved without "${key}"; run glassbox view to explore further`);
    return binary ? decode64(r) : r;
  }

  return {
    isStatic,
    async info() {
      if (isStatic) return recorded.info;
      return (await check(await fetch('/api/info'))).json();
    },
    // body: {text} or {tokens}, and bos
    async run(body) {
      if (isStatic) return lookup('run', false);
      const r = await fetch('/api/run', {method: 'POST', headers: {'Content-Type': 'application/json'},
        body: JSON.stringify(body)});
      return (await check(r)).json();
    },
    // A request about run `runId`: name "attention", params {layer: 3}; binary replies come as
    // an ArrayBuffer.
    async get(runId, name, params, binary) {
      const query = Object.entries(params || {}).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
      if (isStatic) return lookup(query ? `${name}?${query}` : name, binary);
      const r = await check(await fetch(`/api/${name}?run=${runId}${query ? '&' + query : ''}`));
      return binary ? r.arrayBuffer() : r.json();
    },
  };
})();

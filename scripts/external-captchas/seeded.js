// What the Node generators share: their command line (COUNT OUT_DIR SEED) and a seeded
// Math.random (mulberry32), so that a seed gives the same files. Creates OUT_DIR.
//   const { count, out } = require('./seeded')('svg_captcha.js');
'use strict';
const fs = require('fs');

module.exports = (script) => {
  if (process.argv.length !== 5) {
    console.error(`usage: node ${script} COUNT OUT_DIR SEED`);
    process.exit(2);
  }
  const [count, out, seed] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
  let state = seed >>> 0;
  Math.random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  fs.mkdirSync(out, { recursive: true });
  return { count, out };
};

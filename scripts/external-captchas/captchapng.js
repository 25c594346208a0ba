// Numeric captchas from captchapng (npm), with the settings of its README's example: 80x30,
// 4 digits (1000-9999) of its two built-in bitmap fonts, grey paint on a transparent background.
// Math.random is replaced by a seeded generator so that a seed gives the same files.
//   node captchapng.js COUNT OUT_DIR SEED   (captchapng installed where node finds it)
'use strict';
const fs = require('fs');
const path = require('path');

if (process.argv.length !== 5) {
  console.error('usage: node captchapng.js COUNT OUT_DIR SEED');
  process.exit(2);
}
const [count, out, seed] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
let state = seed >>> 0;
Math.random = () => {  // mulberry32
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const Captchapng = require('captchapng');
fs.mkdirSync(out, { recursive: true });
for (let i = 0; i < count; i++) {
  const number = parseInt(Math.random() * 9000 + 1000, 10);
  const p = new Captchapng(80, 30, number);
  p.color(0, 0, 0, 0);  // background
  p.color(80, 80, 80, 255);  // paint
  fs.writeFileSync(path.join(out, `${i}_${number}.png`), Buffer.from(p.getBase64(), 'base64'));
}

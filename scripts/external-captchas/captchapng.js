// Numeric captchas from captchapng (npm), with the settings of its README's example: 80x30,
// 4 digits (1000-9999) of its two built-in bitmap fonts, grey paint on a transparent background.
// Math.random is replaced by a seeded generator so that a seed gives the same files.
//   node captchapng.js COUNT OUT_DIR SEED   (captchapng installed where node finds it)
'use strict';
const fs = require('fs');
const path = require('path');
const { count, out } = require('./seeded')('captchapng.js');
const Captchapng = require('captchapng');
for (let i = 0; i < count; i++) {
  const number = parseInt(Math.random() * 9000 + 1000, 10);
  const p = new Captchapng(80, 30, number);
  p.color(0, 0, 0, 0);  // background
  p.color(80, 80, 80, 255);  // paint
  fs.writeFileSync(path.join(out, `${i}_${number}.png`), Buffer.from(p.getBase64(), 'base64'));
}

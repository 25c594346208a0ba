// Numeric captchas from svg-captcha (npm) with its documented options: 4 digits of its Comismsh
// font as SVG paths, 150x50, 1 to 3 noise lines, plain or coloured. Math.random is replaced
// by a seeded generator so that a seed gives the same files. Writes SVG; rsvg-convert makes PNG.
//   node svg_captcha.js COUNT OUT_DIR SEED   (svg-captcha installed where node finds it)
'use strict';
const fs = require('fs');
const path = require('path');
const { count, out } = require('./seeded')('svg_captcha.js');
const svgCaptcha = require('svg-captcha');
for (let i = 0; i < count; i++) {
  const c = svgCaptcha.create({ charPreset: '0123456789', noise: 1 + (i % 3), color: i % 2 === 0,
                                background: i % 2 === 0 ? '#f4f0e8' : undefined });
  fs.writeFileSync(path.join(out, `${i}_${c.text}.svg`), c.data);
}

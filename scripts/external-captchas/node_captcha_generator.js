// Numeric captchas from node-captcha-generator (npm), with the settings of its README's example:
// 5 handwritten digits cut from the MNIST training images the package ships, each scaled to
// 80-200 pixels, turned and cropped, set side by side and resized to 450x200; written as BMP,
// as its save() does. Math.random is replaced by a seeded generator so that a seed gives the
// same files.
//   node node_captcha_generator.js COUNT OUT_DIR SEED   (node-captcha-generator where node finds it)
'use strict';
const path = require('path');
const { count, out } = require('./seeded')('node_captcha_generator.js');
const Captcha = require('node-captcha-generator');

const write = (i) => {
  if (i >= count) return;
  let c = new Captcha({ length: 5, size: { width: 450, height: 200 } });
  // Its random index may fall one past the last image, which has no label: draw again.
  while (!/^[0-9]{5}$/.test(c.value)) c = new Captcha({ length: 5, size: { width: 450, height: 200 } });
  c.captcha.write(path.join(out, `${i}_${c.value}.bmp`), (err) => {
    if (err) {
      console.error(`node_captcha_generator.js: ${err.message}`);
      process.exit(1);
    }
    write(i + 1);
  });
};
write(0);

// Numeric captchas from node-captcha-generator (npm), with the settings of its README's example:
// 5 handwritten digits cut from the MNIST training images the package ships, each scaled to
// 80-200 pixels, turned and cropped, set side by side and resized to 450x200; written as BMP,
// as its save() does. Math.random is replaced by a seeded generator so that a seed gives the
// same files. With DIGITS_FROM=DIR (an MNIST folder, e.g. data/mnist) it draws DIR's official
// test digits (t10k) instead of the package's training ones: handwriting that a model trained on
// MNIST's training split has never seen.
//   [DIGITS_FROM=DIR] node node_captcha_generator.js COUNT OUT_DIR SEED
//   (node-captcha-generator where node finds it)
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { count, out } = require('./seeded')('node_captcha_generator.js');
const Captcha = require('node-captcha-generator');

if (process.env.DIGITS_FROM) {
  const read = (name) => {
    const file = path.join(process.env.DIGITS_FROM, name);
    return fs.existsSync(file) ? fs.readFileSync(file) : zlib.gunzipSync(fs.readFileSync(`${file}.gz`));
  };
  const mnist = require('node-captcha-generator/dist/mnist');  // the package's one digit source
  try {
    mnist.dataFileBuffer = read('t10k-images-idx3-ubyte');
    mnist.labelFileBuffer = read('t10k-labels-idx1-ubyte');
  } catch (err) {
    console.error(`node_captcha_generator.js: DIGITS_FROM: ${err.message}`);
    process.exit(1);
  }
  if (mnist.labelFileBuffer.length <= 8 || mnist.dataFileBuffer.length < 16 + 784 * (mnist.labelFileBuffer.length - 8)) {
    console.error(`node_captcha_generator.js: DIGITS_FROM: ${process.env.DIGITS_FROM} holds no matching t10k images and labels`);
    process.exit(1);
  }
  mnist.length = mnist.labelFileBuffer.length - 8;
}

// Its random index (lodash's _.random(length), both ends included) may fall one past the last
// image, which has no label: the constructor then throws a TypeError reading it. Draw again.
const draw = () => {
  for (;;) {
    try {
      const c = new Captcha({ length: 5, size: { width: 450, height: 200 } });
      if (/^[0-9]{5}$/.test(c.value)) return c;
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
    }
  }
};

const write = (i) => {
  if (i >= count) return;
  const c = draw();
  c.captcha.write(path.join(out, `${i}_${c.value}.bmp`), (err) => {
    if (err) {
      console.error(`node_captcha_generator.js: ${err.message}`);
      process.exit(1);
    }
    write(i + 1);
  });
};
write(0);

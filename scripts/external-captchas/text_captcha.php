<?php
// Numeric captchas from PEAR's Text_CAPTCHA (Debian's php-text-captcha and php-image-text), its
// Image driver with the options of its SimpleExample.php: 200x80, font size 24, light text and
// lines on dark grey, the text turned by up to 15 degrees; the example's Courier is replaced by
// Bitstream Vera Sans Mono (ttf-bitstream-vera). Six digits.
//   php text_captcha.php COUNT OUT_DIR SEED FONT.ttf
require_once 'Text/CAPTCHA.php';

if ($argc != 5) { fwrite(STDERR, "usage: php text_captcha.php COUNT OUT_DIR SEED FONT.ttf\n"); exit(2); }
[$count, $out, $seed, $font] = [(int)$argv[1], $argv[2], (int)$argv[3], $argv[4]];
@mkdir($out, 0777, true);
mt_srand($seed);
srand($seed);
for ($i = 0; $i < $count; $i++) {
    $digits = '';
    for ($k = 0; $k < 6; $k++) $digits .= (string)mt_rand(0, 9);
    $captcha = Text_CAPTCHA::factory('Image');
    $captcha->init([
        'width' => 200, 'height' => 80, 'output' => 'png', 'phrase' => $digits,
        'imageOptions' => [
            'font_size' => 24, 'font_path' => dirname($font) . '/', 'font_file' => basename($font),
            'text_color' => '#DDFF99', 'lines_color' => '#CCEEDD', 'background_color' => '#555555',
        ],
    ]);
    file_put_contents("$out/{$i}_{$digits}.png", $captcha->getCAPTCHA());
}

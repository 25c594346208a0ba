<?php
// Numeric captchas from Gregwar/Captcha (Debian's php-gregwar-captcha), with its defaults:
// 150x40, a random font of its font list, lines behind and in front, distortion, post effects.
//   php gregwar.php COUNT OUT_DIR SEED
require_once 'Gregwar/Captcha/autoload.php';
use Gregwar\Captcha\CaptchaBuilder;
use Gregwar\Captcha\PhraseBuilder;

if ($argc != 4) { fwrite(STDERR, "usage: php gregwar.php COUNT OUT_DIR SEED\n"); exit(2); }
[$count, $out, $seed] = [(int)$argv[1], $argv[2], (int)$argv[3]];
@mkdir($out, 0777, true);
mt_srand($seed);
srand($seed);
for ($i = 0; $i < $count; $i++) {
    $digits = (new PhraseBuilder(5, '0123456789'))->build();
    $builder = new CaptchaBuilder($digits);
    $builder->build();
    $builder->save("$out/{$i}_{$digits}.jpg");
}

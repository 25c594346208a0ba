#!/usr/bin/perl
# Numeric captchas from Authen::Captcha (Debian's libauthen-captcha-perl): its own bitmap
# digits (the module ships images of 2 to 9 only), each pasted at a random offset and size,
# thousands of pixels and lines of noise, one of its five background images merged over them
# and a frame, at its default size (25x35 per character). Five digits from 2 to 9.
#   perl authen_captcha.pl COUNT OUT_DIR SEED
use strict;
use warnings;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Authen::Captcha;

die "usage: perl authen_captcha.pl COUNT OUT_DIR SEED\n" unless @ARGV == 3;
my ($count, $out, $seed) = @ARGV;
make_path($out);
srand($seed);
my $scratch = tempdir(CLEANUP => 1);
my $captcha = Authen::Captcha->new(data_folder => $scratch, output_folder => $scratch);
for my $i (0 .. $count - 1) {
  my $digits = join '', map { 2 + int(rand(8)) } 1 .. 5;
  my $png = $captcha->create_image_file($digits);
  open(my $fh, '>:raw', "$out/${i}_$digits.png") or die "$out: $!\n";
  print $fh $$png;
  close $fh;
}

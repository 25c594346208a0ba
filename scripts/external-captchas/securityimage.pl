#!/usr/bin/perl
# Numeric captchas from GD::SecurityImage (Debian's libgd-securityimage-perl): its drawing
# styles (ec, ellipse, circle, box, rect, default), plain and scrambled, with a TrueType font and
# the settings of its documentation's example.
#   perl securityimage.pl COUNT OUT_DIR SEED FONT.ttf
use strict;
use warnings;
use File::Path qw(make_path);
use GD::SecurityImage;

die "usage: perl securityimage.pl COUNT OUT_DIR SEED FONT.ttf\n" unless @ARGV == 4;
my ($count, $out, $seed, $font) = @ARGV;
make_path($out);
srand($seed);
my @styles = qw(ec ellipse circle box rect default);
for my $i (0 .. $count - 1) {
  my $digits = join '', map { int(rand(10)) } 1 .. 6;
  my $image = GD::SecurityImage->new(
    width => 160, height => 60, ptsize => 22, lines => 10, font => $font, scramble => $i % 2);
  $image->random($digits);
  $image->create(ttf => $styles[$i % @styles]);  # its default colours
  $image->particle;
  my ($data) = $image->out(force => 'png');
  open(my $fh, '>:raw', "$out/${i}_$digits.png") or die "$out: $!\n";
  print $fh $data;
  close $fh;
}

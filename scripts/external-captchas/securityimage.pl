#!/usr/bin/perl
# Numeric captchas from GD::SecurityImage (Debian's libgd-securityimage-perl): its drawing
# styles (ec, ellipse, circle, box, rect, default), with a TrueType font and the settings of its
# documentation's example; SCRAMBLE 1 scatters and turns the characters one by one (some then
# fall outside the image or into the 'box' style's frame, of their own colour).
#   perl securityimage.pl COUNT OUT_DIR SEED FONT.ttf SCRAMBLE
use strict;
use warnings;
use File::Path qw(make_path);
use GD::SecurityImage;

die "usage: perl securityimage.pl COUNT OUT_DIR SEED FONT.ttf SCRAMBLE\n" unless @ARGV == 5;
my ($count, $out, $seed, $font, $scramble) = @ARGV;
make_path($out);
srand($seed);
my @styles = qw(ec ellipse circle box rect default);
for my $i (0 .. $count - 1) {
  my $digits = join '', map { int(rand(10)) } 1 .. 6;
  my $image = GD::SecurityImage->new(
    width => 160, height => 60, ptsize => 22, lines => 10, font => $font, scramble => $scramble);
  $image->random($digits);
  # Its default colours (black text, black lines), except for 'box', which then draws black on
  # black: that style takes the colours of the module's own example for it.
  my $style = $styles[$i % @styles];
  $image->create(ttf => $style, $style eq 'box' ? ('#80C0F0', '#0F644B') : ());
  $image->particle;
  my ($data) = $image->out(force => 'png');
  open(my $fh, '>:raw', "$out/${i}_$digits.png") or die "$out: $!\n";
  print $fh $data;
  close $fh;
}

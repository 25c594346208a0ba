#!/usr/bin/ruby
# Numeric captchas from simple_captcha2 (Debian's ruby-simple-captcha2, the Rails plugin): its
# own ImageMagick command, a label in ImageMagick's default font (Open Sans where setup.sh's
# fonts are installed) at 22 points on 100x28, a wave and an implode, in one of its eight image
# styles (embossed, edge, charcoal, solarised...) and three distortion levels, both drawn at
# random as its 'random' settings do; JPEG. Five digits (its default length).
#   ruby simple_captcha.rb COUNT OUT_DIR SEED
require 'fileutils'
require 'rails'
require 'simple_captcha'

abort "usage: ruby simple_captcha.rb COUNT OUT_DIR SEED" unless ARGV.size == 3
count, out, seed = Integer(ARGV[0]), ARGV[1], Integer(ARGV[2])
FileUtils.mkdir_p(out)
srand(seed)
SimpleCaptcha.image_style = 'random'
SimpleCaptcha.distortion = 'random'

# The plugin reads the text of a key from its database; here the key is the text.
module SimpleCaptcha::Utils
  def self.simple_captcha_value(key) = key
end
class Maker
  include SimpleCaptcha::ImageHelpers
  public :generate_simple_captcha_image
end

maker = Maker.new
count.times do |i|
  digits = Array.new(SimpleCaptcha.length) { rand(10) }.join
  File.binwrite(File.join(out, "#{i}_#{digits}.jpg"), maker.generate_simple_captcha_image(digits))
end

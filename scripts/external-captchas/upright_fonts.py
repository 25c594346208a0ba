"""Plain, upright numbers in common web faces, drawn by Pillow (python3-pil) rather than by
digitnet's renderer: 160x60, 4 to 6 digits, dark ink on light paper, no noise, no turn.
Not a blind generator: all six faces (Roboto, Open Sans, Cantarell, Lato, DejaVu Sans,
Liberation Sans) are drawn by the renderer too. It checks that their plainest 1s and 7s read right.
  /usr/bin/python3 upright_fonts.py COUNT OUT_DIR SEED
"""
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFont

FACES = [
    "truetype/roboto/unhinted/RobotoTTF/Roboto-Regular.ttf",
    "truetype/roboto/unhinted/RobotoTTF/Roboto-Light.ttf",
    "truetype/roboto/unhinted/RobotoTTF/Roboto-Bold.ttf",
    "truetype/open-sans/OpenSans-Regular.ttf",
    "truetype/open-sans/OpenSans-Bold.ttf",
    "opentype/cantarell/Cantarell-Regular.otf",
    "truetype/lato/Lato-Regular.ttf",
    "truetype/lato/Lato-Bold.ttf",
    "truetype/dejavu/DejaVuSans.ttf",
    "truetype/liberation2/LiberationSans-Regular.ttf",
]


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: python3 upright_fonts.py COUNT OUT_DIR SEED")
    try:
        count, out, seed = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    except ValueError:
        sys.exit("upright_fonts.py: COUNT and SEED must be whole numbers")
    if count < 1:
        sys.exit("upright_fonts.py: COUNT must be at least 1")
    faces = [os.path.join("/usr/share/fonts", f) for f in FACES]
    missing = [f for f in faces if not os.path.exists(f)]
    if missing:
        sys.exit("upright_fonts.py: missing " + ", ".join(missing) + " (run scripts/setup.sh)")
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    for i in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 6)))
        font = ImageFont.truetype(rng.choice(faces), rng.randint(26, 38))
        paper = tuple(rng.randint(200, 255) for _ in range(3))
        ink = tuple(rng.randint(0, 80) for _ in range(3))
        img = Image.new("RGB", (160, 60), paper)
        draw = ImageDraw.Draw(img)
        left, top, right, bottom = draw.textbbox((0, 0), digits, font=font)
        x = max(2, (160 - (right - left)) // 2 + rng.randint(-8, 8)) - left
        y = (60 - (bottom - top)) // 2 + rng.randint(-4, 4) - top
        draw.text((x, y), digits, font=font, fill=ink)
        img.save(os.path.join(out, f"{i}_{digits}.png"))


if __name__ == "__main__":
    main()

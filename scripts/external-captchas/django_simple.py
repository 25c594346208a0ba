"""Numeric captchas from django-simple-captcha (Debian's python3-django-captcha), drawn by its
own view with its defaults: Vera 22 px, letters rotated up to 35 degrees, arcs and dots of
noise, smoothing. The view reads the challenge from the database; a stand-in store gives it.
  /usr/bin/python3 django_simple.py COUNT OUT_DIR SEED
"""
import os
import random
import sys

import django
from django.conf import settings

if len(sys.argv) != 4:
    sys.exit("usage: python3 django_simple.py COUNT OUT_DIR SEED")
count, out, seed = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
settings.configure(INSTALLED_APPS=["captcha"], DATABASES={}, USE_TZ=True)
django.setup()

import captcha.views as views  # noqa: E402  (needs the settings above)


class Store:
    challenge = ""

    class objects:
        @staticmethod
        def get(hashkey):
            return Store


views.CaptchaStore = Store
os.makedirs(out, exist_ok=True)
rng = random.Random(seed)
for i in range(count):
    Store.challenge = "".join(rng.choice("0123456789") for _ in range(4))  # its default length
    response = views.captcha_image(None, "%d-%d" % (seed, i))
    with open(os.path.join(out, "%d_%s.png" % (i, Store.challenge)), "wb") as f:
        f.write(response.content)

#!/usr/bin/env python3
"""long-links.py DIR: 70-odd symlinks r000.. in DIR whose targets are 200..1023 random
bytes with a '/' here and there (no name over 255 bytes): a directory libisofs 1.5.4
miscounts in every layout discfs tries (tests/mount/miscount.sh)."""
import os
import random
import sys

r = random.Random(1)
for i in range(80):
    b = bytearray(r.randrange(1, 256) for _ in range(r.randint(200, 1023)))
    for _ in range(r.randint(0, len(b) // 20)):
        b[r.randrange(len(b))] = ord("/")
    if max(len(c) for c in bytes(b).split(b"/")) <= 255:
        os.symlink(bytes(b), os.path.join(os.fsencode(sys.argv[1]), b"r%03d" % i))

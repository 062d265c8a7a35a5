#!/usr/bin/env python3
"""hostile-tree.py - a deterministic hostile source tree for backup tests (stdlib only).

  hostile-tree.py build DIR [--seed N] [--entries N] [--big | --no-big]
      create DIR (must not exist) with >= N entries (default 10500): deep and long
      paths, 255-byte names, every odd byte in names, case clashes, assorted sizes,
      duplicate contents, an optional sparse file of 4.5 GiB, hard-link families of
      files, symlinks, fifos, sockets and device nodes, dangling symlinks, user and
      trusted xattrs (values up to 32 KiB), POSIX ACLs (access and default), odd
      owners, modes and mtimes (nanoseconds, before 1970, after 2038 and 2155).
  hostile-tree.py mutate DIR --round R [--seed N]
      change about 1 % of the entries as a user would between two backups: contents,
      new files and directories, deletions, renames, chmod/chown, mtimes, new and
      broken hard links, xattrs, ACLs, symlink targets, type changes.

HOSTILE_WITHOUT=tag,... (for triage only) leaves out kinds of entry: sym-long-component
(a symlink target with a component of 256 bytes), sym-trailing-slash, time-past-2155.
Both print a summary on stdout (one "key: value" a line).  The same seed and round
give the same tree: every name, content, mode, owner and mtime (directories too) is
set explicitly.  What the filesystem under DIR cannot hold (an xattr value of 32 KiB
on ext4 without ea_inode, an mtime past its range) is left out and named in the
summary ("dropped: ...").  Device nodes, owners and trusted.* need root.
"""
import argparse
import calendar
import errno
import os
import random
import socket
import stat
import struct
import sys

ROOT = os.geteuid() == 0
# for triage only: HOSTILE_WITHOUT=tag,... leaves out the kinds of entry so tagged below
WITHOUT = set(filter(None, os.environ.get("HOSTILE_WITHOUT", "").split(",")))
GiB = 1 << 30
BIG_PATH = b"sizes/sparse-4.5G"  # hostile.sh knows this name and its data blocks

# every path below is bytes: names need not be UTF-8


def j(*parts):
    return b"/".join(p if isinstance(p, bytes) else p.encode() for p in parts)


class Tree:
    def __init__(self, top, rng):
        self.top = top
        self.rng = rng
        self.count = 0
        self.kinds = {}
        self.dropped = []
        self.timed = {}  # relative path -> mtime (ns) set on purpose
        self.xattr_max = None
        self.times_ok = None

    def p(self, rel):
        return j(self.top, rel)

    def note(self, kind, n=1):
        self.kinds[kind] = self.kinds.get(kind, 0) + n
        self.count += n

    # ---- creators (rel: path relative to top, bytes)
    def mkdir(self, rel, mode=0o755, kind="dir"):
        os.mkdir(self.p(rel))
        os.chmod(self.p(rel), mode)
        self.note(kind)

    def makedirs(self, rel):
        parts = rel.split(b"/")
        for i in range(1, len(parts) + 1):
            sub = b"/".join(parts[:i])
            if not os.path.lexists(self.p(sub)):
                self.mkdir(sub)

    def content(self, size):
        kind = self.rng.random()
        if size == 0:
            return b""
        if kind < 0.15:
            return bytes(size)
        if kind < 0.3:
            unit = self.rng.randbytes(self.rng.randint(1, 64))
            return (unit * (size // len(unit) + 1))[:size]
        return self.rng.randbytes(size)

    def file(self, rel, size=None, data=None, mode=0o644, kind="file"):
        if data is None:
            data = self.content(size if size is not None else self.small_size())
        fd = os.open(self.p(rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(self.p(rel), mode)
        self.note(kind)

    def small_size(self):
        r = self.rng.random()
        if r < 0.1:
            return 0
        if r < 0.7:
            return self.rng.randint(1, 2048)
        if r < 0.95:
            return self.rng.randint(2049, 16384)
        return self.rng.randint(16385, 200000)

    def symlink(self, target, rel, kind="symlink", tag=None):
        if tag in WITHOUT or ("sym-trailing-slash" in WITHOUT and len(target) > 1 and target.endswith(b"/")):
            return
        os.symlink(target, self.p(rel))
        self.note(kind)

    def fifo(self, rel, mode=0o644):
        os.mkfifo(self.p(rel), mode)
        os.chmod(self.p(rel), mode)
        self.note("fifo")

    def sock(self, rel):
        s = socket.socket(socket.AF_UNIX)
        here = os.getcwd()
        d, name = os.path.split(self.p(rel))
        os.chdir(d)  # a socket's path must fit in 108 bytes
        try:
            s.bind(name)
        finally:
            os.chdir(here)
            s.close()
        self.note("socket")

    def dev(self, rel, blk, major, minor, mode=0o640):
        if not ROOT:
            self.dropped.append("device node %r (not root)" % rel)
            return False
        os.mknod(self.p(rel), (stat.S_IFBLK if blk else stat.S_IFCHR) | mode,
                 os.makedev(major, minor))
        self.note("blockdev" if blk else "chardev")
        return True

    def link(self, src, rel):
        os.link(self.p(src), self.p(rel), follow_symlinks=False)
        self.note("hardlink")

    def settime(self, rel, sec, ns=0):
        os.utime(self.p(rel), ns=(sec * 10**9 + ns, sec * 10**9 + ns), follow_symlinks=False)
        self.timed[os.path.normpath(rel)] = sec * 10**9 + ns

    def chown(self, rel, uid, gid):
        if ROOT:
            os.chown(self.p(rel), uid, gid, follow_symlinks=False)

    def setxattr(self, rel, name, value):
        if name.startswith(b"trusted.") and not ROOT:
            return False
        if len(value) > self.xattr_max:
            self.dropped.append("xattr %r of %d bytes on %r" % (name, len(value), rel))
            return False
        try:
            os.setxattr(self.p(rel), name, value, follow_symlinks=False)
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.E2BIG, errno.EPERM, errno.ENOTSUP):
                raise
            self.dropped.append("xattr %r of %d bytes on %r (%s)" % (name, len(value), rel, e.strerror))
            return False
        return True

    def acl(self, rel, entries, default=False):
        """entries: [(tag, id, perm)] for tag in u, g (named) besides the base ones"""
        base_mode = stat.S_IMODE(os.lstat(self.p(rel)).st_mode)
        acl = set_acl(self.p(rel), entries, base_mode, default)
        if not acl:
            self.dropped.append("ACL on %r" % rel)

    # ---- probes of the filesystem under the tree
    def probe(self):
        top_st = os.stat(self.top)
        t = self.p(b".probe")
        open(t, "wb").close()
        self.xattr_max = 0
        for n in (32768, 16384, 8192, 4000, 2000, 1000):
            try:
                os.setxattr(t, b"user.probe", b"x" * n)
                self.xattr_max = n
                break
            except OSError:
                pass
        self.times_ok = {}
        for name, sec, ns in ODD_TIMES:
            try:
                os.utime(t, ns=(sec * 10**9 + ns,) * 2)
                self.times_ok[name] = os.stat(t).st_mtime_ns == sec * 10**9 + ns
                if "time-past-2155" in WITHOUT and name >= "2156":
                    self.times_ok[name] = False
            except (OSError, OverflowError):
                self.times_ok[name] = False
        os.unlink(t)
        os.utime(self.top, ns=(top_st.st_atime_ns, top_st.st_mtime_ns))
        if self.xattr_max < 32768:
            self.dropped.append("xattr values > %d bytes (the filesystem under %r refuses them)" %
                                (self.xattr_max, self.top))
        for name, ok in self.times_ok.items():
            if not ok and not ("time-past-2155" in WITHOUT and name >= "2156"):
                self.dropped.append("mtime %s (the filesystem under %r cannot hold it)" % (name, self.top))


ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = 1, 2, 4, 8, 0x10, 0x20
NOID = 0xFFFFFFFF


def set_acl(path, entries, base_mode, default=False):
    """write system.posix_acl_access/default in the kernel's xattr format"""
    e = [(ACL_USER_OBJ, NOID, (base_mode >> 6) & 7), (ACL_GROUP_OBJ, NOID, (base_mode >> 3) & 7),
         (ACL_OTHER, NOID, base_mode & 7)]
    mask = (base_mode >> 3) & 7
    for tag, ident, perm in entries:
        e.append((ACL_USER if tag == "u" else ACL_GROUP, ident, perm))
        mask |= perm
    if entries:
        e.append((ACL_MASK, NOID, mask))
    e.sort()
    blob = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, i) for t, i, p in e)
    name = b"system.posix_acl_default" if default else b"system.posix_acl_access"
    try:
        os.setxattr(path, name, blob, follow_symlinks=False)
    except OSError:
        return False
    return True


def _utc(text, ns=0):
    """(text, seconds since the epoch, nanoseconds) of an ISO 8601 UTC time"""
    d, t = text.split("T")
    return (text + (".%09d" % ns if ns else ""),
            calendar.timegm(tuple(map(int, d.split("-") + t.split(":"))) + (0, 0, 0)), ns)


# (name, seconds, nanoseconds)
ODD_TIMES = [
    _utc("1970-01-01T00:00:00"),
    _utc("1970-01-01T00:00:00", 1),
    _utc("1969-12-31T23:59:59", 999999999),
    _utc("1969-12-31T23:59:59"),
    _utc("1960-06-15T12:00:00", 500000000),
    _utc("1901-12-14T00:00:00"),
    _utc("1901-12-13T20:45:52"),             # the oldest ext4 time
    _utc("2038-01-19T03:14:07"),
    _utc("2038-01-19T03:14:08", 123456789),
    _utc("2106-02-07T06:28:16"),
    _utc("2155-12-31T23:59:59"),             # the newest Rock Ridge short-form time
    _utc("2155-12-31T23:59:59", 999999999),
    _utc("2156-01-01T00:00:00"),
    _utc("2200-01-01T00:00:00", 1),
    _utc("2446-05-10T22:38:55"),             # the newest ext4 time
]

ODD_NAMES = [
    b"new\nline", b"two\n\nnewlines\n", b"\n", b"back\\slash", b"\\", b"\\\\server\\share",
    b"tab\there", b"\t", b"-leading-dash", b"-", b"--", b"-rf", b"--help",
    b" leading space", b"trailing space ", b" ", b"  ", b"in  two  spaces",
    b"\xff\xfe", b"caf\xe9", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xfe\xff\x00"[:2] + b"bom",
    "café".encode(), "cafe\u0301".encode(), "日本".encode(), "日本語のファイル名.txt".encode(),
    "😀 emoji".encode(), "Ωμέγα".encode(), "ﬁ ligature".encode(), "\u200bzero-width".encode(),
    b"\x01ctrl\x1f", b"del\x7f", b"\x1b[31mred", b".hidden", b"..dots", b"...", b".. ",
    b"a;1", b"a;", b";1", b"name.", b"a.b.c.d.e", b"semi;colon", b"*?[]", b"quote\"'",
    b"$HOME", b"`cmd`", b"%s%n", b"a:b", b"con", b"nul.txt", b"UPPER.TXT", b"upper.txt",
    b"File", b"file", b"FILE", b"fIlE", b"#", b"~", b"~backup~", b"=", b"@", b"!",
    b"x" * 64 + b"-joliet-clash-1", b"x" * 64 + b"-joliet-clash-2",
    b"longfilename1.txt", b"longfilename2.txt", b"longfilename.txt1", b"LONGFI~1.TXT",
]


def long_names():
    """255-byte names of several alphabets"""
    return [
        b"N" * 255,
        b"n" * 254 + b"\n",
        "日".encode() * 85,                          # 85 x 3 bytes
        "é".encode() * 127 + b"x",                   # 127 x 2 + 1
        b"\xff" * 255,
        b"a" * 249 + b".tar;1",
        "😀".encode() * 63 + b"abc",                 # 63 x 4 + 3
    ]


def build(top, seed, entries, big):
    rng = random.Random(seed)
    os.mkdir(top)
    t = Tree(top, rng)
    t.probe()

    # --- deep: 40 levels, and 12 levels with files on every level
    d = b"deep"
    t.mkdir(d)
    for i in range(1, 13):
        d = j(d, "l%02d" % i)
        t.mkdir(d)
        t.file(j(d, "f%02d.txt" % i))
    chain = b"deep/d"
    t.mkdir(chain)
    for i in range(40):
        chain = j(chain, "d")
        t.mkdir(chain)
    t.file(j(chain, "bottom"), data=b"40 levels down\n")

    # --- long paths: chains of 255-byte directory names, files at > 255, > 1024, > 2800 bytes
    t.mkdir(b"long")
    lp = b"long"
    for i in range(11):
        lp = j(lp, (b"%02d" % i) + b"L" * 253)
        t.mkdir(lp)
        t.file(j(lp, "at-%d-bytes" % (len(lp) + 1)))
    for n, name in enumerate(long_names()):
        t.file(j(b"long", name), data=b"255-byte name %d\n" % n)
    ld = j(b"long", "本".encode() * 85)  # a 255-byte directory name
    t.mkdir(ld)
    for name in long_names():
        t.symlink(b"../" + b"N" * 255, j(ld, name))

    # --- odd names: as files, as directories (with a file inside) and as symlinks
    for top_d in (b"names", b"names/dirs", b"names/links", b"\xff\xfe-dir", "日本-dir".encode()):
        t.mkdir(top_d)
    for name in ODD_NAMES:
        t.file(j(b"names", name))
        t.file(j(b"\xff\xfe-dir", name), size=rng.randint(0, 100))
        t.mkdir(j(b"names/dirs", name))
        t.file(j(b"names/dirs", name, name))
        t.symlink(j(b"..", name), j(b"names/links", name))
    for name in (b"Dir", b"dir", b"DIR"):  # case clash of directories
        t.mkdir(j("日本-dir".encode(), name))
        t.file(j("日本-dir".encode(), name, b"same"), data=name + b"\n")
    t.file(j("日本-dir".encode(), b"x"))
    t.mkdir(j("日本-dir".encode(), b"X"))

    # --- sizes, and the same content under several names (not hard links)
    t.mkdir(b"sizes")
    for size in (0, 1, 2, 511, 512, 2047, 2048, 2049, 4095, 4096, 4097, 32767, 32768, 65535,
                 65536, 65537, 1048575, 1048576, 1048577, 3 * 1048576 + 7, 8 * 1048576):
        t.file(j(b"sizes", "s%08d" % size), size=size)
    t.file(b"sizes/zeros-1M", data=bytes(1048576))
    t.mkdir(b"sizes/dup")
    same = rng.randbytes(70000)
    for i in range(6):
        t.makedirs(j(b"sizes/dup", "d%d" % (i % 3)))
        t.file(j(b"sizes/dup", "d%d" % (i % 3), "copy%d" % i), data=same)
    if big:
        # sparse, larger than 4 GiB: blocks at the start, around 1 and 4 GiB, and the end
        f = t.p(BIG_PATH)
        with open(f, "wb") as fh:
            for off in (0, GiB, 4 * GiB - 2048, 4 * GiB + 4096 * 3, 4 * GiB + GiB // 2 - 4096):
                fh.seek(off)
                fh.write(rng.randbytes(4096))
            fh.truncate(4 * GiB + GiB // 2)
        t.note("file")
        t.kinds["big (4.5 GiB, sparse)"] = 1

    # --- empty files and directories
    t.mkdir(b"empty")
    for i in range(40):
        t.file(j(b"empty", "e%02d" % i), data=b"")
    for i in range(20):
        t.mkdir(j(b"empty", "d%02d" % i))

    # --- specials
    t.mkdir(b"special")
    t.fifo(b"special/fifo")
    t.fifo(b"special/fifo-0600", 0o600)
    t.sock(b"special/sock")
    t.dev(b"special/null", False, 1, 3, 0o666)
    t.dev(b"special/char-max", False, 4095, 1048575)
    t.dev(b"special/sda", True, 8, 0, 0o660)
    t.dev(b"special/blk-big", True, 259, 65537)
    t.dev(b"special/char-0-0", False, 0, 0)

    # --- symlinks
    t.mkdir(b"symlinks")
    t.mkdir(b"symlinks/target-dir")
    t.file(b"symlinks/target-dir/file", data=b"target\n")
    for name, target in ((b"dangling", b"does/not/exist"), (b"dangling-abs", b"/nonexistent/x/y"),
                         (b"trailing-slash", b"target-dir/"), (b"trailing-slashes", b"target-dir//"),
                         (b"dangling-slash", b"nothing/"), (b"dot", b"."), (b"dotdot", b".."),
                         (b"root", b"/"), (b"abs", b"/etc/hostname"), (b"self", b"self"),
                         (b"loop-a", b"loop-b"), (b"loop-b", b"loop-a"),
                         (b"nl-target", b"new\nline"), (b"bytes-target", b"\xff\xfe/caf\xe9"),
                         (b"space-target", b" lead and trail "), (b"to-dir", b"target-dir"),
                         (b"t255", b"t" * 255),
                         (b"t1023", (b"a/" * 511) + b"z"),
                         (b"dashed", b"-rf"), (b"backslash", b"..\\..\\windows")):
        t.symlink(target, j(b"symlinks", name),
                  tag="sym-long-component" if max(len(c) for c in target.split(b"/")) > 255 else None)

    # --- hard links of every type, families of 2-4 names across directories
    for sub in (b"links", b"links/a", b"links/b", b"links/c/deeper"):
        t.makedirs(sub)
    fam_dirs = [b"links", b"links/a", b"links/b", b"links/c/deeper", b"names", b"deep/l01/l02",
                "日本-dir".encode()]

    def family(first, n):
        names = [first]
        for k in range(1, n):
            dd = fam_dirs[rng.randrange(len(fam_dirs))]
            nm = j(dd, b"%s-link%d" % (os.path.basename(first), k))
            t.link(first, nm)
            names.append(nm)
        return names

    for i in range(24):
        f = j(b"links", "reg%02d" % i)
        t.file(f, size=rng.choice([0, 1, 100, 5000, 70000]))
        family(f, 2 + i % 3)
    t.file(b"links/a/reg-255-" + b"h" * 240, size=10)
    family(b"links/a/reg-255-" + b"h" * 240, 2)
    t.link(b"links/reg00", j(b"long", (b"%02d" % 0) + b"L" * 253, b"reg00-far"))
    for i in range(6):
        s = j(b"links", "sym%02d" % i)
        t.symlink(b"reg%02d" % i if i % 2 else b"dangling/target", s, kind="symlink")
        family(s, 2 + i % 3)
    for i in range(4):
        f = j(b"links", "fifo%02d" % i)
        t.fifo(f)
        family(f, 2 + i % 3)
    t.sock(b"links/sock00")
    family(b"links/sock00", 2)
    for i in range(4):
        f = j(b"links", "chr%02d" % i)
        if t.dev(f, False, 10 + i, 200 + i):
            family(f, 2 + i % 3)
        f = j(b"links", "blk%02d" % i)
        if t.dev(f, True, 7, i):
            family(f, 2 + i % 3)

    # --- xattrs
    t.mkdir(b"xattr")
    sizes = [0, 1, 100, 255, 1000, 4000, 8192, 16384, 32768]
    for n, size in enumerate(sizes):
        f = j(b"xattr", "v%05d" % size)
        t.file(f, size=50)
        t.setxattr(f, b"user.v", rng.randbytes(size))
    t.file(b"xattr/many", size=10)
    for k in range(60):
        if not t.setxattr(b"xattr/many", b"user.k%03d" % k, b"val%d" % k):
            break
    t.file(b"xattr/longname", size=10)
    t.setxattr(b"xattr/longname", b"user." + b"n" * 250, b"x")
    t.setxattr(b"xattr/longname", "user.日本".encode(), "値".encode())
    t.setxattr(b"xattr/longname", b"user.with space", b"v")
    t.setxattr(b"xattr/longname", b"user.nul", b"a\x00b\x00")
    t.mkdir(b"xattr/dir")
    t.setxattr(b"xattr/dir", b"user.dir", b"on a directory")
    t.file(b"xattr/trusted", size=10)
    t.setxattr(b"xattr/trusted", b"trusted.discfs-test", b"root only")
    t.symlink(b"trusted", b"xattr/trusted-on-symlink")
    t.setxattr(b"xattr/trusted-on-symlink", b"trusted.sym", b"on a symlink")
    t.fifo(b"xattr/trusted-on-fifo")
    t.setxattr(b"xattr/trusted-on-fifo", b"trusted.fifo", b"on a fifo")
    t.file(b"xattr/linked", size=10)
    t.setxattr(b"xattr/linked", b"user.family", b"shared by a hard-link family")
    family(b"xattr/linked", 3)

    # --- POSIX ACLs: access ACLs, default ACLs (inherited by what is created inside)
    t.mkdir(b"acl")
    t.file(b"acl/file", size=10)
    t.acl(b"acl/file", [("u", 1234, 6), ("g", 5678, 4)])
    t.file(b"acl/many", size=10)
    t.acl(b"acl/many", [("u", 2000 + k, k % 8) for k in range(30)] + [("g", 3000 + k, 5) for k in range(10)])
    t.mkdir(b"acl/inherit", 0o750)
    t.acl(b"acl/inherit", [("u", 1234, 7), ("g", 5678, 5)], default=True)
    t.acl(b"acl/inherit", [("u", 1234, 7)])
    t.file(b"acl/inherit/inherited", size=10)     # gets the default ACL
    t.mkdir(b"acl/inherit/subdir")                # gets it as access and default ACL
    t.file(b"acl/inherit/subdir/deeper", size=10)
    t.mkdir(b"acl/default-only")
    t.acl(b"acl/default-only", [("g", 100, 7)], default=True)
    t.file(b"acl/xattr-and-acl", size=10)
    t.acl(b"acl/xattr-and-acl", [("u", 1, 4)])
    t.setxattr(b"acl/xattr-and-acl", b"user.also", b"an xattr")

    # --- owners and modes
    t.mkdir(b"modes")
    for mode in (0o000, 0o400, 0o644, 0o777, 0o4755, 0o2755, 0o6711, 0o1644, 0o7777):
        t.file(j(b"modes", "m%04o" % mode), size=5, mode=mode)
    for mode in (0o1777, 0o700, 0o500, 0o000, 0o2775):
        t.mkdir(j(b"modes", "d%04o" % mode))
        t.file(j(b"modes", "d%04o" % mode, b"inside"), size=5)
        os.chmod(t.p(j(b"modes", "d%04o" % mode)), mode)
    t.mkdir(b"owners")
    for uid, gid in ((0, 0), (1, 1), (1000, 1000), (1234, 5678), (65534, 65534), (65535, 0),
                     (2**31, 2**31 + 1), (4294967294, 4294967294)):
        f = j(b"owners", "u%d-g%d" % (uid, gid))
        t.file(f, size=3)
        t.chown(f, uid, gid)
    t.symlink(b"x", b"owners/symlink-1234")
    t.chown(b"owners/symlink-1234", 1234, 5678)
    t.mkdir(b"owners/dir-4321")
    t.chown(b"owners/dir-4321", 4321, 4321)

    # --- odd mtimes, on files, directories, symlinks and specials
    t.mkdir(b"times")
    for name, sec, ns in ODD_TIMES:
        if not t.times_ok[name]:
            continue
        safe = name.replace(":", "-")
        for kind in ("f", "d", "l", "p"):
            rel = j(b"times", kind + "-" + safe)
            if kind == "f":
                t.file(rel, size=7)
            elif kind == "d":
                t.mkdir(rel)
            elif kind == "l":
                t.symlink(b"f-" + safe.encode(), rel)
            else:
                t.fifo(rel)
            t.settime(rel, sec, ns)
    for i in range(30):  # nanoseconds of every size
        rel = j(b"times", "ns%02d" % i)
        t.file(rel, size=1)
        t.settime(rel, 1500000000 + i, rng.randrange(10**9) // 10**(i % 9) * 10**(i % 9))

    # --- bulk: the rest, one flat directory of 2500 and many small ones
    t.mkdir(b"bulk")
    t.mkdir(b"bulk/flat")
    for i in range(2500):
        t.file(j(b"bulk/flat", "aaaaaaaa_%05d.txt" % i), size=rng.randint(0, 300))
    n = 0
    while t.count < entries:
        dd = j(b"bulk", "d%03d" % (n // 60))
        if n % 60 == 0:
            t.mkdir(dd)
            if n % 240 == 0:
                t.mkdir(j(dd, "sub"))
        name = rng.choice([b"f%05d" % n, b"F%05d.TXT" % n, b"file %05d.txt" % n,
                           "fichier-%05d-é".encode() % n, b"%05d" % n])
        if n % 4 == 0 and os.path.isdir(t.p(j(dd, "sub"))):
            name = j(b"sub", name)
        t.file(j(dd, name))
        n += 1

    finish_times(t, rng)
    return t


def finish_times(t, rng, only=None):
    """give every entry (only: those named) a deterministic mtime: the one set on purpose
    (t.timed), else a random one, so that the tree does not depend on when it was made"""
    def stamp():
        return 1262304000 * 10**9 + rng.randrange(400000000) * 10**9 + rng.randrange(10**9)

    todo = [b"."] + [rel for rel, _ in listing(t.top)]
    for rel in todo:
        if only is not None and rel not in only:
            continue
        ns = t.timed[rel] if rel in t.timed else stamp()
        os.utime(t.p(rel), ns=(0, ns), follow_symlinks=False)


# ---------------------------------------------------------------- mutate

def listing(top):
    out = []  # (rel, lstat)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            full = os.path.join(dirpath, name)
            out.append((os.path.normpath(os.path.relpath(full, top)), os.lstat(full)))
    return out


def mutate(top, seed, rnd):
    rng = random.Random("%d/%d" % (seed, rnd))
    t = Tree(top, rng)
    t.probe()
    entries = listing(top)
    ops = max(1, len(entries) // 100)
    touched = set()  # relative paths whose mtime to set at the end
    done = {}

    def parent(rel):
        touched.add(os.path.dirname(rel) or b".")

    def pick(pred):
        for _ in range(200):
            rel, st = entries[rng.randrange(len(entries))]
            # the sparse file stays as it is (its 4.5 GiB would be copied again)
            if BIG_PATH.startswith(rel + b"/") or rel == BIG_PATH or not os.path.lexists(t.p(rel)):
                continue
            st = os.lstat(t.p(rel))
            if pred(st):
                return rel, st
        return None, None

    isreg = lambda st: stat.S_ISREG(st.st_mode)
    isdir = lambda st: stat.S_ISDIR(st.st_mode)
    anyone = lambda st: True

    def op_rewrite():
        rel, st = pick(isreg)
        if rel:
            with open(t.p(rel), "r+b") as f:
                f.write(t.content(st.st_size))
            touched.add(rel)
            return rel

    def op_append():
        rel, st = pick(isreg)
        if rel:
            with open(t.p(rel), "ab") as f:
                f.write(t.content(rng.randint(1, 5000)))
            touched.add(rel)
            return rel

    def op_truncate():
        rel, st = pick(lambda s: isreg(s) and s.st_size > 0)
        if rel:
            os.truncate(t.p(rel), rng.randrange(st.st_size))
            touched.add(rel)
            return rel

    def op_new_file():
        rel, st = pick(isdir)
        if rel:
            name = rng.choice(ODD_NAMES + [b"new-%d-%d" % (rnd, rng.randrange(10**6))])
            new = j(rel, name + b".r%d" % rnd)
            if not os.path.lexists(t.p(new)):
                t.file(new)
                touched.add(new)
                parent(new)
                return new

    def op_new_dir():
        rel, st = pick(isdir)
        if rel:
            new = j(rel, b"newdir-%d-%d" % (rnd, rng.randrange(10**6)))
            if os.path.lexists(t.p(new)):
                return None
            t.mkdir(new)
            for k in range(rng.randint(0, 5)):
                t.file(j(new, b"f%d" % k))
                touched.add(j(new, b"f%d" % k))
            touched.add(new)
            parent(new)
            return new

    def op_delete():
        rel, st = pick(lambda s: not isdir(s))
        if rel:
            os.unlink(t.p(rel))
            parent(rel)
            return rel

    def op_rmtree():
        rel, st = pick(isdir)
        if rel and rel != b"." and sum(1 for _ in os.walk(t.p(rel))) <= 5:
            for dp, dn, fn in os.walk(t.p(rel), topdown=False):
                for n in fn:
                    os.unlink(os.path.join(dp, n))
                for n in dn:
                    full = os.path.join(dp, n)
                    os.unlink(full) if os.path.islink(full) else os.rmdir(full)
            os.rmdir(t.p(rel))
            parent(rel)
            return rel

    def op_rename():
        rel, st = pick(anyone)
        dst_dir, _ = pick(isdir)
        if rel and dst_dir and not (dst_dir + b"/").startswith(rel + b"/"):
            new = j(dst_dir, os.path.basename(rel)[:200] + b".mv%d" % rnd)
            below = max([len(r) for r, _ in listing(t.p(rel))] + [0])
            if not os.path.lexists(t.p(new)) and len(new) + 1 + below < 3500:
                os.rename(t.p(rel), t.p(new))
                parent(rel)
                parent(new)
                return new

    def op_case_rename():
        rel, st = pick(anyone)
        if rel:
            base = os.path.basename(rel)
            new = j(os.path.dirname(rel), base.swapcase()) if os.path.dirname(rel) else base.swapcase()
            if new != rel and not os.path.lexists(t.p(new)):
                os.rename(t.p(rel), t.p(new))
                parent(rel)
                return new

    def op_chmod():
        rel, st = pick(lambda s: not stat.S_ISLNK(s.st_mode))
        if rel:
            os.chmod(t.p(rel), rng.choice([0o600, 0o640, 0o755, 0o700, 0o4711, 0o1777, 0o444]))
            return rel

    def op_chown():
        rel, st = pick(anyone)
        if rel and ROOT:
            os.chown(t.p(rel), rng.choice([0, 1000, 1234, 65534]), rng.choice([0, 100, 5678]),
                     follow_symlinks=False)
            return rel

    def op_touch():
        rel, st = pick(anyone)
        if rel:
            name, sec, ns = rng.choice(ODD_TIMES)
            if t.times_ok.get(name):
                t.settime(rel, sec, ns)
                return rel

    def op_new_hardlink():
        rel, st = pick(lambda s: not isdir(s))
        dst_dir, _ = pick(isdir)
        if rel and dst_dir:
            new = j(dst_dir, b"hl-%d-%d" % (rnd, rng.randrange(10**6)))
            if os.path.lexists(t.p(new)):
                return None
            t.link(rel, new)
            parent(new)
            return new

    def op_break_hardlink():
        rel, st = pick(lambda s: isreg(s) and s.st_nlink > 1)
        if rel:
            with open(t.p(rel), "rb") as f:
                data = f.read()
            tmp = j(os.path.dirname(t.p(rel)), b".break-%d.tmp" % rnd)
            with open(tmp, "wb") as f:
                f.write(data + b"broken\n")
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            os.rename(tmp, t.p(rel))
            touched.add(rel)
            parent(rel)
            return rel

    def op_xattr():
        rel, st = pick(lambda s: isreg(s) or isdir(s))
        if rel:
            names = [n for n in os.listxattr(t.p(rel)) if n.startswith("user.")]
            if names and rng.random() < 0.3:
                os.removexattr(t.p(rel), rng.choice(names))
            else:
                size = rng.choice([0, 10, 300, 5000, 32768])
                t.setxattr(rel, b"user.r%d" % rnd if not names or rng.random() < 0.5
                           else os.fsencode(rng.choice(names)), rng.randbytes(size))
            return rel

    def op_acl():
        rel, st = pick(lambda s: isreg(s) or isdir(s))
        if rel:
            t.acl(rel, [("u", rng.randrange(1, 5000), rng.randrange(8)), ("g", 77, 5)])
            return rel

    def op_retarget():
        rel, st = pick(lambda s: stat.S_ISLNK(s.st_mode))
        if rel:
            os.unlink(t.p(rel))
            target = rng.choice([b"new-target-%d" % rnd, b"dir/", b"../" * rng.randint(1, 5),
                                 "ü-%d".encode() % rnd])
            if "sym-trailing-slash" in WITHOUT and len(target) > 1:
                target = target.rstrip(b"/")
            os.symlink(target, t.p(rel))
            touched.add(rel)
            parent(rel)
            return rel

    def op_type_change():
        rel, st = pick(lambda s: isreg(s) and s.st_nlink == 1)
        if rel:
            os.unlink(t.p(rel))
            if rng.random() < 0.5:
                t.mkdir(rel)
                t.file(j(rel, b"was-a-file"))
                touched.add(j(rel, b"was-a-file"))
            else:
                t.symlink(b"was-a-file", rel)
            touched.add(rel)
            parent(rel)
            return rel

    def op_dup_content():
        rel, st = pick(isreg)
        dst_dir, _ = pick(isdir)
        if rel and dst_dir:  # a second file with the same content (not a hard link)
            new = j(dst_dir, b"dup-%d-%d" % (rnd, rng.randrange(10**6)))
            if os.path.lexists(t.p(new)):
                return None
            with open(t.p(rel), "rb") as f:
                t.file(new, data=f.read())
            touched.add(new)
            parent(new)
            return new

    table = [(op_rewrite, 10), (op_append, 6), (op_truncate, 3), (op_new_file, 12), (op_new_dir, 3),
             (op_delete, 10), (op_rmtree, 2), (op_rename, 8), (op_case_rename, 3), (op_chmod, 6),
             (op_chown, 3), (op_touch, 6), (op_new_hardlink, 5), (op_break_hardlink, 3),
             (op_xattr, 5), (op_acl, 3), (op_retarget, 3), (op_type_change, 3), (op_dup_content, 3)]
    funcs = [f for f, w in table for _ in range(w)]
    for _ in range(ops):
        f = rng.choice(funcs)
        if f() is not None:
            done[f.__name__[3:]] = done.get(f.__name__[3:], 0) + 1
    # deterministic mtimes for what changed and for the directories it changed
    only = set()
    for rel in touched:
        rel = os.path.normpath(rel)
        if os.path.lexists(t.p(rel)):
            only.add(rel)
    finish_times(t, rng, only)
    return ops, done, t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cmd", choices=["build", "mutate"])
    ap.add_argument("dir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--entries", type=int, default=10500)
    ap.add_argument("--round", type=int, default=1)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--big", dest="big", action="store_true", default=True)
    g.add_argument("--no-big", dest="big", action="store_false")
    a = ap.parse_args()
    top = os.fsencode(os.path.abspath(a.dir))
    if a.cmd == "build":
        t = build(top, a.seed, a.entries, a.big)
        print("entries: %d" % len(listing(top)))
        for k in sorted(t.kinds):
            print("%s: %d" % (k, t.kinds[k]))
        print("xattr max value: %d" % t.xattr_max)
    else:
        ops, done, t = mutate(top, a.seed, a.round)
        print("operations: %d of %d tried" % (sum(done.values()), ops))
        for k in sorted(done):
            print("%s: %d" % (k, done[k]))
        print("entries: %d" % len(listing(top)))
    longest = max((len(r) for r, _ in listing(top)), default=0)
    print("longest path: %d bytes" % longest)
    for d in t.dropped:
        print("dropped: %s" % d)


if __name__ == "__main__":
    sys.exit(main())

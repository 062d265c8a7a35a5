#!/usr/bin/env python3
"""Model-based test of discfs (our fsstress): a hypothesis RuleBasedStateMachine applies
random operations both to a discfs mount and to a reference directory (a plain directory
on the filesystem of the test's temp dir, ext4 here: it must hold user/trusted/security
xattrs and POSIX ACLs, checked at start), interleaved with commits (`sync MNT`), remounts
with the same cache, fresh mounts of the image with an empty cache and kill -9 of the
daemon, and compares the two trees completely after every step.

Operations: create (O_EXCL / O_TRUNC / plain), write at any offset (also far past the end:
sparse), append, truncate (shrink, extend), mkdir, rename (renameat2 with 0, NOREPLACE,
EXCHANGE; files and dirs, over existing targets, into subdirs), link (of every type:
files, symlinks, fifos, devices, sockets), symlink (dangling, trailing slash, long
targets), unlink, rmdir, chmod, chown (random uid/gid), utimensat (odd nanoseconds,
pre-1970, UTIME_NOW), set/removexattr (user.*, trusted.*, security.*; binary names and
values up to 3 KiB), POSIX ACLs (raw system.posix_acl_access/default values, also
removed), mknod (fifo, char, block, socket, regular). Names are bytes: anything but '/'
and NUL, newlines, backslashes, non-UTF-8, 255-byte names. Every operation must give
the same result (errno) on both sides; where discfs documents a refusal (a symlink target
of 1024 bytes or more, ENAMETOOLONG) the refusal is accepted and the reference undone.

Compared after every step, for every entry (names are bytes): type, permission bits,
uid, gid, nlink (directories too), size (not of directories), content, symlink target,
rdev, the partition of names into hard-link families (same st_ino), every xattr name
and value (listxattr; system.* names except the ACLs are skipped; the ACLs are compared
as raw system.posix_acl_access / system.posix_acl_default values), and mtime to the
nanosecond. mtimes: an entry whose reference mtime did not change in a step must keep
its mtime exactly on the mount; one whose reference mtime was set by the step to the
current time (an implicit update) must have a mount mtime inside the step's time window,
and the reference is then set to the mount's value, so every later step (commit,
remount, fresh mount, crash) must keep it exactly; explicit utimensat values must match
exactly. The daemon journals each change before replying, so kill -9 loses nothing.
Not compared, deliberately:
  - atime (reads update it on the reference; Rock Ridge keeps seconds) and ctime (cannot
    be set, and a remount need not keep it); st_blocks, st_dev, directory sizes (ext4
    says 4096, discfs 0) and inode numbers themselves (only the families);
  - after kill -9 + remount, the mtime of a directory may be the replay time (README:
    "Not restored exactly after a crash: the mtime of a directory that changed because
    of its entries"): it must then lie between the kill and the end of the remount;
  - the root's mtime while the disc is blank: each mount of a blank disc makes one up;
  - system.* xattrs other than the two ACLs (none exist on the reference).
Every session is also compared where the mount shows it, MNT/.sessions/N (hidden from
the root's listing): after each `sync MNT` the tree is recorded as session N's (the
newest under .sessions), and a rule later compares a recorded session, any number of
commits, remounts, fresh mounts and crashes after, with everything above but the
mtime windows (a session's mtimes are exact) and the atimes.
After every unmount (which commits) the image is checked with `xorriso -md5 on -check_md5_r`
and its session count may only grow, by at most one per commit that had changes. Every
example ends with a commit, an unmount, the image check and a compare of a fresh mount
with an empty cache. Any daemon output other than the replay notice after a kill -9 fails.

Run: python3 tests/model/model.py (root, /dev/fuse; exit 0 pass, 1 fail, 77 skip).
Environment:
  DISCFS          the binary (default: build/fs/discfs of this tree)
  MODEL_STEPS     about how many steps in all (default 3000), a third for each seed
  MODEL_SEED=N    run only seed N (the failure message prints the command to replay it)
  MODEL_LENGTH    steps of one example (default 60; hypothesis starts each seed with
                  about 10 tiny examples of 1-5 steps)
  MODEL_SHRINK=0  do not shrink a failure (default: shrink, at most ~5 minutes)
  MODEL_AVOID     comma-separated; NOT for CI (the default exercises everything): leave
                  out what a known bug floods the runs with, to find the other bugs:
                    hardlink-special   links of non-regular files
                    long-symlink       symlink targets over 250 bytes
                    symlink-slash      symlink targets ending in '/'
                    post-2155          mtimes after 2155-12-31 23:59:59
                    empty-xattr        xattrs with an empty value
                    truncate-mtime     ftruncate / O_TRUNC that keeps the size
                    crash-fast         wait 1.5 s before each kill -9
                    crash-mtime        no mtime compared right after a kill -9
                    acl-chmod          chmod of what has an ACL
                    acl-id0            named ACL entries for uid/gid 0
                    acl-umask          a umask (runs with umask 0)
                    acl-remove-missing removing an ACL that is not there
                    minimal-acl        ACLs of user::, group::, other:: only
                  or whole rules: acl, xattr, crash, fresh, remount, commit, create, write,
                  append, truncate, mkdir, rename, link, symlink, unlink, rmdir, mknod,
                  chmod, chown, utime
  MODEL_FORGET=1  a rule that makes the kernel forget the inodes it can (drop_caches:
                  system-wide, so not while other tests run; scripts/soak sets it)
  MODEL_KEEP=1    keep the temp dir of a failure
  MODEL_OPTS      comma-separated discfs -o options for every mount (e.g. writeback)
Fixed seeds (1, 2) plus one random seed each run; scripts/soak runs it in a loop.
"""
import ctypes
import errno
import hashlib
import os
import random
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

try:
    import hypothesis
    from hypothesis import HealthCheck, Phase, Verbosity, settings
    from hypothesis import strategies as st
    from hypothesis.stateful import (RuleBasedStateMachine, invariant, precondition, rule,
                                     run_state_machine_as_test)
except ImportError:
    # Debian's python3-hypothesis is in /usr/bin/python3; PATH may name another python3
    sysp = "/usr/bin/python3"
    if (os.path.exists(sysp) and os.path.realpath(sys.executable) != os.path.realpath(sysp)
            and not os.environ.get("MODEL_REEXEC")):
        os.environ["MODEL_REEXEC"] = "1"
        os.execv(sysp, [sysp] + sys.argv)
    print("SKIP: python3-hypothesis is not installed (scripts/install-deps --tests)")
    sys.exit(77)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DISCFS = os.environ.get("DISCFS") or os.path.join(TOP, "build", "fs", "discfs")
STEPS = int(os.environ.get("MODEL_STEPS", "3000"))
LENGTH = int(os.environ.get("MODEL_LENGTH", "60"))
SHRINK = os.environ.get("MODEL_SHRINK", "1") != "0"
AVOID = {a for a in os.environ.get("MODEL_AVOID", "").split(",") if a}
KEEP = bool(os.environ.get("MODEL_KEEP"))
OPTS = [o for o in os.environ.get("MODEL_OPTS", "").split(",") if o]
FIXED_SEEDS = [1, 2]
NSEEDS = len(FIXED_SEEDS) + 1  # the step budget of one seed is STEPS // NSEEDS
STEP_TIMEOUT = 120  # a step that takes longer hangs: the daemon is killed to unblock it
SLACK = 50_000_000  # ns: the kernel's coarse clock lags the fine one by up to a tick

O = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
libc = ctypes.CDLL(None, use_errno=True)


def renameat2(src, dst, flags):
    if libc.renameat2(-100, src, -100, dst, flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def P(root, rel):
    return root + b"/" + rel if rel else root


def parent_of(rel):
    return rel.rpartition(b"/")[0]


def status(rc):
    """an exit status as the shell would say it"""
    return f"{rc} (killed by {signal.Signals(-rc).name})" if rc < 0 else str(rc)


def ename(e):
    return errno.errorcode.get(e, str(e))


class Failure(AssertionError):
    pass


# ---------------------------------------------------------------- strategies

def sanitize(b):
    b = b.replace(b"/", b"_").replace(b"\0", b"_")
    return b"dot" if b in (b".", b"..") else b


def prng_bytes(n, s):
    return random.Random(s).randbytes(n)


# named functions, not lambdas: hypothesis prints builds() by their source
def long_name(n, s):
    return sanitize(prng_bytes(n, s))


def user_xattr(b):
    return b"user." + b.replace(b"\0", b"_")


def no_nul(b):
    return b.replace(b"\0", b"_")


def long_target(n, s):
    return prng_bytes(n, s).replace(b"\0", b"/")


NAME_POOL = [b"a", b"b", b"c", b"A", b"sub", b"new\nline", b"back\\slash", b"\xff\xfe\xfd",
             b"\xc3\xa9t\xc3\xa9", b" lead", b"trail ", b"-", b"*?[", b".dot", b"..x",
             b"\x01\x7f\x1b", b"x" * 255, b"\xe2\x82\xac" * 85, b"a;b=c", b"FILE.TXT;1",
             b"\x80", b"caf\xe9"]
NAMES = st.one_of(
    st.sampled_from(NAME_POOL),
    st.binary(min_size=1, max_size=12).map(sanitize),
    st.builds(long_name, st.integers(100, 255), st.integers(0, 2**32)))
SIZES = st.one_of(st.sampled_from([0, 1, 2, 511, 512, 2047, 2048, 2049, 4095, 4096, 4097,
                                   65536, 65537, 131075]),
                  st.integers(0, 300_000))
SEEDS = st.integers(0, 2**32)
OFFSETS = st.one_of(st.integers(0, 70_000), st.integers(0, 3 * 2**20))
MODES = st.one_of(st.sampled_from([0o644, 0o600, 0o755, 0o700, 0o444, 0o000, 0o777]),
                  st.integers(0, 0o7777))
IDS = st.sampled_from([0, 1, 2, 100, 1000, 65534, 65535, 65536, 12345678, 2**31, 2**32 - 2])
XNAMES = st.one_of(
    st.sampled_from(["user.a", "user.b", "user.mime_type", "trusted.t", "security.s",
                     b"user.\xff\n\\", b"user." + b"n" * 250, "user.\u00e9", "user. "]),
    st.binary(min_size=1, max_size=20).map(user_xattr))
XVALUES = st.one_of(
    st.sampled_from([b"", b"v", b"\0", b"\0\xff\n"]),
    st.binary(max_size=16),
    st.builds(prng_bytes, st.integers(0, 3000), SEEDS))
# ext4 (the reference) holds -2**31 .. 2**34 s, with the nanoseconds dropped at both ends
TIMES = st.one_of(
    st.sampled_from([0, -1, 1, 999_999_999, -1_000_000_001, 1_600_000_000_123_456_789,
                     -(2**31 - 1) * 10**9 + 3, 2**32 * 10**9 + 7, 6_000_000_000 * 10**9 + 1]),
    st.integers(-(2**31 - 1) * 10**9, 2**33 * 10**9))


def acl_value(entries, mask, perms):
    """a valid ACL in the kernel's xattr format: user::, user:ID..., group::, group:ID...,
    mask:: (when there are named entries), other::"""
    users, groups = entries
    out = [struct.pack("<I", 2)]

    def ent(tag, perm, id_=0xFFFFFFFF):
        out.append(struct.pack("<HHI", tag, perm, id_))
    ent(0x01, perms[0])
    for u in sorted(users):
        ent(0x02, users[u], u)
    ent(0x04, perms[1])
    for g in sorted(groups):
        ent(0x08, groups[g], g)
    if users or groups:
        ent(0x10, mask)
    ent(0x20, perms[2])
    return b"".join(out)


ACL_IDS = st.sampled_from([0, 1, 1000, 1001, 65534, 4000000])
ACLS = st.builds(acl_value,
                 st.tuples(st.dictionaries(ACL_IDS, st.integers(0, 7), max_size=3),
                           st.dictionaries(ACL_IDS, st.integers(0, 7), max_size=3)),
                 st.integers(0, 7), st.tuples(*[st.integers(0, 7)] * 3))


# ---------------------------------------------------------------- the trees

def scan(root):
    """rel path (bytes) -> dict of everything compared, for every entry under ROOT"""
    out = {}

    def visit(rel):
        path = P(root, rel)
        s = os.lstat(path)
        t = stat.S_IFMT(s.st_mode)
        e = {"type": t, "uid": s.st_uid, "gid": s.st_gid, "nlink": s.st_nlink,
             "ino": s.st_ino, "mtime": s.st_mtime_ns, "atime": s.st_atime_ns}
        if t != stat.S_IFLNK:
            e["mode"] = oct(stat.S_IMODE(s.st_mode))
        if t != stat.S_IFDIR:
            e["size"] = s.st_size
        if t == stat.S_IFREG:
            fd = os.open(path, os.O_RDONLY | O)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise Failure(f"{pp(rel)} changed its type under the scan")
                h = hashlib.md5()
                while True:
                    b = os.read(fd, 1 << 20)
                    if not b:
                        break
                    h.update(b)
                e["data"] = h.hexdigest()
            finally:
                os.close(fd)
        elif t == stat.S_IFLNK:
            e["target"] = os.readlink(path)
        elif t in (stat.S_IFCHR, stat.S_IFBLK):
            e["rdev"] = (os.major(s.st_rdev), os.minor(s.st_rdev))
        xa = {}
        for n in os.listxattr(path, follow_symlinks=False):
            if n.startswith("system."):
                if n not in ("system.posix_acl_access", "system.posix_acl_default"):
                    continue
                xa["listed:" + n] = True
                continue
            xa[n] = os.getxattr(path, n, follow_symlinks=False)
        e["xattrs"] = xa
        if t in (stat.S_IFREG, stat.S_IFDIR):
            names = ["system.posix_acl_access"]
            if t == stat.S_IFDIR:
                names.append("system.posix_acl_default")
            for n in names:
                try:
                    e[n] = os.getxattr(path, n).hex()
                except OSError as x:
                    if x.errno != errno.ENODATA:
                        e[n] = "error " + ename(x.errno)
        out[rel] = e
        if t == stat.S_IFDIR:
            for name in sorted(os.listdir(path)):
                visit(rel + b"/" + name if rel else name)

    visit(b"")
    return out


def families(tree):
    by_ino = {}
    for rel, e in tree.items():
        if e["type"] != stat.S_IFDIR:
            by_ino.setdefault(e["ino"], set()).add(rel)
    return {frozenset(f) for f in by_ino.values() if len(f) > 1}


def pp(rel):
    """a path for the logs: long components shortened to their first 16 bytes + length"""
    return "'" + "/".join(repr(c)[2:-1] if len(c) <= 40 else
                          repr(c[:16])[2:-1] + f"...[{len(c)} bytes]"
                          for c in rel.split(b"/")) + "'"


def diff_values(a, b):
    if isinstance(a, bytes) and isinstance(b, bytes) and max(len(a), len(b)) > 80:
        i = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        return (f"reference {len(a)} bytes, mount {len(b)} bytes, first difference at {i}: "
                f"reference ...{a[max(0, i - 8):i + 24]!r}..., mount ...{b[max(0, i - 8):i + 24]!r}..."
                f"\n    reference {a!r}\n    mount     {b!r}")
    return f"reference {short(a)}, mount {short(b)}"


def short(v):
    r = repr(v)
    return r if len(r) <= 300 else r[:300] + "..."


# ---------------------------------------------------------------- watchdog

class Watchdog(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.lock = threading.Lock()
        self.machine = None
        self.deadline = None

    def arm(self, machine):
        with self.lock:
            self.machine, self.deadline = machine, time.monotonic() + STEP_TIMEOUT

    def disarm(self):
        with self.lock:
            self.machine = self.deadline = None

    def run(self):
        while True:
            time.sleep(1)
            with self.lock:
                m, d = self.machine, self.deadline
                if m is None or time.monotonic() < d:
                    continue
                self.deadline = None
            m.hung = True
            if m.daemon and m.daemon.poll() is None:
                m.daemon.send_signal(signal.SIGKILL)  # our own child: unblocks the step


WATCHDOG = Watchdog()
WATCHDOG.start()

PENDING_RE = re.compile(r"^discfs: \d+ pending changes of an earlier mount were found in '.*' "
                        r"and are back in the mount; they are written at the next commit$")
# every commit says what it wrote (fs/committer.c)
COMMITTED_RE = re.compile(r"discfs: session \d+ written to .* and read back \(\d+ blocks\)$")
# libfuse's own words when the unmount's abort of the connection meets a worker taking
# a request (ECONNABORTED; fs/serve.c ends the mount as at any unmount)
UNMOUNT_RACE_RE = re.compile(r"fuse: reading device: Software caused connection abort$")


class RunState:
    """per seed; shared with the machines hypothesis makes"""
    steps = 0
    workdir = None
    examples = 0
    first_failure = None  # the message of the first failure (hypothesis may hide it: Flaky)


def enabled(*names):
    return lambda self: not any(n in AVOID for n in names)


class DiscfsModel(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        RunState.examples += 1
        self.failed = False
        self.hung = False
        self.daemon = None
        self.T = tempfile.mkdtemp(prefix="ex.", dir=RunState.workdir)
        T = os.fsencode(self.T)
        self.ref, self.mnt, self.img = T + b"/ref", T + b"/mnt", T + b"/disc.iso"
        self.log = T + b"/discfs.log"
        self.ncache = 0
        self.cache = T + b"/cache0"
        os.mkdir(self.ref)
        os.mkdir(self.mnt)
        self.oplog = []
        self.log_pos = 0
        self.allow_log = []
        self.window = None  # (t0, t1) of the step, for implicit mtime updates
        self.crash_window = None
        self.mtimes = {}  # reference ino -> mtime after the last step
        self.sessions = 0
        self.snapshots = {}  # session number -> scan of the tree it was written from
        self.dirty = False
        self.dirty_commits = 0
        self.first_check = True
        self.index = {b"": stat.S_IFDIR}
        WATCHDOG.arm(self)
        try:
            self.mount()
        except BaseException:
            self.teardown()  # hypothesis calls teardown only for a machine it got
            raise
        s = os.lstat(self.mnt)
        os.chmod(self.ref, stat.S_IMODE(s.st_mode))
        os.chown(self.ref, s.st_uid, s.st_gid)
        os.utime(self.ref, ns=(s.st_atime_ns, s.st_mtime_ns))

    # ------------------------------------------------------------ failure

    def fail(self, msg):
        self.failed = True
        text = [f"FAIL: {msg}"]
        if self.hung:
            text.append(f"(a step took more than {STEP_TIMEOUT} s: the daemon was killed)")
        if self.daemon and self.daemon.poll() is not None and not msg.startswith("daemon"):
            text.append(f"(the daemon exited with status {status(self.daemon.returncode)})")
        text.append("--- operations of this example:")
        text += ["  " + line for line in self.oplog]
        text.append("--- daemon log:")
        try:
            with open(self.log, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            text += ["  " + line for line in lines[-60:]]
        except OSError:
            pass
        text = "\n".join(text)
        if RunState.first_failure is None:
            RunState.first_failure = text
        raise Failure(text)

    def note(self, line):
        self.oplog.append(line)

    # ------------------------------------------------------------ the daemon

    def mounted(self):
        # bytes: other mounts may have names that are not UTF-8 (an image of
        # another test named caf\xe9.iso broke a soak run)
        want = os.fsencode(self.mnt)
        with open("/proc/self/mountinfo", "rb") as f:
            return any(line.split()[4] == want for line in f)

    def mount(self):
        # a blank disc has no root directory to keep: until the first session its
        # mtime is the mount's (a no-op like chown -1 -1 stages nothing, and a crash
        # replay does not restore it)
        self.root_resync = not os.path.exists(self.img) or os.path.getsize(self.img) == 0
        log = open(self.log, "ab")
        self.daemon = subprocess.Popen(
            [DISCFS, self.img, self.mnt, "-f", "-o", b"cache=" + self.cache]
            + [a for o in OPTS for a in ("-o", o)],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        for _ in range(1200):
            if self.mounted():
                return
            if self.daemon.poll() is not None:
                self.fail(f"daemon exited with status {status(self.daemon.returncode)} before "
                          "mounting")
            time.sleep(0.025)
        self.fail("discfs did not mount within 30 s")

    def unmount(self):
        """fusermount3 -u (the daemon commits), wait for a clean exit, check the image"""
        r = subprocess.run(["fusermount3", "-u", self.mnt], capture_output=True)
        if r.returncode:
            self.fail(f"fusermount3 -u failed: {r.stderr.decode(errors='replace')}")
        try:
            rc = self.daemon.wait(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
            self.fail("daemon did not exit within the timeout after the unmount")
        if rc != 0:
            self.fail(f"daemon exited with status {status(rc)} after the unmount (its commit "
                      "failed?)")
        if self.dirty:
            self.dirty_commits += 1
            self.dirty = False
        self.check_log()
        self.check_image()

    def kill9(self):
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait()
        subprocess.run(["fusermount3", "-u", "-z", self.mnt], stderr=subprocess.DEVNULL)

    def commit(self):
        try:
            fd = os.open(self.mnt, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            self.fail(f"sync MNT (fsync of the root) failed: {ename(e.errno)}")
        if self.dirty:
            self.dirty_commits += 1
            self.dirty = False
        self.record_session()

    def record_session(self):
        """the tree as the newest session holds it, just after a commit"""
        try:
            numbers = [int(n) for n in os.listdir(self.mnt + b"/.sessions")]
        except OSError as e:
            self.fail(f"listing MNT/.sessions: {e!r}")
        if numbers and max(numbers) not in self.snapshots:
            try:
                self.snapshots[max(numbers)] = scan(self.mnt)
            except OSError as e:
                self.fail(f"scanning the mount: {e!r}")
            self.note(f"  (recorded as session {max(numbers)})")

    def count_sessions(self):
        r = subprocess.run(["xorriso", "-indev", self.img, "-toc"], capture_output=True,
                           timeout=120)
        out = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
        if r.returncode:
            self.fail(f"xorriso -toc failed ({r.returncode}):\n{out}")
        return sum(1 for line in out.splitlines() if line.startswith("ISO session"))

    def check_image(self):
        if not os.path.exists(self.img) or os.path.getsize(self.img) == 0:
            return  # still blank (successful calls need not change anything: chown -1 -1)
        n = self.count_sessions()
        if n < self.sessions:
            self.fail(f"the image has {n} sessions, it had {self.sessions}")
        if n > self.sessions + self.dirty_commits:
            self.fail(f"the image has {n} sessions, it had {self.sessions}, and only "
                      f"{self.dirty_commits} commits had changes")
        self.note(f"  (image: {n} sessions)")
        self.sessions, self.dirty_commits = n, 0
        r = subprocess.run(["xorriso", "-md5", "on", "-indev", self.img, "-check_md5_r",
                            "sorry", "/", "--"], capture_output=True, timeout=300)
        out = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
        files = any(t == stat.S_IFREG for t in self.index.values())
        ok = "File contents and their MD5 checksums match." in out or (
            not files and "Not a single file with MD5 checksum was found." in out)
        if r.returncode or not ok:
            self.fail(f"xorriso -check_md5_r: exit {r.returncode}:\n{out[-3000:]}")

    def check_log(self):
        try:
            with open(self.log, "rb") as f:
                f.seek(self.log_pos)
                new = f.read()
        except FileNotFoundError:
            return
        end = new.rfind(b"\n") + 1  # whole lines only
        self.log_pos += end
        for line in new[:end].decode(errors="replace").splitlines():
            if (not COMMITTED_RE.match(line) and not UNMOUNT_RACE_RE.match(line)
                    and not any(p.match(line) for p in self.allow_log)):
                self.fail(f"unexpected daemon output: {line}")

    # ------------------------------------------------------------ running an operation

    def both(self, desc, fn, ref_limits=(), allow=None):
        """run FN(root) on the reference, then on the mount; the outcomes must agree"""
        t0 = time.time_ns()

        def attempt(root):
            try:
                return ("ok", fn(root))
            except OSError as e:
                return ("err", ename(e.errno))

        r = attempt(self.ref)
        if r[0] == "err" and r[1] in ref_limits:
            self.note(f"{desc} -> reference: {r[1]} (a limit of the reference fs: skipped)")
            return r
        m = attempt(self.mnt)
        self.window = (t0, time.time_ns())
        if r == m:
            self.note(f"{desc} -> {r[1] if r[0] == 'err' else 'ok'}")
            if r[0] == "ok":
                self.dirty = True
            return r
        self.note(f"{desc} -> reference {r}, mount {m}")
        if allow and allow(r, m):
            self.dirty = True
            return m
        self.fail(f"{desc}: reference {r}, mount {m}")

    def entries(self, *types, root=False):
        return sorted(p for p, t in self.index.items()
                      if (root or p) and (not types or t in types))

    def pick(self, data, *types, root=False):
        c = self.entries(*types, root=root)
        return data.draw(st.sampled_from(c)) if c else None

    def dest(self, data, existing=True):
        """a path to create: mostly a new name in some directory, sometimes an existing one"""
        if existing and len(self.index) > 1 and data.draw(st.integers(0, 3)) == 0:
            return self.pick(data)
        parent = self.pick(data, stat.S_IFDIR, root=True)
        name = data.draw(NAMES)
        return parent + b"/" + name if parent else name

    def safe_to_open(self, rel):
        """never open fifos, devices or sockets (a device node could be a real disk)"""
        return self.index.get(rel) in (None, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK)

    # ------------------------------------------------------------ file content

    @rule(data=st.data(), size=SIZES, seed=SEEDS,
          how=st.sampled_from(["plain", "excl", "trunc"]), mode=MODES)
    @precondition(enabled("create"))
    def create(self, data, size, seed, how, mode):
        rel = self.dest(data)
        if not self.safe_to_open(rel):
            return self.note(f"create {pp(rel)}: skipped (not a regular file)")
        content = prng_bytes(size, seed)
        if ("truncate-mtime" in AVOID and how == "trunc" and self.index.get(rel) == stat.S_IFREG
                and os.lstat(P(self.ref, rel)).st_size == 0):
            how = "plain"
        flags = os.O_WRONLY | os.O_CREAT | O | {"plain": 0, "excl": os.O_EXCL,
                                                 "trunc": os.O_TRUNC}[how]

        def fn(root):
            fd = os.open(P(root, rel), flags, mode)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise OSError(errno.EBADFD, "not a regular file")
                return os.write(fd, content) if content else 0
            finally:
                os.close(fd)
        self.both(f"create({pp(rel)}, {how}, mode={mode:o}, len={size}, seed={seed})", fn)

    def open_write(self, rel, flags, work):
        def fn(root):
            fd = os.open(P(root, rel), os.O_WRONLY | O | flags)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise OSError(errno.EBADFD, "not a regular file")
                return work(fd)
            finally:
                os.close(fd)
        return fn

    @rule(data=st.data(), size=SIZES, seed=SEEDS, offset=OFFSETS)
    @precondition(enabled("write"))
    def write(self, data, size, seed, offset):
        rel = self.pick(data, stat.S_IFREG)
        if rel is None:
            return
        content = prng_bytes(min(size, 70_000), seed)
        self.both(f"pwrite({pp(rel)}, off={offset}, len={len(content)}, seed={seed})",
                  self.open_write(rel, 0, lambda fd: os.pwrite(fd, content, offset)))

    @rule(data=st.data(), size=SIZES, seed=SEEDS)
    @precondition(enabled("append"))
    def append(self, data, size, seed):
        rel = self.pick(data, stat.S_IFREG)
        if rel is None:
            return
        content = prng_bytes(min(size, 70_000), seed)
        self.both(f"append({pp(rel)}, len={len(content)}, seed={seed})",
                  self.open_write(rel, os.O_APPEND, lambda fd: os.write(fd, content)))

    @rule(data=st.data(), length=st.one_of(st.integers(0, 70_000), OFFSETS),
          by_path=st.booleans())
    @precondition(enabled("truncate"))
    def truncate(self, data, length, by_path):
        rel = self.pick(data, stat.S_IFREG)
        if rel is None:
            return
        if "truncate-mtime" in AVOID and os.lstat(P(self.ref, rel)).st_size == length:
            by_path = True
        if by_path:
            self.both(f"truncate({pp(rel)}, {length})",
                      lambda root: os.truncate(P(root, rel), length))
        else:
            self.both(f"ftruncate({pp(rel)}, {length})",
                      self.open_write(rel, 0, lambda fd: os.ftruncate(fd, length)))

    # ------------------------------------------------------------ names

    @rule(data=st.data(), mode=MODES)
    @precondition(enabled("mkdir"))
    def mkdir(self, data, mode):
        rel = self.dest(data)
        self.both(f"mkdir({pp(rel)}, {mode:o})", lambda root: os.mkdir(P(root, rel), mode))

    @rule(data=st.data(), flags=st.sampled_from([0, 0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE]))
    @precondition(enabled("rename"))
    def rename(self, data, flags):
        src = self.pick(data)
        if src is None:
            return
        if data.draw(st.integers(0, 2)) == 0:  # into a subdirectory of itself, or of a sibling
            d = self.pick(data, stat.S_IFDIR, root=True)
            dst = (d + b"/" if d else b"") + src.rpartition(b"/")[2]
        else:
            dst = self.dest(data)
        self.both(f"renameat2({pp(src)}, {pp(dst)}, {flags})",
                  lambda root: renameat2(P(root, src), P(root, dst), flags))

    @rule(data=st.data())
    @precondition(enabled("link"))
    def link(self, data):
        if "hardlink-special" in AVOID:
            src = self.pick(data, stat.S_IFREG, stat.S_IFDIR)
        else:
            src = self.pick(data)
        if src is None:
            return
        dst = self.dest(data)
        self.both(f"link({pp(src)}, {pp(dst)})",
                  lambda root: os.link(P(root, src), P(root, dst), follow_symlinks=False))

    @rule(data=st.data(), link_to=st.one_of(
        st.sampled_from([b"a", b"../a", b"/", b"/etc/passwd", b"a/", b"sub/", b"dangling",
                         b"..", b".", b"x" * 1023, b"y" * 1024, b"\xff\n\\", b"a//b/"]),
        st.binary(min_size=1, max_size=40).map(no_nul),
        st.builds(long_target,
                  st.integers(200, 1100), SEEDS)))
    @precondition(enabled("symlink"))
    def symlink(self, data, link_to):
        target = link_to
        if "long-symlink" in AVOID:  # at most 250 bytes
            target = target[:250]
        if "symlink-slash" in AVOID and target.rstrip(b"/"):
            target = target.rstrip(b"/")
        rel = self.dest(data)

        def refused(r, m):
            # DESIGN.md: a symlink target no session can hold is refused at the call:
            # 1024 bytes or more, or a name in it over 255 bytes (README)
            unwritable = len(target) >= 1024 or max(len(c) for c in target.split(b"/")) > 255
            if r[0] == "ok" and m == ("err", "ENAMETOOLONG") and unwritable:
                os.unlink(P(self.ref, rel))
                # undone in the reference: its directory has the times of the mount's,
                # which the refused call did not change
                parent = os.path.dirname(rel)
                st = os.lstat(P(self.mnt, parent))
                os.utime(P(self.ref, parent), ns=(st.st_atime_ns, st.st_mtime_ns))
                return True
            return False
        self.both(f"symlink({target!r} [{len(target)} bytes], {pp(rel)})",
                  lambda root: os.symlink(target, P(root, rel)), allow=refused)

    @rule(data=st.data())
    @precondition(enabled("unlink"))
    def unlink(self, data):
        rel = self.pick(data)
        if rel is not None:
            self.both(f"unlink({pp(rel)})", lambda root: os.unlink(P(root, rel)))

    @rule(data=st.data())
    @precondition(enabled("rmdir"))
    def rmdir(self, data):
        rel = self.pick(data, stat.S_IFDIR) if data.draw(st.integers(0, 4)) else self.pick(data)
        if rel is not None:
            self.both(f"rmdir({pp(rel)})", lambda root: os.rmdir(P(root, rel)))

    @rule(data=st.data(), kind=st.sampled_from(["fifo", "chr", "blk", "sock", "reg"]),
          mode=MODES, major=st.integers(0, 4095), minor=st.integers(0, 2**20 - 1))
    @precondition(enabled("mknod"))
    def mknod(self, data, kind, mode, major, minor):
        rel = self.dest(data)
        t = {"fifo": stat.S_IFIFO, "chr": stat.S_IFCHR, "blk": stat.S_IFBLK,
             "sock": stat.S_IFSOCK, "reg": stat.S_IFREG}[kind]
        dev = os.makedev(major, minor) if kind in ("chr", "blk") else 0
        self.both(f"mknod({pp(rel)}, {kind}, {mode:o}, {major}:{minor})",
                  lambda root: os.mknod(P(root, rel), t | (mode & 0o7777), dev))

    # ------------------------------------------------------------ attributes

    @rule(data=st.data(), mode=MODES)
    @precondition(enabled("chmod"))
    def chmod(self, data, mode):
        rel = self.pick(data, stat.S_IFREG, stat.S_IFDIR, stat.S_IFIFO, stat.S_IFCHR,
                        stat.S_IFBLK, stat.S_IFSOCK, root=True)
        if "acl-chmod" in AVOID and self.index[rel] in (stat.S_IFREG, stat.S_IFDIR):
            try:
                os.getxattr(P(self.ref, rel), "system.posix_acl_access")
                return self.note(f"chmod({pp(rel)}): skipped (it has an ACL; MODEL_AVOID)")
            except OSError:
                pass
        self.both(f"chmod({pp(rel)}, {mode:o})", lambda root: os.chmod(P(root, rel), mode))

    @rule(data=st.data(), uid=st.one_of(IDS, st.just(-1), st.integers(0, 2**32 - 2)),
          gid=st.one_of(IDS, st.just(-1), st.integers(0, 2**32 - 2)))
    @precondition(enabled("chown"))
    def chown(self, data, uid, gid):
        rel = self.pick(data, root=True)
        self.both(f"lchown({pp(rel)}, {uid}, {gid})",
                  lambda root: os.chown(P(root, rel), uid, gid, follow_symlinks=False))

    @rule(data=st.data(), atime=TIMES, mtime=TIMES, now=st.integers(0, 5))
    @precondition(enabled("utime"))
    def utime(self, data, atime, mtime, now):
        rel = self.pick(data, root=True)
        if "post-2155" in AVOID:
            mtime = min(mtime, 5_869_583_999 * 10**9)
        if now == 0:
            self.both(f"utimensat({pp(rel)}, UTIME_NOW)",
                      lambda root: os.utime(P(root, rel), follow_symlinks=False))
        else:
            self.both(f"utimensat({pp(rel)}, atime={atime}, mtime={mtime})",
                      lambda root: os.utime(P(root, rel), ns=(atime, mtime),
                                            follow_symlinks=False))

    @rule(data=st.data(), name=XNAMES, value=XVALUES,
          flags=st.sampled_from([0, 0, os.XATTR_CREATE, os.XATTR_REPLACE]))
    @precondition(enabled("xattr", "setxattr"))
    def setxattr(self, data, name, value, flags):
        rel = self.pick(data, root=True)
        if "empty-xattr" in AVOID and not value:
            value = b"-"
        self.both(f"lsetxattr({pp(rel)}, {name!r}, {len(value)} bytes {short(value[:16])}, "
                  f"flags={flags})",
                  lambda root: os.setxattr(P(root, rel), name, value, flags,
                                           follow_symlinks=False),
                  ref_limits=("ENOSPC", "E2BIG"))

    @rule(data=st.data(), name=XNAMES)
    @precondition(enabled("xattr", "removexattr"))
    def removexattr(self, data, name):
        rel = self.pick(data, root=True)
        have = os.listxattr(P(self.ref, rel), follow_symlinks=False)
        have = [n for n in have if not n.startswith("system.")]
        if have and data.draw(st.booleans()):
            name = data.draw(st.sampled_from(sorted(have)))
        self.both(f"lremovexattr({pp(rel)}, {name!r})",
                  lambda root: os.removexattr(P(root, rel), name, follow_symlinks=False))

    @rule(data=st.data(), acl=ACLS, default=st.booleans(), remove=st.integers(0, 3))
    @precondition(enabled("acl"))
    def setacl(self, data, acl, default, remove):
        rel = self.pick(data, stat.S_IFREG, stat.S_IFDIR, root=True)
        if rel is None:
            return
        name = "system.posix_acl_default" if default else "system.posix_acl_access"
        if "acl-id0" in AVOID:  # named entries for uid/gid 0 become uid/gid 4000000
            acl = acl[:4] + b"".join(
                e[:4] + (struct.pack("<I", 4000000) if e[:2] in (b"\2\0", b"\x08\0")
                         and e[4:] == b"\0\0\0\0" else e[4:])
                for e in (acl[i:i + 8] for i in range(4, len(acl), 8)))
        if "minimal-acl" in AVOID and len(acl) == 4 + 3 * 8:
            return self.note(f"setxattr({pp(rel)}, {name}, minimal): skipped (MODEL_AVOID)")
        if remove == 0:
            if "acl-remove-missing" in AVOID:
                try:
                    os.getxattr(P(self.ref, rel), name)
                except OSError:
                    return self.note(f"removexattr({pp(rel)}, {name}): skipped (no ACL; "
                                     "MODEL_AVOID)")
            self.both(f"removexattr({pp(rel)}, {name})",
                      lambda root: os.removexattr(P(root, rel), name))
        else:
            self.both(f"setxattr({pp(rel)}, {name}, {acl.hex()})",
                      lambda root: os.setxattr(P(root, rel), name, acl),
                      ref_limits=("ENOSPC", "E2BIG"))

    # ------------------------------------------------------------ the disc

    @rule()
    @precondition(enabled("commit"))
    def sync(self):
        self.note("sync MNT")
        self.commit()

    @rule()
    @precondition(enabled("remount"))
    def remount(self):
        self.note("unmount; mount again with the same cache")
        self.unmount()
        self.mount()

    @rule()
    @precondition(enabled("fresh"))
    def fresh_mount(self):
        self.note("sync MNT; unmount; mount with a new, empty cache")
        self.commit()
        self.unmount()
        self.ncache += 1
        self.cache = os.fsencode(self.T) + b"/cache%d" % self.ncache
        self.mount()

    @rule()
    @precondition(enabled("crash"))
    def crash(self):
        self.note("kill -9 the daemon; mount again with the same cache")
        if "crash-fast" in AVOID:
            time.sleep(1.5)  # let the daemon record the mtimes of the last writes
        t0 = time.time_ns()
        self.kill9()
        self.check_log()
        self.allow_log = [PENDING_RE]
        self.mount()
        self.crash_window = (t0, time.time_ns())

    @rule()
    @precondition(lambda self: os.environ.get("MODEL_FORGET") == "1")
    def forget(self):
        # FORGETs of the mount's inodes (a removed file's last reference) and of the
        # sessions' (a session whose files the kernel holds none of goes, sessions.c)
        self.note("the kernel drops the dentries and inodes it can (drop_caches)")
        try:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("2")
        except OSError:
            pass  # not root: nothing is dropped

    @rule(data=st.data())
    @precondition(lambda self: self.snapshots)
    def old_session(self, data):
        n = data.draw(st.sampled_from(sorted(self.snapshots)))
        self.note(f"compare MNT/.sessions/{n} with the tree it was written from")
        self.compare_session(n)

    def compare_session(self, n):
        try:
            got = scan(self.mnt + b"/.sessions/%d" % n)
        except OSError as e:
            self.fail(f"scanning MNT/.sessions/{n}: {e!r}")
        want = self.snapshots[n]
        if set(want) != set(got):
            self.fail(f"session {n}: the names differ: only in the tree then: "
                      f"{short(sorted(set(want) - set(got)))}; only in .sessions/{n}: "
                      f"{short(sorted(set(got) - set(want)))}")
        diffs = [f"{pp(p)}: {k}: then {short(want[p].get(k))}, .sessions/{n} "
                 f"{short(got[p].get(k))}"
                 for p in sorted(want) for k in want[p].keys() | got[p].keys()
                 if k not in ("ino", "atime") and want[p].get(k) != got[p].get(k)]
        if families(want) != families(got):
            diffs.append(f"session {n}: hard-link families differ")
        if diffs:
            self.fail(f"session {n} differs from the tree it was written from:\n  "
                      + "\n  ".join(diffs[:40]))

    # ------------------------------------------------------------ the comparison

    @invariant()
    def same_trees(self):
        try:
            self.compare()
        finally:
            self.window = self.crash_window = None
            self.root_resync = False
        if self.daemon.poll() is not None:
            self.fail(f"daemon exited with status {status(self.daemon.returncode)}")
        self.check_log()
        self.allow_log = []
        if self.first_check:
            self.first_check = False
        else:
            RunState.steps += 1
        WATCHDOG.arm(self)

    def compare(self):
        try:
            ref = scan(self.ref)
        except OSError as e:
            self.fail(f"scanning the reference (a bug of this test?): {e!r}")
        try:
            mnt = scan(self.mnt)
        except OSError as e:
            self.fail(f"scanning the mount: {e!r}")
        self.index = {p: e["type"] for p, e in ref.items()}
        if set(ref) != set(mnt):
            self.fail("the names differ: only in the reference: "
                      f"{short(sorted(set(ref) - set(mnt)))}; only in the mount: "
                      f"{short(sorted(set(mnt) - set(ref)))}")
        diffs = []
        for p in sorted(ref):
            a, b = ref[p], mnt[p]
            for k in a.keys() | b.keys():
                if k in ("ino", "mtime", "atime"):
                    continue
                if a.get(k) != b.get(k):
                    diffs.append(f"{pp(p)}: {k}: reference {short(a.get(k))}, "
                                 f"mount {short(b.get(k))}")
        fr, fm = families(ref), families(mnt)
        if fr != fm:
            diffs.append(f"hard-link families differ: reference {short(sorted(map(sorted, fr)))}"
                         f", mount {short(sorted(map(sorted, fm)))}")
        # mtimes (see the docstring)
        pinned = set()
        new_mtimes = {}
        for p in sorted(ref):
            a, b = ref[p], mnt[p]
            ino, rm, mm = a["ino"], a["mtime"], b["mtime"]
            if ino in pinned:
                continue
            prev = self.mtimes.get(ino)
            w = self.window
            fresh = w and prev != rm and w[0] - SLACK <= rm <= w[1] + SLACK
            cw = self.crash_window
            if rm == mm:
                pass
            elif fresh and w[0] - SLACK <= mm <= w[1] + SLACK:
                os.utime(P(self.ref, p), ns=(a["atime"], mm), follow_symlinks=False)
                rm = mm
            elif p == b"" and self.root_resync:
                os.utime(P(self.ref, p), ns=(a["atime"], mm), follow_symlinks=False)
                rm = mm
            elif cw and "crash-mtime" in AVOID:  # MODEL_AVOID: any mtime after a crash
                os.utime(P(self.ref, p), ns=(a["atime"], mm), follow_symlinks=False)
                rm = mm
            elif (cw and a["type"] == stat.S_IFDIR and cw[0] - SLACK <= mm <= cw[1] + SLACK):
                # README: a directory changed by its entries gets the replay time
                os.utime(P(self.ref, p), ns=(a["atime"], mm), follow_symlinks=False)
                rm = mm
            else:
                why = ("set to now by the step" if fresh else
                       "unchanged by the step" if prev == rm else "set explicitly")
                diffs.append(f"{pp(p)}: mtime: reference {rm} ({why}), mount {mm}"
                             + (f" (step window {w[0]}..{w[1]})" if w else ""))
            pinned.add(ino)
            new_mtimes[ino] = rm
        self.mtimes = new_mtimes
        if diffs:
            self.fail("the trees differ:\n  " + "\n  ".join(diffs[:40]))

    def teardown(self):
        WATCHDOG.disarm()
        # hypothesis calls this from a `finally:`: an exception on its way (a failure,
        # or hypothesis ending an example that ran out of data) must not be masked
        aborted = sys.exc_info()[0] is not None
        try:
            if not aborted and not self.failed and self.daemon and self.daemon.poll() is None:
                # every example ends with its disc: commit, unmount, check, fresh mount
                self.note("end: sync MNT; unmount; mount with a new cache; compare")
                self.commit()
                self.unmount()
                self.cache = os.fsencode(self.T) + b"/cache-final"
                self.mount()
                self.compare()
                self.note("end: compare every recorded session under MNT/.sessions")
                for n in sorted(self.snapshots):
                    self.compare_session(n)
                self.check_log()
                self.note("end: unmount")
                self.unmount()
        finally:
            if self.daemon and self.daemon.poll() is None:
                subprocess.run(["fusermount3", "-u", self.mnt], stderr=subprocess.DEVNULL)
                try:
                    self.daemon.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.daemon.kill()
                    self.daemon.wait()
            subprocess.run(["fusermount3", "-u", "-z", self.mnt], stderr=subprocess.DEVNULL)
            if self.failed and KEEP:
                print(f"kept {self.T}", file=sys.stderr)
            else:
                shutil.rmtree(self.T, ignore_errors=True)


# ---------------------------------------------------------------- the runner

def preflight():
    if os.geteuid() != 0:
        print("SKIP: the model test runs as root (mknod, chown, trusted.* xattrs)")
        sys.exit(77)
    if not os.path.exists("/dev/fuse"):
        print("SKIP: no /dev/fuse")
        sys.exit(77)
    for tool in ("xorriso", "fusermount3"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed (scripts/install-deps --tests)")
            sys.exit(77)
    if not os.access(DISCFS, os.X_OK):
        print(f"FAIL: DISCFS={DISCFS} is not an executable (build it, or set DISCFS)")
        sys.exit(1)
    # the reference must hold what the mount holds
    d = tempfile.mkdtemp(prefix="discfs-model-probe.")
    try:
        f = os.path.join(d, "f")
        open(f, "w").close()
        for n in ("user.probe", "trusted.probe", "security.probe"):
            os.setxattr(f, n, b"1")
        os.setxattr(f, "system.posix_acl_access", acl_value(({1000: 6}, {}), 6, (6, 4, 4)))
        os.symlink("x", os.path.join(d, "l"))
        os.link(os.path.join(d, "l"), os.path.join(d, "l2"), follow_symlinks=False)
        os.utime(f, ns=(0, -1_000_000_001))
        if os.stat(f).st_mtime_ns != -1_000_000_001:
            raise OSError(errno.EINVAL, "no nanosecond pre-1970 mtimes")
    except OSError as e:
        print(f"FAIL: the temp dir's filesystem ({tempfile.gettempdir()}) cannot be the "
              f"reference: {e}; set TMPDIR to an ext4/xfs/btrfs directory")
        sys.exit(1)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_seed(seed, budget):
    """Hypothesis starts with about 10 tiny examples (1-5 steps; its small-example
    phase), then every example runs the full LENGTH steps: about 20 + (max_examples - 10)
    * LENGTH steps in all.  (The budget cannot be enforced from inside the machine: a
    machine that behaves differently on the same data makes hypothesis fail as Flaky.)"""
    RunState.steps, RunState.examples, RunState.first_failure = 0, 0, None
    s = settings(max_examples=10 + -(-budget // LENGTH), stateful_step_count=LENGTH,
                 deadline=None,
                 database=None, suppress_health_check=list(HealthCheck),
                 phases=[Phase.generate, Phase.shrink] if SHRINK else [Phase.generate],
                 derandomize=False, print_blob=False, verbosity=Verbosity.normal,
                 report_multiple_bugs=False)
    hypothesis.seed(seed)(DiscfsModel)
    run_state_machine_as_test(DiscfsModel, settings=s)


def main():
    preflight()
    os.umask(0 if "acl-umask" in AVOID else 0o022)
    budget = max(1, STEPS // NSEEDS)
    if os.environ.get("MODEL_SEED"):
        seeds = [int(os.environ["MODEL_SEED"])]
    else:
        seeds = FIXED_SEEDS + [random.SystemRandom().randrange(2**32)]
    if AVOID:
        print(f"model: MODEL_AVOID={','.join(sorted(AVOID))}: NOT exercising all operations")
    base = tempfile.mkdtemp(prefix="discfs-model.")
    RunState.workdir = base
    passed = failed = total = 0
    start = time.monotonic()
    try:
        for i, seed in enumerate(seeds):
            t = time.monotonic()
            print(f"model: seed {seed}: {budget} steps, examples of up to {LENGTH}", flush=True)
            try:
                run_seed(seed, budget)
            except Exception as e:  # noqa: BLE001 - report whatever failed, then the seed
                failed += 1
                total += RunState.steps
                if not isinstance(e, Failure):
                    traceback.print_exception(e)
                    if RunState.first_failure:
                        print("--- the first failure seen:\n" + RunState.first_failure,
                              file=sys.stderr)
                else:
                    print(f"\n{e}\n", file=sys.stderr)
                print(f"model: seed {seed} FAILED; replay it with:\n  MODEL_SEED={seed} "
                      f"MODEL_STEPS={STEPS} MODEL_LENGTH={LENGTH}"
                      + (f" MODEL_AVOID={','.join(sorted(AVOID))}" if AVOID else "")
                      + f" DISCFS={DISCFS} python3 {os.path.relpath(__file__, TOP)}",
                      file=sys.stderr, flush=True)
                not_run = len(seeds) - i - 1
                print(f"{passed} passed, {failed} failed"
                      + (f", {not_run} not run" if not_run else "")
                      + f" ({total} steps, {time.monotonic() - start:.0f} s)")
                return 1
            total += RunState.steps
            passed += 1
            print(f"model: seed {seed}: ok, {RunState.steps} steps in {RunState.examples} "
                  f"examples, {time.monotonic() - t:.0f} s", flush=True)
    finally:
        if not (KEEP and failed):
            shutil.rmtree(base, ignore_errors=True)
    print(f"{passed} passed, {failed} failed ({total} steps, {time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

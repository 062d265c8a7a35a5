#!/usr/bin/env python3
"""SIGKILL of the discfs daemon at random moments, then a remount: every change
that was acknowledged is there, nothing is corrupt or duplicated.

Rounds rotate over three kinds of work:
  copy    a tree is copied file by file (create, write, close, chmod, utime);
  rename  renames and unlinks of staged and on-disc files;
  burn    a commit (`sync MOUNTPOINT`) is under way.
The workers log each operation after it returned, so the log is exactly the set of
acknowledged operations; at most the one in flight at the kill may or may not be
there.  Environment: DISCFS (the binary), CRASH_ROUNDS (default 21), CRASH_SEED."""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

DISCFS = os.environ["DISCFS"]
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "24"))
SEED = int(os.environ.get("CRASH_SEED", str(int(time.time()))))
OPTS = os.environ.get("DISCFS_OPTS", "").split()  # e.g. "-o journal=sync"
rng = random.Random(SEED)

if not os.path.exists("/dev/fuse"):
    print("SKIP: no /dev/fuse")
    sys.exit(77)

T = tempfile.mkdtemp(prefix="discfs-crash.")
MNT, IMG, CACHE, LOG = (os.path.join(T, n) for n in ("mnt", "disc.iso", "cache", "log"))
os.mkdir(MNT)
daemon = None


def fail(msg):
    print(f"FAIL (seed {SEED}): {msg}", file=sys.stderr)
    try:
        print(open(LOG).read(), file=sys.stderr)
    except OSError:
        pass
    if os.environ.get("CRASH_KEEP"):
        print(f"kept {T}", file=sys.stderr)
        daemon.kill()
        sys.exit(1)
    cleanup()
    sys.exit(1)


def is_mounted():
    with open("/proc/self/mountinfo", "rb") as f:  # bytes: other mounts' names may not be UTF-8
        return any(line.split()[4] == os.fsencode(MNT) for line in f)


def mount():
    global daemon
    log = open(LOG, "a")
    daemon = subprocess.Popen([DISCFS, IMG, MNT, "-f", "-o", "cache=" + CACHE] + OPTS,
                              stdout=log, stderr=log)
    for _ in range(400):
        if is_mounted():
            return
        if daemon.poll() is not None:
            fail("discfs exited before mounting")
        time.sleep(0.025)
    fail("discfs did not mount")


def kill():
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()
    subprocess.run(["fusermount3", "-u", "-z", MNT], stderr=subprocess.DEVNULL)


def unmount():
    subprocess.run(["fusermount3", "-u", MNT], check=True)
    if daemon.wait() != 0:
        fail("discfs failed at unmount")


def cleanup():
    if daemon and daemon.poll() is None:
        daemon.kill()
        daemon.wait()
    subprocess.run(["fusermount3", "-u", "-z", MNT], stderr=subprocess.DEVNULL)
    shutil.rmtree(T, ignore_errors=True)


# the model: path -> (content, mode) for files, None for directories
model = {}


def tree():
    out = {}
    for root, dirs, files in os.walk(MNT):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), MNT)] = None
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, MNT)] = (fh.read(), os.stat(p).st_mode & 0o7777)
    return out


def check(inflight, what):
    """the mount equals the model, but for the paths the operation in flight touched"""
    got = tree()
    for path in set(got) | set(model):
        if path in inflight or any(path.startswith(p + "/") for p in inflight):
            continue
        if path not in got:
            fail(f"{what}: acknowledged '{path}' is missing after the crash")
        if path not in model:
            fail(f"{what}: '{path}' is there but was never acknowledged")
        if got[path] != model[path]:
            fail(f"{what}: '{path}' differs after the crash")
    # the operation in flight: all or nothing, never a torn file that claims completion
    for path in inflight:
        if path in got and path in model and got[path] != model[path]:
            data, mode = got[path]
            want = model[path][0]
            if not want.startswith(data):
                fail(f"{what}: '{path}' in flight holds bytes that were never written")
        if path in got and path not in model and got[path] is not None:
            pass  # a file being created: any prefix of its content is fine
    return got


def payload(n):
    return bytes(rng.getrandbits(8) for _ in range(n)) if n < 4096 else os.urandom(n)


def run_worker(ops, delay):
    """run OPS (callables returning the paths they touch) until killed after DELAY s;
    returns (acknowledged ops, the paths of the op in flight)"""
    import threading
    done, inflight = [], [set()]
    stop = threading.Event()

    def work():
        for op in ops:
            if stop.is_set():
                return
            paths = op.paths
            inflight[0] = set(paths)
            try:
                op()
            except OSError:
                return  # the daemon is gone
            done.append(op)
            inflight[0] = set()

    t = threading.Thread(target=work)
    t.start()
    time.sleep(delay)
    kill()
    stop.set()
    t.join(timeout=30)
    if t.is_alive():
        fail("a worker hangs after the kill")
    return done, inflight[0]


class Op:
    def __init__(self, fn, paths, apply):
        self.fn, self.paths, self.apply = fn, paths, apply

    def __call__(self):
        self.fn()


def copy_ops(base):
    ops = [Op(lambda: os.mkdir(os.path.join(MNT, base)), [base],
              lambda: model.__setitem__(base, None))]
    for i in range(rng.randint(40, 120)):
        rel = f"{base}/f{i:03d}"
        data = payload(rng.choice([0, 10, 3000, 70000, 300000]))
        mode = rng.choice([0o644, 0o600, 0o755])

        def fn(rel=rel, data=data, mode=mode):
            p = os.path.join(MNT, rel)
            with open(p, "wb") as fh:
                fh.write(data)
            os.chmod(p, mode)
            os.utime(p, (1_000_000_000, 1_000_000_000 + len(data)))

        ops.append(Op(fn, [rel], lambda rel=rel, data=data, mode=mode:
                      model.__setitem__(rel, (data, mode))))
    return ops


def rename_ops():
    ops = []
    files = [p for p, v in model.items() if v is not None]
    rng.shuffle(files)
    live = set(files)
    for i, src in enumerate(files[:60]):
        if src not in live:
            continue
        if rng.random() < 0.4:
            def fn(src=src):
                os.unlink(os.path.join(MNT, src))
            ops.append(Op(fn, [src], lambda src=src: model.pop(src)))
            live.discard(src)
        else:
            dst = os.path.join(os.path.dirname(src), f"r{i}-{os.path.basename(src)}")

            def fn(src=src, dst=dst):
                os.rename(os.path.join(MNT, src), os.path.join(MNT, dst))

            def apply(src=src, dst=dst):
                model[dst] = model.pop(src)
            ops.append(Op(fn, [src, dst], apply))
            live.discard(src)
    return ops


# a real `cp -a` of a tree: what it finished is not logged, so every file that is
# there must be the source's content or, for the one cp was writing, a prefix of it
CPSRC = os.path.join(T, "cpsrc")
for i in range(150):
    d = os.path.join(CPSRC, f"d{i % 7}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}"), "wb") as fh:
        fh.write(os.urandom(rng.choice([0, 100, 5000, 60000, 250000])))


def cp_round(r):
    dst = f"cp{r}"
    cp = subprocess.Popen(["cp", "-a", CPSRC, os.path.join(MNT, dst)], stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.02, 0.5))
    kill()
    cp.wait()
    mount()
    got = tree()
    partial = 0
    for path, val in got.items():
        if not path.startswith(dst + "/") or val is None:
            continue
        want = open(os.path.join(CPSRC, path[len(dst) + 1:]), "rb").read()
        if val[0] != want:
            if not want.startswith(val[0]):
                fail(f"round {r} (cp -a): '{path}' holds bytes that were never written")
            partial += 1
    if partial > 1:
        fail(f"round {r} (cp -a): {partial} files are incomplete; only the one in flight may be")
    for path, val in got.items():  # what survived is what the next rounds expect
        if path == dst or path.startswith(dst + "/"):
            model[path] = val


rounds = {"copy": 0, "rename": 0, "burn": 0, "cp -a": 0}
mount()
for r in range(ROUNDS):
    kind = ("copy", "rename", "burn", "cp -a")[r % 4]
    if kind == "rename" and not any(v is not None for v in model.values()):
        kind = "copy"
    rounds[kind] += 1
    if kind == "cp -a":
        cp_round(r)
        continue
    if kind == "burn":
        # stage something, then kill during the commit
        rel = f"burn{r}"
        data = payload(rng.randint(1, 4) * 1_000_000)
        with open(os.path.join(MNT, rel), "wb") as fh:
            fh.write(data)
        model[rel] = (data, 0o644)
        os.chmod(os.path.join(MNT, rel), 0o644)
        sync = subprocess.Popen(["sync", MNT], stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, 0.15))
        kill()
        sync.wait()
        inflight = set()
    else:
        ops = copy_ops(f"c{r}") if kind == "copy" else rename_ops()
        done, inflight = run_worker(ops, rng.uniform(0.01, 0.4))
        for op in done:
            op.apply()
    mount()
    got = check(inflight, f"round {r} ({kind})")
    # adopt what the in-flight operation left, as the model of the next round
    for p in inflight:
        if p in got:
            model[p] = got[p]
        else:
            model.pop(p, None)
    for p in list(model):
        if p not in got:
            model.pop(p)
    for p in got:
        model.setdefault(p, got[p])

unmount()
# the last commit wrote everything: a final mount shows the model, from the disc
mount()
check(set(), "after the final commit")
unmount()
out = subprocess.run(["xorriso", "-indev", IMG, "-toc"], capture_output=True, text=True)
sessions = sum(1 for line in out.stdout.splitlines() if line.startswith("ISO session"))
if sessions < 1:
    fail("the image has no session after the final commit")
print(f"ok - {' '.join(OPTS) or 'journal=async (default)'}: {ROUNDS} SIGKILL rounds (copy {rounds['copy']}, cp -a {rounds['cp -a']}, "
      f"rename/unlink {rounds['rename']}, burn {rounds['burn']}), seed {SEED}, {sessions} sessions, "
      f"{len(model)} entries: every acknowledged change survived")
cleanup()

/* fs/sessions.c - MOUNTPOINT/.sessions: every session of the disc, read-only, beside
 * the tree of the mount (every session is a snapshot: issue 11, DESIGN.md).
 *
 * .sessions (-o snapdir=NAME; none: no such directory) is not listed in the root,
 * as ZFS does with .zfs by default: find, du, cp -a and rsync of the mount do not
 * walk a copy of the disc per session.  A lookup finds it, unless the tree has an
 * entry of that name itself (the entry wins, said at mount).  It is not removed,
 * moved or replaced, nothing is made in it (EROFS, said once with -o snapdir).
 * .sessions/N is session N as it was written, a read-only view of its own (view.c
 * over dfs_disc_open_snapshot()), imported at the first lookup and kept while the
 * kernel holds any of its inodes: when it forgets the last one (the dentries of
 * the session left the kernel's cache), the view goes and its memory with it; the
 * next look imports it again, with the same node ids and inode numbers.  Its data
 * is read from the disc of the mount.
 *
 * Node ids and inode numbers: the mount's own are below 2^48 (view.h); those of
 * session N are N << 48 plus its view's, so that no two files of the mount share an
 * inode number (rsync -H, du, find -samefile).  The directory .sessions is
 * DFS_SESSIONS_ID. */
#define _GNU_SOURCE
#include "discfs.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOCAL_MASK ((UINT64_C(1) << DFS_SNAP_SHIFT) - 1)
/* the inode number of the root of a session: no view has one that high */
#define SNAP_ROOT_INO LOCAL_MASK

enum { FAILED = 1, SAID = 2 }; /* dfs_sessions.failed[] */

/* A view the kernel holds nothing of any more is closed this long after: a worker
 * that routed a request to it before (and replies, then tidies up, as op_open does
 * when the reply fails) is long done by then */
#define RETIRE_NS 2000000000LL

struct retired {
    struct retired *next;
    struct dfs_view *view;
    struct dfs_disc *disc;
    int64_t at; /* CLOCK_MONOTONIC, ns */
};

struct dfs_sessions {
    const char *name;             /* of the directory in the root (-o snapdir=) */
    int refused_said;             /* dfs_sessions_refused() */
    pthread_mutex_t lock;         /* the table and the list */
    pthread_mutex_t import;       /* one import at a time */
    struct dfs_session_ref *refs; /* the disc's sessions (number -1: the blank disc) */
    int n_refs;
    int toc_sessions; /* the disc's count of sessions when the list was read */
    struct dfs_view **views;
    struct dfs_disc **discs;
    unsigned char *failed;   /* FAILED: it cannot be shown (said); SAID: it could not */
    int cap;                 /* of views[], discs[] and failed[], by session number */
    struct retired *retired; /* views let go, oldest first, for the reaper to close */
    pthread_cond_t reap;     /* wakes the reaper */
    pthread_t reaper;
    int reaper_running, stop;
};

static int64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Close the retired views that are old enough (all of them when S stops); S->lock
 * held, released meanwhile.  Whether it closed any. */
static int close_retired(struct dfs_sessions *s)
{
    int closed = 0;

    while (s->retired && (s->stop || now_ns() - s->retired->at >= RETIRE_NS)) {
        struct retired *r = s->retired;
        s->retired = r->next;
        pthread_mutex_unlock(&s->lock);
        dfs_view_close(r->view);
        dfs_disc_close(r->disc);
        free(r);
        closed = 1;
        pthread_mutex_lock(&s->lock);
    }
    return closed;
}

static void *reaper(void *arg)
{
    struct dfs_sessions *s = arg;

    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        if (close_retired(s) && !s->stop) {
            /* a session's tree is many small allocations: give them back (a while
             * on a large heap, so not under the lock every request routes by) */
            pthread_mutex_unlock(&s->lock);
            malloc_trim(0);
            pthread_mutex_lock(&s->lock);
        }
        if (s->stop)
            break;
        if (!s->retired) {
            pthread_cond_wait(&s->reap, &s->lock);
        } else {
            int64_t due = s->retired->at + RETIRE_NS;
            struct timespec ts = {.tv_sec = due / 1000000000LL, .tv_nsec = due % 1000000000LL};
            pthread_cond_timedwait(&s->reap, &s->lock, &ts);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int dfs_sessions_init(struct dfs_mount *m)
{
    const char *name = m->opt.snapdir ? m->opt.snapdir : DFS_SNAPDIR_DEFAULT;
    struct dfs_sessions *s;
    struct stat st;

    m->sessions = NULL;
    if (!name[0] || strcmp(name, "none") == 0)
        return 0; /* -o snapdir=none */
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->name = name;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->import, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->reap, &ca);
        pthread_condattr_destroy(&ca);
    }
    s->toc_sessions = -1;
    m->sessions = s;
    /* the tree's own entry of that name wins (a lookup finds it first) */
    if (dfs_view_lookup(m->view, DFS_ROOT_ID, name, &st) == 0) {
        dfs_view_forget(m->view, st.st_dev, 1);
        fprintf(stderr,
                "discfs: the tree of '%s' has an entry '%s' of its own, which %s/%s shows: "
                "the sessions are not shown there; mount with -o snapdir=NAME to see them as "
                "%s/NAME\n",
                m->opt.device, name, m->opt.mountpoint, name, m->opt.mountpoint);
    }
    return 0;
}

void dfs_sessions_refused(struct dfs_mount *m)
{
    struct dfs_sessions *s = m->sessions;

    if (s && !__atomic_exchange_n(&s->refused_said, 1, __ATOMIC_RELAXED))
        fprintf(stderr,
                "discfs: nothing can be made or changed in %s/%s, where the sessions are "
                "shown read-only: to keep an entry '%s' in the tree, mount with "
                "-o snapdir=NAME (another name) or -o snapdir=none\n",
                m->opt.mountpoint, s->name, s->name);
}

void dfs_sessions_fini(struct dfs_mount *m)
{
    struct dfs_sessions *s = m->sessions;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->reap);
    pthread_mutex_unlock(&s->lock);
    if (s->reaper_running)
        pthread_join(s->reaper, NULL);
    pthread_mutex_lock(&s->lock);
    close_retired(s);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < s->cap; i++) {
        dfs_view_close(s->views[i]);
        dfs_disc_close(s->discs[i]);
    }
    free(s->views);
    free(s->discs);
    free(s->failed);
    free(s->refs);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->import);
    pthread_cond_destroy(&s->reap);
    free(s);
    m->sessions = NULL;
}

int dfs_sessions_route(struct dfs_mount *m, uint64_t ino, struct dfs_node *n)
{
    uint64_t snap = ino >> DFS_SNAP_SHIFT;

    n->id = ino & LOCAL_MASK;
    n->snap = (unsigned)snap;
    n->view = NULL;
    if (snap == 0) {
        n->view = m->view;
        return 0;
    }
    if (ino == DFS_SESSIONS_ID)
        return 1;
    if (m->sessions) {
        pthread_mutex_lock(&m->sessions->lock);
        if (snap < (uint64_t)m->sessions->cap)
            n->view = m->sessions->views[snap];
        pthread_mutex_unlock(&m->sessions->lock);
    }
    return n->view ? 0 : -ESTALE;
}

void dfs_sessions_out(unsigned snap, struct stat *st)
{
    if (!snap)
        return;
    if (st->st_dev == DFS_ROOT_ID)
        st->st_ino = SNAP_ROOT_INO;
    st->st_dev |= (uint64_t)snap << DFS_SNAP_SHIFT;
    st->st_ino |= (uint64_t)snap << DFS_SNAP_SHIFT;
}

/* The disc's list of sessions, read again when its count changed (a commit); the
 * reading waits for a commit that holds the drive, s->lock is not held meanwhile */
static int refresh(struct dfs_mount *m, struct dfs_sessions *s)
{
    int count = dfs_disc_get_info(m->disc)->sessions, n, same;
    struct dfs_session_ref *refs;

    pthread_mutex_lock(&s->lock);
    same = count == s->toc_sessions;
    pthread_mutex_unlock(&s->lock);
    if (same)
        return 0;
    n = dfs_disc_sessions(m->disc, &refs);
    if (n < 0)
        return n;
    pthread_mutex_lock(&s->lock);
    free(s->refs);
    s->refs = refs;
    s->n_refs = n;
    s->toc_sessions = count;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* The session named NAME ("1", "2", ...: decimal, no sign or leading zero), or 0 */
static int session_number(const char *name)
{
    long n = 0;

    if (name[0] < '1' || name[0] > '9')
        return 0;
    for (const char *p = name; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        n = n * 10 + (*p - '0');
        if (n >= (1L << (64 - DFS_SNAP_SHIFT)) - 1)
            return 0;
    }
    return (int)n;
}

static int grow(struct dfs_sessions *s, int number)
{
    int cap = s->cap ? s->cap : 16;
    struct dfs_view **v;
    struct dfs_disc **d;
    unsigned char *f;

    while (cap <= number)
        cap *= 2;
    if (cap == s->cap)
        return 0;
    v = realloc(s->views, (size_t)cap * sizeof(*v));
    if (v)
        s->views = v;
    d = realloc(s->discs, (size_t)cap * sizeof(*d));
    if (d)
        s->discs = d;
    f = realloc(s->failed, (size_t)cap);
    if (f)
        s->failed = f;
    if (!v || !d || !f)
        return -ENOMEM;
    memset(v + s->cap, 0, (size_t)(cap - s->cap) * sizeof(*v));
    memset(d + s->cap, 0, (size_t)(cap - s->cap) * sizeof(*d));
    memset(f + s->cap, 0, (size_t)(cap - s->cap));
    s->cap = cap;
    return 0;
}

/* The view of session NUMBER in *OUT, imported now if it is not yet: 0, or -errno
 * (said once).  A view imported already is found under s->lock alone: never behind
 * an import, which waits for a commit that holds the drive. */
static int open_session(struct dfs_mount *m, struct dfs_sessions *s, int number,
                        struct dfs_view **out)
{
    struct dfs_disc *d = NULL;
    struct dfs_view *v = NULL;
    int err, said;

    pthread_mutex_lock(&s->lock);
    *out = number < s->cap ? s->views[number] : NULL;
    pthread_mutex_unlock(&s->lock);
    if (*out)
        return 0;
    pthread_mutex_lock(&s->import);
    pthread_mutex_lock(&s->lock);
    err = grow(s, number);
    if (!err && s->failed[number] == FAILED)
        err = -EIO;
    said = !err && s->failed[number] == SAID;
    if (!err && s->views[number]) { /* imported while this one waited */
        *out = s->views[number];
        pthread_mutex_unlock(&s->lock);
        pthread_mutex_unlock(&s->import);
        return 0;
    }
    pthread_mutex_unlock(&s->lock);
    if (!err) {
        err = dfs_disc_open_snapshot(m->disc, number, &d);
        if (!err)
            err = dfs_view_open(&v, d, NULL);
        /* the session's own damage is said once and for good; what may pass (the
         * disc is not the mounted one now, memory) once until it worked again */
        if (err && (err == -EUCLEAN || !said))
            fprintf(stderr, "discfs: cannot show session %d of '%s' in %s/%s/%d%s: %s\n", number,
                    m->opt.device, m->opt.mountpoint, s->name, number,
                    err == -EUCLEAN ? "" : " now (it is tried again at the next look)",
                    d && dfs_disc_last_error(d)[0] ? dfs_disc_last_error(d) : strerror(-err));
        pthread_mutex_lock(&s->lock);
        if (err) {
            s->failed[number] = err == -EUCLEAN ? FAILED : SAID;
            dfs_view_close(v);
            dfs_disc_close(d);
            err = -EIO;
        } else {
            v->readonly = 1;
            s->views[number] = v;
            s->discs[number] = d;
            s->failed[number] = 0;
            *out = v;
        }
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&s->import);
    return err;
}

/* The attributes of .sessions: a directory of the root's owner that nobody writes */
static int dir_stat(struct dfs_mount *m, struct stat *st)
{
    int err = dfs_view_getattr(m->view, DFS_ROOT_ID, st);

    if (err)
        return err;
    st->st_mode = S_IFDIR | 0555;
    st->st_nlink = 2;
    st->st_size = 0;
    st->st_blocks = 0;
    st->st_ino = DFS_SESSIONS_ID;
    st->st_dev = DFS_SESSIONS_ID; /* the node id, as the view hands it over */
    return 0;
}

int dfs_sessions_lookup_root(struct dfs_mount *m, const char *name, struct stat *st)
{
    if (!m->sessions || strcmp(name, m->sessions->name) != 0)
        return -ENOENT;
    return dir_stat(m, st);
}

int dfs_sessions_named(struct dfs_mount *m, uint64_t dir, const char *name)
{
    struct stat st;

    if (!m->sessions || dir != DFS_ROOT_ID || strcmp(name, m->sessions->name) != 0)
        return 0;
    if (dfs_view_lookup(m->view, DFS_ROOT_ID, name, &st) != 0)
        return 1;
    dfs_view_forget(m->view, st.st_dev, 1); /* the tree's own entry: the lookup undone */
    return 0;
}

int dfs_sessions_getattr(struct dfs_mount *m, struct stat *st)
{
    return dir_stat(m, st);
}

int dfs_sessions_lookup(struct dfs_mount *m, const char *name, struct stat *st)
{
    struct dfs_sessions *s = m->sessions;
    int number = session_number(name), found = 0, err;
    struct dfs_view *v;

    if (!number)
        return -ENOENT;
    err = refresh(m, s);
    pthread_mutex_lock(&s->lock);
    for (int i = 0; !err && i < s->n_refs; i++)
        found |= s->refs[i].number == number;
    pthread_mutex_unlock(&s->lock);
    if (err || !found)
        return err ? err : -ENOENT;
    for (;;) {
        err = open_session(m, s, number, &v);
        if (err)
            break;
        /* the kernel's reference taken while the view is surely in the table: one
         * let go meanwhile is imported again (V itself may be gone: not touched) */
        pthread_mutex_lock(&s->lock);
        if (s->views[number] == v) {
            err = dfs_view_hold(v, DFS_ROOT_ID, st);
            pthread_mutex_unlock(&s->lock);
            break;
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (!err) {
        st->st_dev = DFS_ROOT_ID;
        dfs_sessions_out((unsigned)number, st);
    }
    return err;
}

int dfs_sessions_readdir(struct dfs_mount *m, off_t off, dfs_fill_fn fill, void *ctx)
{
    struct dfs_sessions *s = m->sessions;
    struct stat st;
    int err = dir_stat(m, &st);

    /* offsets: 1 after ".", 2 after "..", N + 2 after session N */
    if (!err && off < 1 && fill(ctx, ".", &st, 1))
        return 0;
    if (!err && off < 2) {
        err = dfs_view_getattr(m->view, DFS_ROOT_ID, &st);
        st.st_dev = DFS_ROOT_ID;
        if (!err && fill(ctx, "..", &st, 2))
            return 0;
    }
    if (!err)
        err = refresh(m, s);
    if (err)
        return err;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->n_refs; i++) {
        char name[16];
        int number = s->refs[i].number;

        if (number < 1 || number + 2 <= off)
            continue;
        snprintf(name, sizeof(name), "%d", number);
        memset(&st, 0, sizeof(st));
        st.st_mode = S_IFDIR | 0555;
        st.st_ino = (uint64_t)number << DFS_SNAP_SHIFT | SNAP_ROOT_INO;
        st.st_dev = 0; /* readdirplus: no attributes, the kernel looks it up */
        if (fill(ctx, name, &st, number + 2))
            break;
    }
    pthread_mutex_unlock(&s->lock);
    return err;
}

void dfs_sessions_forgot(struct dfs_mount *m, unsigned snap)
{
    struct dfs_sessions *s = m->sessions;
    struct retired *r, **tail;

    if (!s)
        return;
    r = calloc(1, sizeof(*r));
    if (!r)
        return; /* kept, as before the kernel forgot it */
    pthread_mutex_lock(&s->lock);
    /* the table is asked again: another worker may have let it go (and a lookup
     * imported it anew) since the kernel's last reference was dropped */
    if (snap < (unsigned)s->cap && s->views[snap] && !s->stop &&
        dfs_view_kernel_refs(s->views[snap]) == 0 &&
        (s->reaper_running || pthread_create(&s->reaper, NULL, reaper, s) == 0)) {
        s->reaper_running = 1;
        r->view = s->views[snap];
        r->disc = s->discs[snap];
        r->at = now_ns();
        s->views[snap] = NULL;
        s->discs[snap] = NULL;
        for (tail = &s->retired; *tail; tail = &(*tail)->next)
            ;
        *tail = r;
        r = NULL;
        pthread_cond_broadcast(&s->reap);
    }
    pthread_mutex_unlock(&s->lock);
    free(r);
}

int dfs_sessions_in_memory(struct dfs_mount *m)
{
    struct dfs_sessions *s = m->sessions;
    int n = 0;

    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->cap; i++)
        n += s->views[i] != NULL;
    pthread_mutex_unlock(&s->lock);
    return n;
}

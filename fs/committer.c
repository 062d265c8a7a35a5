/* fs/committer.c - the commit on its own thread (DESIGN.md, the committer thread)
 *
 * `sync MOUNTPOINT`, `discfs commit` (DFS_IOC_COMMIT) and the unmount only ask for
 * a commit: each request gets a ticket, the next commit to start serves every
 * ticket handed out before it, and a caller that wants the result waits for its
 * ticket.  The thread keeps the commit's phase and progress (burn/ tells them)
 * and the result of the last ones for `discfs status` and `discfs commit`.
 *
 * Locks: c->lock guards the fields here; it is never held across a commit or
 * across the view's lock except in dfs_committer_status(), which counts the
 * pending changes with no commit running (and none can start meanwhile).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "committer.h"
#include "discfs.h"

struct dfs_committer {
    struct dfs_mount *m;
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* a request, or stop */
    pthread_cond_t ended; /* a commit ended */
    pthread_t thread;
    int running, stop;
    uint64_t requested, done, serving;
    int close_next; /* a request of the next commit asked to close the disc */
    struct dfs_ctl_result recent[DFS_CTL_RECENT]; /* newest first */
    enum dfs_phase phase;
    uint32_t phases_seen; /* of the commit that runs, or ran last */
    uint64_t phase_done, phase_total;
    int64_t started_ms, phase_ms, last_ended, last_written;
    uint64_t last_blocks, written_bytes;
    int last_session, commits;
    char last_error[1024];
};

static int64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void set_phase(struct dfs_committer *c, enum dfs_phase phase, uint64_t done, uint64_t total)
{
    if (phase != c->phase) {
        c->phase = phase;
        c->phases_seen |= 1u << phase;
        c->phase_ms = now_ms();
    }
    c->phase_done = done;
    c->phase_total = total;
    if (phase == DFS_PHASE_WRITING)
        c->written_bytes = total;
}

/* burn/'s progress, from the committer thread */
static void progress(void *ctx, enum dfs_phase phase, uint64_t done, uint64_t total)
{
    struct dfs_committer *c = ctx;

    pthread_mutex_lock(&c->lock);
    set_phase(c, phase, done, total);
    pthread_mutex_unlock(&c->lock);
}

/* One commit, for tickets up to TICKET; c->lock not held */
static int run(struct dfs_committer *c, uint64_t ticket, int close)
{
    struct dfs_mount *m = c->m;
    const struct dfs_disc_info *info;
    const char *why = "";
    int err;

    if (__atomic_load_n(&m->discard, __ATOMIC_RELAXED)) {
        /* discfs discard is ending the mount: nothing is written */
        err = -ECANCELED;
        fprintf(stderr, "discfs: no commit to '%s': its staged changes are being discarded\n",
                m->opt.device);
        goto out;
    }
    if (close && !m->opt.close)
        dfs_disc_set_close(m->disc, 1);
    err = dfs_view_commit(m->view);
    if (close && !m->opt.close)
        dfs_disc_set_close(m->disc, 0);
    info = dfs_disc_get_info(m->disc);
    why = err < 0 && dfs_disc_last_error(m->disc)[0] ? dfs_disc_last_error(m->disc)
                                                     : strerror(err < 0 ? -err : 0);
    if (err == 0)
        fprintf(stderr, "discfs: session %d written to '%s' and read back (%llu blocks)\n",
                info->sessions, m->opt.device, (unsigned long long)(c->written_bytes / 2048));
    else if (err < 0)
        fprintf(stderr,
                "discfs: commit to '%s' failed: %s; the changes stay staged in '%s' for the "
                "next commit (sync, discfs commit, unmount, or the next mount of the disc)\n",
                m->opt.device, why, m->store.dir);
out:
    pthread_mutex_lock(&c->lock);
    memmove(&c->recent[1], &c->recent[0], (DFS_CTL_RECENT - 1) * sizeof(c->recent[0]));
    c->recent[0].ticket = ticket;
    c->recent[0].result = err;
    c->done = ticket;
    c->last_ended = time(NULL);
    if (err == 0) {
        info = dfs_disc_get_info(m->disc);
        c->last_written = c->last_ended;
        c->commits++;
        c->last_session = info->sessions;
        c->last_blocks = c->written_bytes / 2048;
    }
    snprintf(c->last_error, sizeof(c->last_error), "%s",
             err == -ECANCELED ? "the staged changes are being discarded"
             : err < 0         ? why
                               : "");
    set_phase(c, DFS_PHASE_IDLE, 0, 0);
    pthread_cond_broadcast(&c->ended);
    pthread_mutex_unlock(&c->lock);
    return err;
}

static void *committer(void *arg)
{
    struct dfs_committer *c = arg;

    pthread_mutex_lock(&c->lock);
    for (;;) {
        uint64_t ticket;
        int close;

        while (!c->stop && c->done == c->requested)
            pthread_cond_wait(&c->wake, &c->lock);
        if (c->done == c->requested)
            break; /* stop, and nothing asked for */
        ticket = c->requested;
        close = c->close_next;
        c->close_next = 0;
        c->started_ms = now_ms();
        c->written_bytes = 0;
        c->phases_seen = 0;
        c->serving = ticket;
        set_phase(c, DFS_PHASE_BUILDING, 0, 0);
        pthread_mutex_lock(&c->m->view->lock);
        if (!c->m->view->dirty) /* it is over at once: nothing to commit, nothing to show */
            c->phases_seen = 0;
        pthread_mutex_unlock(&c->m->view->lock);
        pthread_mutex_unlock(&c->lock);
        run(c, ticket, close);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int dfs_committer_start(struct dfs_mount *m)
{
    struct dfs_committer *c = calloc(1, sizeof(*c));
    int err;

    if (!c)
        return -ENOMEM;
    c->m = m;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->ended, NULL);
    m->committer = c;
    if (m->disc)
        dfs_disc_set_progress(m->disc, progress, c);
    err = -pthread_create(&c->thread, NULL, committer, c);
    c->running = !err;
    return err;
}

void dfs_committer_stop(struct dfs_mount *m)
{
    struct dfs_committer *c = m->committer;

    if (!c)
        return;
    if (c->running) {
        pthread_mutex_lock(&c->lock);
        c->stop = 1;
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
    }
    if (m->disc)
        dfs_disc_set_progress(m->disc, NULL, NULL);
    pthread_cond_destroy(&c->ended);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
    m->committer = NULL;
}

int dfs_committer_set_discard(struct dfs_mount *m, int discard)
{
    struct dfs_committer *c = m->committer;
    int err = 0;

    if (c)
        pthread_mutex_lock(&c->lock);
    if (discard && c && (c->phase != DFS_PHASE_IDLE || c->requested != c->done))
        err = -EBUSY; /* a commit runs or is asked for: it writes what it holds */
    else
        __atomic_store_n(&m->discard, discard, __ATOMIC_RELAXED);
    if (c)
        pthread_mutex_unlock(&c->lock);
    return err;
}

int dfs_committer_running(struct dfs_mount *m)
{
    return m->committer && m->committer->running;
}

uint64_t dfs_committer_request(struct dfs_mount *m, int close)
{
    struct dfs_committer *c = m->committer;
    uint64_t ticket;

    pthread_mutex_lock(&c->lock);
    ticket = ++c->requested;
    c->close_next |= close;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    return ticket;
}

int dfs_committer_wait(struct dfs_mount *m, uint64_t ticket)
{
    struct dfs_committer *c = m->committer;
    int result;

    pthread_mutex_lock(&c->lock);
    if (!c->running && c->done < ticket) { /* no thread: the caller's own */
        uint64_t t = c->requested;
        int close = c->close_next;
        c->close_next = 0;
        c->serving = t;
        pthread_mutex_unlock(&c->lock);
        return run(c, t, close);
    }
    while (c->done < ticket)
        pthread_cond_wait(&c->ended, &c->lock);
    result = dfs_ctl_result(c->recent, ticket);
    pthread_mutex_unlock(&c->lock);
    return result;
}

int dfs_committer_commit(struct dfs_mount *m, int close)
{
    if (!m->committer) /* it could not even be allocated */
        return dfs_view_commit(m->view);
    return dfs_committer_wait(m, dfs_committer_request(m, close));
}

void dfs_committer_status(struct dfs_mount *m, struct dfs_ctl_status *st, int full)
{
    struct dfs_committer *c = m->committer;
    struct dfs_view *v = m->view;

    memset(st, 0, sizeof(*st));
    st->version = DFS_CTL_VERSION;
    st->pid = (int32_t)getpid();
    /* an image by its absolute path: it may have been mounted by a relative one */
    snprintf(st->device, sizeof(st->device), "%s",
             m->disc && dfs_disc_image_path(m->disc) ? dfs_disc_image_path(m->disc)
                                                     : m->opt.device);
    if (full && m->view) { /* a commit's rekey replaces the stage under the view's lock */
        pthread_mutex_lock(&m->view->lock);
        snprintf(st->stage_dir, sizeof(st->stage_dir), "%s", m->store.dir ? m->store.dir : "");
        pthread_mutex_unlock(&m->view->lock);
    }
    if (st->stage_dir[0]) {
        int64_t use = dfs_stage_disk_use(st->stage_dir);
        st->stage_disk_bytes = use > 0 ? (uint64_t)use : 0;
    }
    if (m->sessions) {
        snprintf(st->snapdir, sizeof(st->snapdir), "%s",
                 m->opt.snapdir ? m->opt.snapdir : DFS_SNAPDIR_DEFAULT);
        st->sessions_in_memory = dfs_sessions_in_memory(m);
    }
    if (!c)
        return;
    st->shown_session = m->opt.session;
    pthread_mutex_lock(&c->lock);
    st->phase = c->phase;
    st->phases_seen = c->phases_seen;
    st->requested = c->requested;
    st->done = c->done;
    st->serving = c->serving;
    memcpy(st->recent, c->recent, sizeof(st->recent));
    st->phase_done = c->phase_done;
    st->phase_total = c->phase_total;
    st->started_ms = c->started_ms;
    st->phase_ms = c->phase_ms;
    st->last_ended = c->last_ended;
    st->last_written = c->last_written;
    st->last_blocks = c->last_blocks;
    st->last_session = c->last_session;
    st->commits = c->commits;
    snprintf(st->last_error, sizeof(st->last_error), "%s", c->last_error);
    if (full && c->phase == DFS_PHASE_IDLE) {
        /* no commit runs, and none starts until c->lock is let go: the disc and
         * the view hold still (the view's lock is for the changes) */
        const struct dfs_disc_info *info = dfs_disc_get_info(m->disc);
        struct dfs_changes ch;

        snprintf(st->profile, sizeof(st->profile), "%s", info->profile);
        snprintf(st->volid, sizeof(st->volid), "%s", info->volid);
        st->sessions = info->sessions;
        st->state = info->state;
        st->capacity_blocks = dfs_disc_capacity(m->disc);
        st->free_blocks = info->state == DFS_MEDIA_CLOSED ? 0 : dfs_disc_free_blocks(m->disc);
        pthread_mutex_lock(&v->lock);
        st->readonly = v->readonly;
        st->dirty = v->dirty;
        st->next_blocks = v->readonly ? 0 : dfs_view_next_session_blocks(v);
        if (dfs_view_changes(v, &ch, NULL, NULL) == 0) {
            st->pending_known = 1;
            st->added = ch.added;
            st->changed = ch.changed;
            st->removed = ch.removed;
            st->staged_bytes = ch.staged_bytes;
        }
        pthread_mutex_unlock(&v->lock);
    }
    pthread_mutex_unlock(&c->lock);
}

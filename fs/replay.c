/* fs/replay.c - the view's changes as journal records, and their replay
 *
 * Every change of the view that a commit would have to write is recorded in the
 * stage journal (cache/journal.h) before the operation is acknowledged.  The
 * records name inodes by view id: ids of on-disc inodes come from the walk of the
 * newest session, which is the same on every mount of the same disc, and new
 * inodes record the id they got, so that the replay recreates them under the same
 * ids and the later records find them.
 *
 * File content is not journalled: it lives in the content files of the stage.  A
 * staged file's size is therefore its content file's size after the replay; the
 * records only say which content file belongs to which inode (MAKE, STAGE).
 * What a replay restores: every acknowledged change (each record is fdatasync'd
 * before the reply), the content of every file that was fsync'd or closed (the
 * content file is fsync'd on release), times included (a change of names records
 * the time its directories got).  Not restored: writes into a file that was
 * neither fsync'd nor closed before the crash.
 *
 * The records are written by the dfs_view_* operations after their checks, and
 * replayed by apply(), which calls the same do_* functions (internal.h) that the
 * operations call: a replay never goes through the checks, the records or the
 * lookup counts of a live operation.  What the records hold, and their bytes, are
 * record.h's: here a change becomes a struct dfs_record and a decoded record a
 * change.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "record.h"

/* Append R (v->lock held).  A journal that cannot be written (but for want of
 * space) stops all further changes: acknowledging them could lose them. */
static int emit(struct dfs_view *v, const struct dfs_record *r)
{
    struct dfs_buf b;
    int err;

    if (!v->journal)
        return 0;
    if (v->journal_broken)
        return -EIO;
    err = dfs_record_encode(r, &b);
    if (err)
        return err; /* a change the format cannot hold: nothing was written */
    err = dfs_journal_append(v->journal, r->type, b.data, (uint32_t)b.len);
    dfs_buf_free(&b);
    if (err == -ENOSPC || err == -EDQUOT) {
        /* a full cache: this change fails and the journal stays whole (a record cut
         * short is overwritten by the next one), so later changes go through as
         * soon as there is room again */
        if (!v->journal_full)
            fprintf(stderr,
                    "discfs: %s: changes fail with 'No space left on device' until space is "
                    "freed in the cache\n",
                    dfs_journal_error(v->journal));
        v->journal_full = 1;
        return err;
    }
    v->journal_full = 0;
    if (err) {
        v->journal_broken = 1;
        fprintf(stderr,
                "discfs: %s; from now on changes are refused so that none is lost: commit "
                "with `sync MOUNTPOINT` or free space in the cache\n",
                dfs_journal_error(v->journal));
    }
    return err;
}

/* After a record of INO's size and mtime (ERR from emit): remember them. */
static int logged(struct dfs_view *v, struct dfs_inode *ino, int err)
{
    (void)v;
    if (!err && dfs_inode_more(ino) == 0) { /* else a later check records it again */
        ino->more->logged_size = ino->st.st_size;
        ino->more->logged_mtim = dfs_ts(ino->st.st_mtim);
    }
    return err;
}

int dfs_view_log_ok(struct dfs_view *v)
{
    return v->journal_broken ? -EIO : 0;
}

int dfs_view_log_make(struct dfs_view *v, uint64_t dir, const char *name,
                      const struct dfs_inode *ino)
{
    struct dfs_record r = {
        .type = DFS_REC_MAKE,
        .dir = dir,
        .id = ino->id,
        .mode = ino->st.st_mode,
        .rdev = ino->more->rdev,
        .uid = ino->st.st_uid,
        .gid = ino->st.st_gid,
        .mtime = dfs_ts(ino->st.st_mtim),
        .cache_id = ino->more->cache_id,
        .name = name,
        .name2 = ino->more->link,
        .op_time = v->op_time, /* set by the operation (names.c) */
    };

    return logged(v, (struct dfs_inode *)ino, emit(v, &r));
}

int dfs_view_log_remove(struct dfs_view *v, uint64_t dir, const char *name, int is_dir)
{
    struct dfs_record r = {
        .type = is_dir ? DFS_REC_RMDIR : DFS_REC_UNLINK,
        .dir = dir,
        .name = name,
        .op_time = v->op_time,
    };

    return emit(v, &r);
}

int dfs_view_log_rename(struct dfs_view *v, uint64_t dir, const char *name, uint64_t newdir,
                        const char *newname, unsigned flags)
{
    struct dfs_record r = {
        .type = DFS_REC_RENAME,
        .dir = dir,
        .name = name,
        .newdir = newdir,
        .name2 = newname,
        .flags = flags,
        .op_time = v->op_time,
    };

    return emit(v, &r);
}

int dfs_view_log_setattr(struct dfs_view *v, const struct dfs_inode *ino, int to_set)
{
    struct dfs_record r = {
        .type = DFS_REC_SETATTR,
        .id = ino->id,
        .to_set = (uint64_t)to_set,
        .mode = ino->st.st_mode,
        .uid = ino->st.st_uid,
        .gid = ino->st.st_gid,
        .size = (uint64_t)ino->st.st_size,
        .atime = dfs_ts(ino->st.st_atim),
        .mtime = dfs_ts(ino->st.st_mtim),
        .ctime = dfs_ts(ino->st.st_ctim),
    };

    return logged(v, (struct dfs_inode *)ino, emit(v, &r));
}

int dfs_view_log_written(struct dfs_view *v, struct dfs_inode *ino)
{
    if (ino->more->logged_size == ino->st.st_size &&
        ino->more->logged_mtim.tv_sec == ino->st.st_mtim.tv_sec &&
        ino->more->logged_mtim.tv_nsec == ino->st.st_mtim.tv_nsec)
        return 0; /* e.g. cp -a: its utimens after the writes was recorded already */
    return dfs_view_log_setattr(v, ino, DFS_SET_SIZE | DFS_SET_MTIME);
}

int dfs_view_log_stage(struct dfs_view *v, const struct dfs_inode *ino)
{
    struct dfs_record r = {.type = DFS_REC_STAGE, .id = ino->id, .cache_id = ino->more->cache_id};

    return emit(v, &r);
}

int dfs_view_log_link(struct dfs_view *v, uint64_t id, uint64_t newdir, const char *newname)
{
    struct dfs_record r = {
        .type = DFS_REC_LINK,
        .id = id,
        .newdir = newdir,
        .name = newname,
        .op_time = v->op_time,
    };

    return emit(v, &r);
}

int dfs_view_log_xattr(struct dfs_view *v, uint64_t id, const char *name, const void *value,
                       size_t size, int remove)
{
    struct dfs_record r = {
        .type = DFS_REC_XATTR,
        .id = id,
        .remove = (uint64_t)remove,
        .name = name,
        .value = value,
        .value_size = size,
    };

    return emit(v, &r);
}

/* One record: a crash cannot cut the map in two (records are whole or dropped, and
 * a stage whose BASE was dropped has no changes yet: the fresh ids are right).
 * Any failure to write it stops all further changes, a full cache included. */
int dfs_view_log_base(struct dfs_view *v, const uint64_t (*map)[2], size_t n)
{
    struct dfs_record r = {.type = DFS_REC_BASE, .n_map = n, .map = map};
    struct dfs_buf b;
    int err;

    if (!v->journal)
        return 0;
    if (v->journal_broken)
        return -EIO;
    err = dfs_record_encode(&r, &b);
    if (err)
        return err;
    err = dfs_journal_append(v->journal, DFS_REC_BASE, b.data, (uint32_t)b.len);
    dfs_buf_free(&b);
    if (err) {
        v->journal_broken = 1;
        fprintf(stderr, "discfs: %s; from now on changes are refused so that none is lost\n",
                dfs_journal_error(v->journal));
    }
    return err;
}

int dfs_view_log_commit(struct dfs_view *v, uint32_t start)
{
    struct dfs_record r = {.type = DFS_REC_COMMIT, .start = start};

    return emit(v, &r);
}

struct intent {
    int found, changed_after;
    uint32_t start;
};

static int find_intent(void *ctx, uint16_t type, const void *payload, uint32_t len)
{
    struct intent *in = ctx;
    struct dfs_record r;

    if (type == DFS_REC_COMMIT) {
        if (dfs_record_decode(type, payload, len, &r, NULL))
            return -EBADMSG;
        in->found = 1;
        in->start = (uint32_t)r.start;
        in->changed_after = 0;
    } else if (type != DFS_REC_BASE) {
        in->changed_after = 1;
    }
    return 0;
}

int dfs_stage_intent(struct dfs_journal *j, uint32_t *start, int *changed_after)
{
    struct intent in = {0};
    long n = dfs_journal_replay(j, find_intent, &in, NULL);

    if (n < 0)
        return (int)n;
    *start = in.start;
    *changed_after = in.changed_after;
    return in.found;
}

/* The BASE records are complete: renumber the view by them. */
static int apply_base(struct dfs_view *v)
{
    int err = 0;

    if (v->replay_map) {
        err = dfs_view_renumber(v, (const uint64_t(*)[2])v->replay_map, v->n_replay_map);
        if (err)
            fprintf(stderr, "discfs: the journal's map of inode numbers does not fit the disc\n");
        free(v->replay_map);
        v->replay_map = NULL;
        v->n_replay_map = 0;
    }
    return err;
}

/* ---- replay ---- */

/* The time of the change of names R: its directories get it as their mtime */
static void replay_op_time(struct dfs_view *v, const struct dfs_record *r)
{
    if (r->has_op_time)
        v->op_time = r->op_time;
    else
        clock_gettime(CLOCK_REALTIME, &v->op_time); /* a record older than op_time */
}

/* The change the record R describes, applied with the do_* functions of the view
 * (internal.h), as the live operation applied it (lock held). */
static int apply(struct dfs_view *v, const struct dfs_record *r)
{
    struct dfs_inode *dir, *dir2, *ino;
    struct dfs_dentry *e, *te;

    switch (r->type) {
    case DFS_REC_MAKE: {
        struct dfs_make a = {
            .id = r->id,
            .mode = (mode_t)r->mode,
            .rdev = (dev_t)r->rdev,
            .uid = (uid_t)r->uid,
            .gid = (gid_t)r->gid,
            .link = r->name2,
            .cache_id = r->cache_id,
            .time = r->mtime,
        };

        replay_op_time(v, r);
        dfs_store_reserve(v->store, a.cache_id);
        if (dfs_get_dir(v, r->dir, &dir) || dfs_dentry_find(v, dir, r->name) ||
            (a.id && a.id < v->n_ids))
            return -ESTALE;
        return dfs_do_make(v, dir, r->name, &a, &ino);
    }
    case DFS_REC_UNLINK:
    case DFS_REC_RMDIR:
        replay_op_time(v, r);
        if (dfs_get_dir(v, r->dir, &dir) || !(e = dfs_dentry_find(v, dir, r->name)))
            return -ENOENT;
        if (S_ISDIR(e->inode->st.st_mode) != (r->type == DFS_REC_RMDIR) || dfs_dp(e->inode)->n_ents)
            return -ESTALE;
        dfs_do_remove(v, dir, e);
        return 0;
    case DFS_REC_RENAME: {
        unsigned flags = (unsigned)r->flags;

        replay_op_time(v, r);
        if (dfs_get_dir(v, r->dir, &dir) || dfs_get_dir(v, r->newdir, &dir2) ||
            !(e = dfs_dentry_find(v, dir, r->name)))
            return -ENOENT;
        te = dfs_dentry_find(v, dir2, r->name2);
        if (te == e || (te && te->inode == e->inode && !(flags & RENAME_EXCHANGE)))
            return 0; /* as the live rename: nothing to do */
        if ((flags & RENAME_EXCHANGE) && !te)
            return -ENOENT;
        return dfs_do_rename(v, dir, e, dir2, te, r->name2, flags);
    }
    case DFS_REC_SETATTR: {
        int to_set = (int)r->to_set;
        struct stat in = {0};

        in.st_mode = (mode_t)r->mode;
        in.st_uid = (uid_t)r->uid;
        in.st_gid = (gid_t)r->gid;
        in.st_size = (off_t)r->size;
        in.st_atim = r->atime;
        in.st_mtim = r->mtime;
        in.st_ctim = r->ctime;
        if (!(ino = dfs_view_inode(v, r->id)))
            return -ESTALE;
        if ((to_set & DFS_SET_SIZE) && !S_ISREG(ino->st.st_mode))
            return -ESTALE;
        dfs_do_setattr(v, ino, &in, to_set | DFS_SET_CTIME);
        return 0;
    }
    case DFS_REC_STAGE:
        dfs_store_reserve(v->store, r->cache_id);
        if (!(ino = dfs_view_inode(v, r->id)) || !S_ISREG(ino->st.st_mode))
            return -ESTALE;
        return dfs_view_use_content(ino, r->cache_id);
    case DFS_REC_LINK:
        replay_op_time(v, r);
        if (!(ino = dfs_view_inode(v, r->id)) || S_ISDIR(ino->st.st_mode) ||
            dfs_get_dir(v, r->newdir, &dir) || dfs_dentry_find(v, dir, r->name))
            return -ESTALE;
        return dfs_do_link(v, ino, dir, r->name);
    case DFS_REC_XATTR:
        if (!(ino = dfs_view_inode(v, r->id)))
            return -ESTALE;
        return dfs_do_xattr(v, ino, r->name, r->remove ? NULL : r->value, (size_t)r->value_size);
    }
    return 0;
}

static int replay_one(void *ctx, uint16_t type, const void *payload, uint32_t len)
{
    struct dfs_view *v = ctx;
    struct dfs_record_strings s;
    struct dfs_record r;
    int err = 0;

    if (type == DFS_REC_BASE) {
        uint64_t(*m)[2];

        if (dfs_record_decode(type, payload, len, &r, NULL) ||
            (v->replay_map == NULL && v->n_replay_map) || v->replay_done_base) {
            fprintf(stderr, "discfs: a journal record of type %u is malformed\n", type);
            return -EBADMSG;
        }
        m = realloc(v->replay_map, (v->n_replay_map + r.n_map) * sizeof(*m));
        if (!m)
            return -ENOMEM;
        v->replay_map = m;
        for (uint64_t i = 0; i < r.n_map; i++)
            dfs_record_base_pair(&r, i, m[v->n_replay_map++]);
        return 0;
    }
    if (type == DFS_REC_COMMIT)
        return 0;        /* where a commit began to write (fs/main.c): no change */
    err = apply_base(v); /* before the first record of another kind */
    v->replay_done_base = 1;
    if (err)
        return err;
    if (type < DFS_REC_MAKE || type > DFS_REC_XATTR) {
        fprintf(stderr, "discfs: the journal holds a record of unknown type %u\n", type);
        return -EPROTONOSUPPORT;
    }
    v->replayed_changes++;
    if (dfs_record_decode(type, payload, len, &r, &s)) {
        fprintf(stderr, "discfs: a journal record of type %u is malformed\n", type);
        return -EBADMSG;
    }
    pthread_mutex_lock(&v->lock);
    err = apply(v, &r);
    pthread_mutex_unlock(&v->lock);
    if (err)
        fprintf(stderr, "discfs: a journal record of type %u does not apply to the disc: %s\n",
                type, strerror(-err));
    return err;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Remove content files that no inode refers to after the replay: those of files
 * whose deletion was acknowledged, and those of files whose creation never was
 * (lock held). */
static void sweep(struct dfs_view *v)
{
    uint64_t *ids, *used;
    long n = dfs_store_list(v->store, &ids), n_used = 0;

    if (n <= 0)
        return;
    used = calloc((size_t)v->n_ids + 1, sizeof(*used));
    if (!used) {
        free(ids);
        return;
    }
    for (uint64_t i = 1; i < v->n_ids; i++)
        if (v->inodes[i] && v->inodes[i]->more->cache_id)
            used[n_used++] = v->inodes[i]->more->cache_id;
    qsort(used, (size_t)n_used, sizeof(*used), cmp_u64);
    for (long i = 0; i < n; i++)
        if (!bsearch(&ids[i], used, (size_t)n_used, sizeof(*used), cmp_u64))
            dfs_store_remove(v->store, ids[i]);
    free(used);
    free(ids);
}

/* The replay's state around the records (BEGIN), and the BASE map applied after
 * them (end: N the records' count or -errno, returned as it ends) */
static void replay_begin(struct dfs_view *v)
{
    v->replaying = 1;
    v->replay_done_base = 0;
    v->replayed_changes = 0;
}

static long replay_end(struct dfs_view *v, long n)
{
    if (n >= 0) {
        int err = apply_base(v); /* a journal of BASE records only */
        if (err)
            n = err;
    }
    free(v->replay_map);
    v->replay_map = NULL;
    v->replaying = 0;
    return n;
}

/* Is FOUND what the cache's filesystem makes of the mtime WANT (the journal's), so
 * that no write moved it since?  A filesystem keeps a range and a granularity of
 * its own (ext4: none before 1901-12-13 20:45:52): a content file set to a time
 * outside them shows another, which is no write.  Asked of a scratch file. */
static int cache_fs_holds(struct dfs_view *v, struct timespec want, struct timespec found)
{
    struct stat st;
    uint64_t id;
    int fd, same = 0;

    if (want.tv_sec == found.tv_sec && want.tv_nsec == found.tv_nsec)
        return 1;
    fd = dfs_store_create(v->store, &id);
    if (fd < 0)
        return 0;
    if (dfs_store_set_mtime(v->store, id, &want) == 0 && fstat(fd, &st) == 0)
        same = st.st_mtim.tv_sec == found.tv_sec && st.st_mtim.tv_nsec == found.tv_nsec;
    close(fd);
    dfs_store_remove(v->store, id);
    return same;
}

/* The truth about staged content is the content files themselves: recount (lock
 * held).  A content file lost in a crash before it was synced becomes an empty
 * one, recorded, if REPAIR (a mount); a look at the stage leaves the inode out. */
static int recount_staged(struct dfs_view *v, int repair)
{
    v->staged_blocks = 0;
    for (uint64_t i = 1; i < v->n_ids; i++) {
        struct dfs_inode *ino = v->inodes[i];
        struct stat st;
        int fd;

        if (!ino || !ino->more->cache_id)
            continue;
        fd = dfs_store_open_file(v->store, ino->more->cache_id, O_RDONLY);
        if (fd < 0 && !repair)
            continue;
        if (fd < 0) {
            uint64_t id;
            int err;
            fprintf(stderr,
                    "discfs: the content of inode %llu was lost in a crash before it was "
                    "synced; it is empty now\n",
                    (unsigned long long)ino->id);
            fd = dfs_store_create(v->store, &id);
            if (fd < 0)
                return fd;
            err = dfs_inode_set_cache_id(ino, id);
            if (err) {
                close(fd);
                dfs_store_remove(v->store, id);
                return err;
            }
            /* the journal must name the new content file, or the next replay would
             * look for the lost one and sweep this one away */
            err = dfs_store_sync_dir(v->store);
            if (!err)
                err = dfs_view_log_stage(v, ino);
            if (err) {
                close(fd);
                return err;
            }
        }
        ino->st.st_size = 0;
        if (fstat(fd, &st) == 0) {
            dfs_view_set_staged_size(v, ino, st.st_size);
            if (!repair || !cache_fs_holds(v, dfs_ts(ino->st.st_mtim), st.st_mtim))
                ino->st.st_mtim = dfs_time(st.st_mtim); /* the last write (store.h) */
        }
        close(fd);
    }
    return 0;
}

long dfs_view_replay(struct dfs_view *v, struct dfs_journal *j)
{
    long n;
    int torn = 0, err;

    replay_begin(v);
    n = replay_end(v, dfs_journal_replay(j, replay_one, v, &torn));
    v->journal = j;
    if (n < 0)
        return n;
    if (torn)
        fprintf(stderr,
                "discfs: the last record of the journal in '%s' was incomplete (a crash "
                "while it was written): it was dropped, the %ld before it are kept\n",
                v->store->dir, n);
    pthread_mutex_lock(&v->lock);
    err = recount_staged(v, 1);
    if (err) {
        pthread_mutex_unlock(&v->lock);
        return err;
    }
    n = (long)v->replayed_changes; /* the changes, not the BASE records */
    if (n > 0)
        v->dirty = 1;
    sweep(v);
    pthread_mutex_unlock(&v->lock);
    return n;
}

long dfs_view_replay_peek(struct dfs_view *v, const char *stage_dir, const char *key)
{
    char base[33];
    long n;

    replay_begin(v);
    n = dfs_journal_peek(stage_dir, base, replay_one, v);
    if (n >= 0 && strncmp(base, key, 32) != 0)
        n = -ESTALE; /* the journal of another session: a mount sets it aside */
    n = replay_end(v, n);
    if (n < 0)
        return n;
    pthread_mutex_lock(&v->lock);
    recount_staged(v, 0); /* nothing made: it cannot fail */
    n = (long)v->replayed_changes;
    v->dirty = n > 0;
    pthread_mutex_unlock(&v->lock);
    return n;
}

/* ---- -o journal=async ----
 * Records are written at once and survive the death of the daemon; once a second
 * a thread syncs the cache's filesystem (content files, their names, the
 * journal), and fsync of a file or directory syncs at once.  A power cut may lose
 * the changes of the last second. */

int dfs_view_sync_journal(struct dfs_view *v)
{
    struct dfs_journal *j;
    int fd, err = 0;

    pthread_mutex_lock(&v->lock);
    j = v->journal;
    fd = j ? dfs_journal_sync_begin(j) : -1;
    if (fd >= 0) { /* the sync without the lock: it can take long while much is written */
        pthread_mutex_unlock(&v->lock);
        err = fdatasync(fd) < 0 ? -errno : 0;
        pthread_mutex_lock(&v->lock);
        if (v->journal == j) /* else a commit replaced it, and synced this one */
            err = dfs_journal_sync_end(j, fd, err);
        else
            close(fd), err = 0;
    }
    pthread_mutex_unlock(&v->lock);
    return err;
}

static void *flusher(void *arg)
{
    struct dfs_view *v = arg;

    pthread_mutex_lock(&v->lock);
    while (!v->flusher_stop) {
        struct timespec ts;

        int fd;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&v->flusher_wake, &v->lock, &ts);
        if (v->flusher_stop)
            break;
        /* the content files and their names too: one syncfs of the cache's
         * filesystem instead of a sync per file, without the lock (it can take
         * seconds while much is written) */
        fd = v->store && v->store->data_fd >= 0 ? dup(v->store->data_fd) : -1;
        if (fd >= 0) {
            pthread_mutex_unlock(&v->lock);
            syncfs(fd);
            close(fd);
            pthread_mutex_lock(&v->lock);
        }
        if (v->journal && dfs_journal_sync(v->journal) < 0 && !v->journal_broken) {
            v->journal_broken = 1;
            fprintf(stderr, "discfs: %s; from now on changes are refused so that none is lost\n",
                    dfs_journal_error(v->journal));
        }
    }
    pthread_mutex_unlock(&v->lock);
    return NULL;
}

int dfs_view_start_flusher(struct dfs_view *v)
{
    int err;

    pthread_mutex_lock(&v->lock);
    v->journal_lazy = 1;
    if (v->journal)
        dfs_journal_set_lazy(v->journal, 1);
    pthread_mutex_unlock(&v->lock);
    pthread_cond_init(&v->flusher_wake, NULL);
    err = -pthread_create(&v->flusher, NULL, flusher, v);
    if (err)
        v->journal_lazy = 0;
    return err;
}

void dfs_view_stop_flusher(struct dfs_view *v)
{
    if (!v->journal_lazy)
        return;
    pthread_mutex_lock(&v->lock);
    v->flusher_stop = 1;
    pthread_cond_signal(&v->flusher_wake);
    pthread_mutex_unlock(&v->lock);
    pthread_join(v->flusher, NULL);
    pthread_cond_destroy(&v->flusher_wake);
    dfs_view_sync_journal(v);
}

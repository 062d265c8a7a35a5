/* fs/inode.c - inodes of the view: ids (fuse node ids), lookup counts, attributes
 * and where the data of each lives (view.h: inode identity) */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

const struct dfs_dir dfs_no_dir;
const struct dfs_more dfs_no_more;

/* An inode of the disc is one heap chunk of 128 bytes (glibc: up to 120 asked for);
 * a byte more costs 16 a file (BENCHMARKS.md, Mount memory) */
_Static_assert(sizeof(struct dfs_inode) <= 120, "struct dfs_inode grew past a 128-byte chunk");

struct dfs_inode *dfs_view_inode(struct dfs_view *v, uint64_t id)
{
    if (id == 0 || id >= v->n_ids)
        return NULL;
    return v->inodes[id];
}

struct dfs_inode *dfs_inode_new(struct dfs_view *v, mode_t mode, uint64_t id)
{
    struct dfs_inode *ino;

    /* a replayed inode gets the id it had (ids only grow, gaps stay empty) */
    uint64_t want = id ? id : v->n_ids;

    if (want < v->n_ids || want > UINT32_MAX)
        return NULL; /* 2^32 ids: the table of them alone would take 32 GiB */
    while (want >= v->cap_ids) {
        uint64_t cap = v->cap_ids ? 2 * v->cap_ids : 1024;
        struct dfs_inode **n = realloc(v->inodes, cap * sizeof(*n));
        if (!n)
            return NULL;
        memset(n + v->cap_ids, 0, (cap - v->cap_ids) * sizeof(*n));
        v->inodes = n;
        v->cap_ids = cap;
    }
    v->n_ids = want;
    ino = calloc(1, sizeof(*ino));
    if (!ino)
        return NULL;
    ino->more = (struct dfs_more *)&dfs_no_more;
    if (S_ISDIR(mode)) { /* its names, and a rare part of its own (view.h) */
        struct dfs_dir *dp = calloc(1, sizeof(*dp));
        if (!dp) {
            free(ino);
            return NULL;
        }
        dp->next_off = 3; /* 1 and 2 are "." and ".." */
        ino->more = &dp->more;
    }
    ino->id = v->n_ids;
    v->inodes[v->n_ids++] = ino;
    ino->st.st_mode = mode;
    ino->st.st_nlink = S_ISDIR(mode) ? 2 : 1;
    ino->st.st_ino = v->ino_base + ino->id;
    v->n_live++;
    return ino;
}

/* Free an inode that is no longer in the tree, once nobody refers to it. */
void dfs_inode_maybe_free(struct dfs_view *v, struct dfs_inode *ino)
{
    if (ino->st.st_nlink > 0 || ino->nlookup > 0 || ino->nopen > 0 || ino->id == DFS_ROOT_ID)
        return;
    if (ino->more->cache_id) {
        dfs_view_set_staged_size(v, ino, 0);
        /* a replay never removes content: the sweep after it does (replay.c) */
        if (!v->replaying)
            dfs_store_remove(v->store, ino->more->cache_id);
    }
    v->inodes[ino->id] = NULL;
    dfs_inode_destroy(ino);
}

int dfs_inode_more(struct dfs_inode *ino)
{
    struct dfs_more *m;

    if (ino->more != &dfs_no_more)
        return 0;
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    ino->more = m;
    return 0;
}

void dfs_inode_destroy(struct dfs_inode *ino)
{
    dfs_view_drop_disc_nodes(ino);
    dfs_inode_drop_ext(ino);
    if (ino->more != &dfs_no_more) {
        free(ino->more->link);
        dfs_xattrs_free(ino->more->xattrs, ino->more->n_xattrs);
        if (S_ISDIR(ino->st.st_mode)) {
            struct dfs_dir *dp = dfs_dp(ino);

            dfs_dir_free_names(dp);
            free(dp->ents);
            free(dp->next);
            free(dp->buckets);
        }
        free(ino->more); /* a directory's: its struct dfs_dir */
    }
    free(ino);
}

int dfs_inode_set_ext(struct dfs_inode *ino, struct dfs_extent *ext, int n)
{
    if (n > DFS_MAX_EXTENTS || (n == 1 && ext[0].size > UINT32_MAX)) {
        free(ext); /* the disc's runs are less than 4 GiB each (ISO 9660) */
        return -EFBIG;
    }
    dfs_inode_drop_ext(ino);
    if (n > 1) {
        ino->ext.many = ext;
    } else {
        if (n == 1) {
            ino->ext.one.lba = ext[0].lba;
            ino->ext.one.size = (uint32_t)ext[0].size;
        }
        free(ext);
    }
    ino->n_ext = (uint16_t)(n > 0 ? n : 0);
    return 0;
}

void dfs_inode_drop_ext(struct dfs_inode *ino)
{
    if (ino->n_ext > 1)
        free(ino->ext.many);
    memset(&ino->ext, 0, sizeof(ino->ext));
    ino->n_ext = 0;
}

int dfs_view_renumber(struct dfs_view *v, const uint64_t (*map)[2], size_t n)
{
    uint64_t max = 0, live = 0, cap;
    struct dfs_inode **to;

    for (size_t i = 0; i < n; i++)
        if (map[i][1] > max)
            max = map[i][1];
    for (uint64_t i = 1; i < v->n_ids; i++)
        live += v->inodes[i] != NULL;
    if (live != n)
        return -EBADMSG; /* the map must cover exactly the inodes of the session */
    if (max > UINT32_MAX)
        return -ENOMEM; /* as dfs_inode_new() */
    cap = max + 1 > 1024 ? max + 1 : 1024;
    to = calloc(cap, sizeof(*to));
    if (!to)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct dfs_inode *ino = dfs_view_inode(v, map[i][0]);
        if (!ino || map[i][1] == 0 || to[map[i][1]] ||
            (map[i][0] == DFS_ROOT_ID) != (map[i][1] == DFS_ROOT_ID)) {
            free(to);
            return -EBADMSG;
        }
        to[map[i][1]] = ino;
    }
    for (uint64_t id = 1; id <= max; id++) {
        struct dfs_inode *ino = to[id];
        if (!ino)
            continue;
        if (ino->st.st_ino == v->ino_base + ino->id)
            ino->st.st_ino = v->ino_base + id;
        ino->id = id;
    }
    free(v->inodes);
    v->inodes = to;
    v->cap_ids = cap;
    v->n_ids = max + 1;
    /* names are found through their directory, not by its id: they stay as they are */
    return 0;
}

static void now(struct timespec *ts)
{
    clock_gettime(CLOCK_REALTIME, ts);
}

void dfs_view_touch(struct dfs_inode *ino, int mtime)
{
    struct timespec ts;

    now(&ts);
    ino->st.st_ctim = dfs_time(ts);
    if (mtime)
        ino->st.st_mtim = dfs_time(ts);
}

void dfs_view_store_mtime(struct dfs_view *v, struct dfs_inode *ino, uint64_t id)
{
    struct timespec mtime = dfs_ts(ino->st.st_mtim);

    dfs_store_set_mtime(v->store, id, &mtime);
}

void dfs_view_touch_dir(struct dfs_view *v, struct dfs_inode *dir)
{
    dir->st.st_mtim = dir->st.st_ctim = dfs_time(v->op_time);
}

void dfs_view_stat(struct dfs_view *v, const struct dfs_inode *ino, struct stat *st)
{
    (void)v;
    memset(st, 0, sizeof(*st));
    st->st_ino = ino->st.st_ino;
    st->st_mode = ino->st.st_mode;
    st->st_nlink = ino->st.st_nlink;
    st->st_uid = ino->st.st_uid;
    st->st_gid = ino->st.st_gid;
    st->st_rdev = ino->more->rdev;
    st->st_size = ino->st.st_size;
    st->st_blksize = 65536;
    st->st_blocks = (st->st_size + 511) / 512;
    st->st_atim = dfs_ts(ino->st.st_atim);
    st->st_mtim = dfs_ts(ino->st.st_mtim);
    st->st_ctim = dfs_ts(ino->st.st_ctim);
}

void dfs_view_set_staged_size(struct dfs_view *v, struct dfs_inode *ino, off_t size)
{
    uint64_t old_b = ((uint64_t)ino->st.st_size + 2047) / 2048;
    uint64_t new_b = ((uint64_t)size + 2047) / 2048;

    v->staged_blocks = v->staged_blocks - old_b + new_b;
    ino->st.st_size = size;
    if (old_b >> 21 != new_b >> 21) /* the 4 GiB extents of its records (space.c) */
        dfs_space_refresh(v, ino);
}

/* One node of the disc per name the inode had there (hard links: every name of a
 * family is a node of its own, and a commit puts each one back, see disc.h). */
int dfs_view_add_disc_node(struct dfs_inode *ino, void *node)
{
    unsigned n = dfs_inode_n_disc(ino);

    if ((uintptr_t)node & 1)
        return -EINVAL; /* the low bit says "several" (view.h) */
    if (n == 0) {
        ino->disc = (uintptr_t)node; /* the common case: no array */
    } else {
        struct dfs_disc_nodes *d = n == 1 ? NULL : (struct dfs_disc_nodes *)(ino->disc - 1);

        d = realloc(d, sizeof(*d) + (n + 1) * sizeof(d->node[0]));
        if (!d)
            return -ENOMEM;
        if (n == 1)
            d->node[0] = (void *)ino->disc;
        d->node[n] = node;
        d->n = n + 1;
        ino->disc = (uintptr_t)d + 1;
    }
    dfs_disc_node_get(node);
    return 0;
}

void dfs_view_drop_disc_nodes(struct dfs_inode *ino)
{
    unsigned n = dfs_inode_n_disc(ino);

    for (unsigned i = 0; i < n; i++)
        dfs_disc_node_put(dfs_inode_disc_node(ino, i));
    if (n > 1)
        free((void *)(ino->disc - 1));
    ino->disc = 0;
}

uint64_t dfs_view_forget(struct dfs_view *v, uint64_t id, uint64_t n)
{
    struct dfs_inode *ino;
    uint64_t left;

    pthread_mutex_lock(&v->lock);
    dfs_view_wait_commit(v); /* it may free a node of the tree being written */
    ino = dfs_view_inode(v, id);
    if (ino) {
        /* the mount's root is never forgotten; a session's root is (sessions.c) */
        if (n > ino->nlookup || n > v->kernel_refs) {
            fprintf(stderr, "discfs: forget of %llu more references than known to inode %llu\n",
                    (unsigned long long)n, (unsigned long long)id);
            abort(); /* STYLE 7: underflow is a bug, not a condition */
        }
        ino->nlookup -= n;
        v->kernel_refs -= n;
        if (id != DFS_ROOT_ID)
            dfs_inode_maybe_free(v, ino);
    }
    left = v->kernel_refs;
    pthread_mutex_unlock(&v->lock);
    return left;
}

int dfs_view_hold(struct dfs_view *v, uint64_t id, struct stat *st)
{
    struct dfs_inode *ino;

    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    if (ino) {
        dfs_inode_hold(v, ino);
        dfs_view_stat(v, ino, st);
        st->st_dev = ino->id;
    }
    pthread_mutex_unlock(&v->lock);
    return ino ? 0 : -ESTALE;
}

uint64_t dfs_view_kernel_refs(struct dfs_view *v)
{
    uint64_t n;

    pthread_mutex_lock(&v->lock);
    n = v->kernel_refs;
    pthread_mutex_unlock(&v->lock);
    return n;
}

int dfs_view_getattr(struct dfs_view *v, uint64_t id, struct stat *st)
{
    struct dfs_inode *ino;
    int err = 0;

    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    if (ino)
        dfs_view_stat(v, ino, st);
    else
        err = -ESTALE;
    pthread_mutex_unlock(&v->lock);
    return err;
}

int dfs_view_writable(struct dfs_view *v)
{
    dfs_view_wait_commit(v); /* every change asks this first */
    return v->readonly ? -EROFS : dfs_view_log_ok(v);
}

void dfs_do_setattr(struct dfs_view *v, struct dfs_inode *ino, const struct stat *in, int to_set)
{
    struct dfs_time keep;

    if (to_set & DFS_SET_SIZE) {
        dfs_view_set_staged_size(v, ino, in->st_size);
        dfs_view_touch(ino, 1);
    }
    if (to_set & DFS_SET_MODE) {
        ino->st.st_mode = (ino->st.st_mode & S_IFMT) | (in->st_mode & 07777);
        dfs_view_acl_chmod(ino);
    }
    if (to_set & DFS_SET_UID)
        ino->st.st_uid = in->st_uid;
    if (to_set & DFS_SET_GID)
        ino->st.st_gid = in->st_gid;
    if (to_set & DFS_SET_ATIME)
        ino->st.st_atim = dfs_time(in->st_atim);
    if (to_set & DFS_SET_MTIME)
        ino->st.st_mtim = dfs_time(in->st_mtim);
    keep = ino->st.st_mtim;
    dfs_view_touch(ino, 0);
    ino->st.st_mtim = keep;
    if (to_set & DFS_SET_CTIME)
        ino->st.st_ctim = dfs_time(in->st_ctim);
    v->dirty = 1;
}

/* Does IN change what TO_SET names of INO? */
static int changes(const struct dfs_inode *ino, const struct stat *in, int to_set)
{
    const struct dfs_attr *st = &ino->st;

    return ((to_set & DFS_SET_SIZE) && in->st_size != st->st_size) ||
           ((to_set & DFS_SET_MODE) && (in->st_mode & 07777) != (st->st_mode & 07777)) ||
           ((to_set & DFS_SET_UID) && in->st_uid != st->st_uid) ||
           ((to_set & DFS_SET_GID) && in->st_gid != st->st_gid) ||
           ((to_set & DFS_SET_ATIME) && (in->st_atim.tv_sec != st->st_atim.tv_sec ||
                                         in->st_atim.tv_nsec != st->st_atim.tv_nsec)) ||
           ((to_set & DFS_SET_MTIME) && (in->st_mtim.tv_sec != st->st_mtim.tv_sec ||
                                         in->st_mtim.tv_nsec != st->st_mtim.tv_nsec));
}

int dfs_view_setattr(struct dfs_view *v, uint64_t id, const struct stat *in, int to_set,
                     struct stat *out)
{
    struct dfs_inode *ino;
    struct stat want;
    int err;

    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    err = ino ? dfs_view_writable(v) : -ESTALE;
    if (err)
        goto out;
    if ((to_set & DFS_SET_SIZE) && in->st_size == ino->st.st_size) {
        /* a truncate to the size it has changes no data but, as on Linux, the
         * times (the kernel leaves that to the filesystem) */
        want = *in;
        clock_gettime(CLOCK_REALTIME, &want.st_mtim);
        in = &want;
        to_set = (to_set & ~DFS_SET_SIZE) | DFS_SET_MTIME;
    }
    if (!changes(ino, in, to_set))
        goto out_stat;
    if (to_set & DFS_SET_SIZE) {
        int fd;

        if (S_ISDIR(ino->st.st_mode)) {
            err = -EISDIR;
            goto out;
        }
        if (!S_ISREG(ino->st.st_mode)) {
            err = -EINVAL;
            goto out;
        }
        err = dfs_view_check_space(v, ino, in->st_size);
        if (!err && !ino->more->cache_id) /* what the truncate keeps, no more (O_TRUNC: none) */
            err = dfs_view_copy_up_to(v, ino, in->st_size);
        if (err)
            goto out;
        fd = dfs_store_open_file(v->store, ino->more->cache_id, O_WRONLY);
        if (fd < 0)
            err = fd;
        else if (ftruncate(fd, in->st_size) < 0)
            err = -errno;
        if (fd >= 0)
            close(fd);
        if (err)
            goto out;
    }
    /* the record carries the ctime too, and the mtime a change of size gave: a
     * replay gives the times given now; the content file carries the mtime */
    dfs_do_setattr(v, ino, in, to_set);
    if (ino->more->cache_id && (to_set & DFS_SET_MTIME))
        dfs_view_store_mtime(v, ino, ino->more->cache_id);
    else if (to_set & DFS_SET_SIZE)
        dfs_view_content_mtime(v, ino);
    err = dfs_view_log_setattr(v, ino, to_set & DFS_SET_SIZE ? to_set | DFS_SET_MTIME : to_set);
out_stat:
    dfs_view_stat(v, ino, out);
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

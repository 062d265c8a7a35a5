/* fs/file.c - file data: open handles, reads from the disc or the stage, copy-up */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPY_CHUNK (1 << 20)

/* INO's data is the content file ID from now on, not its extents on the disc
 * (lock held); open handles notice through stage_gen. */
int dfs_view_use_content(struct dfs_inode *ino, uint64_t id)
{
    if (dfs_inode_set_cache_id(ino, id))
        return -ENOMEM; /* nothing changed */
    ino->more->stage_gen++;
    dfs_view_drop_disc_nodes(ino);
    dfs_inode_drop_ext(ino);
    ino->zisofs = 0;
    return 0;
}

/* fsync the stage's data directory, whose fd a re-key may replace (file.c callers
 * do not hold v->lock) */
static int sync_stage_dir(struct dfs_view *v)
{
    int fd, err = 0;

    pthread_mutex_lock(&v->lock);
    fd = dup(v->store->data_fd);
    pthread_mutex_unlock(&v->lock);
    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        err = -errno;
    close(fd);
    return err;
}

/* The on-disc data of a file, as it was when a copy-up began */
struct copy_src {
    struct dfs_extent *ext;
    int n_ext, zisofs;
    off_t size;
};

/* Copy SRC into the content file FD, without the view's lock: a copy-up of a large
 * file from a slow disc must not stop the mount */
static int copy_data(struct dfs_view *v, const struct copy_src *src, int fd)
{
    char *buf = src->size > 0 ? malloc(COPY_CHUNK) : NULL;
    const char *delay = getenv("DISCFS_TEST_COPY_DELAY_MS"); /* tests: a slow disc */
    off_t done = 0;
    int err = 0;

    if (src->size > 0 && !buf)
        return -ENOMEM;
    while (done < src->size && !err) {
        size_t want = src->size - done < COPY_CHUNK ? (size_t)(src->size - done) : COPY_CHUNK;
        ssize_t n = dfs_disc_read_file(v->disc, src->ext, src->n_ext, src->zisofs,
                                       (uint64_t)src->size, buf, want, done);
        if (n <= 0) {
            err = n < 0 ? (int)n : -EIO;
            break;
        }
        n = dfs_store_pwrite(fd, buf, (size_t)n, done, done);
        if (n < 0)
            err = (int)n;
        else
            done += n;
        if (delay)
            usleep((useconds_t)atoi(delay) * 1000);
    }
    free(buf);
    if (!err && fsync(fd) < 0)
        err = -errno;
    return err;
}

/* Copy the on-disc data of INO into a new content file (v->lock held on entry and
 * return, let go of during the copy).  The content file is complete and synced
 * before the inode points at it.  Meanwhile reads go on from the disc, other
 * copy-ups of INO wait for this one, and a commit may come and go; if a commit
 * re-keyed the stage meanwhile, the copy is made again in the new one.  Only the
 * first LIMIT bytes are copied (a truncate needs no more); the inode's size is
 * then what was copied. */
int dfs_view_copy_up_to(struct dfs_view *v, struct dfs_inode *ino, off_t limit)
{
    uint64_t id, ino_id = ino->id;
    struct copy_src src;
    const char *store_dir;
    int fd, err;

again:
    while (ino->copying)
        pthread_cond_wait(&v->copy_done, &v->lock);
    if (ino->more->cache_id)
        return 0; /* another thread copied it */
    err = dfs_view_log_ok(v);
    if (err)
        return err;
    src.n_ext = ino->n_ext;
    src.zisofs = ino->zisofs;
    src.size = ino->st.st_size < limit ? ino->st.st_size : limit;
    src.ext = src.n_ext ? malloc((size_t)src.n_ext * sizeof(*src.ext)) : NULL;
    if (src.n_ext && !src.ext)
        return -ENOMEM;
    if (src.n_ext)
        dfs_inode_ext(ino, src.ext);
    fd = dfs_store_create(v->store, &id);
    if (fd < 0) {
        free(src.ext);
        return fd;
    }
    store_dir = v->store->dir;
    ino->copying = 1;
    pthread_mutex_unlock(&v->lock);
    err = copy_data(v, &src, fd);
    close(fd);
    free(src.ext);
    if (!err)
        err = sync_stage_dir(v);
    pthread_mutex_lock(&v->lock);
    ino->copying = 0;
    pthread_cond_broadcast(&v->copy_done);
    dfs_view_wait_commit(v);
    if (v->store->dir != store_dir) { /* re-keyed: the file was made in the old stage */
        ino = dfs_view_inode(v, ino_id);
        if (!ino)
            return -ESTALE;
        goto again;
    }
    if (!err && (dfs_view_inode(v, ino_id) != ino || ino->more->cache_id))
        err = -EAGAIN; /* gone, or copied up by someone else: ours is not needed */
    if (err) {
        dfs_store_remove(v->store, id);
        if (err == -EAGAIN)
            return dfs_view_inode(v, ino_id) == ino ? 0 : -ESTALE;
        fprintf(stderr, "discfs: cannot copy inode %llu into the cache: %s\n",
                (unsigned long long)ino_id, strerror(-err));
        return err;
    }
    err = dfs_view_use_content(ino, id);
    if (err) {
        dfs_store_remove(v->store, id);
        return err;
    }
    dfs_view_store_mtime(v, ino, id);
    ino->st.st_size = 0;
    dfs_view_set_staged_size(v, ino, src.size);
    return dfs_view_log_stage(v, ino);
}

int dfs_view_copy_up(struct dfs_view *v, struct dfs_inode *ino)
{
    return dfs_view_copy_up_to(v, ino, ino->st.st_size);
}

/* Make F's fd match the inode's current content file (v->lock held). */
static int refresh_fd(struct dfs_view *v, struct dfs_inode *ino, struct dfs_file *f)
{
    if (f->fd >= 0 && f->gen == ino->more->stage_gen)
        return 0;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    f->gen = ino->more->stage_gen;
    if (!ino->more->cache_id)
        return 0;
    f->fd = dfs_store_open_file(v->store, ino->more->cache_id, O_RDWR);
    return f->fd < 0 ? f->fd : 0;
}

int dfs_view_open_file(struct dfs_view *v, uint64_t id, int flags, struct dfs_file **out)
{
    struct dfs_inode *ino;
    struct dfs_file *f;
    int err = 0, wr = (flags & O_ACCMODE) != O_RDONLY;

    f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->fd = -1;
    f->view = v;
    f->id = id;
    f->writable = wr;
    f->append = wr && (flags & O_APPEND);
    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    if (!ino)
        err = -ESTALE;
    else if (S_ISDIR(ino->st.st_mode))
        err = -EISDIR;
    else if (!S_ISREG(ino->st.st_mode))
        err = -EINVAL;
    else if (wr || (flags & O_TRUNC))
        err = dfs_view_writable(v); /* read-only, or a journal that cannot be written */
    if (err)
        goto out;
    if ((flags & O_TRUNC) && ino->st.st_size > 0) {
        if (ino->more->cache_id) {
            int fd = dfs_store_open_file(v->store, ino->more->cache_id, O_WRONLY);
            if (fd < 0 || ftruncate(fd, 0) < 0)
                err = fd < 0 ? fd : -errno;
            if (fd >= 0)
                close(fd);
        } else {
            /* nothing to copy: the new content starts empty */
            uint64_t id;
            int fd = dfs_store_create(v->store, &id);
            if (fd < 0) {
                err = fd;
            } else {
                close(fd);
                err = dfs_store_sync_dir(v->store);
                if (!err) {
                    uint64_t keep = ino->more->cache_id;
                    /* recorded before the inode lets go of its data */
                    err = dfs_inode_set_cache_id(ino, id);
                    if (!err) {
                        err = dfs_view_log_stage(v, ino);
                        if (err)
                            dfs_inode_set_cache_id(ino, keep);
                    }
                }
                if (err) {
                    dfs_store_remove(v->store, id);
                } else {
                    dfs_view_use_content(ino, id);
                    ino->st.st_size = 0;
                }
            }
        }
        if (err)
            goto out;
        dfs_view_set_staged_size(v, ino, 0);
        dfs_view_content_mtime(v, ino);
        v->dirty = 1;
        err = dfs_view_log_setattr(v, ino, DFS_SET_SIZE | DFS_SET_MTIME);
        if (err)
            goto out;
    }
    if ((flags & O_TRUNC) && ino->st.st_size == 0) {
        /* nothing to cut, but the times change, as on Linux (do_truncate); the
         * soak found it (seed 3177262033: O_TRUNC of an empty on-disc file) */
        dfs_view_content_mtime(v, ino);
        v->dirty = 1;
        err = dfs_view_log_setattr(v, ino, DFS_SET_MTIME);
        if (err)
            goto out;
    }
    /* no copy-up here: an open for writing that writes nothing changes nothing
     * (the first write copies up, prepare_write) */
    err = refresh_fd(v, ino, f);
    if (err)
        goto out;
    ino->nopen++;
out:
    pthread_mutex_unlock(&v->lock);
    if (err) {
        if (f->fd >= 0)
            close(f->fd);
        free(f);
        return err;
    }
    *out = f;
    return 0;
}

ssize_t dfs_view_read(struct dfs_view *v, struct dfs_file *f, void *buf, size_t size, off_t off)
{
    struct dfs_inode *ino;
    struct dfs_extent ext_local[8], *ext = ext_local;
    int n_ext = 0, fd = -1, err = 0, zisofs = 0;
    off_t fsize = 0;
    ssize_t n;

    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, f->id);
    if (!ino) {
        err = -ESTALE;
        goto out_unlock;
    }
    err = refresh_fd(v, ino, f);
    if (err)
        goto out_unlock;
    fsize = ino->st.st_size;
    if (f->fd >= 0) {
        /* a dup: another thread may refresh f->fd once the lock is released */
        fd = dup(f->fd);
        if (fd < 0)
            err = -errno;
    } else {
        n_ext = ino->n_ext;
        if (n_ext > 8) {
            ext = malloc((size_t)n_ext * sizeof(*ext));
            if (!ext) {
                err = -ENOMEM;
                goto out_unlock;
            }
        }
        dfs_inode_ext(ino, ext);
        zisofs = ino->zisofs;
    }
out_unlock:
    pthread_mutex_unlock(&v->lock);
    if (err)
        return err;
    if (off >= fsize)
        n = 0;
    else if (fd >= 0) {
        n = pread(fd, buf, size, off);
        if (n < 0)
            n = -errno;
    } else {
        if ((off_t)size > fsize - off)
            size = (size_t)(fsize - off);
        n = dfs_disc_read_file(v->disc, ext, n_ext, zisofs, (uint64_t)fsize, buf, size, off);
    }
    if (fd >= 0)
        close(fd);
    if (ext != ext_local)
        free(ext);
    return n;
}

/* Make INO ready for data up to byte END through F (lock held): room on the disc,
 * the content in the stage, F's fd on it. */
static int prepare_write(struct dfs_view *v, struct dfs_inode *ino, struct dfs_file *f, off_t end)
{
    int err = 0;

    if (end > ino->st.st_size)
        err = dfs_view_check_space(v, ino, end);
    if (!err && !ino->more->cache_id)
        err = dfs_view_copy_up(v, ino); /* e.g. a commit made it an on-disc file again */
    if (!err)
        err = refresh_fd(v, ino, f);
    return err;
}

/* Data up to byte END was written through F (lock held). */
static void wrote(struct dfs_view *v, struct dfs_inode *ino, struct dfs_file *f, off_t end)
{
    struct timespec ts[2];

    if (end > ino->st.st_size)
        dfs_view_set_staged_size(v, ino, end);
    dfs_view_touch(ino, 1);
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1] = dfs_ts(ino->st.st_mtim);
    futimens(f->fd, ts); /* the content file carries it (store.h) */
    v->dirty = 1;
    f->wrote = 1;
}

void dfs_view_content_mtime(struct dfs_view *v, struct dfs_inode *ino)
{
    /* the view's clock, not the filesystem's coarser one: the content file takes it */
    dfs_view_touch(ino, 1);
    if (ino->more->cache_id)
        dfs_view_store_mtime(v, ino, ino->more->cache_id);
}

ssize_t dfs_view_write(struct dfs_view *v, struct dfs_file *f, const void *buf, size_t size,
                       off_t off)
{
    struct dfs_inode *ino;
    ssize_t n;
    int err;

    if (!f->writable)
        return -EBADF;
    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, f->id);
    err = ino ? dfs_view_writable(v) : -ESTALE;
    if (!err && f->append)
        off = ino->st.st_size;
    if (!err)
        err = prepare_write(v, ino, f, off + (off_t)size);
    if (err) {
        pthread_mutex_unlock(&v->lock);
        return err;
    }
    /* written under the lock so that a commit never sees half of it and the size
     * always matches the content file */
    n = dfs_store_pwrite(f->fd, buf, size, off, ino->st.st_size);
    if (n >= 0)
        wrote(v, ino, f, off + n);
    pthread_mutex_unlock(&v->lock);
    return n;
}

int dfs_view_fallocate(struct dfs_view *v, struct dfs_file *f, off_t off, off_t len)
{
    struct dfs_inode *ino;
    int err;

    if (off < 0 || len <= 0)
        return -EINVAL;
    if (!f->writable)
        return -EBADF;
    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, f->id);
    err = ino ? dfs_view_writable(v) : -ESTALE;
    if (!err)
        err = prepare_write(v, ino, f, off + len);
    if (!err && off + len > ino->st.st_size) {
        err = -posix_fallocate(f->fd, off, len);
        if (!err)
            wrote(v, ino, f, off + len);
    }
    pthread_mutex_unlock(&v->lock);
    return err;
}

int dfs_view_fsync(struct dfs_view *v, struct dfs_file *f, int datasync)
{
    int fd, err = 0;

    pthread_mutex_lock(&v->lock);
    fd = f->fd >= 0 ? dup(f->fd) : -1;
    pthread_mutex_unlock(&v->lock);
    if (fd < 0)
        return dfs_view_sync_journal(v); /* no staged data: only what was recorded */
    if ((datasync ? fdatasync(fd) : fsync(fd)) < 0)
        err = -errno;
    close(fd);
    if (!err)
        err = sync_stage_dir(v); /* a new content file's name, too */
    if (!err)
        err = dfs_view_sync_journal(v); /* and its name and attributes (journal=async) */
    return err;
}

void dfs_view_release(struct dfs_view *v, struct dfs_file *f)
{
    struct dfs_inode *ino;

    /* a closed file survives a crash (journal.h): its content and its directory
     * entry are synced, and its size and mtime are recorded.  The kernel sends
     * the release after close() has returned: none of this delays the writer */
    if (f->wrote && f->fd >= 0 && !v->journal_lazy && (fsync(f->fd) < 0 || sync_stage_dir(v) < 0))
        fprintf(stderr, "discfs: cannot sync a staged file of inode %llu: %s\n",
                (unsigned long long)f->id, strerror(errno));
    pthread_mutex_lock(&v->lock);
    dfs_view_wait_commit(v);
    ino = dfs_view_inode(v, f->id);
    if (ino && f->wrote && ino->st.st_nlink > 0 && ino->more->cache_id)
        dfs_view_log_written(v, ino);
    if (ino && ino->nopen > 0) {
        ino->nopen--;
        /* may free an unlinked inode whose last handle this was */
        if (ino->st.st_nlink == 0 && ino->nlookup == 0 && ino->nopen == 0) {
            pthread_mutex_unlock(&v->lock);
            dfs_view_forget(v, f->id, 0);
            goto out;
        }
    }
    pthread_mutex_unlock(&v->lock);
out:
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}

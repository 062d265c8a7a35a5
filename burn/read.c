/* burn/read.c - reading the medium: blocks, and the data of on-disc files by their
 * extents (pread on the image's descriptor; burn_read_data on drives) */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int dfs_disc_read_blocks(struct dfs_disc *d, uint32_t lba, void *buf, int count)
{
    if (d->parent)
        d = d->parent; /* a session shown apart reads from its disc */
    if (d->image_path) {
        size_t want = (size_t)count * 2048, got = 0;
        if (d->image_fd < 0)
            return -EIO;
        while (got < want) {
            ssize_t n =
                pread(d->image_fd, (char *)buf + got, want - got, (off_t)lba * 2048 + (off_t)got);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            if (n == 0) { /* past the end of the file: reads as zeros */
                memset((char *)buf + got, 0, want - got);
                break;
            }
            got += (size_t)n;
        }
        return 0;
    }
    {
        off_t done = 0;
        int ret;

        pthread_mutex_lock(&d->read_lock);
        if (d->info.lost || !d->drive) {
            /* another disc is in the drive (found by the last identity check), or
             * the re-import after a commit failed: never hand out its bytes */
            pthread_mutex_unlock(&d->read_lock);
            return -EIO;
        }
        ret = burn_read_data(d->drive, (off_t)lba * 2048, buf, (off_t)count * 2048, &done, 2);
        pthread_mutex_unlock(&d->read_lock);
        if (ret <= 0)
            return dfs_lib_error(d, -EIO, "cannot read from the disc");
        return 0;
    }
}

/* Bytes from the disc at byte position POS of a file stored in EXT, at most WANT,
 * never crossing an extent; returns bytes read, 0 past the end, or -errno. */
static ssize_t read_some(struct dfs_disc *d, const struct dfs_extent *ext, int n_ext, char *buf,
                         size_t want, uint64_t pos)
{
    uint64_t base = 0;
    int i;

    for (i = 0; i < n_ext && pos >= base + ext[i].size; i++)
        base += ext[i].size;
    if (i == n_ext)
        return 0;
    if (want > base + ext[i].size - pos)
        want = (size_t)(base + ext[i].size - pos);
    pos -= base; /* offset inside the extent */
    if (d->image_path) {
        ssize_t n;

        if (d->image_fd < 0)
            return -EIO;
        n = pread(d->image_fd, buf, want, (off_t)ext[i].lba * 2048 + (off_t)pos);
        if (n < 0)
            return -errno;
        return n == 0 ? -EIO : n; /* 0: the image is shorter than its tree says */
    } else {
        /* real drives: whole blocks through libburn */
        char blk[65536];
        size_t skip = pos % 2048, nblk = (skip + want + 2047) / 2048;
        int err;

        if (nblk > sizeof(blk) / 2048)
            nblk = sizeof(blk) / 2048;
        err = dfs_disc_read_blocks(d, ext[i].lba + (uint32_t)(pos / 2048), blk, (int)nblk);
        if (err)
            return err;
        if (want > nblk * 2048 - skip)
            want = nblk * 2048 - skip;
        memcpy(buf, blk + skip, want);
        return (ssize_t)want;
    }
}

#define IMAGE_CHECK_NS 1000000000LL

static int image_check_due(struct dfs_disc *d)
{
    struct timespec now;
    int64_t t;

    if (__atomic_load_n(&d->info.lost, __ATOMIC_RELAXED))
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    t = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
    return t - __atomic_load_n(&d->image_checked_ns, __ATOMIC_RELAXED) >= IMAGE_CHECK_NS;
}

ssize_t dfs_disc_read(struct dfs_disc *d, const struct dfs_extent *ext, int n_ext, void *buf,
                      size_t size, off_t off)
{
    size_t done = 0;

    if (d->parent)
        d = d->parent; /* a session shown apart reads from its disc */
    /* a disc swapped under an idle mount, or an image another program wrote into,
     * is never read; an image is looked at again after a second (lock-free until) */
    if (!d->image_path) {
        int err;
        pthread_mutex_lock(&d->read_lock);
        err = dfs_disc_check_reads(d);
        pthread_mutex_unlock(&d->read_lock);
        if (err)
            return err;
    } else if (image_check_due(d)) {
        int err;
        if (pthread_mutex_trylock(&d->read_lock) != 0) /* a commit, or another check */
            err = __atomic_load_n(&d->info.lost, __ATOMIC_RELAXED) ? -EIO : 0;
        else {
            err = dfs_disc_check_reads(d);
            pthread_mutex_unlock(&d->read_lock);
        }
        if (err)
            return err;
    }

    while (done < size) {
        ssize_t n = read_some(d, ext, n_ext, (char *)buf + done, size - done, (uint64_t)off + done);
        if (n < 0)
            return done ? (ssize_t)done : n;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

/* burn/verify.c - the MD5s a session records, checked by reading the disc
 * (`discfs verify`): the session's tag over its blocks, and each file's */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int dfs_disc_check_session(struct dfs_disc *d, uint32_t *blocks)
{
    uint32_t tag_start, end;
    int ret;

    pthread_mutex_lock(&d->read_lock);
    ret = dfs_session_md5_told(d, d->info.msc1, &tag_start, &end);
    pthread_mutex_unlock(&d->read_lock);
    *blocks = end > tag_start ? end - tag_start : 0;
    return ret;
}

int dfs_disc_check_file(struct dfs_disc *d, const struct dfs_disc_entry *e)
{
    enum { CHUNK = 1 << 20 };
    char want[16], got[16];
    uint64_t size = 0, off;
    void *ctx = NULL;
    char *buf;
    int err = 0;

    if (!S_ISREG(e->st.st_mode) || !e->node || !d->image ||
        iso_file_get_md5(d->image, (IsoFile *)e->node, want, 0) != 1)
        return 0;
    for (int i = 0; i < e->n_ext; i++)
        size += e->ext[i].size; /* the bytes as written (a zisofs file: compressed) */
    buf = malloc(CHUNK);
    if (!buf || iso_md5_start(&ctx) < 0) {
        free(buf);
        return -ENOMEM;
    }
    for (off = 0; off < size && !err; off += CHUNK) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        ssize_t got_n = dfs_disc_read(d, e->ext, e->n_ext, buf, n, (off_t)off);
        if (got_n != (ssize_t)n)
            err = got_n < 0 ? (int)got_n : -EIO;
        else
            iso_md5_compute(ctx, buf, (int)n);
    }
    iso_md5_end(&ctx, got);
    free(buf);
    if (err)
        return err;
    return memcmp(want, got, 16) == 0 ? 1 : 2;
}

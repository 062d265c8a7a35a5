/* burn/tree.c - is the directory graph of a session a tree?
 *
 * libisofs 1.5.4 imports a session by recursing into every directory record it
 * finds, with no guard: a record that points back at its parent or at the root
 * (a crafted or damaged disc) makes the import recurse for ever, its memory
 * growing until the machine runs out (xorriso hangs on such discs too).  Before
 * a session is handed to libisofs, its ISO 9660 directories are walked here,
 * breadth first, from the root the primary volume descriptor names, following
 * directory records and Rock Ridge CL entries (relocated directories) as
 * libisofs does; a directory extent met twice (a loop, or two names sharing one
 * directory) or a directory record that makes no sense refuses the session.  The
 * walk reads each directory block once: the blocks libisofs reads next anyway.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIR_BYTES_MAX (256u << 20) /* no directory of a real disc comes near */

struct walk {
    uint32_t *seen; /* directory extents met: open addressing, 0 = free */
    size_t n_seen, cap_seen;
    uint32_t *queue; /* extents (and sizes) still to read */
    size_t head, tail, cap;
};

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 1 if LBA was met before, 0 if it is new now, -ENOMEM */
static int seen(struct walk *w, uint32_t lba)
{
    size_t mask, i;

    if (2 * (w->n_seen + 1) > w->cap_seen) {
        size_t cap = w->cap_seen ? 2 * w->cap_seen : 1024;
        uint32_t *n = calloc(cap, sizeof(*n));
        if (!n)
            return -ENOMEM;
        for (size_t k = 0; k < w->cap_seen; k++) {
            if (!w->seen[k])
                continue;
            for (i = (w->seen[k] * 2654435761u) & (cap - 1); n[i]; i = (i + 1) & (cap - 1))
                ;
            n[i] = w->seen[k];
        }
        free(w->seen);
        w->seen = n;
        w->cap_seen = cap;
    }
    mask = w->cap_seen - 1;
    for (i = (lba * 2654435761u) & mask; w->seen[i]; i = (i + 1) & mask)
        if (w->seen[i] == lba)
            return 1;
    w->seen[i] = lba;
    w->n_seen++;
    return 0;
}

static int push(struct walk *w, uint32_t lba, uint32_t size)
{
    if (w->tail + 2 > w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 1024;
        uint32_t *n = realloc(w->queue, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        w->queue = n;
        w->cap = cap;
    }
    w->queue[w->tail++] = lba;
    w->queue[w->tail++] = size;
    return 0;
}

/* The block a Rock Ridge CL entry in the System Use area SU names (else 0), and
 * whether it has an RE entry (a relocated directory, reached through its CL) */
static uint32_t child_link(const unsigned char *su, size_t len, int *relocated)
{
    size_t off = 0;
    uint32_t cl = 0;

    *relocated = 0;
    while (off + 4 <= len && su[off + 2] >= 4 && off + su[off + 2] <= len) {
        if (su[off] == 'C' && su[off + 1] == 'L' && su[off + 2] >= 12)
            cl = le32(su + off + 4);
        if (su[off] == 'R' && su[off + 1] == 'E')
            *relocated = 1;
        off += su[off + 2];
    }
    return cl;
}

static int refuse(struct dfs_disc *d, uint32_t lba, const char *why)
{
    snprintf(d->last_error, sizeof(d->last_error),
             "the session of '%s' at block %u is damaged: %s at block %u; it cannot be mounted "
             "(copy what you need with another reader, or mount an older session with "
             "-o session=N)",
             d->image_path ? d->image_path : d->adr, d->info.msc1, why, lba);
    return -EUCLEAN;
}

/* The directories of one extent: queue each child directory not met before */
static int walk_dir(struct dfs_disc *d, struct walk *w, uint32_t lba, uint32_t size,
                    unsigned char *buf)
{
    uint32_t blocks = (size + 2047) / 2048;

    for (uint32_t b = 0; b < blocks; b++) {
        int err = dfs_disc_read_blocks(d, lba + b, buf, 1);
        if (err)
            return refuse(d, lba + b, "a directory block cannot be read");
        for (size_t off = 0; off < 2048 && buf[off];) {
            const unsigned char *r = buf + off;
            size_t len = r[0], name_len = r[32], su_off;
            uint32_t child, child_size, link;
            int relocated = 0;

            if (len < 34 || off + len > 2048 || 33 + name_len > len)
                return refuse(d, lba + b, "a directory record is malformed");
            off += len;
            if (name_len == 1 && (r[33] == 0 || r[33] == 1))
                continue; /* "." and ".." */
            su_off = 33 + name_len + (name_len % 2 == 0);
            link = su_off < len ? child_link(r + su_off, len - su_off, &relocated) : 0;
            child = le32(r + 2);
            child_size = le32(r + 10);
            if (r[25] & 2 && relocated)
                continue;       /* reached through the CL of its stand-in */
            if (!(r[25] & 2)) { /* a file; a relocated directory's stand-in has CL */
                child = link;
                if (!child)
                    continue;
                child_size = 2048; /* its "." tells the rest: read the first block */
                err = dfs_disc_read_blocks(d, child, buf + 2048, 1);
                if (err || buf[2048] < 34)
                    return refuse(d, child, "a relocated directory cannot be read");
                child_size = le32(buf + 2048 + 10);
            }
            if (child_size > DIR_BYTES_MAX)
                return refuse(d, child, "a directory claims an impossible size");
            if (child < 16)
                return refuse(d, lba + b, "a directory record points into the system area");
            err = seen(w, child);
            if (err < 0)
                return err;
            if (err)
                return refuse(d, child,
                              "its directory tree is not a tree (a directory is reached twice: "
                              "a loop, or a directory shared by two names)");
            err = push(w, child, child_size);
            if (err)
                return err;
        }
    }
    return 0;
}

int dfs_check_tree(struct dfs_disc *d)
{
    struct walk w = {0};
    unsigned char *buf = malloc(2 * 2048);
    int err;

    if (!buf)
        return -ENOMEM;
    err = dfs_disc_read_blocks(d, d->info.msc1 + 16, buf, 1);
    if (err) {
        free(buf);
        return 0; /* dfs_check_iso() tells */
    }
    {
        uint32_t root = le32(buf + 156 + 2), size = le32(buf + 156 + 10);
        if (size > DIR_BYTES_MAX || root < 16)
            err = refuse(d, d->info.msc1 + 16, "the root directory record is impossible");
        if (!err)
            err = seen(&w, root) < 0 ? -ENOMEM : push(&w, root, size);
    }
    while (!err && w.head < w.tail) {
        uint32_t lba = w.queue[w.head++], size = w.queue[w.head++];
        err = walk_dir(d, &w, lba, size, buf);
    }
    free(w.seen);
    free(w.queue);
    free(buf);
    return err;
}

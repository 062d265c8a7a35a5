/* burn/zisofs.c - reading files stored zisofs-compressed (xorriso -set_filter
 * --zisofs, mkzftree): the disc holds a header, a table of block pointers and
 * zlib streams, one per block of 2^N bytes; Rock Ridge ZF gives the size the
 * file has.  libisofs puts a decompressing filter on such files (pitfall 6: its
 * streams cannot be read by several threads at once), so they are decompressed
 * here, a block at a time, from the extents read like any other file's.  Format:
 * libisofs doc/zisofs_format.txt (version 1).  A commit keeps them as they are
 * (libisofs writes the old extents and the ZF entry again); a copy-up stores them
 * decompressed.  zisofs version 2 is refused, never read wrong. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const unsigned char ZISOFS_MAGIC[8] = {0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07};

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Bytes COUNT at POS of the compressed data, all of them, else -EIO */
static int read_exact(struct dfs_disc *d, const struct dfs_extent *ext, int n_ext, void *buf,
                      size_t count, uint64_t pos)
{
    ssize_t n = dfs_disc_read(d, ext, n_ext, buf, count, (off_t)pos);
    return n == (ssize_t)count ? 0 : n < 0 ? (int)n : -EIO;
}

static ssize_t zisofs_read(struct dfs_disc *d, const struct dfs_extent *ext, int n_ext,
                           uint64_t usize, char *buf, size_t size, uint64_t off)
{
    unsigned char hdr[16], ptr[8];
    unsigned char *in = NULL, *out = NULL;
    uint32_t bs, hsize;
    size_t done = 0;
    int err;

    err = read_exact(d, ext, n_ext, hdr, sizeof(hdr), 0);
    if (err)
        return err;
    hsize = (uint32_t)hdr[12] * 4;
    if (memcmp(hdr, ZISOFS_MAGIC, 8) != 0 || le32(hdr + 8) != usize || hdr[13] < 15 ||
        hdr[13] > 17 || hsize < 16)
        return -EIO; /* not what its ZF entry says */
    bs = 1u << hdr[13];
    in = malloc(2 * (size_t)bs + 64);
    out = malloc(bs);
    if (!in || !out) {
        err = -ENOMEM;
        goto out;
    }
    while (done < size && off + done < usize) {
        uint64_t pos = off + done, blk = pos / bs;
        uint32_t start, end, skip = (uint32_t)(pos % bs);
        uLongf len = bs;
        size_t want = size - done;

        if (want > bs - skip)
            want = bs - skip;
        if (want > usize - pos)
            want = (size_t)(usize - pos);
        err = read_exact(d, ext, n_ext, ptr, 8, hsize + blk * 4);
        if (err)
            goto out;
        start = le32(ptr);
        end = le32(ptr + 4);
        if (end < start || end - start > 2 * (size_t)bs + 64) {
            err = -EIO;
            goto out;
        }
        if (end == start) { /* a block of zeros */
            memset(buf + done, 0, want);
        } else {
            err = read_exact(d, ext, n_ext, in, end - start, start);
            if (err)
                goto out;
            if (uncompress(out, &len, in, end - start) != Z_OK || len < skip + want) {
                err = -EIO;
                goto out;
            }
            memcpy(buf + done, out + skip, want);
        }
        done += want;
    }
out:
    free(in);
    free(out);
    return done ? (ssize_t)done : err;
}

ssize_t dfs_disc_read_file(struct dfs_disc *d, const struct dfs_extent *ext, int n_ext, int zisofs,
                           uint64_t usize, void *buf, size_t size, off_t off)
{
    if (!zisofs)
        return dfs_disc_read(d, ext, n_ext, buf, size, off);
    if (zisofs != 1)
        return -EIO; /* zisofs version 2: not read (the mount said so) */
    return zisofs_read(d, ext, n_ext, usize, buf, size, (uint64_t)off);
}

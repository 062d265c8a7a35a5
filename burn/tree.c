/* burn/tree.c - is the directory graph of a session a tree?
 *
 * libisofs 1.5.4 imports a session by recursing into every directory record it
 * finds, with no guard: a record that points back at its parent or at the root
 * (a crafted or damaged disc) makes the import recurse for ever, its memory
 * growing until the machine runs out (xorriso hangs on such discs too).  So does
 * a System Use field whose continuation areas (SUSP CE) form a cycle: libisofs
 * follows them for ever.  Before a session is handed to libisofs, its
 * directories are walked here, breadth first, the way libisofs reads them
 * (fs_image.c: iso_image_filesystem_new, ifs_get_root, read_dir,
 * iso_file_source_new_ifs; rockridge_read.c: susp_iter_next):
 *   - the volume descriptors: 16 blocks after libisoburn's msc1, which for the
 *     newest session of an image file is 0 (the superblock);
 *   - the tree: with Rock Ridge (an SP entry first in the root's "." record and
 *     an RRIP ER entry) the primary volume descriptor's, else the Joliet one if
 *     there is one, else the primary one;
 *   - a directory's records are at its record's extent plus its extended
 *     attribute record length, as many bytes as its own "." record says, the
 *     first two records skipped whatever their names; the root is where its
 *     "." record points;
 *   - with Rock Ridge, a record is a directory if its PX entry says so (else
 *     if its flags do), one with an RE entry is skipped, one with a CL entry
 *     stands for the directory whose "." is at the block CL names, and System
 *     Use entries are read through continuation areas (CE; libisofs writes one
 *     per block, chained: a 60000-byte xattr takes 35).
 * A directory extent met twice (a loop, or two names sharing one directory), a
 * directory record that makes no sense or a chain of continuation areas that
 * comes back to an area of its own (or runs on past CE_HOPS_MAX) refuses the
 * session; so does an El Torito boot catalog that names itself as a boot image
 * (libisofs crashes on it).  The walk reads each directory block once, and the
 * blocks of continuation areas once for the records in a row that share them:
 * blocks libisofs reads next anyway.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DIR_BYTES_MAX (256u << 20) /* no directory of a real disc comes near */
#define CE_BYTES_MAX (1u << 20)    /* libisofs: ISO_SUSP_MAX_CE_BYTES */
#define CE_HOPS_PLAIN 64           /* a chain longer than this is checked for a loop */
#define CE_HOPS_MAX 16384          /* libisofs writes an area a block: 29 MiB of System Use */

struct walk {
    struct dfs_disc *d;
    uint32_t *seen; /* directory extents met: open addressing, 0 = free */
    size_t n_seen, cap_seen;
    uint32_t *queue; /* directory extents still to read */
    size_t head, tail, cap;
    uint64_t readable; /* image files: blocks in the file (libisofs cannot read on) */
    uint32_t start;    /* where libisofs reads the session: its volume descriptors 16 on */
    uint64_t fs_end;   /* start + volume space size: continuation areas lie below */
    int rr;            /* Rock Ridge is read: System Use entries count */
    unsigned len_skp;  /* bytes skipped at the start of each System Use field (SP) */
    unsigned char *ce; /* a continuation area: blocks ce_lba.. (ce_count of them) */
    uint64_t ce_lba;
    uint32_t ce_count;
    struct area *areas; /* the continuation areas of a long chain: open addressing */
    size_t n_areas, cap_areas;
    uint32_t session;   /* the block where the session starts: messages name it */
    const char *remedy; /* ... and what to do about its damage */
};

/* A continuation area (len UINT32_MAX: a free slot of walk.areas) */
struct area {
    uint32_t block, off, len;
};

/* What the System Use entries of one directory record say */
struct su {
    int sp;       /* the first entry is a good SP (the root's ".") */
    unsigned skp; /* ... its LEN_SKP */
    int rrip;     /* an ER entry of Rock Ridge */
    int re;       /* a relocated directory, reached through the CL of its stand-in */
    uint32_t cl;  /* the stand-in of the relocated directory whose "." is there */
    int px;       /* a valid PX entry: MODE */
    uint32_t mode;
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

static int push(struct walk *w, uint32_t lba)
{
    if (w->tail == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 1024;
        uint32_t *n = realloc(w->queue, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        w->queue = n;
        w->cap = cap;
    }
    w->queue[w->tail++] = lba;
    return 0;
}

/* 1 if the continuation area A was met before in the chain (a loop: libisofs
 * follows it for ever), 0 if it is new now, -ENOMEM */
static int area_seen(struct walk *w, struct area a)
{
    size_t mask, i;
    uint32_t h = (a.block * 2654435761u) ^ (a.off * 40503u) ^ a.len;

    if (2 * (w->n_areas + 1) > w->cap_areas) {
        size_t cap = w->cap_areas ? 2 * w->cap_areas : 256;
        struct area *n = malloc(cap * sizeof(*n)), *old = w->areas;

        if (!n)
            return -ENOMEM;
        memset(n, 0xff, cap * sizeof(*n));
        w->areas = n;
        w->n_areas = 0;
        for (size_t k = 0, old_cap = w->cap_areas; k < old_cap; k++)
            if (old[k].len != UINT32_MAX) {
                uint32_t g = (old[k].block * 2654435761u) ^ (old[k].off * 40503u) ^ old[k].len;
                for (i = g & (cap - 1); n[i].len != UINT32_MAX; i = (i + 1) & (cap - 1))
                    ;
                n[i] = old[k];
                w->n_areas++;
            }
        w->cap_areas = cap;
        free(old);
    }
    mask = w->cap_areas - 1;
    for (i = h & mask; w->areas[i].len != UINT32_MAX; i = (i + 1) & mask)
        if (w->areas[i].block == a.block && w->areas[i].off == a.off && w->areas[i].len == a.len)
            return 1;
    w->areas[i] = a;
    w->n_areas++;
    return 0;
}

/* The session's own damage, at block LBA: -EUCLEAN, and the message */
static int refuse(struct walk *w, uint64_t lba, const char *why)
{
    snprintf(w->d->last_error, sizeof(w->d->last_error),
             "the session of '%s' at block %u is damaged: %s at block %llu; %s",
             dfs_disc_name(w->d), w->session, why, (unsigned long long)lba, w->remedy);
    return -EUCLEAN;
}

/* Blocks LBA.. into BUF; 1 past what can be read (the end of an image file:
 * libisofs stops there), else 0 or -errno */
static int read_blocks(struct walk *w, uint64_t lba, void *buf, int count)
{
    if (lba + (uint64_t)count > w->readable || lba + (uint64_t)count > UINT32_MAX)
        return 1;
    return dfs_disc_read_blocks(w->d, (uint32_t)lba, buf, count);
}

/* The System Use entries of the directory record R (REC_END: the end of the
 * block that holds it) into OUT, read as susp_iter_next() reads them and
 * iso_file_source_new_ifs() takes them (which stops at SF, and at a CL without
 * a location unless the record is a CL's target, CL_TARGET); ROOT: the root's
 * "." before Rock Ridge is known, as read_root_susp_entries() reads it (its
 * first entry must be SP; it looks for ER entries and stops nowhere).  Returns
 * 0, 1 when the continuation areas come back to one of them (or are more than
 * CE_HOPS_MAX), or -ENOMEM. */
static int scan_su(struct walk *w, const unsigned char *r, const unsigned char *rec_end, int root,
                   int cl_target, struct su *out)
{
    unsigned nl = r[32], pad = (nl + 1) % 2;
    const unsigned char *base = r + 33 + nl + pad, *end = rec_end;
    long size = (long)r[0] - 33 - nl - pad, pos = root ? 0 : w->len_skp;
    uint32_t ce_block = 0, ce_off = 0, ce_len = 0;
    int hops = 0, first = root;

    memset(out, 0, sizeof(*out));
    if (w->n_areas) { /* the last record's long chain */
        memset(w->areas, 0xff, w->cap_areas * sizeof(*w->areas));
        w->n_areas = 0;
    }
    for (;;) {
        const unsigned char *e = base + pos;

        if (first && (size < 7 || e + 7 > end || e[0] != 'S' || e[1] != 'P' || e[2] < 7))
            return 0; /* no SUSP */
        if (pos + 4 > size || (e + 2 <= end && e[0] == 'S' && e[1] == 'T')) {
            uint32_t skipped, nblocks;

            if (!ce_len)
                return 0;
            if (++hops > CE_HOPS_MAX)
                return 1; /* no loop (yet), but libisofs would take for ever */
            if (hops > CE_HOPS_PLAIN) {
                int err = area_seen(w, (struct area){ce_block, ce_off, ce_len});
                if (err)
                    return err;
            }
            skipped = ce_off / 2048;
            nblocks = (ce_off % 2048 + ce_len + 2047) / 2048;
            if (ce_len > CE_BYTES_MAX || (uint64_t)ce_block + skipped + nblocks > w->fs_end)
                return 0; /* libisofs stops there too */
            /* the areas of a directory's records share blocks: read them once */
            if (w->ce_lba != (uint64_t)ce_block + skipped || w->ce_count < nblocks) {
                w->ce_count = 0;
                if (read_blocks(w, (uint64_t)ce_block + skipped, w->ce, (int)nblocks) != 0)
                    return 0;
                w->ce_lba = (uint64_t)ce_block + skipped;
                w->ce_count = nblocks;
            }
            base = w->ce + ce_off % 2048;
            end = w->ce + (size_t)nblocks * 2048;
            pos = 0;
            size = ce_len;
            ce_len = 0;
            e = base;
        }
        if (e + 4 > end || e[2] == 0)
            return 0; /* "Damaged RR/SUSP information" */
        pos += e[2];
        if (e[0] == 'C' && e[1] == 'E') {
            if (!ce_len && e + 28 <= end) { /* a further CE in one area is ignored */
                ce_block = le32(e + 4);
                ce_off = le32(e + 12);
                ce_len = le32(e + 20);
            }
            continue;
        }
        if (e[0] == 'P' && e[1] == 'D')
            continue;
        if (first) { /* the SP entry */
            first = 0;
            if (e[3] != 1 || e[4] != 0xBE || e[5] != 0xEF)
                return 0;
            out->sp = 1;
            out->skp = e[6];
            continue;
        }
        if (e[3] != 1)
            continue; /* another version */
        if (e[0] == 'S' && e[1] == 'F' && !root)
            return 0; /* not supported: the rest is not read */
        if (e[0] == 'R' && e[1] == 'E')
            out->re = 1;
        else if (e[0] == 'C' && e[1] == 'L' && !cl_target && e + 8 <= end) {
            out->cl = le32(e + 4);
            if (!out->cl && !root)
                return 0; /* "no child location": the rest is not read */
        } else if (e[0] == 'P' && e[1] == 'X' && (e[2] == 36 || e[2] == 44) && e + 8 <= end) {
            out->px = 1;
            out->mode = le32(e + 4);
        } else if (e[0] == 'E' && e[1] == 'R' && e + 8 + 10 <= end &&
                   ((e[4] == 10 && !memcmp(e + 8, "RRIP_1991A", 10)) ||
                    (e[4] == 10 && !memcmp(e + 8, "IEEE_P1282", 10)) ||
                    (e[4] == 9 && !memcmp(e + 8, "IEEE_1282", 9))))
            out->rrip = 1;
    }
}

/* Is the record R (in a block ending at END) well formed? */
static int record_ok(const unsigned char *r, const unsigned char *end)
{
    return r + 34 <= end && r[0] >= 34 && r + r[0] <= end && 33u + r[32] <= r[0];
}

/* The directory the record R (in block LBA, its copy ending at END) stands for:
 * its extent in *DIR, or 0 for none (a file, a skipped record) */
static int child_dir(struct walk *w, const unsigned char *r, const unsigned char *end, uint64_t lba,
                     unsigned char *blk, uint32_t *dir)
{
    struct su su;
    int err, is_dir = r[25] & 2;

    *dir = 0;
    if (w->rr) {
        err = scan_su(w, r, end, 0, 0, &su);
        if (err)
            return err < 0 ? err
                           : refuse(w, lba,
                                    "the continuation areas of a directory record form a loop (or "
                                    "run on and on)");
        if (su.re)
            return 0; /* reached through the CL of its stand-in */
        if (su.cl) {  /* libisofs reads the "." of the relocated directory instead */
            uint32_t cl = su.cl;

            err = read_blocks(w, cl, blk, 1);
            if (err < 0 || (err == 0 && !record_ok(blk, blk + 2048)))
                return refuse(w, cl, "a relocated directory cannot be read");
            if (err)
                return 0;
            r = blk;
            end = blk + 2048;
            err = scan_su(w, r, end, 0, 1, &su);
            if (err)
                return err < 0 ? err
                               : refuse(w, cl,
                                        "the continuation areas of a directory record form a loop "
                                        "(or run on and on)");
            if (su.re)
                return 0;
            is_dir = r[25] & 2;
        }
        if (su.px)
            is_dir = S_ISDIR(su.mode);
    }
    if (is_dir)
        *dir = le32(r + 2) + r[1];
    return 0;
}

/* The records of the directory at extent LBA: queue each child directory not
 * met before (read_dir: the size its "." says, "." and ".." skipped) */
static int walk_dir(struct walk *w, uint32_t lba, unsigned char *buf)
{
    uint64_t b = lba;
    uint32_t size, tlen = 0, pos = 0, child;
    int err = read_blocks(w, b, buf, 1);

    if (err)
        return err < 0 ? refuse(w, b, "a directory block cannot be read") : 0;
    size = le32(buf + 10);
    if (size > DIR_BYTES_MAX)
        return refuse(w, lba, "a directory claims an impossible size");
    for (int k = 0; k < 2; k++) { /* "." and ".." */
        tlen += buf[pos];
        pos += buf[pos];
        if (pos > 2048)
            return refuse(w, b, "a directory record is malformed");
    }
    while (tlen < size) {
        const unsigned char *r = buf + pos;

        if (pos == 2048 || r[0] == 0) { /* the rest is in the next block */
            err = read_blocks(w, ++b, buf, 1);
            if (err)
                return err < 0 ? refuse(w, b, "a directory block cannot be read") : 0;
            tlen += 2048 - pos;
            pos = 0;
            continue;
        }
        if (!record_ok(r, buf + 2048))
            return refuse(w, b, "a directory record is malformed");
        err = child_dir(w, r, buf + 2048, b, buf + 2048, &child);
        if (err)
            return err;
        tlen += r[0];
        pos += r[0];
        if (!child)
            continue;
        if (child < 16)
            return refuse(w, b, "a directory record points into the system area");
        err = seen(w, child);
        if (err < 0)
            return err;
        if (err)
            return refuse(w, child,
                          "its directory tree is not a tree (a directory is reached twice: "
                          "a loop, or a directory shared by two names)");
        err = push(w, child);
        if (err)
            return err;
    }
    return 0;
}

/* Does the El Torito boot catalog at CAT (read into BUF) name itself as a boot
 * image?  Its entries as read_el_torito_boot_catalog() reads them.  libisofs
 * 1.5.4 then makes the catalog's node the boot image's too and reads it as a
 * file (iso_image_eval_boot_info_table): a crash. */
static int catalog_boots_itself(struct walk *w, uint32_t cat, unsigned char *buf)
{
    int images = 1, last = 0;

    if (read_blocks(w, cat, buf, 1) != 0 || buf[0] != 1 || buf[30] != 0x55 || buf[31] != 0xAA)
        return 0;
    if (le32(buf + 32 + 8) == cat) /* the default entry */
        return 1;
    for (size_t rx = 64; rx < 2048 && (buf[rx] & 0xfe) == 0x90 && !last; rx += 32) {
        unsigned entries = buf[rx + 2]; /* of this section */

        last = buf[rx] & 1;
        for (unsigned i = 0; i < entries; i++) {
            rx += 32;
            if (images++ >= 32 || rx + 12 > 2048)
                return 0; /* libisofs stops (or reads past its buffer) */
            if (le32(buf + rx + 8) == cat)
                return 1;
        }
    }
    return 0;
}

/* The tree libisofs imports: the extent of its root's "." record, in *ROOT */
static int find_root(struct walk *w, unsigned char *buf, uint32_t *root)
{
    uint32_t pvd_root, joliet_root = 0, cat = 0;
    struct su su;
    int err = read_blocks(w, (uint64_t)w->start + 16, buf, 1), boots_itself = 0;

    if (err)
        return 1; /* dfs_check_iso() tells */
    pvd_root = le32(buf + 156 + 2) + buf[156 + 1];
    w->fs_end = (uint64_t)w->start + le32(buf + 80);
    /* the volume descriptors after it, to the terminator (the last Joliet one and
     * the last El Torito catalog count) */
    for (uint64_t b = (uint64_t)w->start + 17; buf[0] != 255; b++) {
        if (read_blocks(w, b, buf, 1) != 0)
            return 1; /* libisofs fails */
        if (buf[0] == 2 && buf[88] == 0x25 && buf[89] == 0x2F &&
            (buf[90] == 0x40 || buf[90] == 0x43 || buf[90] == 0x45))
            joliet_root = le32(buf + 156 + 2) + buf[156 + 1];
        if (buf[0] == 0 && !memcmp(buf + 1, "CD001", 5) && buf[6] == 1 &&
            !memcmp(buf + 7, "EL TORITO SPECIFICATION", 23)) {
            /* each one read anew: one that is no catalog has no boot images */
            cat = le32(buf + 71);
            boots_itself = catalog_boots_itself(w, cat, buf + 2048);
        }
    }
    if (boots_itself)
        return refuse(w, cat, "its El Torito boot catalog names itself as a boot image");
    /* Rock Ridge: SP first in the root's ".", and an ER entry of RRIP */
    err = read_blocks(w, pvd_root, buf, 1);
    if (err)
        return err < 0 ? refuse(w, pvd_root, "the root directory cannot be read") : 1;
    if (record_ok(buf, buf + 2048)) {
        err = scan_su(w, buf, buf + 2048, 1, 0, &su);
        if (err)
            return err < 0
                       ? err
                       : refuse(
                             w, pvd_root,
                             "the continuation areas of the root form a loop (or run on and on)");
        w->rr = su.sp && su.rrip;
        w->len_skp = su.skp;
    }
    if (w->rr) { /* the root node is made from its "." as any other directory */
        uint32_t dir;

        if (!record_ok(buf, buf + 2048))
            return refuse(w, pvd_root, "the root directory record is impossible");
        err = child_dir(w, buf, buf + 2048, pvd_root, buf + 2048, &dir);
        if (err)
            return err;
        if (!dir)
            return 1; /* relocated (RE), or no directory: libisofs fails */
        *root = dir;
        return 0;
    }
    if (joliet_root) {
        err = read_blocks(w, joliet_root, buf, 1);
        if (err)
            return err < 0 ? refuse(w, joliet_root, "the root directory cannot be read") : 1;
    }
    if (!record_ok(buf, buf + 2048))
        return refuse(w, joliet_root ? joliet_root : pvd_root,
                      "the root directory record is impossible");
    *root = le32(buf + 2) + buf[1];
    return 0;
}

static int check_tree(struct dfs_disc *d, uint32_t start, uint32_t session, const char *remedy);

int dfs_check_tree(struct dfs_disc *d)
{
    /* libisofs reads the session where libisoburn's msc1 says: on an emulated
     * medium (an image file) that is 0 for the newest session, whose volume
     * descriptors libisoburn copies to the superblock at block 16, and which
     * need not be the same as those where the session starts */
    uint32_t start = d->info.msc1;

    if (d->drive) {
        int lba;
        if (isoburn_disc_get_msc1(d->drive, &lba) > 0 && lba >= 0)
            start = (uint32_t)lba;
    }
    return check_tree(d, start, d->info.msc1,
                      "it cannot be mounted (copy what you need with another reader, or mount an "
                      "older session with -o session=N)");
}

int dfs_check_tree_at(struct dfs_disc *d, uint32_t start)
{
    /* an older session, read apart from the mounted one (reimport.c) */
    return check_tree(d, start, start,
                      "its files cannot be read (the other sessions can: copy what you need "
                      "from one of them, or with another reader)");
}

static int check_tree(struct dfs_disc *d, uint32_t start, uint32_t session, const char *remedy)
{
    struct walk w = {
        .d = d, .readable = UINT64_MAX, .start = start, .session = session, .remedy = remedy};
    unsigned char *buf = malloc(2 * 2048);
    uint32_t root = 0;
    int err;

    w.ce = malloc(CE_BYTES_MAX + 2 * 2048);
    if (!buf || !w.ce) {
        free(buf);
        free(w.ce);
        return -ENOMEM;
    }
    if (d->image_path && d->image_fd >= 0) {
        struct stat st;
        if (fstat(d->image_fd, &st) == 0)
            w.readable = ((uint64_t)st.st_size + 2047) / 2048;
    }
    err = find_root(&w, buf, &root);
    if (err > 0) {
        err = 0; /* nothing libisofs would import */
        goto out;
    }
    if (!err && root < 16)
        err = refuse(&w, (uint64_t)w.start + 16, "the root directory record is impossible");
    if (!err)
        err = seen(&w, root) < 0 ? -ENOMEM : push(&w, root);
    while (!err && w.head < w.tail)
        err = walk_dir(&w, w.queue[w.head++], buf);
out:
    free(w.seen);
    free(w.queue);
    free(w.ce);
    free(w.areas);
    free(buf);
    return err;
}

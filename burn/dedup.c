/* burn/dedup.c - content already on the disc is not written again (DESIGN.md,
 * Metadata fidelity)
 *
 * A file of the next session that is staged content (a local file) and whose size
 * and MD5 equal those that the loaded session records for one of its files refers
 * to that file's extents instead.  In libisofs 1.5.4 terms:
 *
 *   - Data is left where it is only for an IsoFile that was imported
 *     (from_old_session, set by the image builder of iso_image_import() alone):
 *     iso_file_src_create() gives its IsoFileSrc no_write and the old sections.
 *     Two IsoFiles whose imported streams have the same sections share one
 *     IsoFileSrc (iso_stream_cmp_ino() compares image streams by their sections,
 *     iso_ifs_sections_cmp()), and with it the slot of the checksum array.
 *   - A clone (iso_image_tree_clone) is not imported: if it comes first in the
 *     writer's walk, the shared IsoFileSrc writes the data again, read from the
 *     disc being written (tried: libisofs crashed).
 *   - The Rock Ridge inode number of a file is its stream's (the PX number it was
 *     imported with); match_hardlinks() makes one inode of all nodes with the same
 *     number and the same properties (mode, owner, times, AAIP attributes), and
 *     gives a family that differs in them a new number.
 *
 * So the file takes an imported IsoFile node with those extents:
 *   - the node of a file whose every name has left the tree (deleted, moved by
 *     delete and create, or its content replaced in the stage), moved into place
 *     as a rename would move it: its inode number is nobody else's now;
 *   - else the node of that file from a second import of the session (imported,
 *     same sections, its isofs.cx names the same MD5), with the private attribute
 *     isofs.copy of a value of its own: its properties differ from those of every
 *     other name with its inode number, so libisofs numbers it apart.  The
 *     attribute goes with the next commit of the file (burn/xattr.c drops it).
 *     An import gives one such twin of each name of the disc; more copies of one
 *     content take another import, up to TWIN_ROUNDS of them (each costs what the
 *     mount's import costs, in time and for a while in memory), then the data of
 *     the rest is written again;
 *   - a file put back to a content that only an older session holds at its path
 *     takes the node of that session's file (older()).
 * Not for: empty files, files with more than one name (their names are one local
 * file), zisofs-compressed disc files, files without a recorded MD5.
 *
 * The MD5 of a staged file is computed here, when the session is written (outside
 * the view's lock), and only for files whose size some file of the disc has.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPY_ATTR "isofs.copy" /* burn/xattr.c: a private attribute, never shown */

/* A local file of the session that may be on the disc already */
struct cand {
    IsoNode *local; /* in the new tree; replaced when a copy is found */
    char *path;
    struct stat st;
    struct dfs_xattr *xattrs;
    size_t n_xattrs;
    size_t first, end; /* the known files of its content (d->known) */
    char md5[16];
    int md5_state; /* 0 not computed, 1 in md5, -1 cannot be */
};

/* A file of the loaded session that has an MD5 */
struct known {
    uint64_t size;
    char md5[16];
    ino_t ino;
    int used; /* its node has a new name already */
    IsoFile *file;
    IsoFile *twin; /* the same file in the second import */
    struct iso_file_section *sec;
    int n_sec;
};

struct dfs_dedup {
    struct cand *cand;
    size_t n_cand, cap_cand;
    struct known *known;
    size_t n_known, cap_known;
    ino_t *placed; /* inode numbers of imported files in the new tree, sorted */
    size_t n_placed, cap_placed;
    ino_t *taken; /* ... and of those given a new name: a set (0 = a free slot) */
    size_t n_taken, cap_taken;
    uint64_t *sizes; /* of the candidates, sorted */
    IsoImage *again; /* the session imported a second time, or NULL */
    unsigned copies; /* isofs.copy values handed out */
};

static int xattrs_dup(const struct dfs_xattr *x, size_t n, struct dfs_xattr **out)
{
    *out = n ? calloc(n, sizeof(**out)) : NULL;
    if (n && !*out)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        (*out)[i].name = strdup(x[i].name);
        (*out)[i].value = malloc(x[i].size ? x[i].size : 1);
        (*out)[i].size = x[i].size;
        if (!(*out)[i].name || !(*out)[i].value) {
            dfs_xattrs_free(*out, n);
            *out = NULL;
            return -ENOMEM;
        }
        memcpy((*out)[i].value, x[i].value, x[i].size);
    }
    return 0;
}

int dfs_dedup_note(struct dfs_dedup **dd, IsoNode *local, const char *path, const struct stat *st,
                   const struct dfs_xattr *x, size_t n)
{
    struct dfs_dedup *d = *dd;
    struct cand *c;

    if (!d) {
        d = *dd = calloc(1, sizeof(*d));
        if (!d)
            return -ENOMEM;
    }
    if (d->n_cand == d->cap_cand) {
        size_t cap = d->cap_cand ? 2 * d->cap_cand : 64;
        struct cand *nc = realloc(d->cand, cap * sizeof(*nc));
        if (!nc)
            return -ENOMEM;
        d->cand = nc;
        d->cap_cand = cap;
    }
    c = &d->cand[d->n_cand];
    memset(c, 0, sizeof(*c));
    c->local = local;
    c->st = *st;
    c->path = strdup(path);
    if (!c->path || xattrs_dup(x, n, &c->xattrs) != 0) {
        free(c->path);
        return -ENOMEM;
    }
    c->n_xattrs = n;
    d->n_cand++;
    return 0;
}

void dfs_dedup_free(struct dfs_dedup *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_cand; i++) {
        free(d->cand[i].path);
        dfs_xattrs_free(d->cand[i].xattrs, d->cand[i].n_xattrs);
    }
    for (size_t i = 0; i < d->n_known; i++)
        free(d->known[i].sec);
    free(d->cand);
    free(d->known);
    free(d->placed);
    free(d->taken);
    free(d->sizes);
    if (d->again)
        iso_image_unref(d->again);
    free(d);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_ino(const void *a, const void *b)
{
    ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;
    return x < y ? -1 : x > y;
}

static size_t slot(ino_t ino, size_t cap)
{
    return (size_t)((uint64_t)ino * 0x9E3779B97F4A7C15ull >> 17) & (cap - 1);
}

/* Is a name of inode INO in the new tree?  (Inode number 0 is nobody's: libisofs
 * numbers every such node apart.) */
static int is_placed(const struct dfs_dedup *d, ino_t ino)
{
    if (!ino)
        return 0;
    if (d->n_placed && bsearch(&ino, d->placed, d->n_placed, sizeof(ino_t), cmp_ino))
        return 1;
    for (size_t i = d->cap_taken ? slot(ino, d->cap_taken) : 0; d->cap_taken && d->taken[i];
         i = (i + 1) & (d->cap_taken - 1))
        if (d->taken[i] == ino)
            return 1;
    return 0;
}

static int add_taken(struct dfs_dedup *d, ino_t ino)
{
    if (!ino)
        return 0;
    if (2 * (d->n_taken + 1) > d->cap_taken) {
        size_t cap = d->cap_taken ? 2 * d->cap_taken : 64;
        ino_t *n = calloc(cap, sizeof(*n));
        if (!n)
            return -ENOMEM;
        for (size_t k = 0; k < d->cap_taken; k++) {
            size_t i;
            if (!d->taken[k])
                continue;
            for (i = slot(d->taken[k], cap); n[i]; i = (i + 1) & (cap - 1))
                ;
            n[i] = d->taken[k];
        }
        free(d->taken);
        d->taken = n;
        d->cap_taken = cap;
    }
    {
        size_t i;
        for (i = slot(ino, d->cap_taken); d->taken[i]; i = (i + 1) & (d->cap_taken - 1))
            if (d->taken[i] == ino)
                return 0;
        d->taken[i] = ino;
        d->n_taken++;
    }
    return 0;
}

static int add_placed(struct dfs_dedup *d, ino_t ino)
{
    if (d->n_placed == d->cap_placed) {
        size_t cap = d->cap_placed ? 2 * d->cap_placed : 256;
        ino_t *n = realloc(d->placed, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        d->placed = n;
        d->cap_placed = cap;
    }
    d->placed[d->n_placed++] = ino;
    return 0;
}

/* An imported file: its sections (malloc'd) and inode number; 0 if not imported */
static int imported(IsoFile *f, struct iso_file_section **sec, int *n_sec, ino_t *ino)
{
    unsigned int fs_id;
    dev_t dev;

    *sec = NULL;
    *n_sec = 0;
    if (iso_file_get_old_image_sections(f, n_sec, sec, 0) != 1)
        return 0;
    iso_stream_get_id(iso_file_get_stream(f), &fs_id, &dev, ino);
    return 1;
}

static int zisofs(IsoFile *f)
{
    int type = 0, bsl2 = 0;
    uint8_t algo[2];
    uint8_t num = 0;

    return iso_stream_get_zisofs_par(iso_file_get_stream(f), &type, algo, &num, &bsl2, 0) == 1 &&
           type != 0;
}

/* Files of the loaded session under NODE: PLACED, those in the new tree */
static int collect(struct dfs_disc *disc, struct dfs_dedup *d, IsoNode *node, int placed)
{
    struct iso_file_section *sec;
    IsoDirIter *it;
    IsoNode *child;
    uint64_t size;
    int n_sec, err = 0;
    ino_t ino;

    if (iso_node_get_type(node) == LIBISO_DIR) {
        if (iso_dir_get_children((IsoDir *)node, &it) < 0)
            return -ENOMEM;
        while (!err && iso_dir_iter_next(it, &child) == 1)
            err = collect(disc, d, child, placed);
        iso_dir_iter_free(it);
        return err;
    }
    if (iso_node_get_type(node) != LIBISO_FILE || !imported((IsoFile *)node, &sec, &n_sec, &ino))
        return 0;
    if (placed && add_placed(d, ino) != 0) {
        free(sec);
        return -ENOMEM;
    }
    size = iso_file_get_size((IsoFile *)node);
    if (n_sec > 0 && size > 0 && bsearch(&size, d->sizes, d->n_cand, sizeof(uint64_t), cmp_u64) &&
        !zisofs((IsoFile *)node)) {
        struct known *k;

        if (d->n_known == d->cap_known) {
            size_t cap = d->cap_known ? 2 * d->cap_known : 64;
            struct known *n = realloc(d->known, cap * sizeof(*n));
            if (!n) {
                free(sec);
                return -ENOMEM;
            }
            d->known = n;
            d->cap_known = cap;
        }
        k = &d->known[d->n_known];
        if (iso_file_get_md5(disc->image, (IsoFile *)node, k->md5, 0) == 1) {
            k->size = size;
            k->ino = ino;
            k->used = 0;
            k->file = (IsoFile *)node;
            k->twin = NULL;
            k->sec = sec;
            k->n_sec = n_sec;
            d->n_known++;
            return 0;
        }
    }
    free(sec);
    return 0;
}

/* The MD5 of the local file PATH of SIZE bytes: 0, or -errno */
static int md5_of(const char *path, uint64_t size, char md5[16])
{
    enum { CHUNK = 1 << 20 };
    void *ctx = NULL;
    uint64_t done = 0;
    struct stat st;
    char *buf;
    int fd, err = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size) {
        close(fd);
        return -EIO; /* libisofs takes the size it finds */
    }
    buf = malloc(CHUNK);
    if (!buf || iso_md5_start(&ctx) < 0) {
        free(buf);
        close(fd);
        return -ENOMEM;
    }
    while (!err && done < size) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            err = n < 0 ? -errno : -EIO;
        else {
            iso_md5_compute(ctx, buf, (int)n);
            done += (uint64_t)n;
        }
    }
    iso_md5_end(&ctx, md5);
    free(buf);
    close(fd);
    return err;
}

/* The loaded session a second time */
static int import_again(struct dfs_disc *disc, struct dfs_dedup *d)
{
    int lba = 0;

    if (!disc->drive || isoburn_disc_get_msc1(disc->drive, &lba) <= 0 || lba < 0)
        lba = (int)disc->info.msc1;
    return dfs_import_session(disc, (uint32_t)lba, 0, &d->again);
}

static int cmp_block(const void *a, const void *b)
{
    const struct known *x = *(struct known *const *)a, *y = *(struct known *const *)b;
    if (x->sec[0].block != y->sec[0].block)
        return x->sec[0].block < y->sec[0].block ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Files of the second import under DIR: each known file's twin (the node with its
 * sections) into k->twin, for the known files of BY_BLOCK (N of them) */
static void find_twins(IsoDir *dir, struct known **by_block, size_t n)
{
    struct iso_file_section *sec;
    IsoDirIter *it;
    IsoNode *child;
    int n_sec;
    ino_t ino;

    if (iso_dir_get_children(dir, &it) < 0)
        return;
    while (iso_dir_iter_next(it, &child) == 1) {
        size_t lo = 0, hi = n;

        if (iso_node_get_type(child) == LIBISO_DIR) {
            find_twins((IsoDir *)child, by_block, n);
            continue;
        }
        if (iso_node_get_type(child) != LIBISO_FILE ||
            !imported((IsoFile *)child, &sec, &n_sec, &ino))
            continue;
        while (n_sec > 0 && lo < hi) { /* the first with this block */
            size_t mid = lo + (hi - lo) / 2;
            if (by_block[mid]->sec[0].block < sec[0].block)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; n_sec > 0 && lo < n && by_block[lo]->sec[0].block == sec[0].block; lo++) {
            struct known *k = by_block[lo];
            if (!k->twin && k->n_sec == n_sec &&
                memcmp(k->sec, sec, (size_t)n_sec * sizeof(*sec)) == 0) {
                k->twin = (IsoFile *)child;
                break;
            }
        }
        free(sec);
    }
    iso_dir_iter_free(it);
}

/* A reference of our own on NODE, which leaves whatever holds it: an old directory
 * taken out of the tree, the commit's list of the old root's children (which keeps
 * its reference), the second import */
static IsoNode *take(IsoNode *node)
{
    iso_node_ref(node);
    if (iso_node_get_parent(node)) {
        iso_node_take(node);
        iso_node_unref(node); /* take handed us the parent's reference */
    }
    return node;
}

/* Put NODE (taken) in place of the candidate C; COPY: another name of its inode
 * number is in the tree */
static int replace(struct dfs_disc *disc, struct dfs_dedup *d, struct cand *c, IsoNode *node,
                   int copy)
{
    IsoDir *dir = iso_node_get_parent(c->local);
    char *name = strdup(iso_node_get_name(c->local)), value[16];
    int ret;

    if (!name || !dir) {
        iso_node_unref(node);
        free(name);
        return -ENOMEM;
    }
    iso_node_remove(c->local);
    c->local = NULL;
    ret = iso_image_set_node_name(disc->image, node, name, 0);
    if (ret >= 0)
        ret = iso_dir_add_node(dir, node, ISO_REPLACE_NEVER);
    free(name);
    if (ret < 0) {
        iso_node_unref(node);
        return -EIO;
    }
    ret = dfs_node_set_xattrs(node, c->xattrs, c->n_xattrs, &c->st.st_mtim, NULL, 0);
    if (ret == 0 && copy) {
        char *n = COPY_ATTR, *v = value;
        size_t len = (size_t)snprintf(value, sizeof(value), "%u", ++d->copies);
        if (iso_node_set_attrs(node, 1, &n, &len, &v, 2 | 8) < 0)
            ret = -ENOMEM;
    }
    dfs_node_set_stat(node, &c->st);
    return ret;
}

static int by_size(const void *a, const void *b)
{
    const struct known *x = a, *y = b;
    return x->size < y->size ? -1 : x->size > y->size;
}

static int by_size_md5(const void *a, const void *b)
{
    const struct known *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return memcmp(x->md5, y->md5, 16);
}

/* C's MD5 (computed once): 1, or 0 if it cannot be read */
static int cand_md5(struct cand *c)
{
    if (!c->md5_state)
        c->md5_state = md5_of(c->path, (uint64_t)c->st.st_size, c->md5) == 0 ? 1 : -1;
    return c->md5_state == 1;
}

/* The known files of C's content: [*first, *end) of d->known; 0 if none */
static int match(struct dfs_dedup *d, struct cand *c, size_t *first, size_t *end)
{
    struct known key = {.size = (uint64_t)c->st.st_size}, *k;

    if (!bsearch(&key, d->known, d->n_known, sizeof(key), by_size) || !cand_md5(c))
        return 0;
    memcpy(key.md5, c->md5, 16);
    k = bsearch(&key, d->known, d->n_known, sizeof(key), by_size_md5);
    if (!k)
        return 0;
    *first = *end = (size_t)(k - d->known);
    while (*first > 0 && by_size_md5(&d->known[*first - 1], &key) == 0)
        --*first;
    while (*end < d->n_known && by_size_md5(&d->known[*end], &key) == 0)
        ++*end;
    return 1;
}

/* Copies: rounds of a second import of the session, each giving one twin of every
 * name of the disc; a few of them, then their data is written again */
#define TWIN_ROUNDS 4
static int copies(struct dfs_disc *disc, struct dfs_dedup *d)
{
    struct known **by_block = malloc(d->n_known * sizeof(*by_block));
    int err = 0;

    if (!by_block)
        return -ENOMEM;
    for (size_t i = 0; i < d->n_known; i++)
        by_block[i] = &d->known[i];
    qsort(by_block, d->n_known, sizeof(*by_block), cmp_block);
    for (int round = 0; !err && round < TWIN_ROUNDS; round++) {
        size_t left = 0;

        for (size_t i = 0; i < d->n_cand; i++)
            left += d->cand[i].local && d->cand[i].end > d->cand[i].first;
        if (!left)
            break;
        err = import_again(disc, d);
        if (err) {
            dfs_lib_error(disc, 0, NULL);
            fprintf(stderr,
                    "discfs: cannot read the session of '%s' a second time to refer to the "
                    "files it holds (%s): copies of them are written again\n",
                    disc->image_path ? disc->image_path : disc->adr, strerror(-err));
            err = 0;
            break;
        }
        for (size_t i = 0; i < d->n_known; i++)
            d->known[i].twin = NULL;
        find_twins(iso_image_get_root(d->again), by_block, d->n_known);
        for (size_t i = 0; !err && i < d->n_cand; i++) {
            struct cand *c = &d->cand[i];

            for (size_t k = c->first; c->local && k < c->end; k++) {
                if (!d->known[k].twin)
                    continue;
                err = replace(disc, d, c, take((IsoNode *)d->known[k].twin), 1);
                d->known[k].twin = NULL;
            }
        }
        iso_image_unref(d->again); /* the twins taken stay */
        d->again = NULL;
    }
    free(by_block);
    return err;
}

/* Is PATH (of the new tree) a file of the loaded session that no name of the new
 * tree took (its content was replaced)?  OLD: the children of the old root. */
static int replaced(const char *path, IsoNode **old, size_t n_old)
{
    char *p = strdup(path), *save = NULL, *name;
    IsoNode *node = NULL;

    if (!p)
        return 0;
    for (name = strtok_r(p, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
        IsoNode *next = NULL;

        if (!node) {
            for (size_t i = 0; i < n_old && !next; i++)
                if (!iso_node_get_parent(old[i]) && !strcmp(iso_node_get_name(old[i]), name))
                    next = old[i];
        } else if (iso_node_get_type(node) == LIBISO_DIR) {
            iso_dir_get_node((IsoDir *)node, name, &next);
        }
        node = next;
        if (!node)
            break;
    }
    free(p);
    return node && iso_node_get_type(node) == LIBISO_FILE;
}

/* A file put back to a content that only an older session holds, at its path
 * there (a restore of last week's file): the node of that session's file, from
 * an import of it, checked as the mount checks the sessions it loads
 * (dfs_check_tree_at, once per mount: dfs_session_sane).  The MD5 that the
 * checksum array of the loaded session would give it is another file's: it is
 * computed anew from the disc (iso_file_make_md5, which the writer takes first).
 * At most OLDER_SESSIONS sessions back, and only for files whose name held
 * another content; a session is imported only if it has a file of the size at
 * the path. */
#define OLDER_SESSIONS 8
static int older(struct dfs_disc *disc, struct dfs_dedup *d, IsoNode **old, size_t n_old)
{
    struct dfs_session_ref *refs = NULL;
    char **paths = calloc(d->n_cand, sizeof(*paths)), keep[sizeof(disc->last_error)];
    off_t *sizes = calloc(d->n_cand, sizeof(*sizes));
    int n, err = 0, tried = 0;
    size_t left = 0;

    if (!paths || !sizes) {
        free(paths);
        free(sizes);
        return -ENOMEM;
    }
    for (size_t i = 0; i < d->n_cand; i++) {
        struct cand *c = &d->cand[i];

        if (!c->local || c->end > c->first)
            continue;
        paths[i] = iso_tree_get_node_path(c->local);
        sizes[i] = c->st.st_size;
        if (paths[i] && !replaced(paths[i], old, n_old)) {
            free(paths[i]);
            paths[i] = NULL;
        }
        left += paths[i] != NULL;
    }
    n = left ? dfs_disc_sessions(disc, &refs) : 0;
    memcpy(keep, disc->last_error, sizeof(keep));
    for (int s = n - 1; !err && left && s >= 0 && tried < OLDER_SESSIONS; s--) {
        if (refs[s].number < 1 || refs[s].msc1 >= disc->info.msc1)
            continue;
        tried++;
        if (dfs_session_sane(disc, refs[s].msc1) != 0)
            break; /* what cannot be read is left alone */
        if (!dfs_session_has_file(disc, refs[s].msc1, (const char *const *)paths, sizes, d->n_cand))
            continue;
        if (dfs_import_session(disc, refs[s].msc1, 1, &d->again))
            break;
        for (size_t i = 0; !err && i < d->n_cand; i++) {
            struct cand *c = &d->cand[i];
            struct iso_file_section *sec;
            IsoNode *node = NULL;
            char md5[16];
            int n_sec;
            ino_t ino;

            if (!paths[i] || !c->local || iso_tree_path_to_node(d->again, paths[i], &node) != 1 ||
                !node || iso_node_get_type(node) != LIBISO_FILE ||
                iso_file_get_size((IsoFile *)node) != c->st.st_size || zisofs((IsoFile *)node) ||
                iso_file_get_md5(d->again, (IsoFile *)node, md5, 0) != 1 || !cand_md5(c) ||
                memcmp(md5, c->md5, 16) != 0 || !imported((IsoFile *)node, &sec, &n_sec, &ino))
                continue;
            free(sec);
            node = take(node);
            if (iso_file_make_md5((IsoFile *)node, 0) < 0) {
                iso_node_unref(node);
                continue;
            }
            err = replace(disc, d, c, node, 1);
            free(paths[i]);
            paths[i] = NULL;
            left--;
        }
        iso_image_unref(d->again);
        d->again = NULL;
    }
    memcpy(disc->last_error, keep, sizeof(keep));
    dfs_lib_error(disc, 0, NULL); /* the messages of the imports are their own */
    for (size_t i = 0; i < d->n_cand; i++)
        free(paths[i]);
    free(paths);
    free(sizes);
    free(refs);
    return err;
}

int dfs_dedup_resolve(struct dfs_disc *disc, struct dfs_dedup *d, IsoNode **old, size_t n_old)
{
    int err = 0;

    if (!d || !d->n_cand || !disc->image)
        return 0;
    d->sizes = malloc(d->n_cand * sizeof(*d->sizes));
    if (!d->sizes)
        return -ENOMEM;
    for (size_t i = 0; i < d->n_cand; i++)
        d->sizes[i] = (uint64_t)d->cand[i].st.st_size;
    qsort(d->sizes, d->n_cand, sizeof(*d->sizes), cmp_u64);
    err = collect(disc, d, (IsoNode *)iso_image_get_root(disc->image), 1);
    for (size_t i = 0; !err && i < n_old; i++)
        err = iso_node_get_parent(old[i]) ? 0 : collect(disc, d, old[i], 0);
    if (err || !d->n_known)
        return err ? err : older(disc, d, old, n_old);
    if (d->n_placed)
        qsort(d->placed, d->n_placed, sizeof(ino_t), cmp_ino);
    qsort(d->known, d->n_known, sizeof(*d->known), by_size_md5);
    /* the node of a file whose every name has gone, as a rename would move it */
    for (size_t i = 0; !err && i < d->n_cand; i++) {
        struct cand *c = &d->cand[i];

        if (!match(d, c, &c->first, &c->end))
            continue;
        for (size_t k = c->first; k < c->end; k++) {
            struct known *f = &d->known[k];
            if (f->used || is_placed(d, f->ino))
                continue;
            f->used = 1;
            err = add_taken(d, f->ino);
            if (!err)
                err = replace(disc, d, c, take((IsoNode *)f->file), 0);
            break;
        }
    }
    if (!err)
        err = copies(disc, d);
    if (!err)
        err = older(disc, d, old, n_old);
    return err;
}

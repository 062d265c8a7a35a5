/* burn/image.c - the imported session: its nodes, their hard-link families and the
 * walk of its tree (file data is read in read.c) */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void dfs_disc_node_get(void *node)
{
    iso_node_ref(node);
}

void dfs_disc_node_put(void *node)
{
    if (node)
        iso_node_unref(node);
}

static int file_extents(IsoFile *f, struct dfs_extent **out, int *n_out)
{
    struct iso_file_section *sec = NULL;
    int n = 0;

    *out = NULL;
    *n_out = 0;
    if (iso_file_get_old_image_sections(f, &n, &sec, 0) != 1 || n <= 0)
        return 0; /* empty file, or not from the disc */
    *out = calloc((size_t)n, sizeof(**out));
    if (!*out) {
        free(sec);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        (*out)[i].lba = sec[i].block;
        (*out)[i].size = sec[i].size;
    }
    *n_out = n;
    free(sec);
    return 0;
}

/* ---- hard links ----
 *
 * Files: names of one inode share the inode number of their stream
 * (iso_stream_get_id()).  Symlinks and special files: libisofs keeps their inode
 * numbers to itself (there is no getter as there is for files), but
 * iso_node_cmp_ino() orders nodes by them and finds two names of one inode equal.
 * Sorting the tree's nodes that are not directories gives the families; only those
 * of two or more names are kept (a family for every name would cost each entry of
 * the mount a slot here and one in the view's table of families). */

struct family_of {
    IsoNode *node;
    uint64_t family; /* files: the inode number while sorting */
};

struct families {
    struct family_of *v;
    size_t n, cap;
};

static int collect_linkable(IsoDir *dir, struct families *f)
{
    IsoDirIter *it;
    IsoNode *child;
    int err = 0;

    if (iso_dir_get_children(dir, &it) < 0)
        return -ENOMEM;
    while (!err && iso_dir_iter_next(it, &child) == 1) {
        enum IsoNodeType t = iso_node_get_type(child);

        if (t == LIBISO_DIR) {
            err = collect_linkable((IsoDir *)child, f);
        } else if (t == LIBISO_FILE || t == LIBISO_SYMLINK || t == LIBISO_SPECIAL) {
            uint64_t ino_nr = 0;

            if (f->n == f->cap) {
                size_t cap = f->cap ? 2 * f->cap : 256;
                struct family_of *n = realloc(f->v, cap * sizeof(*n));
                if (!n) {
                    err = -ENOMEM;
                    break;
                }
                f->v = n;
                f->cap = cap;
            }
            if (t == LIBISO_FILE) {
                unsigned int fs_id;
                dev_t dev;
                ino_t ino;

                iso_stream_get_id(iso_file_get_stream((IsoFile *)child), &fs_id, &dev, &ino);
                ino_nr = ino;
            }
            f->v[f->n++] = (struct family_of){.node = child, .family = ino_nr};
        }
    }
    iso_dir_iter_free(it);
    return err;
}

/* files first, by inode number; then the others as libisofs orders them */
static int by_inode(const void *a, const void *b)
{
    const struct family_of *x = a, *y = b;
    int fx = iso_node_get_type(x->node) == LIBISO_FILE;
    int fy = iso_node_get_type(y->node) == LIBISO_FILE;

    if (fx != fy)
        return fy - fx;
    if (fx)
        return x->family < y->family ? -1 : x->family > y->family;
    return iso_node_cmp_ino(x->node, y->node, 0);
}

static int by_node(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct family_of *)a)->node;
    uintptr_t y = (uintptr_t)((const struct family_of *)b)->node;
    return x < y ? -1 : x > y;
}

/* Number the families of two or more names (files keep their inode number), drop
 * the single names, then sort by node for lookups. */
static int find_families(IsoDir *root, struct families *f)
{
    uint64_t next = 1;
    size_t i, j, kept = 0;
    int err = collect_linkable(root, f);

    if (err || f->n == 0)
        return err;
    qsort(f->v, f->n, sizeof(*f->v), by_inode);
    for (i = 0; i < f->n; i = j) {
        int file = iso_node_get_type(f->v[i].node) == LIBISO_FILE;
        uint64_t family = file ? f->v[i].family : 1ULL << 63 | next; /* apart from files' */

        for (j = i + 1; j < f->n && by_inode(&f->v[i], &f->v[j]) == 0; j++)
            ;
        if (j - i < 2 || family == 0)
            continue; /* a single name (or a file without a number) */
        next += !file;
        for (size_t k = i; k < j; k++)
            f->v[kept++] = (struct family_of){.node = f->v[k].node, .family = family};
    }
    f->n = kept;
    if (kept == 0) {
        free(f->v);
        *f = (struct families){0};
        return 0;
    }
    {
        struct family_of *n = realloc(f->v, kept * sizeof(*n));
        if (n) {
            f->v = n;
            f->cap = kept;
        }
    }
    qsort(f->v, f->n, sizeof(*f->v), by_node);
    return 0;
}

static uint64_t family_of(const struct families *f, IsoNode *node)
{
    struct family_of key = {.node = node}, *hit;

    hit = f->n ? bsearch(&key, f->v, f->n, sizeof(*f->v), by_node) : NULL;
    return hit ? hit->family : 0;
}

static int fill_entry(IsoNode *node, struct dfs_disc_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->node = node;
    e->st.st_mode = iso_node_get_mode(node);
    e->st.st_uid = iso_node_get_uid(node);
    e->st.st_gid = iso_node_get_gid(node);
    e->st.st_mtim.tv_sec = iso_node_get_mtime(node);
    e->st.st_atim.tv_sec = iso_node_get_atime(node);
    e->st.st_ctim.tv_sec = iso_node_get_ctime(node);
    e->st.st_nlink = 1;
    {
        int err = dfs_node_get_xattrs(node, &e->xattrs, &e->n_xattrs, &e->st.st_mtim, &e->own_link);
        if (err)
            return err;
    }
    switch (iso_node_get_type(node)) {
    case LIBISO_DIR:
        e->st.st_mode = S_IFDIR | (e->st.st_mode & 07777);
        break;
    case LIBISO_FILE: {
        IsoFile *f = (IsoFile *)node;
        unsigned int fs_id;
        dev_t dev;
        ino_t ino;

        e->st.st_mode = S_IFREG | (e->st.st_mode & 07777);
        e->st.st_size = (off_t)iso_file_get_size(f);
        iso_stream_get_id(iso_file_get_stream(f), &fs_id, &dev, &ino);
        e->st.st_ino = ino; /* its family, if it has one, comes from find_families() */
        {
            int type = 0, bsl2 = 0;
            uint8_t algo[2], num = 0;
            if (iso_stream_get_zisofs_par(iso_file_get_stream(f), &type, algo, &num, &bsl2, 0) ==
                    1 &&
                type == -1) /* libisofs decompresses it: its extents are compressed */
                e->zisofs = num == 0 ? 1 : 2;
        }
        return file_extents(f, &e->ext, &e->n_ext);
    }
    case LIBISO_SYMLINK:
        e->st.st_mode = S_IFLNK | 0777;
        e->link = e->own_link ? e->own_link : iso_symlink_get_dest((IsoSymlink *)node);
        e->st.st_size = e->link ? (off_t)strlen(e->link) : 0;
        break;
    case LIBISO_SPECIAL:
        e->st.st_rdev = iso_special_get_dev((IsoSpecial *)node);
        break;
    default: /* boot catalog: not shown */
        return 1;
    }
    return 0;
}

static int walk_dir(const struct families *fam, IsoDir *dir, dfs_disc_walk_fn fn, void *ctx,
                    void *cookie)
{
    IsoDirIter *it;
    IsoNode *child;
    int err = 0;

    if (iso_dir_get_children(dir, &it) < 0)
        return -ENOMEM;
    while (!err && iso_dir_iter_next(it, &child) == 1) {
        struct dfs_disc_entry e;
        void *child_cookie = NULL;

        err = fill_entry(child, &e);
        if (err == 1) {
            dfs_xattrs_free(e.xattrs, e.n_xattrs);
            free(e.ext);
            free(e.own_link);
            err = 0;
            continue;
        }
        if (err)
            break;
        e.name = iso_node_get_name(child);
        if (iso_node_get_type(child) != LIBISO_DIR)
            e.family = family_of(fam, child);
        err = fn(ctx, cookie, &e, &child_cookie);
        free(e.ext);
        free(e.own_link);
        dfs_xattrs_free(e.xattrs, e.n_xattrs);
        if (!err && iso_node_get_type(child) == LIBISO_DIR)
            err = walk_dir(fam, (IsoDir *)child, fn, ctx, child_cookie);
    }
    iso_dir_iter_free(it);
    return err;
}

int dfs_disc_walk(struct dfs_disc *d, dfs_disc_walk_fn fn, void *ctx, void *root_cookie)
{
    IsoDir *root = d->image ? iso_image_get_root(d->image) : NULL;
    struct families fam = {0};
    struct dfs_disc_entry e;
    void *cookie = root_cookie;
    int err;

    if (!root)
        return -EIO; /* no session loaded (a reload after a commit failed) */
    if (d->tree_built)
        return -ESTALE; /* a failed commit's tree, not the disc's (session.c) */
    err = find_families(root, &fam);
    if (!err)
        err = fill_entry((IsoNode *)root, &e);
    if (err) {
        free(fam.v);
        return err < 0 ? err : -EIO;
    }
    e.name = NULL;
    err = fn(ctx, NULL, &e, &cookie);
    free(e.ext);
    free(e.own_link);
    dfs_xattrs_free(e.xattrs, e.n_xattrs);
    if (!err)
        err = walk_dir(&fam, root, fn, ctx, cookie);
    free(fam.v);
    return err;
}

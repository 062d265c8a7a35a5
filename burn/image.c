/* burn/image.c - the imported newest session: tree walk and file data */
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
        long ns;
        int err = dfs_node_get_xattrs(node, &e->xattrs, &e->n_xattrs, &ns);
        if (err)
            return err;
        if (ns >= 0)
            e->st.st_mtim.tv_nsec = ns;
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
        e->st.st_ino = ino;
        return file_extents(f, &e->ext, &e->n_ext);
    }
    case LIBISO_SYMLINK:
        e->st.st_mode = S_IFLNK | 0777;
        e->link = iso_symlink_get_dest((IsoSymlink *)node);
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

static int walk_dir(struct dfs_disc *d, IsoDir *dir, dfs_disc_walk_fn fn, void *ctx, void *cookie)
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
            err = 0;
            continue;
        }
        if (err)
            break;
        e.name = iso_node_get_name(child);
        err = fn(ctx, cookie, &e, &child_cookie);
        free(e.ext);
        dfs_xattrs_free(e.xattrs, e.n_xattrs);
        if (!err && iso_node_get_type(child) == LIBISO_DIR)
            err = walk_dir(d, (IsoDir *)child, fn, ctx, child_cookie);
    }
    iso_dir_iter_free(it);
    return err;
}

int dfs_disc_walk(struct dfs_disc *d, dfs_disc_walk_fn fn, void *ctx, void *root_cookie)
{
    IsoDir *root = d->image ? iso_image_get_root(d->image) : NULL;
    struct dfs_disc_entry e;
    void *cookie = root_cookie;
    int err;

    if (!root)
        return -EIO; /* no session loaded (a reload after a commit failed) */
    err = fill_entry((IsoNode *)root, &e);
    if (err)
        return err < 0 ? err : -EIO;
    e.name = NULL;
    err = fn(ctx, NULL, &e, &cookie);
    free(e.ext);
    dfs_xattrs_free(e.xattrs, e.n_xattrs);
    if (err)
        return err;
    return walk_dir(d, root, fn, ctx, cookie);
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

ssize_t dfs_disc_read(struct dfs_disc *d, const struct dfs_extent *ext, int n_ext, void *buf,
                      size_t size, off_t off)
{
    size_t done = 0;

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

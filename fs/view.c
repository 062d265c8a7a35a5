/* fs/view.c - the view as a whole: built from the disc (hard-link families
 * included) and closed */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int same_data(const struct dfs_inode *ino, const struct dfs_disc_entry *e)
{
    if ((ino->st.st_mode & S_IFMT) != (e->st.st_mode & S_IFMT))
        return 0;
    if (!S_ISREG(e->st.st_mode))
        return 1; /* libisofs compared them (image.c) */
    if (ino->st.st_size != e->st.st_size || ino->n_ext != e->n_ext)
        return 0;
    if (e->n_ext > 1)
        return memcmp(ino->ext.many, e->ext, sizeof(*e->ext) * (size_t)e->n_ext) == 0;
    return e->n_ext == 0 ||
           (ino->ext.one.lba == e->ext[0].lba && ino->ext.one.size == e->ext[0].size);
}

static struct dfs_family *family_slot(struct dfs_families *f, uint64_t family)
{
    size_t mask = f->n_slots - 1, i = (size_t)(family * 0x9E3779B97F4A7C15ULL) & mask;

    for (; f->slots[i].ino; i = (i + 1) & mask)
        if (f->slots[i].family == family)
            break;
    return &f->slots[i];
}

struct dfs_inode *dfs_families_find(struct dfs_families *f, const struct dfs_disc_entry *e)
{
    struct dfs_family *slot;

    if (!e->family || !f->n_slots)
        return NULL;
    slot = family_slot(f, e->family);
    return slot->ino && same_data(slot->ino, e) ? slot->ino : NULL;
}

int dfs_families_add(struct dfs_families *f, const struct dfs_disc_entry *e, struct dfs_inode *ino)
{
    struct dfs_family *slot;

    if (!e->family)
        return 0;
    if (2 * (f->used + 1) > f->n_slots) {
        struct dfs_families g = {.n_slots = f->n_slots ? 2 * f->n_slots : 1024};

        g.slots = calloc(g.n_slots, sizeof(*g.slots));
        if (!g.slots)
            return -ENOMEM;
        for (size_t i = 0; i < f->n_slots; i++)
            if (f->slots[i].ino)
                *family_slot(&g, f->slots[i].family) = f->slots[i];
        g.used = f->used;
        free(f->slots);
        *f = g;
    }
    slot = family_slot(f, e->family);
    if (!slot->ino) { /* the first inode of a number keeps it (another one's data differs) */
        slot->family = e->family;
        slot->ino = ino;
        f->used++;
    }
    return 0;
}

struct build_ctx {
    struct dfs_view *v;
    uint64_t max_ino;
    struct dfs_families fam;
};

static int build_node(void *ctx_, void *parent, struct dfs_disc_entry *e, void **child_cookie)
{
    struct build_ctx *ctx = ctx_;
    struct dfs_view *v = ctx->v;
    struct dfs_inode *ino;
    char fixed[NAME_MAX_ISO + 1];
    int err;

    if (parent)
        e->name = dfs_writable_name(e->name, fixed, sizeof(fixed), 1);
    if (parent && (ino = dfs_families_find(&ctx->fam, e))) { /* a further hard link */
        err = dfs_dentry_add(v, parent, e->name, ino);
        if (!err)
            err = dfs_view_add_disc_node(ino, e->node);
        if (!err)
            ino->st.st_nlink++;
        *child_cookie = ino;
        return err;
    }
    if (!parent) { /* the root */
        ino = v->inodes[DFS_ROOT_ID];
    } else {
        ino = dfs_inode_new(v, e->st.st_mode, 0);
        if (!ino)
            return -ENOMEM;
        err = dfs_dentry_add(v, parent, e->name, ino);
        if (err)
            return err;
    }
    ino->st.st_mode = e->st.st_mode;
    ino->st.st_uid = e->st.st_uid;
    ino->st.st_gid = e->st.st_gid;
    ino->st.st_size = e->st.st_size;
    ino->st.st_atim = dfs_time(e->st.st_atim);
    ino->st.st_mtim = dfs_time(e->st.st_mtim);
    ino->st.st_ctim = dfs_time(e->st.st_ctim);
    if (S_ISREG(e->st.st_mode) && e->st.st_ino) {
        ino->st.st_ino = e->st.st_ino; /* fixed up to ino_base + id below if 0 */
        if (e->st.st_ino > ctx->max_ino)
            ctx->max_ino = e->st.st_ino;
    } else {
        ino->st.st_ino = 0;
    }
    if ((e->link || e->n_xattrs || e->st.st_rdev) && dfs_inode_more(ino))
        return -ENOMEM;
    if (e->st.st_rdev)
        ino->more->rdev = e->st.st_rdev;
    if (e->link && !(ino->more->link = strdup(e->link)))
        return -ENOMEM;
    err = dfs_inode_set_ext(ino, e->ext, e->n_ext);
    e->ext = NULL;
    if (err) {
        fprintf(stderr, "discfs: '%s' has more than %d runs of data on the disc\n",
                e->name ? e->name : "/", DFS_MAX_EXTENTS);
        return err;
    }
    ino->zisofs = (uint8_t)e->zisofs;
    if (e->zisofs == 2)
        fprintf(stderr,
                "discfs: '%s' is stored compressed with zisofs version 2, which discfs cannot "
                "read yet: reading it fails (EIO); commits keep it as it is\n",
                e->name);
    if (e->n_xattrs) {
        ino->more->xattrs = e->xattrs;
        ino->more->n_xattrs = e->n_xattrs;
        e->xattrs = NULL;
        e->n_xattrs = 0;
    }
    *child_cookie = ino;
    dfs_space_refresh(v, ino); /* its attributes are known now */
    if (!parent || S_ISDIR(e->st.st_mode))
        return 0; /* directories are new in every session */
    err = dfs_view_add_disc_node(ino, e->node);
    return err ? err : dfs_families_add(&ctx->fam, e, ino);
}

int dfs_view_open(struct dfs_view **out, struct dfs_disc *disc, struct dfs_store *store)
{
    struct dfs_view *v = calloc(1, sizeof(*v));
    struct build_ctx ctx = {.v = v};
    struct dfs_inode *root;
    int err;

    if (!v)
        return -ENOMEM;
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->commit_done, NULL);
    pthread_cond_init(&v->copy_done, NULL);
    v->disc = disc;
    v->store = store;
    v->readonly = disc && dfs_disc_get_info(disc)->state == DFS_MEDIA_CLOSED;
    v->n_ids = 1; /* id 0 is never used */
    root = dfs_inode_new(v, S_IFDIR | 0755, 0);
    if (!root) {
        err = -ENOMEM;
        goto out_free;
    }
    root->st.st_uid = getuid();
    root->st.st_gid = getgid();
    {
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        root->st.st_atim = root->st.st_ctim = root->st.st_mtim = dfs_time(now);
    }
    if (disc) {
        err = dfs_disc_walk(disc, build_node, &ctx, root);
        free(ctx.fam.slots);
        if (err)
            goto out_free;
    }
    if (!disc || dfs_disc_get_info(disc)->state == DFS_MEDIA_BLANK ||
        dfs_disc_get_info(disc)->empty_tree) {
        /* a blank disc's root belongs to whoever mounts it */
        root->st.st_mode = S_IFDIR | 0755;
        root->st.st_uid = getuid();
        root->st.st_gid = getgid();
    }
    /* the ids of inodes not numbered by the disc: above every disc inode number */
    v->ino_base = ctx.max_ino;
    for (uint64_t i = 1; i < v->n_ids; i++)
        if (v->inodes[i] && v->inodes[i]->st.st_ino == 0)
            v->inodes[i]->st.st_ino = v->ino_base + i;
    root->st.st_ino = v->ino_base + DFS_ROOT_ID;
    root->nlookup = 1; /* the kernel's reference on the root is never forgotten */
    *out = v;
    return 0;

out_free:
    dfs_view_close(v);
    return err;
}

void dfs_view_close(struct dfs_view *v)
{
    if (!v)
        return;
    for (uint64_t i = 1; i < v->n_ids; i++) {
        struct dfs_inode *ino = v->inodes[i];
        if (!ino)
            continue;
        dfs_inode_destroy(ino);
    }
    free(v->inodes); /* names went with their directories */
    pthread_cond_destroy(&v->commit_done);
    pthread_cond_destroy(&v->copy_done);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

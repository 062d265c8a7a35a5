/* fs/readdir.c - directory listings with stable offsets, readdirplus lookup counts */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dfs_view_readdir(struct dfs_view *v, uint64_t dir_id, off_t off, int plus, dfs_fill_fn fill,
                     void *ctx)
{
    struct dfs_inode *dir;
    struct dfs_dir *dp;
    struct stat st;
    int err;

    pthread_mutex_lock(&v->lock);
    err = dfs_get_dir(v, dir_id, &dir);
    if (err)
        goto out;
    dp = dfs_dp(dir);
    if (off < 1) {
        dfs_view_stat(v, dir, &st);
        st.st_dev = dir->id;
        /* readdirplus counts a lookup for every entry but "." and ".." */
        if (fill(ctx, ".", &st, 1))
            goto out;
        off = 1;
    }
    if (off < 2) {
        struct dfs_inode *p = dp->parent ? dp->parent : dir;
        dfs_view_stat(v, p, &st);
        st.st_dev = p->id;
        if (fill(ctx, "..", &st, 2))
            goto out;
        off = 2;
    }
    /* first entry whose off is above the requested one: entries of the same
     * directory keep their offsets while others come and go */
    for (size_t i = dfs_dir_after(dp, (uint64_t)off); i < dp->n_slots; i++) {
        struct dfs_dentry *e = dp->ents[i];
        if (!e)
            continue; /* a hole (dir.c) */
        dfs_view_stat(v, e->inode, &st);
        st.st_dev = e->inode->id;
        if (fill(ctx, e->name, &st, (off_t)e->off))
            break;
        if (plus)
            dfs_inode_hold(v, e->inode);
    }
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

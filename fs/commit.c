/* fs/commit.c - writing the view as the next session, and carrying on on top of it
 *
 * Sequence (DESIGN.md, Commit): with v->lock held, so that no change slips in
 * between, the whole tree is described to burn/session.c, which writes the
 * session and imports it again.  Only then are the view's inodes re-attached to
 * the new session's nodes and their content files removed from the stage.  On any
 * failure the stage is left exactly as it was and the next commit starts over.
 */
#include "view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int add_dir(struct dfs_view *v, struct dfs_commit *c, struct dfs_inode *dir, void *handle)
{
    char path[4096];
    int err;

    for (size_t i = 0; i < dir->n_ents; i++) {
        struct dfs_dentry *e = dir->ents[i];
        struct dfs_inode *ino = e->inode;
        struct dfs_commit_node n = {
            .name = e->name,
            .st = ino->st,
            .link = ino->link,
        };
        void *sub = NULL;

        if (S_ISREG(ino->st.st_mode)) {
            if (ino->cache_id) {
                err = dfs_store_path(v->store, ino->cache_id, path, sizeof(path));
                if (err)
                    return err;
                n.local_path = path;
            } else {
                n.disc_node = ino->disc_node;
            }
        }
        err = dfs_commit_add(c, handle, &n, &sub);
        if (err)
            return err;
        if (S_ISDIR(ino->st.st_mode)) {
            err = add_dir(v, c, ino, sub);
            if (err)
                return err;
        }
    }
    return 0;
}

static char missing; /* cookie of a disc node without a view inode */

/* Attach view inodes to the nodes of the session just written. */
static int reattach(void *ctx, void *parent, struct dfs_disc_entry *e, void **child_cookie)
{
    struct dfs_view *v = ctx;
    struct dfs_inode *ino;

    if (!parent) {
        ino = v->inodes[DFS_ROOT_ID];
    } else if (parent == &missing) {
        *child_cookie = &missing;
        return 0;
    } else {
        ino = dfs_view_child(v, parent, e->name);
        if (!ino) {
            fprintf(stderr, "discfs: the new session has '%s', which the view lacks\n", e->name);
            *child_cookie = &missing;
            return 0;
        }
    }
    dfs_disc_node_get(e->node);
    dfs_disc_node_put(ino->disc_node);
    ino->disc_node = e->node;
    if (S_ISREG(ino->st.st_mode)) {
        free(ino->ext);
        ino->ext = e->ext;
        ino->n_ext = e->n_ext;
        e->ext = NULL;
        if (ino->cache_id) {
            off_t size = ino->st.st_size;
            dfs_view_set_staged_size(v, ino, 0);
            ino->st.st_size = size;
            dfs_store_remove(v->store, ino->cache_id);
            ino->cache_id = 0;
            ino->stage_gen++;
        }
    }
    *child_cookie = ino;
    return 0;
}

int dfs_view_commit(struct dfs_view *v)
{
    struct dfs_commit *c = NULL;
    int err;

    pthread_mutex_lock(&v->lock);
    if (!v->dirty) {
        /* nothing to write; but after another disc was found in the drive, a sync
         * is how the user says the mounted one is back */
        err = v->disc && dfs_disc_get_info(v->disc)->lost ? dfs_disc_verify(v->disc) : 1;
        goto out;
    }
    if (v->readonly || !v->disc) {
        err = -EROFS;
        goto out;
    }
    err = dfs_commit_begin(v->disc, &c);
    if (err)
        goto out;
    err = dfs_commit_root(c, &v->inodes[DFS_ROOT_ID]->st);
    if (!err)
        err = add_dir(v, c, v->inodes[DFS_ROOT_ID], NULL);
    if (!err)
        err = dfs_commit_write(c);
    dfs_commit_end(c);
    if (err)
        goto out;
    err = dfs_disc_walk(v->disc, reattach, v, NULL);
    if (err)
        goto out;
    dfs_store_sync_dir(v->store);
    v->dirty = 0;
    /* -o close: the disc is finalized now */
    if (dfs_disc_get_info(v->disc)->state == DFS_MEDIA_CLOSED) {
        v->readonly = 1;
        fprintf(stderr, "discfs: the commit closed the disc: no session can be appended, the "
                        "mount is read-only now\n");
    }
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

/* fs/changes.c - what the next session changes: the view compared with the
 * session it was built from, name by name (`discfs status`) */
#define _GNU_SOURCE
#include "internal.h"

#include <string.h>

struct diff_ctx {
    struct dfs_view *v;
    struct dfs_changes *out;
    uint64_t matched; /* names of the view met on the disc */
};

static char gone; /* cookie below a name the view no longer has */

static int holds_node(const struct dfs_inode *ino, const void *node)
{
    for (unsigned k = 0; k < ino->n_disc_nodes; k++)
        if (ino->disc_nodes[k] == node)
            return 1;
    return 0;
}

/* a name on the disc that the view has too: did what it names change? */
static int differs(const struct dfs_inode *ino, const struct dfs_disc_entry *e)
{
    if (ino->st.st_mode != e->st.st_mode || ino->st.st_uid != e->st.st_uid ||
        ino->st.st_gid != e->st.st_gid)
        return 1;
    if (S_ISDIR(ino->st.st_mode)) /* its mtime follows its entries */
        return 0;
    if (!holds_node(ino, e->node) || ino->cache_id || ino->st.st_size != e->st.st_size ||
        ino->st.st_mtim.tv_sec != e->st.st_mtim.tv_sec)
        return 1;
    return S_ISLNK(ino->st.st_mode) && (!e->link || !ino->link || strcmp(e->link, ino->link) != 0);
}

static int diff_node(void *ctx_, void *parent, struct dfs_disc_entry *e, void **child_cookie)
{
    struct diff_ctx *c = ctx_;
    struct dfs_inode *ino;
    char fixed[NAME_MAX_ISO + 1];

    if (!parent) {
        *child_cookie = c->v->inodes[DFS_ROOT_ID];
        return 0;
    }
    if (parent == &gone) {
        c->out->removed++;
        *child_cookie = &gone;
        return 0;
    }
    ino = dfs_view_child(c->v, parent, dfs_writable_name(e->name, fixed, sizeof(fixed)));
    if (!ino || (ino->st.st_mode & S_IFMT) != (e->st.st_mode & S_IFMT)) {
        c->out->removed++;
        *child_cookie = &gone;
        return 0;
    }
    c->matched++;
    if (differs(ino, e))
        c->out->changed++;
    *child_cookie = ino;
    return 0;
}

int dfs_view_changes(struct dfs_view *v, struct dfs_changes *out)
{
    struct diff_ctx c = {.v = v, .out = out};
    int err = 0;

    memset(out, 0, sizeof(*out));
    if (v->disc)
        err = dfs_disc_walk(v->disc, diff_node, &c, NULL);
    if (err)
        return err;
    out->added = v->n_dentries - c.matched;
    out->staged_bytes = v->staged_blocks * 2048;
    return 0;
}

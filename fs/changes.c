/* fs/changes.c - what the next session changes: the view compared with the
 * session it was built from, name by name (`discfs status`, `discfs inspect`) */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A name of the disc met in the walk: the view's inode under it (NULL: the view
 * no longer has it), and its path when names are told */
struct met {
    struct dfs_inode *ino;
    char *path;
};

struct diff_ctx {
    struct dfs_view *v;
    struct dfs_changes *out;
    dfs_change_fn each;
    void *each_ctx;
    struct dfs_dentry **met_d; /* when names are told: the view's names met on the disc,
                                * sorted by address before added_below() looks in it */
    size_t n_met_d, cap_met_d;
    uint64_t matched;  /* names of the view met on the disc */
    struct met root;   /* the root's cookie */
    struct met **mets; /* the others, to free */
    size_t n_mets, cap_mets;
};

static int holds_node(const struct dfs_inode *ino, const void *node)
{
    for (unsigned k = 0; k < dfs_inode_n_disc(ino); k++)
        if (dfs_inode_disc_node(ino, k) == node)
            return 1;
    return 0;
}

/* the same extended attributes and ACLs, in any order? */
static int same_xattrs(const struct dfs_inode *ino, const struct dfs_disc_entry *e)
{
    if (ino->more->n_xattrs != e->n_xattrs)
        return 0;
    for (size_t i = 0; i < ino->more->n_xattrs; i++) {
        const struct dfs_xattr *a = &ino->more->xattrs[i];
        size_t k = 0;

        while (k < e->n_xattrs && strcmp(e->xattrs[k].name, a->name) != 0)
            k++;
        if (k == e->n_xattrs || e->xattrs[k].size != a->size ||
            memcmp(e->xattrs[k].value, a->value, a->size) != 0)
            return 0;
    }
    return 1;
}

/* a name on the disc that the view has too: did what it names change? */
static int differs(const struct dfs_inode *ino, const struct dfs_disc_entry *e)
{
    if (ino->st.st_mode != e->st.st_mode || ino->st.st_uid != e->st.st_uid ||
        ino->st.st_gid != e->st.st_gid || !same_xattrs(ino, e))
        return 1;
    if (S_ISDIR(ino->st.st_mode)) /* its mtime follows its entries */
        return 0;
    if (!holds_node(ino, e->node) || ino->more->cache_id || ino->st.st_size != e->st.st_size ||
        ino->st.st_mtim.tv_sec != e->st.st_mtim.tv_sec)
        return 1;
    return S_ISLNK(ino->st.st_mode) &&
           (!e->link || !ino->more->link || strcmp(e->link, ino->more->link) != 0);
}

/* a cookie for a directory of the disc (and, when names are told, for every name) */
static struct met *new_met(struct diff_ctx *c, struct dfs_inode *ino, const struct met *parent,
                           const char *name)
{
    struct met *m;

    if (c->n_mets == c->cap_mets) {
        size_t cap = c->cap_mets ? 2 * c->cap_mets : 256;
        struct met **n = realloc(c->mets, cap * sizeof(*n));
        if (!n)
            return NULL;
        c->mets = n;
        c->cap_mets = cap;
    }
    m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->ino = ino;
    if (c->each && asprintf(&m->path, "%s/%s", parent->path, name) < 0) {
        free(m);
        return NULL;
    }
    c->mets[c->n_mets++] = m;
    return m;
}

static int diff_node(void *ctx_, void *parent_, struct dfs_disc_entry *e, void **child_cookie)
{
    struct diff_ctx *c = ctx_;
    struct met *parent = parent_, *m = NULL;
    struct dfs_dentry *d = NULL;
    char fixed[NAME_MAX_ISO + 1];
    int changed;

    if (!parent) { /* the root, at path "" */
        *child_cookie = &c->root;
        return 0;
    }
    if (parent->ino)
        d = dfs_dentry_find(c->v, parent->ino, dfs_writable_name(e->name, fixed, sizeof(fixed), 0));
    if (d && (d->inode->st.st_mode & S_IFMT) != (e->st.st_mode & S_IFMT))
        d = NULL; /* replaced by another type: removed, and added */
    if (c->each || S_ISDIR(e->st.st_mode)) {
        m = new_met(c, d ? d->inode : NULL, parent, e->name);
        if (!m)
            return -ENOMEM;
    }
    *child_cookie = m;
    if (!d) {
        c->out->removed++;
        if (c->each)
            c->each(c->each_ctx, '-', m->path);
        return 0;
    }
    if (c->each) {
        if (c->n_met_d == c->cap_met_d) {
            size_t cap = c->cap_met_d ? 2 * c->cap_met_d : 1024;
            struct dfs_dentry **n = realloc(c->met_d, cap * sizeof(*n));
            if (!n)
                return -ENOMEM;
            c->met_d = n;
            c->cap_met_d = cap;
        }
        c->met_d[c->n_met_d++] = d;
    }
    c->matched++;
    changed = differs(d->inode, e);
    c->out->changed += changed;
    if (changed && c->each)
        c->each(c->each_ctx, '~', m->path);
    return 0;
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (struct dfs_dentry *const *)a;
    uintptr_t y = (uintptr_t) * (struct dfs_dentry *const *)b;
    return x < y ? -1 : x > y;
}

static int was_met(const struct diff_ctx *c, struct dfs_dentry *e)
{
    return c->n_met_d && bsearch(&e, c->met_d, c->n_met_d, sizeof(e), by_address);
}

/* the names below DIR (at PATH) that the disc walk did not meet: added, with all
 * below them (ALL_NEW) */
static int added_below(struct diff_ctx *c, struct dfs_inode *dir, const char *path, int all_new)
{
    for (size_t i = 0; i < dfs_dp(dir)->n_slots; i++) {
        struct dfs_dentry *e = dfs_dp(dir)->ents[i];
        char *sub;
        int is_new, err;

        if (!e)
            continue; /* a hole (dir.c) */
        is_new = all_new || !was_met(c, e);
        if (asprintf(&sub, "%s/%s", path, e->name) < 0)
            return -ENOMEM;
        if (is_new)
            c->each(c->each_ctx, '+', sub);
        err = S_ISDIR(e->inode->st.st_mode) ? added_below(c, e->inode, sub, is_new) : 0;
        free(sub);
        if (err)
            return err;
    }
    return 0;
}

int dfs_view_changes(struct dfs_view *v, struct dfs_changes *out, dfs_change_fn each, void *ctx)
{
    struct diff_ctx c = {.v = v, .out = out, .each = each, .each_ctx = ctx};
    int err = 0;

    memset(out, 0, sizeof(*out));
    c.root.ino = v->inodes[DFS_ROOT_ID];
    c.root.path = "";
    if (v->disc)
        err = dfs_disc_walk(v->disc, diff_node, &c, NULL);
    if (!err && each) {
        if (c.n_met_d)
            qsort(c.met_d, c.n_met_d, sizeof(*c.met_d), by_address);
        err = added_below(&c, v->inodes[DFS_ROOT_ID], "", 0);
    }
    free(c.met_d);
    for (size_t i = 0; i < c.n_mets; i++) {
        free(c.mets[i]->path);
        free(c.mets[i]);
    }
    free(c.mets);
    if (err)
        return err;
    out->added = v->n_dentries - c.matched;
    out->staged_bytes = v->staged_blocks * 2048;
    return 0;
}

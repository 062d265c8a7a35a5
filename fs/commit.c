/* fs/commit.c - writing the view as the next session, and carrying on on top of it
 *
 * Sequence (DESIGN.md, Commit): with v->lock held, so that no change slips in
 * between, the whole tree is described to burn/session.c, which writes the
 * session and imports it again.  Only then are the view's inodes re-attached to
 * the new session's nodes and their content files removed from the stage.  On any
 * failure the stage is left exactly as it was and the next commit starts over.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <unistd.h>

#include "journal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the name of INO that add_dir() is at comes from (see dfs_commit_node in
 * disc.h): the K-th name of an inode in this commit takes the K-th of its disc
 * nodes; staged content and stand-ins are local objects named by PATH. */
static int place_name(struct dfs_view *v, struct dfs_inode *ino, const char *name,
                      struct dfs_commit_node *n, char *path, size_t len)
{
    unsigned k;
    int err;

    k = v->commit_names[ino->id]++;
    if (S_ISREG(ino->st.st_mode) && ino->more->cache_id) {
        n->local_path = path;
        return dfs_store_path(v->store, ino->more->cache_id, path, len);
    }
    if (k < dfs_inode_n_disc(ino)) {
        n->disc_node = dfs_inode_disc_node(ino, k);
        return 0;
    }
    if (S_ISREG(ino->st.st_mode)) {
        /* a new name of an on-disc file is staged content (dfs_view_link) */
        fprintf(stderr, "discfs: '%s' has more names than the disc knows and no staged content\n",
                name);
        return -EIO;
    }
    if (dfs_inode_n_disc(ino)) {
        n->disc_node = dfs_inode_disc_node(ino, 0);
        n->clone = 1;
        return 0;
    }
    if (ino->st.st_nlink < 2)
        return 0; /* a new symlink or special file of its own */
    /* a new hard-linked symlink or special file: its names are added from one
     * local stand-in, which makes them one inode of the session */
    n->local_path = path;
    err = dfs_store_stand_in(v->store, ino->id, ino->st.st_mode, ino->more->rdev, ino->more->link,
                             k == 0, path, len);
    if (err)
        fprintf(stderr, "discfs: cannot make the stand-in of the hard-linked '%s' in '%s': %s\n",
                name, v->store->dir, strerror(-err));
    return err;
}

static int add_dir(struct dfs_view *v, struct dfs_commit *c, struct dfs_inode *dir, void *handle)
{
    char path[4096];
    int err;

    for (size_t i = 0; i < dfs_dp(dir)->n_slots; i++) {
        struct dfs_dentry *e = dfs_dp(dir)->ents[i];
        struct dfs_inode *ino;
        struct dfs_commit_node n = {0};
        void *sub = NULL;

        if (!e)
            continue; /* a hole (dir.c) */
        ino = e->inode;
        n.name = e->name;
        n.link = ino->more->link;
        n.xattrs = ino->more->xattrs;
        n.n_xattrs = ino->more->n_xattrs;

        dfs_view_stat(v, ino, &n.st);
        if (!S_ISDIR(ino->st.st_mode)) {
            err = place_name(v, ino, e->name, &n, path, sizeof(path));
            if (err)
                return err;
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

/* Before the first block is written: the stage notes where the session goes, so
 * that a mount after a crash can tell whether the newest session is this one
 * (fs/main.c).  Called without v->lock (changes wait for the commit). */
static int note_intent(void *ctx, uint32_t start)
{
    struct dfs_view *v = ctx;
    int err;

    pthread_mutex_lock(&v->lock);
    err = dfs_view_log_commit(v, start);
    if (!err && v->journal)
        err = dfs_journal_sync(v->journal); /* also with -o journal=async */
    pthread_mutex_unlock(&v->lock);
    return err;
}

/* DESIGN.md, Commit: the session read back is the tree that was meant, name by
 * name (type, size, symlink target), and holds nothing else. */
struct check_ctx {
    struct dfs_view *v;
    uint64_t seen;
    int bad;
};

static int check_node(void *ctx_, void *parent, struct dfs_disc_entry *e, void **child_cookie)
{
    struct check_ctx *c = ctx_;
    struct dfs_inode *ino;

    if (!parent) {
        *child_cookie = c->v->inodes[DFS_ROOT_ID];
        return 0;
    }
    c->seen++;
    ino = dfs_view_child(c->v, parent, e->name);
    if (!ino || (ino->st.st_mode & S_IFMT) != (e->st.st_mode & S_IFMT) ||
        (S_ISREG(ino->st.st_mode) && ino->st.st_size != e->st.st_size) ||
        (S_ISLNK(ino->st.st_mode) && (!e->link || strcmp(e->link, ino->more->link) != 0))) {
        if (c->bad++ < 3)
            fprintf(stderr, "discfs: the session read back has '%s' other than it was meant\n",
                    e->name);
        ino = NULL;
    }
    *child_cookie = ino;
    return ino || !S_ISDIR(e->st.st_mode) ? 0 : -EBADE;
}

static int check_tree(struct dfs_view *v)
{
    struct check_ctx c = {.v = v};
    int err = dfs_disc_walk(v->disc, check_node, &c, NULL);

    if (!err && !c.bad && c.seen == v->n_dentries)
        return 0;
    fprintf(stderr,
            "discfs: the session read back is not the tree that was written (%llu names of "
            "%llu): the changes stay staged and the next commit writes them again\n",
            (unsigned long long)c.seen, (unsigned long long)v->n_dentries);
    return -EBADE;
}

static char missing; /* cookie of a disc node without a view inode */

struct reattach_ctx {
    struct dfs_view *v;
    unsigned char *met;  /* by id: the walk met a name of the inode */
    uint64_t next_fresh; /* the id a fresh mount would give the next new inode */
    uint64_t (*map)[2];  /* (fresh id, view id) of every inode of the session */
    size_t n_map, cap_map;
    struct dfs_families fam; /* hard links, grouped as a fresh mount groups them */
    int err;
};

static void map_id(struct reattach_ctx *c, uint64_t fresh, uint64_t id)
{
    if (c->n_map == c->cap_map) {
        size_t cap = c->cap_map ? 2 * c->cap_map : 1024;
        uint64_t(*m)[2] = realloc(c->map, cap * sizeof(*m));
        if (!m) {
            c->err = -ENOMEM;
            return;
        }
        c->map = m;
        c->cap_map = cap;
    }
    c->map[c->n_map][0] = fresh;
    c->map[c->n_map++][1] = id;
}

/* Attach view inodes to the nodes of the session just written, and note which id
 * a fresh mount of it would give each of them: the view's build (view.c
 * build_node) numbers inodes in this very walk order, one id for each inode, a
 * hard-link family (dfs_families) counting once.  The journal of the new stage
 * starts with that map (rekey), so that its records, which name the ids of this
 * view, replay onto a fresh mount. */
static int reattach(void *ctx_, void *parent, struct dfs_disc_entry *e, void **child_cookie)
{
    struct reattach_ctx *c = ctx_;
    struct dfs_view *v = c->v;
    struct dfs_inode *ino, *seen;

    if (!parent) {
        ino = v->inodes[DFS_ROOT_ID];
        map_id(c, DFS_ROOT_ID, DFS_ROOT_ID);
        c->next_fresh = DFS_ROOT_ID + 1;
        c->met[DFS_ROOT_ID] = 1;
        *child_cookie = ino;
        return c->err;
    }
    if (parent == &missing || !(ino = dfs_view_child(v, parent, e->name))) {
        if (parent != &missing)
            fprintf(stderr, "discfs: the new session has '%s', which the view lacks\n", e->name);
        c->next_fresh++;
        *child_cookie = &missing;
        return c->err;
    }
    seen = dfs_families_find(&c->fam, e);
    if (!seen) { /* an inode of its own on a fresh mount */
        if (c->met[ino->id])
            fprintf(stderr, "discfs: '%s' is a hard link in the view but not in the new session\n",
                    e->name);
        map_id(c, c->next_fresh++, ino->id);
        if (!c->err)
            c->err = dfs_families_add(&c->fam, e, ino);
    } else if (seen != ino) {
        fprintf(stderr, "discfs: '%s' is a hard link in the new session but not in the view\n",
                e->name);
    }
    if (!c->met[ino->id]) { /* the first name met: the inode's new nodes */
        c->met[ino->id] = 1;
        dfs_view_drop_disc_nodes(ino);
        if (S_ISREG(ino->st.st_mode)) {
            int err = dfs_inode_set_ext(ino, e->ext, e->n_ext);

            e->ext = NULL;
            if (err && !c->err)
                c->err = err;
            ino->zisofs = (uint8_t)e->zisofs;
            if (ino->more->cache_id) {
                off_t size = ino->st.st_size;
                dfs_view_set_staged_size(v, ino, 0);
                ino->st.st_size = size;
                dfs_store_remove(v->store, ino->more->cache_id);
                ino->more->cache_id = 0;
                ino->more->stage_gen++;
            }
        }
    }
    if (!S_ISDIR(ino->st.st_mode) && !c->err)
        c->err = dfs_view_add_disc_node(ino, e->node);
    *child_cookie = ino;
    return c->err;
}

/* The disc has a new fingerprint now: continue in a new, empty stage under it and
 * remove the old one.  A crash in between leaves the old stage behind; the next
 * mount finds that its intent names the newest session, which reads back, and
 * removes it (fs/recover.c). */
static int rekey(struct dfs_view *v, struct reattach_ctx *c)
{
    const char *fp = dfs_disc_get_info(v->disc)->stage_key;
    struct dfs_store ns;
    struct dfs_journal *nj = NULL;
    char *root, *old, *slash;
    long n;
    int err;

    if (!v->journal || strcmp(strrchr(v->store->dir, '/') + 1, fp) == 0)
        return 0;
    root = strdup(v->store->dir);
    old = strdup(v->store->dir);
    if (!root || !old) {
        err = -ENOMEM;
        goto out;
    }
    slash = strrchr(root, '/');
    if (slash)
        *slash = '\0';
    err = dfs_store_open(&ns, root, fp);
    if (err)
        goto out;
    err = dfs_journal_open(&nj, ns.dir, fp, NULL);
    n = err ? err : dfs_journal_replay(nj, NULL, NULL, NULL);
    if (n != 0) { /* a brand-new stage has no records */
        err = n < 0 ? (int)n : -EEXIST;
        fprintf(stderr, "discfs: cannot start the stage '%s' for the new session: %s\n", ns.dir,
                dfs_journal_error(nj)[0] ? dfs_journal_error(nj) : strerror(-err));
        dfs_journal_close(nj);
        dfs_store_close(&ns);
        goto out;
    }
    /* content-file ids are never reused: inodes outside the tree (unlinked, still
     * open) keep theirs, and a replayed record must never meet a new file under an
     * old id */
    dfs_store_reserve(&ns, v->store->next_id);
    dfs_journal_set_lazy(nj, v->journal_lazy);
    dfs_journal_sync(v->journal); /* what it holds is on the disc now anyway */
    dfs_journal_close(v->journal);
    dfs_store_close(v->store);
    *v->store = ns;
    v->journal = nj;
    dfs_stage_note_origin(v->disc, v->store->dir, NULL, old);
    err = dfs_view_log_base(v, (const uint64_t(*)[2])c->map, c->n_map);
    if (err)
        goto out;
    dfs_crash_point("before-old-stage-removed");
    err = dfs_store_destroy(old);
    if (err)
        fprintf(stderr, "discfs: cannot remove the old stage '%s': %s\n", old, strerror(-err));
    err = 0;
out:
    free(root);
    free(old);
    return err;
}

int dfs_view_commit(struct dfs_view *v)
{
    struct reattach_ctx rc = {0};
    struct dfs_commit *c = NULL;
    struct stat root_st;
    int err;

    pthread_mutex_lock(&v->lock);
    dfs_view_wait_commit(v); /* one commit at a time */
    if (!v->dirty) {
        /* nothing to write; but after another disc was found in the drive, a sync
         * is how the user says the mounted one is back (the check says whether
         * it is); with nothing staged there is nothing to refuse either */
        if (v->disc && dfs_disc_get_info(v->disc)->lost)
            dfs_disc_verify(v->disc);
        err = 1;
        goto out;
    }
    if (v->readonly || !v->disc) {
        err = -EROFS;
        goto out;
    }
    /* the commit's count of each inode's names: apart from the inodes, which
     * would carry it all the time (BENCHMARKS.md, Mount memory) */
    v->commit_names = calloc(v->n_ids, sizeof(*v->commit_names));
    if (!v->commit_names) {
        err = -ENOMEM;
        goto out;
    }
    err = dfs_commit_begin(v->disc, &c);
    if (err)
        goto out;
    dfs_view_stat(v, v->inodes[DFS_ROOT_ID], &root_st);
    err = dfs_commit_root(c, &root_st, v->inodes[DFS_ROOT_ID]->more->xattrs,
                          v->inodes[DFS_ROOT_ID]->more->n_xattrs);
    if (!err)
        err = add_dir(v, c, v->inodes[DFS_ROOT_ID], NULL);
    free(v->commit_names);
    v->commit_names = NULL;
    if (!err) {
        /* the tree is built: let readers in while the session is written and read
         * back; changes wait (dfs_view_wait_commit) */
        v->committing = 1;
        pthread_mutex_unlock(&v->lock);
        err = dfs_commit_write(c, note_intent, v);
        /* libisofs 1.5.4 miscounted the tree (disc.h): again, with padded directories */
        for (int attempt = 1; err == -EUCLEAN && attempt <= DFS_PAD_ATTEMPTS; attempt++) {
            err = dfs_commit_pad(c, attempt);
            if (!err)
                err = dfs_commit_write(c, note_intent, v);
        }
        if (err == -EUCLEAN) {
            fprintf(stderr,
                    "discfs: libisofs 1.5.4 miscounts the directory tree of this session in "
                    "every layout tried (%s): nothing was written, the changes stay staged; "
                    "symlinks with long targets (over about 250 bytes) or entries with many "
                    "attributes in one directory cause this: remove or shorten some of them\n",
                    dfs_disc_last_error(v->disc));
            err = -EIO;
        }
        pthread_mutex_lock(&v->lock);
    }
    dfs_commit_end(c);
    if (!err)
        err = check_tree(v);
    if (err == -EBADE) {
        /* a session was written, but it is not the tree that was meant, or it does
         * not read back: the view keeps its nodes and the stage all it holds, under
         * the key it has, to be written again by the next commit (which appends
         * after the bad session); the stage notes that no session holds its
         * changes, so that a mount after a crash shows them with the session they
         * apply to (fs/recover.c), even if the bad session reads back */
        if (dfs_view_log_commit(v, DFS_NO_SESSION) == 0 && v->journal)
            dfs_journal_sync(v->journal);
        err = -EIO;
        goto out;
    }
    if (err)
        goto out;
    rc.v = v;
    rc.met = calloc(v->n_ids, sizeof(*rc.met));
    if (!rc.met) {
        err = -ENOMEM;
        goto out;
    }
    err = dfs_disc_walk(v->disc, reattach, &rc, NULL);
    if (err)
        goto out;
    v->dirty = 0;
    /* -o close: the disc is finalized now */
    if (dfs_disc_get_info(v->disc)->state == DFS_MEDIA_CLOSED) {
        v->readonly = 1;
        fprintf(stderr, "discfs: the commit closed the disc: no session can be appended, the "
                        "mount is read-only now\n");
    }
    err = rekey(v, &rc);
    if (err) {
        /* the session is on the disc; but changes from now on would go to a stage
         * that a remount never finds: refuse them rather than lose them */
        v->journal_broken = 1;
        fprintf(stderr,
                "discfs: the session was written, but the stage for the next one cannot "
                "be started (%s): further changes are refused; unmount and mount again\n",
                strerror(-err));
    }
out:
    free(v->commit_names);
    v->commit_names = NULL;
    free(rc.met);
    free(rc.map);
    free(rc.fam.slots);
    if (v->store)
        dfs_store_drop_stand_ins(v->store);
    if (v->committing) {
        v->committing = 0;
        pthread_cond_broadcast(&v->commit_done);
    }
    pthread_mutex_unlock(&v->lock);
    return err;
}

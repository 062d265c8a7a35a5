/* fs/view.c - the merged tree: inodes, names, lookups, metadata changes */
#define _GNU_SOURCE
#include "view.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_ISO 255 /* Rock Ridge NM limit as libisofs writes it */
/* the longest symlink target a session can hold: libisofs reads targets back
 * through a buffer of LIBISOFS_NODE_PATH_MAX (1024) bytes, NUL included; and each
 * of its components is a name of at most 255 bytes */
#define LINK_MAX_ISO 1023
/* the fixed part of a session: 16 blocks of system area, volume descriptors, path
 * tables, the root directories, MD5 tags; measured below 64 (tests/mount/space.sh) */
#define SESSION_FIXED_BLOCKS 64

/* ---- ids and the name hash ---- */

static uint64_t name_hash(uint64_t dir, const char *name)
{
    uint64_t h = 1469598103934665603ULL ^ dir;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

struct dfs_inode *dfs_view_inode(struct dfs_view *v, uint64_t id)
{
    if (id == 0 || id >= v->n_ids)
        return NULL;
    return v->inodes[id];
}

static struct dfs_inode *inode_new(struct dfs_view *v, mode_t mode)
{
    struct dfs_inode *ino;

    /* a replayed inode gets the id it had (ids only grow, gaps stay empty) */
    uint64_t want = v->replaying && v->replay_id ? v->replay_id : v->n_ids;

    if (want < v->n_ids)
        return NULL;
    while (want >= v->cap_ids) {
        uint64_t cap = v->cap_ids ? 2 * v->cap_ids : 1024;
        struct dfs_inode **n = realloc(v->inodes, cap * sizeof(*n));
        if (!n)
            return NULL;
        memset(n + v->cap_ids, 0, (cap - v->cap_ids) * sizeof(*n));
        v->inodes = n;
        v->cap_ids = cap;
    }
    v->n_ids = want;
    ino = calloc(1, sizeof(*ino));
    if (!ino)
        return NULL;
    ino->id = v->n_ids;
    v->inodes[v->n_ids++] = ino;
    ino->st.st_mode = mode;
    ino->st.st_nlink = S_ISDIR(mode) ? 2 : 1;
    ino->st.st_ino = v->ino_base + ino->id;
    ino->st.st_blksize = 65536;
    ino->next_off = 3; /* 1 and 2 are "." and ".." */
    v->n_live++;
    return ino;
}

/* Free an inode that is no longer in the tree, once nobody refers to it. */
static void inode_maybe_free(struct dfs_view *v, struct dfs_inode *ino)
{
    if (ino->st.st_nlink > 0 || ino->nlookup > 0 || ino->nopen > 0 || ino->id == DFS_ROOT_ID)
        return;
    if (ino->cache_id) {
        dfs_view_set_staged_size(v, ino, 0);
        /* a replay never removes content: the sweep after it does (replay.c) */
        if (!v->replaying)
            dfs_store_remove(v->store, ino->cache_id);
    }
    dfs_view_drop_disc_nodes(ino);
    v->inodes[ino->id] = NULL;
    free(ino->ext);
    free(ino->link);
    free(ino->ents);
    dfs_xattrs_free(ino->xattrs, ino->n_xattrs);
    free(ino);
}

static int hash_grow(struct dfs_view *v)
{
    size_t n = v->n_buckets ? 2 * v->n_buckets : 4096;
    struct dfs_dentry **b = calloc(n, sizeof(*b));

    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < v->n_buckets; i++) {
        struct dfs_dentry *e = v->buckets[i], *next;
        for (; e; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(v->buckets);
    v->buckets = b;
    v->n_buckets = n;
    return 0;
}

static struct dfs_dentry *dentry_find(struct dfs_view *v, struct dfs_inode *dir, const char *name)
{
    uint64_t h = name_hash(dir->id, name);

    for (struct dfs_dentry *e = v->buckets[h & (v->n_buckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->dir == dir && strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

struct dfs_inode *dfs_view_child(struct dfs_view *v, struct dfs_inode *dir, const char *name)
{
    struct dfs_dentry *e = dentry_find(v, dir, name);
    return e ? e->inode : NULL;
}

int dfs_view_renumber(struct dfs_view *v, const uint64_t (*map)[2], size_t n)
{
    uint64_t max = 0, live = 0, cap;
    struct dfs_inode **to;

    for (size_t i = 0; i < n; i++)
        if (map[i][1] > max)
            max = map[i][1];
    for (uint64_t i = 1; i < v->n_ids; i++)
        live += v->inodes[i] != NULL;
    if (live != n)
        return -EBADMSG; /* the map must cover exactly the inodes of the session */
    cap = max + 1 > 1024 ? max + 1 : 1024;
    to = calloc(cap, sizeof(*to));
    if (!to)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct dfs_inode *ino = dfs_view_inode(v, map[i][0]);
        if (!ino || map[i][1] == 0 || to[map[i][1]] ||
            (map[i][0] == DFS_ROOT_ID) != (map[i][1] == DFS_ROOT_ID)) {
            free(to);
            return -EBADMSG;
        }
        to[map[i][1]] = ino;
    }
    for (uint64_t id = 1; id <= max; id++) {
        struct dfs_inode *ino = to[id];
        if (!ino)
            continue;
        if (ino->st.st_ino == v->ino_base + ino->id)
            ino->st.st_ino = v->ino_base + id;
        ino->id = id;
    }
    free(v->inodes);
    v->inodes = to;
    v->cap_ids = cap;
    v->n_ids = max + 1;
    /* names are hashed by their directory's id */
    memset(v->buckets, 0, v->n_buckets * sizeof(*v->buckets));
    for (uint64_t id = 1; id <= max; id++) {
        struct dfs_inode *dir = to[id];
        for (size_t k = 0; dir && k < dir->n_ents; k++) {
            struct dfs_dentry *e = dir->ents[k];
            e->hash = name_hash(dir->id, e->name);
            e->hnext = v->buckets[e->hash & (v->n_buckets - 1)];
            v->buckets[e->hash & (v->n_buckets - 1)] = e;
        }
    }
    return 0;
}

/* Add NAME -> INO to DIR (the caller checked that NAME is free).  INO's own link
 * count is the caller's business; DIR gains the link of a subdirectory's "..". */
static int dentry_add(struct dfs_view *v, struct dfs_inode *dir, const char *name,
                      struct dfs_inode *ino)
{
    struct dfs_dentry *e;
    int err;

    if (v->n_dentries + 1 > v->n_buckets) {
        err = hash_grow(v);
        if (err)
            return err;
    }
    if (dir->n_ents == dir->cap_ents) {
        size_t cap = dir->cap_ents ? 2 * dir->cap_ents : 8;
        struct dfs_dentry **n = realloc(dir->ents, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        dir->ents = n;
        dir->cap_ents = cap;
    }
    e = calloc(1, sizeof(*e));
    if (!e || !(e->name = strdup(name))) {
        free(e);
        return -ENOMEM;
    }
    e->dir = dir;
    e->inode = ino;
    e->off = ++dir->next_off;
    e->hash = name_hash(dir->id, name);
    e->hnext = v->buckets[e->hash & (v->n_buckets - 1)];
    v->buckets[e->hash & (v->n_buckets - 1)] = e;
    v->n_dentries++;
    dir->ents[dir->n_ents++] = e;
    if (S_ISDIR(ino->st.st_mode)) {
        ino->parent = dir;
        dir->st.st_nlink++;
    }
    return 0;
}

/* Take E out of its directory and the hash.  The inode's own link count is the
 * caller's business (unlink, rmdir and rename differ); a directory's parent loses
 * the link of its "..". */
static void dentry_remove(struct dfs_view *v, struct dfs_dentry *e)
{
    struct dfs_inode *dir = e->dir, *ino = e->inode;
    struct dfs_dentry **pp = &v->buckets[e->hash & (v->n_buckets - 1)];
    size_t lo = 0, hi = dir->n_ents;

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    v->n_dentries--;
    /* ents[] is sorted by off: binary search, then close the gap */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (dir->ents[mid]->off < e->off)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&dir->ents[lo], &dir->ents[lo + 1], (dir->n_ents - lo - 1) * sizeof(e));
    dir->n_ents--;
    if (S_ISDIR(ino->st.st_mode)) {
        dir->st.st_nlink--;
        ino->parent = NULL;
    }
    free(e->name);
    free(e);
}

static void now(struct timespec *ts)
{
    clock_gettime(CLOCK_REALTIME, ts);
}

void dfs_view_touch(struct dfs_inode *ino, int mtime)
{
    struct timespec ts;

    now(&ts);
    ino->st.st_ctim = ts;
    if (mtime)
        ino->st.st_mtim = ts;
}

void dfs_view_touch_dir(struct dfs_view *v, struct dfs_inode *dir)
{
    dir->st.st_mtim = dir->st.st_ctim = v->op_time;
}

void dfs_view_stat(struct dfs_view *v, const struct dfs_inode *ino, struct stat *st)
{
    (void)v;
    *st = ino->st;
    st->st_blocks = (st->st_size + 511) / 512;
}

void dfs_view_set_staged_size(struct dfs_view *v, struct dfs_inode *ino, off_t size)
{
    uint64_t old_b = ((uint64_t)ino->st.st_size + 2047) / 2048;
    uint64_t new_b = ((uint64_t)size + 2047) / 2048;

    v->staged_blocks = v->staged_blocks - old_b + new_b;
    ino->st.st_size = size;
}

/* ---- on-disc nodes of an inode ---- */

/* One node of the disc per name the inode had there (hard links: every name of a
 * family is a node of its own, and a commit puts each one back, see disc.h). */
int dfs_view_add_disc_node(struct dfs_inode *ino, void *node)
{
    void **n = realloc(ino->disc_nodes, (ino->n_disc_nodes + 1) * sizeof(*n));

    if (!n)
        return -ENOMEM;
    dfs_disc_node_get(node);
    n[ino->n_disc_nodes++] = node;
    ino->disc_nodes = n;
    return 0;
}

void dfs_view_drop_disc_nodes(struct dfs_inode *ino)
{
    for (unsigned i = 0; i < ino->n_disc_nodes; i++)
        dfs_disc_node_put(ino->disc_nodes[i]);
    free(ino->disc_nodes);
    ino->disc_nodes = NULL;
    ino->n_disc_nodes = 0;
}

/* ---- hard-link families of a walk of the disc ---- */

static int same_data(const struct dfs_inode *ino, const struct dfs_disc_entry *e)
{
    if ((ino->st.st_mode & S_IFMT) != (e->st.st_mode & S_IFMT))
        return 0;
    if (!S_ISREG(e->st.st_mode))
        return 1; /* libisofs compared them (image.c) */
    return ino->st.st_size == e->st.st_size && ino->n_ext == e->n_ext &&
           (e->n_ext == 0 || memcmp(ino->ext, e->ext, sizeof(*e->ext) * (size_t)e->n_ext) == 0);
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

/* ---- building the view from the disc ---- */

/* A name that a session can hold: not empty, ".", "..", no '/', at most 255 bytes. */
static int check_name(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return -EINVAL;
    if (n > NAME_MAX_ISO)
        return -ENAMETOOLONG;
    return 0;
}

/* A name on the disc that no session can hold (a hostile or foreign disc: ".",
 * "..", a '/', over 255 bytes) is shown under one it can: whatever the mount
 * shows, the next commit must be able to write, and the user must be able to
 * rename or remove it.  The new name is a function of the old one (a remount and
 * the journal's records meet the same names): the old one cut to 238 bytes, '/'
 * as '_', "." as "_dot_", ".." as "_dotdot_", then '~' and 16 hex digits of a
 * hash of the whole old name. */
static const char *writable_name(const char *name, char *buf, size_t len)
{
    uint64_t h = name_hash(0, name);
    size_t n = 0;

    if (check_name(name) == 0)
        return name;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        n = (size_t)snprintf(buf, len, "%s", name[1] ? "_dotdot_" : "_dot_");
    else
        for (; name[n] && n < NAME_MAX_ISO - 17; n++)
            buf[n] = name[n] == '/' ? '_' : name[n];
    snprintf(buf + n, len - n, "~%016llx", (unsigned long long)h);
    fprintf(stderr,
            "discfs: a name on the disc cannot be written to a new session as it is "
            "('%.40s%s', %zu bytes): it is shown as '%s'; rename or remove it\n",
            name, strlen(name) > 40 ? "..." : "", strlen(name), buf);
    return buf;
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
        e->name = writable_name(e->name, fixed, sizeof(fixed));
    if (parent && (ino = dfs_families_find(&ctx->fam, e))) { /* a further hard link */
        err = dentry_add(v, parent, e->name, ino);
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
        ino = inode_new(v, e->st.st_mode);
        if (!ino)
            return -ENOMEM;
        err = dentry_add(v, parent, e->name, ino);
        if (err)
            return err;
    }
    ino->st.st_mode = e->st.st_mode;
    ino->st.st_uid = e->st.st_uid;
    ino->st.st_gid = e->st.st_gid;
    ino->st.st_size = e->st.st_size;
    ino->st.st_rdev = e->st.st_rdev;
    ino->st.st_atim = e->st.st_atim;
    ino->st.st_mtim = e->st.st_mtim;
    ino->st.st_ctim = e->st.st_ctim;
    if (S_ISREG(e->st.st_mode) && e->st.st_ino) {
        ino->st.st_ino = e->st.st_ino; /* fixed up to ino_base + id below if 0 */
        if (e->st.st_ino > ctx->max_ino)
            ctx->max_ino = e->st.st_ino;
    } else {
        ino->st.st_ino = 0;
    }
    if (e->link && !(ino->link = strdup(e->link)))
        return -ENOMEM;
    ino->ext = e->ext;
    ino->n_ext = e->n_ext;
    e->ext = NULL;
    ino->xattrs = e->xattrs;
    ino->n_xattrs = e->n_xattrs;
    e->xattrs = NULL;
    e->n_xattrs = 0;
    *child_cookie = ino;
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
    v->disc = disc;
    v->store = store;
    v->readonly = disc && dfs_disc_get_info(disc)->state == DFS_MEDIA_CLOSED;
    v->n_ids = 1; /* id 0 is never used */
    err = hash_grow(v);
    if (err)
        goto out_free;
    root = inode_new(v, S_IFDIR | 0755);
    if (!root) {
        err = -ENOMEM;
        goto out_free;
    }
    root->st.st_uid = getuid();
    root->st.st_gid = getgid();
    now(&root->st.st_mtim);
    root->st.st_atim = root->st.st_ctim = root->st.st_mtim;
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
    for (size_t i = 0; i < v->n_buckets; i++) {
        struct dfs_dentry *e = v->buckets[i], *next;
        for (; e; e = next) {
            next = e->hnext;
            free(e->name);
            free(e);
        }
    }
    for (uint64_t i = 1; i < v->n_ids; i++) {
        struct dfs_inode *ino = v->inodes[i];
        if (!ino)
            continue;
        dfs_view_drop_disc_nodes(ino);
        free(ino->ext);
        free(ino->link);
        free(ino->ents);
        dfs_xattrs_free(ino->xattrs, ino->n_xattrs);
        free(ino);
    }
    free(v->inodes);
    free(v->buckets);
    pthread_cond_destroy(&v->commit_done);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

/* ---- lookups ---- */

/* Can a session hold the symlink target LINK? */
static int link_fits(const char *link)
{
    size_t len = strlen(link), run = 0;

    if (len > LINK_MAX_ISO)
        return 0;
    for (const char *p = link; *p; p++) {
        run = *p == '/' ? 0 : run + 1;
        if (run > NAME_MAX_ISO)
            return 0;
    }
    return 1;
}

static int get_dir(struct dfs_view *v, uint64_t id, struct dfs_inode **dir)
{
    *dir = dfs_view_inode(v, id);
    if (!*dir)
        return -ESTALE;
    if (!S_ISDIR((*dir)->st.st_mode))
        return -ENOTDIR;
    return 0;
}

/* DIR_ID is a directory in which a name NAME may be made now */
static int check_target(struct dfs_view *v, uint64_t dir_id, const char *name,
                        struct dfs_inode **dir)
{
    int err = get_dir(v, dir_id, dir);

    if (!err)
        err = dfs_view_writable(v);
    if (!err)
        err = check_name(name);
    return err;
}

static struct dfs_dentry *find_dot(struct dfs_view *v, struct dfs_inode *dir, const char *name,
                                   struct dfs_inode **ino)
{
    if (strcmp(name, ".") == 0) {
        *ino = dir;
        return NULL;
    }
    if (strcmp(name, "..") == 0) {
        *ino = dir->parent ? dir->parent : dir;
        return NULL;
    }
    {
        struct dfs_dentry *e = dentry_find(v, dir, name);
        *ino = e ? e->inode : NULL;
        return e;
    }
}

int dfs_view_lookup(struct dfs_view *v, uint64_t dir_id, const char *name, struct stat *st)
{
    struct dfs_inode *dir, *ino;
    int err;

    pthread_mutex_lock(&v->lock);
    err = get_dir(v, dir_id, &dir);
    if (err)
        goto out;
    if (strlen(name) > NAME_MAX_ISO) {
        err = -ENAMETOOLONG;
        goto out;
    }
    find_dot(v, dir, name, &ino);
    if (!ino) {
        err = -ENOENT;
        goto out;
    }
    ino->nlookup++;
    dfs_view_stat(v, ino, st);
    st->st_dev = ino->id; /* the caller's node id; ops.c takes it from here */
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

void dfs_view_forget(struct dfs_view *v, uint64_t id, uint64_t n)
{
    struct dfs_inode *ino;

    pthread_mutex_lock(&v->lock);
    dfs_view_wait_commit(v); /* it may free a node of the tree being written */
    ino = dfs_view_inode(v, id);
    if (ino && id != DFS_ROOT_ID) {
        if (n > ino->nlookup) {
            fprintf(stderr, "discfs: forget of %llu more references than known to inode %llu\n",
                    (unsigned long long)n, (unsigned long long)id);
            abort(); /* STYLE 7: underflow is a bug, not a condition */
        }
        ino->nlookup -= n;
        inode_maybe_free(v, ino);
    }
    pthread_mutex_unlock(&v->lock);
}

int dfs_view_getattr(struct dfs_view *v, uint64_t id, struct stat *st)
{
    struct dfs_inode *ino;
    int err = 0;

    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    if (ino)
        dfs_view_stat(v, ino, st);
    else
        err = -ESTALE;
    pthread_mutex_unlock(&v->lock);
    return err;
}

/* ---- changes ---- */

int dfs_view_writable(struct dfs_view *v)
{
    dfs_view_wait_commit(v); /* every change asks this first */
    return v->readonly ? -EROFS : dfs_view_log_ok(v);
}

int dfs_view_setattr(struct dfs_view *v, uint64_t id, const struct stat *in, int to_set,
                     struct stat *out)
{
    struct dfs_inode *ino;
    int err, changed = 0;

    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    err = ino ? dfs_view_writable(v) : -ESTALE;
    if (err)
        goto out;
    if ((to_set & DFS_SET_SIZE) && in->st_size != ino->st.st_size) {
        if (S_ISDIR(ino->st.st_mode)) {
            err = -EISDIR;
            goto out;
        }
        if (!S_ISREG(ino->st.st_mode)) {
            err = -EINVAL;
            goto out;
        }
        err = v->replaying ? 0 : dfs_view_check_space(v, ino, in->st_size);
        if (!err && !ino->cache_id && !v->replaying)
            err = dfs_view_copy_up(v, ino);
        if (!err && !v->replaying) { /* replay: the content file already has its size */
            int fd = dfs_store_open_file(v->store, ino->cache_id, O_WRONLY);
            if (fd < 0)
                err = fd;
            else if (ftruncate(fd, in->st_size) < 0)
                err = -errno;
            if (fd >= 0)
                close(fd);
        }
        if (err)
            goto out;
        dfs_view_set_staged_size(v, ino, in->st_size);
        dfs_view_touch(ino, 1);
        changed = 1;
    }
    if ((to_set & DFS_SET_MODE) && (in->st_mode & 07777) != (ino->st.st_mode & 07777)) {
        ino->st.st_mode = (ino->st.st_mode & S_IFMT) | (in->st_mode & 07777);
        changed = 1;
    }
    if ((to_set & DFS_SET_UID) && in->st_uid != ino->st.st_uid) {
        ino->st.st_uid = in->st_uid;
        changed = 1;
    }
    if ((to_set & DFS_SET_GID) && in->st_gid != ino->st.st_gid) {
        ino->st.st_gid = in->st_gid;
        changed = 1;
    }
    if ((to_set & DFS_SET_ATIME) && (in->st_atim.tv_sec != ino->st.st_atim.tv_sec ||
                                     in->st_atim.tv_nsec != ino->st.st_atim.tv_nsec)) {
        ino->st.st_atim = in->st_atim;
        changed = 1;
    }
    if ((to_set & DFS_SET_MTIME) && (in->st_mtim.tv_sec != ino->st.st_mtim.tv_sec ||
                                     in->st_mtim.tv_nsec != ino->st.st_mtim.tv_nsec)) {
        ino->st.st_mtim = in->st_mtim;
        changed = 1;
    }
    if (changed) {
        struct timespec keep = ino->st.st_mtim;
        dfs_view_touch(ino, 0);
        ino->st.st_mtim = keep;
        if (to_set & DFS_SET_CTIME)
            ino->st.st_ctim = in->st_ctim;
        v->dirty = 1;
        err = dfs_view_log_setattr(v, ino, to_set);
    }
    dfs_view_stat(v, ino, out);
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

int dfs_view_make(struct dfs_view *v, uint64_t dir_id, const char *name, mode_t mode, dev_t rdev,
                  const char *link, uid_t uid, gid_t gid, struct stat *out)
{
    struct dfs_inode *dir, *ino = NULL;
    int err;

    pthread_mutex_lock(&v->lock);
    err = check_target(v, dir_id, name, &dir);
    if (err)
        goto out;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || dentry_find(v, dir, name)) {
        err = -EEXIST;
        goto out;
    }
    if (!S_ISREG(mode) && !S_ISDIR(mode) && !S_ISLNK(mode) && !S_ISCHR(mode) && !S_ISBLK(mode) &&
        !S_ISFIFO(mode) && !S_ISSOCK(mode)) {
        err = -EINVAL;
        goto out;
    }
    if (S_ISLNK(mode) && !link_fits(link)) {
        err = -ENAMETOOLONG; /* no session could hold it */
        goto out;
    }
    ino = inode_new(v, mode);
    if (!ino) {
        err = -ENOMEM;
        goto out;
    }
    ino->st.st_uid = uid;
    ino->st.st_gid = gid;
    if (dir->st.st_mode & S_ISGID) { /* BSD group semantics of setgid directories */
        ino->st.st_gid = dir->st.st_gid;
        if (S_ISDIR(mode))
            ino->st.st_mode |= S_ISGID;
    }
    ino->st.st_rdev = rdev;
    if (!S_ISLNK(mode)) { /* also in a replay: the same parent gives the same ACL */
        err = dfs_view_inherit_acl(dir, ino, mode);
        if (err)
            goto out_free;
    }
    dfs_view_touch(ino, 1);
    ino->st.st_atim = ino->st.st_mtim;
    if (S_ISLNK(mode)) {
        ino->st.st_mode = S_IFLNK | 0777;
        ino->link = strdup(link);
        if (!ino->link) {
            err = -ENOMEM;
            goto out_free;
        }
        ino->st.st_size = (off_t)strlen(link);
    }
    if (S_ISREG(mode) && v->replaying) {
        ino->cache_id = v->replay_cache_id; /* its content file is in the stage */
    } else if (S_ISREG(mode)) {
        int fd = dfs_store_create(v->store, &ino->cache_id);
        if (fd < 0) {
            err = fd;
            ino->cache_id = 0;
            goto out_free;
        }
        close(fd);
        /* its directory entry is synced with its content, when the file is synced
         * or released (file.c): the guarantee of journal.h covers those */
    }
    err = dentry_add(v, dir, name, ino);
    if (err)
        goto out_free;
    err = dfs_view_log_make(v, dir_id, name, ino);
    if (err) {
        dentry_remove(v, dentry_find(v, dir, name));
        goto out_free;
    }
    dfs_view_touch_dir(v, dir);
    ino->nlookup++;
    v->dirty = 1;
    dfs_view_stat(v, ino, out);
    out->st_dev = ino->id;
    goto out;

out_free:
    ino->st.st_nlink = 0;
    v->n_live--;
    inode_maybe_free(v, ino);
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

/* One name of INO is gone. */
static void drop_link(struct dfs_view *v, struct dfs_inode *ino)
{
    if (S_ISDIR(ino->st.st_mode))
        ino->st.st_nlink = 0;
    else
        ino->st.st_nlink--;
    if (ino->st.st_nlink == 0)
        v->n_live--;
    dfs_view_touch(ino, 0);
    inode_maybe_free(v, ino);
}

static int remove_entry(struct dfs_view *v, uint64_t dir_id, const char *name, int want_dir)
{
    struct dfs_inode *dir, *ino;
    struct dfs_dentry *e;
    int err;

    pthread_mutex_lock(&v->lock);
    err = get_dir(v, dir_id, &dir);
    if (!err)
        err = dfs_view_writable(v);
    if (err)
        goto out;
    if (strcmp(name, ".") == 0) {
        err = -EINVAL;
        goto out;
    }
    if (strcmp(name, "..") == 0) {
        err = -ENOTEMPTY;
        goto out;
    }
    e = dentry_find(v, dir, name);
    if (!e) {
        err = strlen(name) > NAME_MAX_ISO ? -ENAMETOOLONG : -ENOENT;
        goto out;
    }
    ino = e->inode;
    if (want_dir && !S_ISDIR(ino->st.st_mode)) {
        err = -ENOTDIR;
        goto out;
    }
    if (!want_dir && S_ISDIR(ino->st.st_mode)) {
        err = -EISDIR;
        goto out;
    }
    if (want_dir && ino->n_ents) {
        err = -ENOTEMPTY;
        goto out;
    }
    err = dfs_view_log_remove(v, dir_id, name, want_dir);
    if (err)
        goto out;
    dentry_remove(v, e);
    drop_link(v, ino);
    dfs_view_touch_dir(v, dir);
    v->dirty = 1;
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

int dfs_view_link(struct dfs_view *v, uint64_t id, uint64_t newdir_id, const char *newname,
                  struct stat *out)
{
    struct dfs_inode *ino, *dir;
    int err;

    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    err = ino ? check_target(v, newdir_id, newname, &dir) : -ESTALE;
    if (err)
        goto out;
    if (S_ISDIR(ino->st.st_mode)) {
        err = -EPERM;
        goto out;
    }
    if (ino->st.st_nlink == 0) {
        err = -ENOENT;
        goto out;
    }
    if (!strcmp(newname, ".") || !strcmp(newname, "..") || dentry_find(v, dir, newname)) {
        err = -EEXIST;
        goto out;
    }
    /* every name of an on-disc file in a session is a node of the disc (disc.h): a
     * name more than the disc has makes the file staged content */
    if (S_ISREG(ino->st.st_mode) && !ino->cache_id && ino->st.st_nlink + 1 > ino->n_disc_nodes) {
        err = dfs_view_copy_up(v, ino);
        if (err)
            goto out;
    }
    err = dfs_view_log_link(v, id, newdir_id, newname);
    if (!err)
        err = dentry_add(v, dir, newname, ino);
    if (err)
        goto out;
    ino->st.st_nlink++;
    dfs_view_touch(ino, 0);
    dfs_view_touch_dir(v, dir);
    if (!v->replaying)
        ino->nlookup++;
    v->dirty = 1;
    dfs_view_stat(v, ino, out);
    out->st_dev = ino->id;
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

int dfs_view_unlink(struct dfs_view *v, uint64_t dir, const char *name)
{
    return remove_entry(v, dir, name, 0);
}

int dfs_view_rmdir(struct dfs_view *v, uint64_t dir, const char *name)
{
    return remove_entry(v, dir, name, 1);
}

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* Is A the directory D or one of its ancestors? */
static int is_ancestor(struct dfs_inode *a, struct dfs_inode *d)
{
    for (; d; d = d->parent)
        if (d == a)
            return 1;
    return 0;
}

int dfs_view_rename(struct dfs_view *v, uint64_t dir_id, const char *name, uint64_t newdir_id,
                    const char *newname, unsigned flags)
{
    struct dfs_inode *dir, *newdir, *ino, *victim = NULL;
    struct dfs_dentry *e, *te;
    int err;

    pthread_mutex_lock(&v->lock);
    err = get_dir(v, dir_id, &dir);
    if (!err)
        err = check_target(v, newdir_id, newname, &newdir);
    if (err)
        goto out;
    if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
        err = -EINVAL;
        goto out;
    }
    if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(newname, ".") ||
        !strcmp(newname, "..")) {
        err = -EBUSY;
        goto out;
    }
    e = dentry_find(v, dir, name);
    if (!e) {
        err = -ENOENT;
        goto out;
    }
    ino = e->inode;
    te = dentry_find(v, newdir, newname);
    if (te == e || (te && te->inode == ino && !(flags & RENAME_EXCHANGE)))
        goto out; /* onto itself or another link of the same file: nothing to do */
    if (te)
        victim = te->inode;
    if ((flags & RENAME_NOREPLACE) && te) {
        err = -EEXIST;
        goto out;
    }
    if ((flags & RENAME_EXCHANGE) && !te) {
        err = -ENOENT;
        goto out;
    }
    if (S_ISDIR(ino->st.st_mode) && is_ancestor(ino, newdir)) {
        err = -EINVAL;
        goto out;
    }
    if ((flags & RENAME_EXCHANGE) && S_ISDIR(victim->st.st_mode) && is_ancestor(victim, dir)) {
        err = -EINVAL;
        goto out;
    }
    if (victim && !(flags & RENAME_EXCHANGE)) {
        if (S_ISDIR(ino->st.st_mode) && !S_ISDIR(victim->st.st_mode)) {
            err = -ENOTDIR;
            goto out;
        }
        if (!S_ISDIR(ino->st.st_mode) && S_ISDIR(victim->st.st_mode)) {
            err = -EISDIR;
            goto out;
        }
        if (S_ISDIR(victim->st.st_mode) && victim->n_ents) {
            err = -ENOTEMPTY;
            goto out;
        }
    }
    err = dfs_view_log_rename(v, dir_id, name, newdir_id, newname, flags);
    if (err)
        goto out;
    if (flags & RENAME_EXCHANGE) {
        /* swap the inodes behind the two names */
        e->inode = victim;
        te->inode = ino;
        if (S_ISDIR(ino->st.st_mode) != S_ISDIR(victim->st.st_mode) && dir != newdir) {
            if (S_ISDIR(ino->st.st_mode)) {
                dir->st.st_nlink--;
                newdir->st.st_nlink++;
            } else {
                newdir->st.st_nlink--;
                dir->st.st_nlink++;
            }
        }
        if (S_ISDIR(ino->st.st_mode))
            ino->parent = newdir;
        if (S_ISDIR(victim->st.st_mode))
            victim->parent = dir;
        goto done;
    }
    dentry_remove(v, e);
    if (victim) {
        dentry_remove(v, te);
        drop_link(v, victim);
    }
    err = dentry_add(v, newdir, newname, ino);
    if (err) {
        /* out of memory: put it back under its old name so nothing is lost */
        if (dentry_add(v, dir, name, ino) < 0)
            fprintf(stderr, "discfs: lost the name '%s' while out of memory\n", name);
        goto out;
    }
done:
    dfs_view_touch_dir(v, dir);
    dfs_view_touch_dir(v, newdir);
    dfs_view_touch(ino, 0);
    v->dirty = 1;
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

int dfs_view_readlink(struct dfs_view *v, uint64_t id, char *buf, size_t size)
{
    struct dfs_inode *ino;
    int err = 0;

    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    if (!ino)
        err = -ESTALE;
    else if (!S_ISLNK(ino->st.st_mode) || !ino->link)
        err = -EINVAL;
    else
        snprintf(buf, size, "%s", ino->link);
    pthread_mutex_unlock(&v->lock);
    return err;
}

int dfs_view_readdir(struct dfs_view *v, uint64_t dir_id, off_t off, int plus, dfs_fill_fn fill,
                     void *ctx)
{
    struct dfs_inode *dir;
    struct stat st;
    size_t lo, hi;
    int err;

    pthread_mutex_lock(&v->lock);
    err = get_dir(v, dir_id, &dir);
    if (err)
        goto out;
    if (off < 1) {
        dfs_view_stat(v, dir, &st);
        st.st_dev = dir->id;
        /* readdirplus counts a lookup for every entry but "." and ".." */
        if (fill(ctx, ".", &st, 1))
            goto out;
        off = 1;
    }
    if (off < 2) {
        struct dfs_inode *p = dir->parent ? dir->parent : dir;
        dfs_view_stat(v, p, &st);
        st.st_dev = p->id;
        if (fill(ctx, "..", &st, 2))
            goto out;
        off = 2;
    }
    /* first entry whose off is above the requested one: entries of the same
     * directory keep their offsets while others come and go */
    lo = 0;
    hi = dir->n_ents;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (dir->ents[mid]->off <= (uint64_t)off)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < dir->n_ents; i++) {
        struct dfs_dentry *e = dir->ents[i];
        dfs_view_stat(v, e->inode, &st);
        st.st_dev = e->inode->id;
        if (fill(ctx, e->name, &st, (off_t)e->off))
            break;
        if (plus)
            e->inode->nlookup++;
    }
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

/* ISO 9660 blocks of the next session besides staged file data: the whole tree
 * again (every session rewrites it: about 240 bytes an entry with Rock Ridge,
 * Joliet and AAIP, DESIGN.md Space) and the fixed part (system area, volume
 * descriptors, path tables, MD5 tags).  Lock held. */
static uint64_t session_payload(const struct dfs_view *v)
{
    return v->staged_blocks + (v->n_dentries * 240 + 2047) / 2048 + SESSION_FIXED_BLOCKS;
}

int dfs_view_statfs(struct dfs_view *v, struct statvfs *sv)
{
    uint64_t free_blocks = 0, capacity = 0, cost = 0;

    memset(sv, 0, sizeof(*sv));
    pthread_mutex_lock(&v->lock);
    if (v->disc) {
        capacity = dfs_disc_capacity(v->disc);
        free_blocks = v->readonly ? 0 : dfs_disc_free_blocks(v->disc);
        cost = dfs_disc_session_blocks(v->disc, session_payload(v));
    }
    sv->f_bsize = 2048;
    sv->f_frsize = 2048;
    sv->f_blocks = capacity;
    sv->f_bfree = free_blocks > cost ? free_blocks - cost : 0;
    sv->f_bavail = sv->f_bfree;
    sv->f_files = v->n_live;
    sv->f_ffree = sv->f_bavail;
    sv->f_favail = sv->f_bavail;
    sv->f_namemax = NAME_MAX_ISO;
    sv->f_flag = v->readonly ? ST_RDONLY : 0;
    pthread_mutex_unlock(&v->lock);
    return 0;
}

int dfs_view_check_space(struct dfs_view *v, const struct dfs_inode *ino, off_t new_size)
{
    uint64_t old_b = ino->cache_id ? ((uint64_t)ino->st.st_size + 2047) / 2048 : 0;
    uint64_t new_b = ((uint64_t)new_size + 2047) / 2048;

    if (!v->disc || new_b <= old_b)
        return 0;
    if (dfs_disc_session_blocks(v->disc, session_payload(v) + (new_b - old_b)) >
        dfs_disc_free_blocks(v->disc))
        return -ENOSPC;
    return 0;
}

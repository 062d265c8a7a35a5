/* fs/dir.c - the names of a directory: its listing in creation order and the hash
 * that finds a name in it (view.h, struct dfs_dir)
 *
 * ents[] holds the names in the order they were made, so sorted by their readdir
 * offsets; a name removed leaves a hole (NULL) there, so that the indices of the
 * others stay, until the holes outnumber the names and compact() closes them.
 * The hash is of chains of indices into ents[]: buckets[h] and next[i] hold
 * 1 + an index, 0 for the end.  A name costs its allocation (16 bytes and the
 * name), a slot of ents[] and next[] (12 bytes) and a share of a bucket (4 bytes
 * for every 1 or 2 names): BENCHMARKS.md, Mount memory.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static size_t bucket(const struct dfs_dir *dp, const char *name)
{
    return dfs_name_hash(0, name) & (dp->n_buckets - 1);
}

/* Chain every name into BUCKETS of N (n a power of 2; zeroed) */
static void rehash(struct dfs_dir *dp, uint32_t *buckets, size_t n)
{
    dp->buckets = buckets;
    dp->n_buckets = n;
    for (size_t i = 0; i < dp->n_slots; i++) {
        if (dp->ents[i]) {
            size_t b = bucket(dp, dp->ents[i]->name);

            dp->next[i] = dp->buckets[b];
            dp->buckets[b] = (uint32_t)(i + 1);
        }
    }
}

/* Close the holes of ents[] (the order stays, and so do the offsets) */
static void compact(struct dfs_dir *dp)
{
    size_t j = 0;

    for (size_t i = 0; i < dp->n_slots; i++)
        if (dp->ents[i])
            dp->ents[j++] = dp->ents[i];
    dp->n_slots = j;
    memset(dp->buckets, 0, dp->n_buckets * sizeof(*dp->buckets));
    rehash(dp, dp->buckets, dp->n_buckets);
}

struct dfs_dentry *dfs_dentry_find(struct dfs_view *v, struct dfs_inode *dir, const char *name)
{
    const struct dfs_dir *dp = dfs_dp(dir);

    (void)v;
    if (!dp->n_buckets)
        return NULL;
    for (uint32_t i = dp->buckets[bucket(dp, name)]; i; i = dp->next[i - 1])
        if (strcmp(dp->ents[i - 1]->name, name) == 0)
            return dp->ents[i - 1];
    return NULL;
}

struct dfs_inode *dfs_view_child(struct dfs_view *v, struct dfs_inode *dir, const char *name)
{
    struct dfs_dentry *e = dfs_dentry_find(v, dir, name);
    return e ? e->inode : NULL;
}

/* Room for one more name in DP: 0 or -ENOMEM (then nothing changed) */
static int make_room(struct dfs_dir *dp)
{
    if (dp->n_slots == dp->cap_slots && dp->n_slots - dp->n_ents >= dp->n_slots / 2 &&
        dp->n_slots > dp->n_ents)
        compact(dp); /* as many holes as names: no need to grow */
    if (dp->n_slots == dp->cap_slots) {
        size_t cap = dp->cap_slots ? 2 * dp->cap_slots : 4;
        struct dfs_dentry **ents;
        uint32_t *next;

        if (cap >= UINT32_MAX)
            return -ENOMEM; /* indices are 32 bits */
        ents = realloc(dp->ents, cap * sizeof(*ents));
        if (!ents)
            return -ENOMEM;
        dp->ents = ents;
        next = realloc(dp->next, cap * sizeof(*next));
        if (!next)
            return -ENOMEM; /* ents[] is larger, which does no harm */
        dp->next = next;
        dp->cap_slots = cap;
    }
    if (dp->n_ents + 1 > 2 * dp->n_buckets) { /* chains of 1 or 2 names on average */
        size_t n = dp->n_buckets ? 2 * dp->n_buckets : 2;
        uint32_t *b = calloc(n, sizeof(*b)), *old = dp->buckets;

        if (!b)
            return -ENOMEM;
        rehash(dp, b, n);
        free(old);
    }
    return 0;
}

/* Add NAME -> INO to DIR (the caller checked that NAME is free).  INO's own link
 * count is the caller's business; DIR gains the link of a subdirectory's "..". */
int dfs_dentry_add(struct dfs_view *v, struct dfs_inode *dir, const char *name,
                   struct dfs_inode *ino)
{
    struct dfs_dir *dp = dfs_dp(dir);
    struct dfs_dentry *e;
    size_t len = strlen(name), i, b;
    int err = make_room(dp);

    if (err)
        return err;
    e = malloc(offsetof(struct dfs_dentry, name) + len + 1); /* one allocation, name included */
    if (!e)
        return -ENOMEM;
    memcpy(e->name, name, len + 1);
    e->inode = ino;
    e->off = ++dp->next_off;
    i = dp->n_slots++;
    dp->ents[i] = e;
    b = bucket(dp, name);
    dp->next[i] = dp->buckets[b];
    dp->buckets[b] = (uint32_t)(i + 1);
    dp->n_ents++;
    v->n_dentries++;
    dfs_space_name(v, name, ino, 1);
    if (S_ISDIR(ino->st.st_mode)) {
        dfs_dp(ino)->parent = dir;
        dir->st.st_nlink++;
        v->n_dir_dentries++;
    }
    return 0;
}

/* Take E out of DIR and free it.  The inode's own link count is the caller's
 * business (unlink, rmdir and rename differ); a directory's parent loses the link
 * of its "..". */
void dfs_dentry_remove(struct dfs_view *v, struct dfs_inode *dir, struct dfs_dentry *e)
{
    struct dfs_inode *ino = e->inode;
    struct dfs_dir *dp = dfs_dp(dir);
    uint32_t *link = &dp->buckets[bucket(dp, e->name)];

    while (dp->ents[*link - 1] != e)
        link = &dp->next[*link - 1];
    dp->ents[*link - 1] = NULL;
    *link = dp->next[*link - 1];
    dp->n_ents--;
    if (dp->n_slots - dp->n_ents > dp->n_ents + 16)
        compact(dp); /* readdir skips holes: keep them fewer than the names */
    v->n_dentries--;
    if (S_ISDIR(ino->st.st_mode))
        v->n_dir_dentries--;
    dfs_space_name(v, e->name, ino, 0);
    if (S_ISDIR(ino->st.st_mode)) {
        dir->st.st_nlink--;
        dfs_dp(ino)->parent = NULL;
    }
    free(e);
}

size_t dfs_dir_after(const struct dfs_dir *dp, uint64_t off)
{
    size_t lo = 0, hi = dp->n_slots;

    /* non-holes before lo have offsets up to OFF, those from hi on above it */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, j = mid;

        while (j < hi && !dp->ents[j])
            j++;
        if (j < hi && dp->ents[j]->off <= off)
            lo = j + 1;
        else
            hi = mid;
    }
    return lo;
}

void dfs_dir_free_names(struct dfs_dir *dp)
{
    for (size_t i = 0; i < dp->n_slots; i++)
        free(dp->ents[i]);
    dp->n_slots = dp->n_ents = 0;
}

/* fs/names.c - names of the view: lookups and the changes of names (make, link,
 * unlink, rmdir, rename); dir.c keeps and finds the names of each directory */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

/* the longest symlink target a session can hold: libisofs reads targets back
 * through a buffer of LIBISOFS_NODE_PATH_MAX (1024) bytes, NUL included; and each
 * of its components is a name of at most 255 bytes */
#define LINK_MAX_ISO 1023

uint64_t dfs_name_hash(uint64_t dir, const char *name)
{
    uint64_t h = 1469598103934665603ULL ^ dir;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

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
const char *dfs_writable_name(const char *name, char *buf, size_t len, int tell)
{
    uint64_t h = dfs_name_hash(0, name);
    size_t n = 0;

    if (check_name(name) == 0)
        return name;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        n = (size_t)snprintf(buf, len, "%s", name[1] ? "_dotdot_" : "_dot_");
    else
        for (; name[n] && n < NAME_MAX_ISO - 17; n++)
            buf[n] = name[n] == '/' ? '_' : name[n];
    snprintf(buf + n, len - n, "~%016llx", (unsigned long long)h);
    if (tell)
        fprintf(stderr,
                "discfs: a name on the disc cannot be written to a new session as it is "
                "('%.40s%s', %zu bytes): it is shown as '%s'; rename or remove it\n",
                name, strlen(name) > 40 ? "..." : "", strlen(name), buf);
    return buf;
}

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

int dfs_get_dir(struct dfs_view *v, uint64_t id, struct dfs_inode **dir)
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
    int err = dfs_get_dir(v, dir_id, dir);

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
        *ino = dfs_dp(dir)->parent ? dfs_dp(dir)->parent : dir;
        return NULL;
    }
    {
        struct dfs_dentry *e = dfs_dentry_find(v, dir, name);
        *ino = e ? e->inode : NULL;
        return e;
    }
}

int dfs_view_lookup(struct dfs_view *v, uint64_t dir_id, const char *name, struct stat *st)
{
    struct dfs_inode *dir, *ino;
    int err;

    pthread_mutex_lock(&v->lock);
    err = dfs_get_dir(v, dir_id, &dir);
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
    dfs_inode_hold(v, ino);
    dfs_view_stat(v, ino, st);
    st->st_dev = ino->id; /* the caller's node id; ops.c takes it from here */
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

/* A new name of INO goes to the kernel: it holds one lookup more (readdirplus and
 * lookup count the same way), and OUT is its entry (st_dev: the node id, ops.c). */
static void entry_out(struct dfs_view *v, struct dfs_inode *ino, struct stat *out)
{
    dfs_inode_hold(v, ino);
    dfs_view_stat(v, ino, out);
    out->st_dev = ino->id;
}

int dfs_do_make(struct dfs_view *v, struct dfs_inode *dir, const char *name,
                const struct dfs_make *a, struct dfs_inode **out)
{
    struct dfs_inode *ino = dfs_inode_new(v, a->mode, a->id);
    int err;

    if (!ino)
        return -ENOMEM;
    ino->st.st_uid = a->uid;
    ino->st.st_gid = a->gid;
    if (dir->st.st_mode & S_ISGID) { /* BSD group semantics of setgid directories */
        ino->st.st_gid = dir->st.st_gid;
        if (S_ISDIR(a->mode))
            ino->st.st_mode |= S_ISGID;
    }
    ino->st.st_atim = ino->st.st_mtim = ino->st.st_ctim = dfs_time(a->time);
    err = a->rdev || S_ISLNK(a->mode) ? dfs_inode_more(ino) : 0;
    if (!err && S_ISLNK(a->mode)) {
        ino->st.st_mode = S_IFLNK | 0777;
        ino->more->link = strdup(a->link);
        err = ino->more->link ? 0 : -ENOMEM;
        ino->st.st_size = ino->more->link ? (off_t)strlen(a->link) : 0;
    } else if (!err) { /* also in a replay: the same parent gives the same ACL */
        if (a->rdev)
            ino->more->rdev = a->rdev;
        err = dfs_view_inherit_acl(dir, ino, a->mode);
    }
    if (!err && S_ISREG(a->mode))
        err = dfs_inode_set_cache_id(ino, a->cache_id);
    dfs_space_refresh(v, ino); /* no name yet: what each name of it will cost */
    if (!err)
        err = dfs_dentry_add(v, dir, name, ino);
    if (err) {
        dfs_inode_set_cache_id(ino, 0); /* the content file is the caller's */
        ino->st.st_nlink = 0;
        v->n_live--;
        dfs_inode_maybe_free(v, ino);
        return err;
    }
    dfs_view_touch_dir(v, dir);
    v->dirty = 1;
    *out = ino;
    return 0;
}

int dfs_view_make(struct dfs_view *v, uint64_t dir_id, const char *name, mode_t mode, dev_t rdev,
                  const char *link, uid_t uid, gid_t gid, struct stat *out)
{
    struct dfs_make a = {.mode = mode, .rdev = rdev, .uid = uid, .gid = gid, .link = link};
    struct dfs_inode *dir, *ino = NULL;
    int err;

    pthread_mutex_lock(&v->lock);
    err = check_target(v, dir_id, name, &dir);
    if (err)
        goto out;
    if (dfs_dentry_find(v, dir, name)) {
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
    err = dfs_view_check_name_space(v, name, NULL, mode, link);
    if (err)
        goto out;
    if (S_ISREG(mode)) {
        int fd = dfs_store_create(v->store, &a.cache_id);
        if (fd < 0) {
            err = fd;
            goto out;
        }
        close(fd);
        /* its directory entry is synced with its content, when the file is synced
         * or released (file.c): the guarantee of journal.h covers those */
    }
    clock_gettime(CLOCK_REALTIME, &a.time);
    v->op_time = a.time;
    if (a.cache_id)
        dfs_store_set_mtime(v->store, a.cache_id, &a.time);
    err = dfs_do_make(v, dir, name, &a, &ino);
    if (!err) {
        err = dfs_view_log_make(v, dir_id, name, ino);
        if (err) { /* not recorded: undone */
            dfs_inode_set_cache_id(ino, 0);
            dfs_do_remove(v, dir, dfs_dentry_find(v, dir, name));
        }
    }
    if (err) {
        if (a.cache_id)
            dfs_store_remove(v->store, a.cache_id);
        goto out;
    }
    entry_out(v, ino, out);
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
    dfs_inode_maybe_free(v, ino);
}

void dfs_do_remove(struct dfs_view *v, struct dfs_inode *dir, struct dfs_dentry *e)
{
    struct dfs_inode *ino = e->inode;

    dfs_dentry_remove(v, dir, e);
    drop_link(v, ino);
    dfs_view_touch_dir(v, dir);
    v->dirty = 1;
}

static int remove_entry(struct dfs_view *v, uint64_t dir_id, const char *name, int want_dir)
{
    struct dfs_inode *dir, *ino;
    struct dfs_dentry *e;
    int err;

    pthread_mutex_lock(&v->lock);
    err = dfs_get_dir(v, dir_id, &dir);
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
    e = dfs_dentry_find(v, dir, name);
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
    if (want_dir && dfs_dp(ino)->n_ents) {
        err = -ENOTEMPTY;
        goto out;
    }
    clock_gettime(CLOCK_REALTIME, &v->op_time);
    err = dfs_view_log_remove(v, dir_id, name, want_dir);
    if (!err)
        dfs_do_remove(v, dir, e);
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

int dfs_do_link(struct dfs_view *v, struct dfs_inode *ino, struct dfs_inode *dir, const char *name)
{
    int err = dfs_dentry_add(v, dir, name, ino);

    if (err)
        return err;
    ino->st.st_nlink++;
    dfs_view_touch(ino, 0);
    dfs_view_touch_dir(v, dir);
    v->dirty = 1;
    return 0;
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
    if (dfs_dentry_find(v, dir, newname)) {
        err = -EEXIST;
        goto out;
    }
    err = dfs_view_check_name_space(v, newname, ino, ino->st.st_mode, NULL);
    if (err)
        goto out;
    /* every name of an on-disc file in a session is a node of the disc (disc.h): a
     * name more than the disc has makes the file staged content */
    if (S_ISREG(ino->st.st_mode) && !ino->more->cache_id &&
        ino->st.st_nlink + 1 > dfs_inode_n_disc(ino)) {
        err = dfs_view_check_space(v, ino, ino->st.st_size);
        if (!err)
            err = dfs_view_copy_up(v, ino);
        /* the copy-up let go of the lock: what was checked may have changed */
        if (!err)
            err = check_target(v, newdir_id, newname, &dir);
        if (!err && (ino->st.st_nlink == 0 || dfs_dentry_find(v, dir, newname)))
            err = ino->st.st_nlink == 0 ? -ENOENT : -EEXIST;
        if (err)
            goto out;
    }
    clock_gettime(CLOCK_REALTIME, &v->op_time);
    err = dfs_view_log_link(v, id, newdir_id, newname);
    if (!err)
        err = dfs_do_link(v, ino, dir, newname);
    if (err)
        goto out;
    entry_out(v, ino, out);
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

/* Is A the directory D or one of its ancestors? */
static int is_ancestor(struct dfs_inode *a, struct dfs_inode *d)
{
    for (; d; d = dfs_dp(d)->parent)
        if (d == a)
            return 1;
    return 0;
}

int dfs_do_rename(struct dfs_view *v, struct dfs_inode *dir, struct dfs_dentry *e,
                  struct dfs_inode *newdir, struct dfs_dentry *te, const char *newname,
                  unsigned flags)
{
    struct dfs_inode *ino = e->inode, *victim = te ? te->inode : NULL;
    char *name;
    int err = 0;

    if (flags & RENAME_EXCHANGE) {
        /* swap the inodes behind the two names (a directory's name costs more) */
        dfs_space_name(v, e->name, ino, 0);
        dfs_space_name(v, te->name, victim, 0);
        e->inode = victim;
        te->inode = ino;
        dfs_space_name(v, e->name, victim, 1);
        dfs_space_name(v, te->name, ino, 1);
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
            dfs_dp(ino)->parent = newdir;
        if (S_ISDIR(victim->st.st_mode))
            dfs_dp(victim)->parent = dir;
        goto done;
    }
    name = strdup(e->name);
    if (!name)
        return -ENOMEM;
    dfs_dentry_remove(v, dir, e);
    if (victim) {
        dfs_dentry_remove(v, newdir, te);
        drop_link(v, victim);
    }
    err = dfs_dentry_add(v, newdir, newname, ino);
    if (err) {
        /* out of memory: put it back under its old name so nothing is lost */
        if (dfs_dentry_add(v, dir, name, ino) < 0)
            fprintf(stderr, "discfs: lost the name '%s' while out of memory\n", name);
        free(name);
        return err;
    }
    free(name);
done:
    dfs_view_touch_dir(v, dir);
    dfs_view_touch_dir(v, newdir);
    dfs_view_touch(ino, 0);
    v->dirty = 1;
    return 0;
}

int dfs_view_rename(struct dfs_view *v, uint64_t dir_id, const char *name, uint64_t newdir_id,
                    const char *newname, unsigned flags)
{
    struct dfs_inode *dir, *newdir, *ino, *victim = NULL;
    struct dfs_dentry *e, *te;
    int err;

    pthread_mutex_lock(&v->lock);
    err = dfs_get_dir(v, dir_id, &dir);
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
    e = dfs_dentry_find(v, dir, name);
    if (!e) {
        err = -ENOENT;
        goto out;
    }
    ino = e->inode;
    te = dfs_dentry_find(v, newdir, newname);
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
    if (!(flags & RENAME_EXCHANGE)) { /* a longer name can cost more */
        err = dfs_view_check_rename_space(v, name, newname);
        if (err)
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
        if (S_ISDIR(victim->st.st_mode) && dfs_dp(victim)->n_ents) {
            err = -ENOTEMPTY;
            goto out;
        }
    }
    clock_gettime(CLOCK_REALTIME, &v->op_time);
    err = dfs_view_log_rename(v, dir_id, name, newdir_id, newname, flags);
    if (!err)
        err = dfs_do_rename(v, dir, e, newdir, te, newname, flags);
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
    else if (!S_ISLNK(ino->st.st_mode) || !ino->more->link)
        err = -EINVAL;
    else
        snprintf(buf, size, "%s", ino->more->link);
    pthread_mutex_unlock(&v->lock);
    return err;
}

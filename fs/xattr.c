/* fs/xattr.c - extended attributes of the view, and POSIX ACL inheritance
 *
 * Attributes are kept per inode in the form Linux shows them (burn/xattr.c does the
 * translation to AAIP at import and commit).  Allowed namespaces: user, trusted,
 * security, and the two ACL names of system; anything else is ENOTSUP.  The kernel
 * checks permissions (default_permissions, POSIX ACLs enabled in ops.c), including
 * that user.* is only for files and directories.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#define ACL_ACCESS "system.posix_acl_access"
#define ACL_DEFAULT "system.posix_acl_default"

static int name_ok(const char *name)
{
    if (strlen(name) > 255)
        return -ERANGE;
    if (!strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) ||
        !strncmp(name, "security.", 9) || !strcmp(name, ACL_ACCESS) || !strcmp(name, ACL_DEFAULT))
        return 0;
    return -ENOTSUP;
}

static struct dfs_xattr *find(struct dfs_inode *ino, const char *name)
{
    for (size_t i = 0; i < ino->more->n_xattrs; i++)
        if (strcmp(ino->more->xattrs[i].name, name) == 0)
            return &ino->more->xattrs[i];
    return NULL;
}

ssize_t dfs_view_getxattr(struct dfs_view *v, uint64_t id, const char *name, void *buf, size_t size)
{
    struct dfs_inode *ino;
    struct dfs_xattr *x;
    ssize_t ret;

    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    if (!ino)
        ret = -ESTALE;
    else if (!(x = find(ino, name)))
        ret = -ENODATA;
    else if (size == 0)
        ret = (ssize_t)x->size;
    else if (size < x->size)
        ret = -ERANGE;
    else {
        memcpy(buf, x->value, x->size);
        ret = (ssize_t)x->size;
    }
    pthread_mutex_unlock(&v->lock);
    return ret;
}

ssize_t dfs_view_listxattr(struct dfs_view *v, uint64_t id, char *buf, size_t size)
{
    struct dfs_inode *ino;
    size_t need = 0;
    ssize_t ret;

    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    if (!ino) {
        ret = -ESTALE;
        goto out;
    }
    for (size_t i = 0; i < ino->more->n_xattrs; i++)
        need += strlen(ino->more->xattrs[i].name) + 1;
    ret = (ssize_t)need;
    if (size == 0)
        goto out;
    if (size < need) {
        ret = -ERANGE;
        goto out;
    }
    for (size_t i = 0, off = 0; i < ino->more->n_xattrs; i++) {
        size_t n = strlen(ino->more->xattrs[i].name) + 1;
        memcpy(buf + off, ino->more->xattrs[i].name, n);
        off += n;
    }
out:
    pthread_mutex_unlock(&v->lock);
    return ret;
}

/* Set or (VALUE NULL) remove NAME on INO (lock held, checks done). */
static int put(struct dfs_inode *ino, const char *name, const void *value, size_t size)
{
    struct dfs_xattr *x = find(ino, name);

    if (!value) {
        if (x) {
            free(x->name);
            free(x->value);
            *x = ino->more->xattrs[--ino->more->n_xattrs];
        }
        return 0;
    }
    if (!x) {
        struct dfs_xattr *m;

        if (dfs_inode_more(ino))
            return -ENOMEM;
        m = realloc(ino->more->xattrs, (ino->more->n_xattrs + 1) * sizeof(*m));
        if (!m)
            return -ENOMEM;
        ino->more->xattrs = m;
        x = &m[ino->more->n_xattrs];
        x->name = strdup(name);
        x->value = NULL;
        if (!x->name)
            return -ENOMEM;
        ino->more->n_xattrs++;
    }
    {
        char *val = malloc(size ? size : 1);
        if (!val)
            return -ENOMEM;
        memcpy(val, value, size);
        free(x->value);
        x->value = val;
        x->size = size;
    }
    return 0;
}

/* The kernel leaves it to the filesystem to make the permission bits follow a new
 * access ACL: owner = user_obj, group = mask (else group_obj), other = other. */
static void mode_from_acl(struct dfs_inode *ino, const unsigned char *acl, size_t size)
{
    mode_t mode = ino->st.st_mode & ~(mode_t)0777;
    int group = -1, mask = -1;

    for (size_t off = 4; off + 8 <= size; off += 8) {
        unsigned tag = acl[off] | acl[off + 1] << 8, perm = acl[off + 2] & 7;
        if (tag == 0x01)
            mode |= (mode_t)perm << 6;
        else if (tag == 0x04)
            group = (int)perm;
        else if (tag == 0x10)
            mask = (int)perm;
        else if (tag == 0x20)
            mode |= perm;
    }
    mode |= (mode_t)(mask >= 0 ? mask : group >= 0 ? group : 0) << 3;
    ino->st.st_mode = mode;
}

void dfs_view_acl_chmod(struct dfs_inode *ino)
{
    struct dfs_xattr *x = find(ino, ACL_ACCESS);
    unsigned char *acl;
    int mask = 0;

    if (!x)
        return;
    acl = (unsigned char *)x->value;
    for (size_t off = 4; off + 8 <= x->size; off += 8)
        mask |= (acl[off] | acl[off + 1] << 8) == 0x10;
    /* as posix_acl_chmod: owner, mask (else group) and other follow the mode */
    for (size_t off = 4; off + 8 <= x->size; off += 8) {
        unsigned tag = acl[off] | acl[off + 1] << 8;
        mode_t perm = tag == 0x01                             ? ino->st.st_mode >> 6
                      : tag == 0x10 || (tag == 0x04 && !mask) ? ino->st.st_mode >> 3
                      : tag == 0x20                           ? ino->st.st_mode
                                                              : (mode_t)-1;
        if (perm != (mode_t)-1) {
            acl[off + 2] = (unsigned char)(perm & 7);
            acl[off + 3] = 0;
        }
    }
}

int dfs_do_xattr(struct dfs_view *v, struct dfs_inode *ino, const char *name, const void *value,
                 size_t size)
{
    int minimal = value && !strcmp(name, ACL_ACCESS) && dfs_acl_is_minimal(value, size);
    /* a minimal access ACL is the mode bits and nothing else: Linux filesystems keep
     * no attribute for it (posix_acl_equiv_mode) */
    int err = put(ino, name, minimal ? NULL : value, size);

    if (err)
        return err;
    if (value && !strcmp(name, ACL_ACCESS))
        mode_from_acl(ino, value, size);
    dfs_space_refresh(v, ino);
    dfs_view_touch(ino, 0);
    v->dirty = 1;
    return 0;
}

static int change(struct dfs_view *v, uint64_t id, const char *name, const void *value, size_t size,
                  int flags)
{
    struct dfs_inode *ino;
    struct dfs_xattr *x;
    int err;

    err = name_ok(name);
    if (err)
        return err;
    if (value && (!strcmp(name, ACL_ACCESS) || !strcmp(name, ACL_DEFAULT)) &&
        !dfs_acl_valid(value, size))
        return -EINVAL;
    if (size > 65536)
        return -E2BIG;
    pthread_mutex_lock(&v->lock);
    ino = dfs_view_inode(v, id);
    err = ino ? dfs_view_writable(v) : -ESTALE;
    if (err)
        goto out;
    if (!strcmp(name, ACL_DEFAULT) && !S_ISDIR(ino->st.st_mode)) {
        err = value ? -EACCES : -ENODATA;
        goto out;
    }
    x = find(ino, name);
    if (!value && !x) {
        /* as Linux filesystems do: removing an ACL that is not there is no error */
        if (strcmp(name, ACL_ACCESS) && strcmp(name, ACL_DEFAULT))
            err = -ENODATA;
        goto out;
    }
    if (value && (flags & XATTR_CREATE) && x) {
        err = -EEXIST;
        goto out;
    }
    if (value && (flags & XATTR_REPLACE) && !x) {
        err = -ENODATA;
        goto out;
    }
    if (value && x && x->size == size && memcmp(x->value, value, size) == 0)
        goto out; /* the same again: nothing to stage */
    if (value && (!x || x->size < size)) {
        err = dfs_view_check_xattr_space(v, ino, name, size);
        if (err)
            goto out;
    }
    err = dfs_view_log_xattr(v, id, name, value, size, !value);
    if (!err)
        err = dfs_do_xattr(v, ino, name, value, size);
out:
    pthread_mutex_unlock(&v->lock);
    return err;
}

int dfs_view_setxattr(struct dfs_view *v, uint64_t id, const char *name, const void *value,
                      size_t size, int flags)
{
    return change(v, id, name, value ? value : "", size, flags);
}

int dfs_view_removexattr(struct dfs_view *v, uint64_t id, const char *name)
{
    return change(v, id, name, NULL, 0, 0);
}

/* POSIX.1e: a new object gets its directory's default ACL as its access ACL (and
 * a directory also as its default ACL), masked by the mode it was created with;
 * its permission bits follow from that ACL.  Without a default ACL nothing
 * changes (the umask was applied by the caller). */
int dfs_view_inherit_acl(struct dfs_inode *dir, struct dfs_inode *ino, mode_t requested)
{
    struct dfs_xattr *def = find(dir, ACL_DEFAULT);
    unsigned char *acl;
    unsigned char *mask = NULL, *group_obj = NULL;
    mode_t mode = 0;
    int err;

    if (!def || def->size < 4)
        return 0;
    acl = malloc(def->size);
    if (!acl)
        return -ENOMEM;
    memcpy(acl, def->value, def->size);
    for (size_t off = 4; off + 8 <= def->size; off += 8) {
        unsigned char *e = acl + off;
        unsigned tag = e[0] | e[1] << 8;
        if (tag == 0x01) { /* user_obj */
            e[2] &= (requested >> 6) & 7;
            mode |= (mode_t)(e[2] & 7) << 6;
        } else if (tag == 0x04) {
            group_obj = e;
        } else if (tag == 0x10) {
            mask = e;
        } else if (tag == 0x20) { /* other */
            e[2] &= requested & 7;
            mode |= e[2] & 7;
        }
    }
    if (mask) {
        mask[2] &= (requested >> 3) & 7;
        mode |= (mode_t)(mask[2] & 7) << 3;
    } else if (group_obj) {
        group_obj[2] &= (requested >> 3) & 7;
        mode |= (mode_t)(group_obj[2] & 7) << 3;
    }
    /* a minimal access ACL is the mode alone (posix_acl_equiv_mode) */
    err = dfs_acl_is_minimal(acl, def->size) ? 0 : put(ino, ACL_ACCESS, acl, def->size);
    if (!err && S_ISDIR(ino->st.st_mode))
        err = put(ino, ACL_DEFAULT, def->value, def->size);
    free(acl);
    if (!err)
        ino->st.st_mode = (ino->st.st_mode & ~(mode_t)0777) | mode;
    return err;
}

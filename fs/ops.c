/* fs/ops.c - FUSE low-level operations: each helper computes in the view, each op
 * replies exactly once (STYLE.md 1, 5).  Node ids are view ids (root = 1) of the
 * mount's view, or of a session's under .sessions (sessions.c: N << 48 | id). */
#define _GNU_SOURCE
#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "committer.h"
#include "discfs.h"

static struct dfs_mount *mnt(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

#define TRACE(req, fmt, ...)                                                                       \
    do {                                                                                           \
        if (mnt(req)->opt.debug)                                                                   \
            fprintf(stderr, "discfs: " fmt "\n", __VA_ARGS__);                                     \
    } while (0)

static const double ENTRY_TIMEOUT = 1.0;

/* The view and id of the kernel's node INO: 0, 1 for .sessions itself (no view),
 * or an errno to reply with */
static int node(fuse_req_t req, fuse_ino_t ino, struct dfs_node *n)
{
    int r = dfs_sessions_route(mnt(req), ino, n);

    return r < 0 ? -r : r;
}

/* Is INO a session's, or the sessions' directory (never changed)? */
static int in_sessions(fuse_ino_t ino)
{
    return ino >> DFS_SNAP_SHIFT != 0;
}

/* Changes go into the mount's own tree only: the sessions are as they were written.
 * Removals fail with EROFS there (in_sessions); what makes or changes an entry goes
 * through here, and when it is the sessions' directory itself (rsync of a tree with
 * an entry of that name) that is said once, with -o snapdir. */
static int changeable(fuse_req_t req, fuse_ino_t ino)
{
    if (ino == DFS_SESSIONS_ID)
        dfs_sessions_refused(mnt(req));
    return in_sessions(ino) ? EROFS : 0;
}

/* ... and names move or link within it only (a session is another filesystem, as a
 * btrfs snapshot is: mv copies, rsync --link-dest copies) */
static int same_tree(fuse_ino_t from, fuse_ino_t to)
{
    return in_sessions(to) ? EROFS : in_sessions(from) ? EXDEV : 0;
}

/* The kernel drops N references to INO (.sessions itself is not counted); a
 * session's view that it holds nothing of any more goes */
static void forget(struct dfs_mount *m, uint64_t ino, uint64_t n)
{
    struct dfs_node nd;

    if (dfs_sessions_route(m, ino, &nd) == 0 && dfs_view_forget(nd.view, nd.id, n) == 0 && nd.snap)
        dfs_sessions_forgot(m, nd.snap);
}

/* ST from a view of session SNAP (0: the mount's), the node id in st_dev */
static void reply_entry(fuse_req_t req, int err, struct stat *st, unsigned snap)
{
    struct fuse_entry_param e;

    if (err) {
        fuse_reply_err(req, -err);
        return;
    }
    dfs_sessions_out(snap, st);
    memset(&e, 0, sizeof(e));
    e.ino = st->st_dev; /* the view hands the node id over in st_dev */
    st->st_dev = 0;
    e.attr = *st;
    e.attr_timeout = ENTRY_TIMEOUT;
    e.entry_timeout = ENTRY_TIMEOUT;
    if (fuse_reply_entry(req, &e) == -ENOENT) /* the request was interrupted */
        forget(mnt(req), e.ino, 1);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    struct dfs_mount *m = userdata;

    /* the kernel enforces ACLs kept in system.posix_acl_* and leaves the umask to
     * us (fs/ops.c make(), fs/xattr.c inheritance) */
    if (conn->capable & FUSE_CAP_POSIX_ACL)
        conn->want |= FUSE_CAP_POSIX_ACL;
    /* the mode of a new node comes unmasked: else the kernel would apply the umask
     * also under a default ACL, which Linux filesystems do not */
    /* the control channel is an ioctl on the root directory */
    if (conn->capable & FUSE_CAP_IOCTL_DIR)
        conn->want |= FUSE_CAP_IOCTL_DIR;
    if (conn->capable & FUSE_CAP_DONT_MASK)
        conn->want |= FUSE_CAP_DONT_MASK;
    if (m->opt.writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
        conn->want |= FUSE_CAP_WRITEBACK_CACHE;
    else
        conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct dfs_node n;
    struct stat st;
    int err = -node(req, parent, &n);

    if (err == -1) {
        err = dfs_sessions_lookup(mnt(req), name, &st);
        n.snap = 0; /* the entry is in its final form */
    } else if (!err) {
        err = dfs_view_lookup(n.view, n.id, name, &st);
        if (err == -ENOENT && parent == FUSE_ROOT_ID) /* the tree's own entry comes first */
            err = dfs_sessions_lookup_root(mnt(req), name, &st);
    }
    TRACE(req, "lookup(%lu, '%s') = %d", (unsigned long)parent, name, err);
    reply_entry(req, err, &st, n.snap);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    forget(mnt(req), ino, nlookup);
    fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    for (size_t i = 0; i < count; i++)
        forget(mnt(req), forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct dfs_node n;
    struct stat st;
    int err = -node(req, ino, &n);

    (void)fi;
    if (err == -1)
        err = dfs_sessions_getattr(mnt(req), &st);
    else if (!err && !(err = dfs_view_getattr(n.view, n.id, &st))) {
        st.st_dev = n.id;
        dfs_sessions_out(n.snap, &st);
    }
    TRACE(req, "getattr(%lu) = %d", (unsigned long)ino, err);
    if (err)
        fuse_reply_err(req, -err);
    else
        fuse_reply_attr(req, &st, ENTRY_TIMEOUT);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    struct stat in = *attr, out;
    int set = 0, err;

    (void)fi;
    if (to_set & FUSE_SET_ATTR_MODE)
        set |= DFS_SET_MODE;
    if (to_set & FUSE_SET_ATTR_UID)
        set |= DFS_SET_UID;
    if (to_set & FUSE_SET_ATTR_GID)
        set |= DFS_SET_GID;
    if (to_set & FUSE_SET_ATTR_SIZE)
        set |= DFS_SET_SIZE;
    if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW))
        set |= DFS_SET_ATIME;
    if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))
        set |= DFS_SET_MTIME;
    if (to_set & FUSE_SET_ATTR_CTIME)
        set |= DFS_SET_CTIME;
    if (to_set & (FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (to_set & FUSE_SET_ATTR_ATIME_NOW)
            in.st_atim = ts;
        if (to_set & FUSE_SET_ATTR_MTIME_NOW)
            in.st_mtim = ts;
    }
    err = -changeable(req, ino);
    if (!err)
        err = dfs_view_setattr(mnt(req)->view, ino, &in, set, &out);
    TRACE(req, "setattr(%lu, 0x%x) = %d", (unsigned long)ino, to_set, err);
    if (err)
        fuse_reply_err(req, -err);
    else
        fuse_reply_attr(req, &out, ENTRY_TIMEOUT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
    char buf[PATH_MAX + 1];
    struct dfs_node n;
    int err = -node(req, ino, &n);

    if (!err)
        err = dfs_view_readlink(n.view, n.id, buf, sizeof(buf));
    else if (err == -1)
        err = -EINVAL; /* .sessions is a directory */

    TRACE(req, "readlink(%lu) = %d", (unsigned long)ino, err);
    if (err)
        fuse_reply_err(req, -err);
    else
        fuse_reply_readlink(req, buf);
}

static int make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev,
                const char *link, struct stat *st)
{
    const struct fuse_ctx *ctx = fuse_req_ctx(req);
    int err = changeable(req, parent);

    if (err)
        return -err;
    /* POSIX ACLs: the umask applies only where no default ACL is inherited */
    if (!S_ISLNK(mode) &&
        dfs_view_getxattr(mnt(req)->view, parent, "system.posix_acl_default", NULL, 0) <= 0)
        mode = (mode & S_IFMT) | (mode & 07777 & ~ctx->umask);
    return dfs_view_make(mnt(req)->view, parent, name, mode, rdev, link, ctx->uid, ctx->gid, st);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
    struct stat st;
    int err = make(req, parent, name, mode, rdev, NULL, &st);

    TRACE(req, "mknod(%lu, '%s', 0%o) = %d", (unsigned long)parent, name, mode, err);
    reply_entry(req, err, &st, 0);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    struct stat st;
    int err = make(req, parent, name, S_IFDIR | (mode & 07777), 0, NULL, &st);

    TRACE(req, "mkdir(%lu, '%s', 0%o) = %d", (unsigned long)parent, name, mode, err);
    reply_entry(req, err, &st, 0);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    struct stat st;
    int err = make(req, parent, name, S_IFLNK | 0777, 0, link, &st);

    TRACE(req, "symlink(%lu, '%s', '%s') = %d", (unsigned long)parent, name, link, err);
    reply_entry(req, err, &st, 0);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    int err = in_sessions(parent) ? -EROFS : dfs_view_unlink(mnt(req)->view, parent, name);

    TRACE(req, "unlink(%lu, '%s') = %d", (unsigned long)parent, name, err);
    fuse_reply_err(req, -err);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    int err = in_sessions(parent) ? -EROFS
              : dfs_sessions_named(mnt(req), parent, name)
                  ? -EROFS /* not the tree's */
                  : dfs_view_rmdir(mnt(req)->view, parent, name);

    TRACE(req, "rmdir(%lu, '%s') = %d", (unsigned long)parent, name, err);
    fuse_reply_err(req, -err);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
    struct dfs_mount *m = mnt(req);
    int err = same_tree(parent, newparent) ? -same_tree(parent, newparent)
              : dfs_sessions_named(m, parent, name) || dfs_sessions_named(m, newparent, newname)
                  ? -EROFS /* .sessions is not the tree's: neither moved nor replaced */
                  : dfs_view_rename(m->view, parent, name, newparent, newname, flags);

    TRACE(req, "rename(%lu, '%s', %lu, '%s', %u) = %d", (unsigned long)parent, name,
          (unsigned long)newparent, newname, flags, err);
    fuse_reply_err(req, -err);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
    struct stat st;
    int err = same_tree(ino, newparent)
                  ? -same_tree(ino, newparent)
                  : dfs_view_link(mnt(req)->view, ino, newparent, newname, &st);

    TRACE(req, "link(%lu, %lu, '%s') = %d", (unsigned long)ino, (unsigned long)newparent, newname,
          err);
    reply_entry(req, err, &st, 0);
}

static int open_flags(struct dfs_mount *m, int flags)
{
    /* with the writeback cache the kernel reads pages of files opened for writing
     * only, and does O_APPEND itself */
    if (m->opt.writeback) {
        if ((flags & O_ACCMODE) == O_WRONLY)
            flags = (flags & ~O_ACCMODE) | O_RDWR;
        flags &= ~O_APPEND;
    }
    return flags;
}

/* An open file and its view, which outlives every open handle: the kernel holds
 * the node until the handle's RELEASE is answered */
static struct dfs_file *file_of(struct fuse_file_info *fi)
{
    return (struct dfs_file *)(uintptr_t)fi->fh;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct dfs_file *f;
    struct dfs_node n;
    int err = -node(req, ino, &n);

    dfs_readahead_apply(mnt(req));
    if (err == -1)
        err = -EISDIR; /* .sessions */
    else if (!err)
        err = dfs_view_open_file(n.view, n.id, open_flags(mnt(req), fi->flags), &f);

    TRACE(req, "open(%lu, 0%o) = %d", (unsigned long)ino, fi->flags, err);
    if (err) {
        fuse_reply_err(req, -err);
        return;
    }
    fi->fh = (uintptr_t)f;
    /* the content of an on-disc file never changes under the mount (a write goes
     * through the kernel, which updates its pages): the kernel may keep what it
     * read at an earlier open */
    fi->keep_cache = f->fd < 0;
    if (fuse_reply_open(req, fi) == -ENOENT)
        dfs_view_release(n.view, f);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
    struct fuse_entry_param e;
    struct dfs_file *f;
    struct stat st;
    int err = make(req, parent, name, S_IFREG | (mode & 07777), 0, NULL, &st);
    uint64_t id = st.st_dev;

    if (!err) {
        err =
            dfs_view_open_file(mnt(req)->view, id, open_flags(mnt(req), fi->flags) & ~O_TRUNC, &f);
        if (err)
            dfs_view_forget(mnt(req)->view, id, 1);
    }
    TRACE(req, "create(%lu, '%s', 0%o) = %d", (unsigned long)parent, name, mode, err);
    if (err) {
        fuse_reply_err(req, -err);
        return;
    }
    memset(&e, 0, sizeof(e));
    e.ino = id;
    st.st_dev = 0;
    e.attr = st;
    e.attr_timeout = ENTRY_TIMEOUT;
    e.entry_timeout = ENTRY_TIMEOUT;
    fi->fh = (uintptr_t)f;
    if (fuse_reply_create(req, &e, fi) == -ENOENT) {
        dfs_view_release(mnt(req)->view, f);
        dfs_view_forget(mnt(req)->view, id, 1);
    }
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    char stack[65536], *buf = size <= sizeof(stack) ? stack : malloc(size);
    ssize_t n;

    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    n = dfs_view_read(file_of(fi)->view, file_of(fi), buf, size, off);
    TRACE(req, "read(%lu, %zu, %lld) = %zd", (unsigned long)ino, size, (long long)off, n);
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_buf(req, buf, (size_t)n);
    if (buf != stack)
        free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    ssize_t n = dfs_view_write(file_of(fi)->view, file_of(fi), buf, size, off);

    TRACE(req, "write(%lu, %zu, %lld) = %zd", (unsigned long)ino, size, (long long)off, n);
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_write(req, (size_t)n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    dfs_view_release(file_of(fi)->view, file_of(fi));
    fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    /* a file's fsync makes its staged content durable; it never burns a session */
    int err = in_sessions(ino) ? 0 /* a session's file: never changed */
                               : dfs_view_fsync(mnt(req)->view, file_of(fi), datasync);

    TRACE(req, "fsync(%lu) = %d", (unsigned long)ino, err);
    fuse_reply_err(req, -err);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi)
{
    int err = -changeable(req, ino);

    if (!err)
        err = mode ? -EOPNOTSUPP /* punching holes and the like: not on a disc */
                   : dfs_view_fallocate(mnt(req)->view, file_of(fi), off, len);

    TRACE(req, "fallocate(%lu, %d, %lld, %lld) = %d", (unsigned long)ino, mode, (long long)off,
          (long long)len, err);
    fuse_reply_err(req, -err);
}

struct dirbuf {
    fuse_req_t req;
    char *buf;
    size_t size, used;
    int plus;
    unsigned snap; /* the entries are of session SNAP's view (0: the mount's) */
};

static int fill(void *ctx, const char *name, const struct stat *view_st, off_t next)
{
    struct dirbuf *b = ctx;
    struct stat st = *view_st;
    size_t n;

    dfs_sessions_out(b->snap, &st);
    if (b->plus) {
        struct fuse_entry_param e;
        memset(&e, 0, sizeof(e));
        e.ino = st.st_dev;
        e.attr = st;
        e.attr.st_dev = 0;
        e.attr_timeout = ENTRY_TIMEOUT;
        e.entry_timeout = ENTRY_TIMEOUT;
        n = fuse_add_direntry_plus(b->req, b->buf + b->used, b->size - b->used, name, &e, next);
    } else {
        n = fuse_add_direntry(b->req, b->buf + b->used, b->size - b->used, name, &st, next);
    }
    if (n > b->size - b->used)
        return 1; /* full: this entry was not taken (and not counted as a lookup) */
    b->used += n;
    return 0;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus)
{
    struct dirbuf b = {.req = req, .size = size, .plus = plus};
    struct dfs_node n;
    int err = -node(req, ino, &n);

    b.buf = err == 0 || err == -1 ? malloc(size) : NULL;
    if (!b.buf) {
        fuse_reply_err(req, err && err != -1 ? -err : ENOMEM);
        return;
    }
    b.snap = n.snap;
    if (err == -1) {
        b.snap = 0; /* its entries are in their final form */
        err = dfs_sessions_readdir(mnt(req), off, fill, &b);
    } else {
        err = dfs_view_readdir(n.view, n.id, off, plus, fill, &b);
    }
    TRACE(req, "readdir%s(%lu, %lld) = %d", plus ? "plus" : "", (unsigned long)ino, (long long)off,
          err);
    if (err)
        fuse_reply_err(req, -err);
    else
        fuse_reply_buf(req, b.buf, b.used);
    free(b.buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    (void)fi;
    do_readdir(req, ino, size, off, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
    (void)fi;
    do_readdir(req, ino, size, off, 1);
}

/* the user who mounted, or root: the only ones who commit (control.h) */
static int may_commit(fuse_req_t req)
{
    uid_t uid = fuse_req_ctx(req)->uid;

    return uid == 0 || uid == getuid();
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    struct dfs_mount *m = mnt(req);
    int err = 0;

    (void)datasync;
    (void)fi;
    /* `sync MOUNTPOINT` arrives here: the commit trigger (DESIGN.md, Commit) */
    if (in_sessions(ino)) {
        err = 0; /* a session's directory: never changed */
    } else if (ino != FUSE_ROOT_ID) {
        err = dfs_view_sync_journal(m->view); /* the directory's changes are durable */
    } else if (!may_commit(req)) {
        /* on write-once media each session costs space: another user's sync must
         * not spend one */
        fprintf(stderr,
                "discfs: a sync of '%s' by user %u committed nothing: only the user who "
                "mounted it and root commit\n",
                m->opt.mountpoint, (unsigned)fuse_req_ctx(req)->uid);
        err = -EPERM;
    } else {
        err = dfs_committer_commit(m, 0);
        if (err > 0)
            err = 0; /* nothing to commit */
    }
    TRACE(req, "fsyncdir(%lu) = %d", (unsigned long)ino, err);
    fuse_reply_err(req, err == -ENOSPC || err == -EROFS || err == -EPERM ? -err : err ? EIO : 0);
}

/* The argument of a control request into ARG (SIZE bytes, a version first): 0,
 * or -1 when the reply is an error already */
static int ctl_arg(fuse_req_t req, const void *in_buf, size_t in_bufsz, void *arg, size_t size)
{
    uint32_t version;

    if (in_bufsz < size) {
        fuse_reply_err(req, EINVAL);
        return -1;
    }
    memcpy(arg, in_buf, size);
    memcpy(&version, arg, sizeof(version));
    if (version != DFS_CTL_VERSION) {
        fuse_reply_err(req, EPROTO);
        return -1;
    }
    return 0;
}

/* The control channel (control.h) */
static void op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned cmd, void *arg,
                     struct fuse_file_info *fi, unsigned flags, const void *in_buf, size_t in_bufsz,
                     size_t out_bufsz)
{
    struct dfs_mount *m = mnt(req);
    unsigned ucmd = cmd;

    (void)arg;
    (void)fi;
    TRACE(req, "ioctl(%lu, %#x)", (unsigned long)ino, ucmd);
    if (ino != FUSE_ROOT_ID || (flags & FUSE_IOCTL_COMPAT) ||
        (ucmd != DFS_IOC_COMMIT && ucmd != DFS_IOC_STATUS && ucmd != DFS_IOC_DISCARD &&
         ucmd != DFS_IOC_PROGRESS)) {
        fuse_reply_err(req, ENOTTY);
        return;
    }
    if (!may_commit(req)) {
        fuse_reply_err(req, EPERM);
        return;
    }
    if (ucmd == DFS_IOC_DISCARD) {
        struct dfs_ctl_discard dc;

        if (ctl_arg(req, in_buf, in_bufsz, &dc, sizeof(dc)) != 0)
            return;
        if (dfs_committer_set_discard(m, dc.discard != 0) != 0)
            fuse_reply_err(req, EBUSY);
        else
            fuse_reply_ioctl(req, 0, NULL, 0);
    } else if (ucmd == DFS_IOC_COMMIT) {
        struct dfs_ctl_commit c;

        if (!dfs_committer_running(m)) { /* a sync still commits */
            fuse_reply_err(req, ENOSYS);
            return;
        }
        if (out_bufsz < sizeof(c)) {
            fuse_reply_err(req, EINVAL);
            return;
        }
        if (ctl_arg(req, in_buf, in_bufsz, &c, sizeof(c)) != 0)
            return;
        c.ticket = dfs_committer_request(m, !!(c.flags & DFS_CTL_CLOSE));
        fuse_reply_ioctl(req, 0, &c, sizeof(c));
    } else {
        struct dfs_ctl_status *st = malloc(sizeof(*st));

        if (!st || out_bufsz < sizeof(*st)) {
            fuse_reply_err(req, st ? EINVAL : ENOMEM);
            free(st);
            return;
        }
        dfs_committer_status(m, st, ucmd == DFS_IOC_STATUS);
        fuse_reply_ioctl(req, 0, st, sizeof(*st));
        free(st);
    }
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct statvfs sv;
    int err = dfs_view_statfs(mnt(req)->view, &sv);

    TRACE(req, "statfs(%lu) = %d", (unsigned long)ino, err);
    if (err)
        fuse_reply_err(req, -err);
    else
        fuse_reply_statfs(req, &sv);
}

static void reply_xattr(fuse_req_t req, ssize_t n, const char *buf, size_t size)
{
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else if (size == 0)
        fuse_reply_xattr(req, (size_t)n);
    else
        fuse_reply_buf(req, buf, (size_t)n);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    char stack[4096], *buf = size <= sizeof(stack) ? stack : malloc(size);
    struct dfs_node nd;
    int err = -node(req, ino, &nd);
    ssize_t n = err == -1 ? -ENODATA /* .sessions */
                : err     ? err
                : buf     ? dfs_view_getxattr(nd.view, nd.id, name, buf, size)
                          : -ENOMEM;

    TRACE(req, "getxattr(%lu, '%s', %zu) = %zd", (unsigned long)ino, name, size, n);
    reply_xattr(req, n, buf, size);
    if (buf != stack)
        free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    char stack[4096], *buf = size <= sizeof(stack) ? stack : malloc(size);
    struct dfs_node nd;
    int err = -node(req, ino, &nd);
    ssize_t n = err == -1 ? 0 /* .sessions */
                : err     ? err
                : buf     ? dfs_view_listxattr(nd.view, nd.id, buf, size)
                          : -ENOMEM;

    TRACE(req, "listxattr(%lu, %zu) = %zd", (unsigned long)ino, size, n);
    reply_xattr(req, n, buf, size);
    if (buf != stack)
        free(buf);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
    int err = -changeable(req, ino);

    if (!err)
        err = dfs_view_setxattr(mnt(req)->view, ino, name, value, size, flags);

    TRACE(req, "setxattr(%lu, '%s', %zu, %d) = %d", (unsigned long)ino, name, size, flags, err);
    fuse_reply_err(req, -err);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    int err = in_sessions(ino) ? -EROFS : dfs_view_removexattr(mnt(req)->view, ino, name);

    TRACE(req, "removexattr(%lu, '%s') = %d", (unsigned long)ino, name, err);
    fuse_reply_err(req, -err);
}

static const struct fuse_lowlevel_ops dfs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readlink = op_readlink,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .symlink = op_symlink,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .rename = op_rename,
    .link = op_link,
    .open = op_open,
    .create = op_create,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .fallocate = op_fallocate,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .fsyncdir = op_fsyncdir,
    .ioctl = op_ioctl,
    .statfs = op_statfs,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .setxattr = op_setxattr,
    .removexattr = op_removexattr,
};

const struct fuse_lowlevel_ops *dfs_fuse_ops(void)
{
    return &dfs_ops;
}

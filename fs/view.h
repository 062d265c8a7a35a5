/* fs/view.h - the merged view: the disc's newest session plus the staged changes.
 *
 * Plain C, no FUSE: fs/ops.c is the only caller that knows the kernel protocol, and
 * the unit tests drive this API directly.
 *
 * Inode identity
 * --------------
 * Every object of the view is a struct dfs_inode with an id that is never reused
 * while the view exists; the id is the FUSE node id (1 = the root).  Names are
 * struct dfs_dentry entries of a directory, found through the directory's hash of
 * them (dir.c); a directory has exactly one parent, a file may later have
 * several names (hard links).
 *
 * st_ino, what stat() shows, is fixed when the inode is created and never changes
 * while the view exists: for a file read from the disc it is the Rock Ridge PX
 * inode number the session recorded (libisofs keeps those numbers when it writes
 * the next session, so a remount shows the same st_ino); every other inode gets
 * ino_base + id, where ino_base is above every disc inode number of the mount.
 * Copy-up (first write into an on-disc file) changes where the data lives, not the
 * inode, so st_ino stays.  After a commit the view's inodes are re-attached to the
 * nodes of the new session by path (the session was written from this very tree
 * while mutations were frozen), so node ids and st_ino survive a commit too.
 *
 * Where a file's data lives:
 *   dfs_inode_n_disc() > 0, cache_id == 0   unchanged since the disc: read from
 *                                           its extents (dfs_inode_ext())
 *   cache_id != 0                           staged content file in the cache (store.h)
 * stage_gen counts moves between the two, so that open handles notice them (both
 * are in struct dfs_more).
 *
 * Memory: an inode of the disc is one 128-byte heap chunk and each of its names
 * one more (32 bytes up to a 7-byte name, 48 up to 23) and 14 bytes or so in its
 * directory's tables (dir.c; BENCHMARKS.md, Mount memory);
 * what only some inodes have is apart: struct dfs_dir for directories, struct
 * dfs_more for content files, symlinks, xattrs and devices.
 *
 * Locking: one mutex per view (v->lock) guards all of it and is taken inside each
 * call.  A commit builds the session's tree under it, then sets `committing` and
 * lets go of it while the session is written and read back (minutes on a real
 * disc): lookups, getattr, readdir, reads and statfs go on; every change waits
 * in dfs_view_wait_commit() until the commit has re-attached the view to the new
 * session (DESIGN.md: freeze mutations, no lock across a burn).  Copy-up and
 * writes hold the lock across their file I/O, so that the size always matches
 * the content file.
 */
#ifndef DISCFS_FS_VIEW_H
#define DISCFS_FS_VIEW_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "disc.h"
#include "store.h"

struct dfs_dentry;

/* A time as a struct timespec holds it, under the same names, in 12 bytes, not 16;
 * dfs_ts() and dfs_time() convert. */
struct dfs_time {
    int64_t tv_sec;
    uint32_t tv_nsec;
} __attribute__((packed, aligned(4)));

static inline struct timespec dfs_ts(struct dfs_time t)
{
    return (struct timespec){.tv_sec = t.tv_sec, .tv_nsec = t.tv_nsec};
}

static inline struct dfs_time dfs_time(struct timespec ts)
{
    return (struct dfs_time){.tv_sec = ts.tv_sec, .tv_nsec = (uint32_t)ts.tv_nsec};
}

/* What stat() shows of an inode: the members of struct stat the view keeps, under
 * their names there, in 68 bytes instead of 144 (dfs_view_stat() fills a struct
 * stat from it; st_blocks is computed, st_blksize fixed, st_rdev is in struct
 * dfs_more: few inodes are devices). */
struct dfs_attr {
    uint64_t st_ino;
    off_t st_size;
    struct dfs_time st_atim, st_mtim, st_ctim;
    mode_t st_mode;
    uint32_t st_nlink;
    uid_t st_uid;
    gid_t st_gid;
} __attribute__((packed, aligned(4)));

struct dfs_inode {
    uint32_t id;           /* at most UINT32_MAX (dfs_inode_new) */
    struct dfs_attr st;    /* st_ino, mode, nlink, uid, gid, size, ns times */
    uint32_t tree_cost;    /* continuation bytes of its attributes per record (space.c;
                            * Linux caps a file's xattrs at 64 KiB of names, 64 KiB each) */
    unsigned nopen;        /* open handles */
    struct dfs_more *more; /* content file, link, xattrs, ...; none: dfs_no_more; of a
                            * directory: the start of its struct dfs_dir (dfs_dp()) */
    uintptr_t disc;        /* nodes on the disc, one per name it had there (references):
                            * 0 none, a node, or several: a struct dfs_disc_nodes with the
                            * low bit set (dfs_inode_disc_node(), dfs_inode_n_disc()) */
    union {                /* on-disc data of an unchanged file (dfs_inode_ext()) */
        struct {           /* n_ext == 1: a run of ISO 9660 is less than 4 GiB */
            uint32_t lba, size;
        } one;
        struct dfs_extent *many; /* n_ext > 1 */
    } ext;
    uint64_t nlookup; /* references the kernel holds (lookup counts; dfs_inode_hold) */
    unsigned n_names; /* names in the view (space.c) */
    uint16_t n_ext;   /* at most DFS_MAX_EXTENTS */
    uint8_t zisofs;   /* ext holds it zisofs-compressed (burn/zisofs.c) */
    uint8_t copying;  /* a copy-up of it runs without the lock (file.c) */
};

/* Several nodes on the disc (hard links), dfs_inode.disc */
struct dfs_disc_nodes {
    size_t n;
    void *node[];
};

/* The most runs of on-disc data a file of the view can have (1 of 4 GiB would do
 * for a BD-XL many times over) */
#define DFS_MAX_EXTENTS 65535

/* What few inodes have: allocated when first set (dfs_inode_more()).  An inode
 * without any points to the shared, read-only, empty dfs_no_more. */
struct dfs_more {
    uint64_t cache_id;        /* staged content, 0 = none */
    unsigned stage_gen;       /* counts moves between the disc and the cache (open handles) */
    char *link;               /* symlink target */
    struct dfs_xattr *xattrs; /* extended attributes, ACLs included (Linux form) */
    size_t n_xattrs;
    dev_t rdev;        /* devices */
    off_t logged_size; /* size and mtime as the journal has them */
    struct timespec logged_mtim;
};

/* What only a directory has: allocated for directories (a tenth of a percent of the
 * entries of a typical disc), so that a file's inode does not carry it; its rare
 * part comes first, and the inode's `more` points there (one pointer for both). */
struct dfs_dir {
    struct dfs_more more; /* first: a directory's dfs_inode.more */
    struct dfs_inode *parent;
    struct dfs_dentry **ents;  /* in creation order; offsets only grow; NULL: a hole
                                * a removed name left (dir.c) */
    uint32_t *next;            /* per slot of ents[]: its hash chain (dir.c) */
    uint32_t *buckets;         /* n_buckets (a power of 2) hash chains (dir.c) */
    size_t n_ents;             /* names */
    size_t n_slots, cap_slots; /* of ents[] and next[]: names and holes, allocated */
    size_t n_buckets;
    uint64_t next_off;
};

/* A name: one allocation with the name at its end (a rename makes a new one); its
 * directory's struct dfs_dir finds it. */
struct dfs_dentry {
    struct dfs_inode *inode;
    uint64_t off; /* readdir offset of the entry after this one */
    char name[];
};

struct dfs_view {
    pthread_mutex_t lock;
    pthread_cond_t commit_done; /* signalled when a commit ends (committing = 0) */
    pthread_cond_t copy_done;   /* signalled when a copy-up ends (file.c) */
    int committing;             /* a session is being written: changes wait */
    struct dfs_disc *disc;
    struct dfs_store *store;
    struct dfs_inode **inodes; /* by id */
    uint64_t n_ids, cap_ids;
    size_t n_dentries;
    size_t n_dir_dentries; /* of them, names of directories (statfs: a block each) */
    uint64_t ino_base;
    uint64_t n_live;        /* inodes in the tree */
    uint64_t staged_blocks; /* 2 KiB blocks of staged content */
    uint64_t space_rec;     /* bytes of directory records of the tree (space.c) */
    uint64_t space_ce;      /* bytes of its continuation areas (space.c) */
    uint64_t space_n_ce;    /* records that may have a continuation area (space.c) */
    int dirty;              /* something to commit */
    int readonly;
    struct dfs_journal *journal; /* the stage's transaction log (replay.c), or NULL */
    int replaying;               /* applying the journal: a replay that fails must leave the
                                  * stage as it was, so content files are removed by the
                                  * sweep after it, never during it (inode.c) */
    int journal_broken;          /* the journal cannot be written: refuse changes */
    int journal_full;            /* the last record did not fit in the cache (ENOSPC) */
    int journal_lazy;            /* -o journal=async: synced once a second (replay.c) */
    int flusher_stop;
    pthread_cond_t flusher_wake;
    pthread_t flusher;
    struct timespec op_time;   /* the change of names being made: its directories' mtime,
                                * recorded in its journal record and replayed (replay.c) */
    uint64_t (*replay_map)[2]; /* BASE records: (fresh id, id) pairs to renumber by */
    size_t n_replay_map;
    int replay_done_base; /* a record other than BASE was replayed */
    uint64_t replayed_changes;
    uint64_t kernel_refs;   /* lookups the kernel holds on its inodes (sessions.c lets a
                             * session's view go at 0) */
    unsigned *commit_names; /* by id: names of each inode the commit being built placed so
                             * far (hard links: first name or clone); NULL outside it */
};

/* An open file. */
struct dfs_file {
    struct dfs_view *view; /* the file's own (a session's may go when the kernel
                            * forgets it, never while a handle is open) */
    uint64_t id;
    int fd;       /* staged content, or -1 */
    unsigned gen; /* stage_gen the fd belongs to */
    int writable;
    int wrote;  /* recorded (size, mtime) at release */
    int append; /* O_APPEND: every write goes to the end */
};

/* Which fields dfs_view_setattr() changes. */
enum {
    DFS_SET_MODE = 1,
    DFS_SET_UID = 2,
    DFS_SET_GID = 4,
    DFS_SET_SIZE = 8,
    DFS_SET_ATIME = 16,
    DFS_SET_MTIME = 32,
    DFS_SET_CTIME = 64,
};

#define DFS_ROOT_ID 1

/* The on-disc runs of INO's data (n_ext of them) copied to EXT, and the number
 * of its nodes on the disc and the K-th of them: one of each is kept inline, as
 * most files have one of each */
static inline void dfs_inode_ext(const struct dfs_inode *ino, struct dfs_extent *ext)
{
    if (ino->n_ext > 1) {
        for (unsigned k = 0; k < ino->n_ext; k++)
            ext[k] = ino->ext.many[k];
    } else if (ino->n_ext == 1) {
        ext[0] = (struct dfs_extent){.lba = ino->ext.one.lba, .size = ino->ext.one.size};
    }
}

static inline unsigned dfs_inode_n_disc(const struct dfs_inode *ino)
{
    if (ino->disc & 1)
        return (unsigned)((const struct dfs_disc_nodes *)(ino->disc - 1))->n;
    return ino->disc ? 1 : 0;
}

static inline void *dfs_inode_disc_node(const struct dfs_inode *ino, unsigned k)
{
    if (ino->disc & 1)
        return ((const struct dfs_disc_nodes *)(ino->disc - 1))->node[k];
    return (void *)ino->disc;
}

/* Wait (v->lock held) until no commit is writing a session. */
static inline void dfs_view_wait_commit(struct dfs_view *v)
{
    while (v->committing)
        pthread_cond_wait(&v->commit_done, &v->lock);
}

/* view.c: the tree */
int dfs_view_open(struct dfs_view **out, struct dfs_disc *disc, struct dfs_store *store);
void dfs_view_close(struct dfs_view *v);
int dfs_view_lookup(struct dfs_view *v, uint64_t dir, const char *name, struct stat *st);
/* The kernel drops N of its references to ID: the references it holds on the view's
 * inodes after that */
uint64_t dfs_view_forget(struct dfs_view *v, uint64_t id, uint64_t n);
/* ID goes to the kernel (a lookup of it): one reference more, its attributes in ST
 * (st_dev: the node id) */
int dfs_view_hold(struct dfs_view *v, uint64_t id, struct stat *st);
/* the references the kernel holds on the view's inodes */
uint64_t dfs_view_kernel_refs(struct dfs_view *v);
int dfs_view_getattr(struct dfs_view *v, uint64_t id, struct stat *st);
int dfs_view_setattr(struct dfs_view *v, uint64_t id, const struct stat *in, int to_set,
                     struct stat *out);
/* mkdir, mknod, symlink, create: st_mode says which; LINK for symlinks */
int dfs_view_make(struct dfs_view *v, uint64_t dir, const char *name, mode_t mode, dev_t rdev,
                  const char *link, uid_t uid, gid_t gid, struct stat *out);
int dfs_view_unlink(struct dfs_view *v, uint64_t dir, const char *name);
/* a new name NEWNAME in NEWDIR for the file ID (hard link) */
int dfs_view_link(struct dfs_view *v, uint64_t id, uint64_t newdir, const char *newname,
                  struct stat *out);
int dfs_view_rmdir(struct dfs_view *v, uint64_t dir, const char *name);
int dfs_view_rename(struct dfs_view *v, uint64_t dir, const char *name, uint64_t newdir,
                    const char *newname, unsigned flags);
int dfs_view_readlink(struct dfs_view *v, uint64_t id, char *buf, size_t size);
/* Calls FILL for the entries after offset OFF ("." and ".." first) until it
 * returns non-zero (buffer full).  With PLUS, an entry FILL accepted (returned 0)
 * counts as a lookup, except "." and ".." (fuse_lowlevel.h, readdirplus). */
typedef int (*dfs_fill_fn)(void *ctx, const char *name, const struct stat *st, off_t next);
int dfs_view_readdir(struct dfs_view *v, uint64_t dir, off_t off, int plus, dfs_fill_fn fill,
                     void *ctx);
int dfs_view_statfs(struct dfs_view *v, struct statvfs *sv);

/* xattr.c: extended attributes (ACLs are system.posix_acl_*) */
/* Returns the value's size; with SIZE 0 only the size; -ERANGE if SIZE is short. */
ssize_t dfs_view_getxattr(struct dfs_view *v, uint64_t id, const char *name, void *buf,
                          size_t size);
ssize_t dfs_view_listxattr(struct dfs_view *v, uint64_t id, char *buf, size_t size);
/* FLAGS: XATTR_CREATE, XATTR_REPLACE */
int dfs_view_setxattr(struct dfs_view *v, uint64_t id, const char *name, const void *value,
                      size_t size, int flags);
int dfs_view_removexattr(struct dfs_view *v, uint64_t id, const char *name);

/* file.c: data */
int dfs_view_open_file(struct dfs_view *v, uint64_t id, int flags, struct dfs_file **out);
ssize_t dfs_view_read(struct dfs_view *v, struct dfs_file *f, void *buf, size_t size, off_t off);
ssize_t dfs_view_write(struct dfs_view *v, struct dfs_file *f, const void *buf, size_t size,
                       off_t off);
int dfs_view_fsync(struct dfs_view *v, struct dfs_file *f, int datasync);
/* posix_fallocate: make the file at least OFF + LEN bytes long */
int dfs_view_fallocate(struct dfs_view *v, struct dfs_file *f, off_t off, off_t len);
/* posix_fallocate: make the file at least OFF + LEN bytes long */
int dfs_view_fallocate(struct dfs_view *v, struct dfs_file *f, off_t off, off_t len);
void dfs_view_release(struct dfs_view *v, struct dfs_file *f);

/* replay.c: the stage journal */
struct dfs_journal;
/* Apply the journal's records to a view fresh from the disc, then record every
 * further change in it.  Returns the number of records replayed or -errno. */
long dfs_view_replay(struct dfs_view *v, struct dfs_journal *j);
/* The same for a look at the stage STAGE_DIR of the session with stage key KEY
 * (`discfs inspect`): the journal is read without its lock and nothing is written
 * (no torn tail cut, no content file made or swept).  The changes replayed, or
 * -errno (-ESTALE: the journal belongs to another session). */
long dfs_view_replay_peek(struct dfs_view *v, const char *stage_dir, const char *key);
/* -o journal=async: sync the journal once a second from a thread of its own,
 * instead of after every record; stopped by dfs_view_stop_flusher(). */
int dfs_view_start_flusher(struct dfs_view *v);
void dfs_view_stop_flusher(struct dfs_view *v);
/* Make every recorded change durable now (fsync of a file or directory). */
int dfs_view_sync_journal(struct dfs_view *v);

/* changes.c: the names the next session adds, changes (content, attributes,
 * replaced) and removes, compared with the session the view was built from, and
 * the bytes of file content staged.  Lock held; 0 or -errno. */
struct dfs_changes {
    uint64_t added, changed, removed, staged_bytes;
};
/* EACH (may be NULL) is told every name: KIND '+' added, '~' changed, '-' removed,
 * and its PATH from the root ("/a/b") */
typedef void (*dfs_change_fn)(void *ctx, char kind, const char *path);
int dfs_view_changes(struct dfs_view *v, struct dfs_changes *out, dfs_change_fn each, void *ctx);
/* space.c: the blocks the next session takes at most, closing included (lock held) */
uint64_t dfs_view_next_session_blocks(struct dfs_view *v);

/* commit.c: a new session from the view */
/* Writes the view as a new session if anything changed; returns 0, 1 when there was
 * nothing to commit, or -errno (the stage is then kept as it was). */
int dfs_view_commit(struct dfs_view *v);

/* recover.c: before the stage of the session shown is opened, find the stages
 * that crashes left under older sessions of the disc under ROOT: remove those
 * whose changes are on the disc, show the session of one whose changes are not */
int dfs_find_stage(struct dfs_disc *disc, const char *root);
/* recover.c: note in STAGE_DIR where it comes from (store.h, origin): DISC as
 * DEVICE names it; with DEVICE NULL (a commit moved on to a new stage), the device
 * and the time of the mount are those the stage FROM_DIR noted.  A failure is said
 * and otherwise ignored: `discfs stages` lists that stage as unknown. */
void dfs_stage_note_origin(struct dfs_disc *disc, const char *stage_dir, const char *device,
                           const char *from_dir);

#endif

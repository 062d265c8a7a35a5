/* cache/store.h - the stage directory of one disc: content files of staged data.
 *
 * Layout under the cache root (default $XDG_CACHE_HOME/discfs, else ~/.cache/discfs):
 *
 *   ROOT/                      0700
 *   ROOT/<key>/                0700, one stage per disc identity (key = fingerprint hex)
 *   ROOT/<key>/data/<id>       content of a staged file, id = 16 hex digits
 *   ROOT/<key>/links/<id>      during a commit: the local stand-in of a hard-linked
 *                              symlink or special file (id = the view's inode id)
 *   ROOT/<key>/origin          where the stage comes from (stage.c, below)
 *   ROOT/<key>/journal, lock   the stage's journal and the lock of its mount (journal.h)
 *   ROOT/.removing-<key>.<pid> a stage being removed (`discfs stages --remove`)
 *
 * A content file is created empty or as a copy of on-disc data (copy-up), written with
 * pwrite by the view, and removed once a commit that contains it has been verified.
 * Nothing here knows about FUSE or libburn.  Errors are negative errno values.
 */
#ifndef DISCFS_CACHE_STORE_H
#define DISCFS_CACHE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dfs_store {
    char *dir;   /* ROOT/<key> */
    int data_fd; /* ROOT/<key>/data, O_DIRECTORY */
    uint64_t next_id;
};

/* The default cache root for the user who runs discfs: $XDG_CACHE_HOME/discfs, else
 * $HOME/.cache/discfs, each only where that directory is the user's own or does not
 * exist yet; else HOME/.cache/discfs with the user's home in the password database
 * (a `user` mount of fstab runs discfs with HOME=/root); else /tmp/discfs-UID.
 * Returns a malloc'd string or NULL (ENOMEM). */
char *dfs_store_default_root(void);

/* Open (creating as needed, mode 0700) the stage ROOT/KEY.  Existing content files
 * are kept: ids continue after the highest one present. */
int dfs_store_open(struct dfs_store *s, const char *root, const char *key);
void dfs_store_close(struct dfs_store *s);
/* Remove the stage directory DIR and all it holds: 0, or -errno of the first
 * failure (what could be removed is gone). */
int dfs_store_destroy(const char *dir);

/* Create a new, empty content file; returns an O_RDWR fd and its id. */
int dfs_store_create(struct dfs_store *s, uint64_t *id);
/* Open an existing content file (flags as for open(2), without O_CREAT). */
int dfs_store_open_file(const struct dfs_store *s, uint64_t id, int flags);
/* Path of a content file, for libraries that open by name. */
int dfs_store_path(const struct dfs_store *s, uint64_t id, char *buf, size_t len);
int dfs_store_remove(const struct dfs_store *s, uint64_t id);
/* Number of content files present (for tests and the inspector). */
long dfs_store_count(const struct dfs_store *s);
/* Ids of the content files present: a malloc'd array in *ids (free it), count returned. */
long dfs_store_list(const struct dfs_store *s, uint64_t **ids);
/* Never hand out ID or a smaller one again (ids named by a journal). */
void dfs_store_reserve(struct dfs_store *s, uint64_t id);
/* Set the mtime of content file ID to *MTIME (its atime is left alone).  The view
 * keeps a staged file's mtime in its content file too: the kernel moves it on every
 * write and truncate, so a replay after kill -9 finds the time of the last write. */
struct timespec;
int dfs_store_set_mtime(const struct dfs_store *s, uint64_t id, const struct timespec *mtime);
/* fsync one content file's directory entry (after create) */
int dfs_store_sync_dir(const struct dfs_store *s);

/* The path of the stand-in of a hard-linked symlink (TARGET) or special file (MODE,
 * RDEV) for a commit, in PATH; with MAKE it is made (once per commit: every name of
 * the inode must be added from the same object).  All go with
 * dfs_store_drop_stand_ins(). */
int dfs_store_stand_in(const struct dfs_store *s, uint64_t id, mode_t mode, dev_t rdev,
                       const char *target, int make, char *path, size_t len);
void dfs_store_drop_stand_ins(const struct dfs_store *s);

/* pwrite() of SIZE bytes at OFF into the content file FD, whose size is
 * FILE_SIZE: aligned 4 KiB blocks of zeros are left as holes (punched where they
 * overwrite data), so that zeros take no room in the cache.  Returns SIZE or
 * -errno; the file's size is at least OFF + SIZE afterwards. */
ssize_t dfs_store_pwrite(int fd, const void *buf, size_t size, off_t off, off_t file_size);

/* ---- stage.c: a stage as a whole ---- */

/* ROOT/<key>/origin: a mount notes in its stage where the stage comes from, so
 * that `discfs stages` can tell whether a disc can still claim it.  Text, one
 * "NAME VALUE" a line: "discfs-stage-origin 1", the fields below, and last
 * "crc32c HEX" of all lines before it.  Unknown names are skipped; another
 * version is refused (-EPROTONOSUPPORT), a damaged file too (-EBADMSG). */
#define DFS_ORIGIN_VERSION 1
struct dfs_stage_origin {
    char kind[8];      /* "image" or "drive" */
    char device[4096]; /* DEVICE as the mount was given it */
    char path[4096];   /* the image file as its stage keys name it (absolute), or the
                        * drive as libburn is given it ("/dev/sr0", "mmc:/abs") */
    char volid[33];    /* the session's volume id */
    char profile[80];  /* the medium, as libburn names it ("stdio file", "CD-R") */
    int session;       /* the session the stage applies to; 0: the blank disc */
    int64_t mounted;   /* when a mount last opened it, seconds since the epoch */
    char version[32];  /* of the discfs that wrote it */
};
/* Write O as STAGE_DIR/origin: under a temporary name, synced, renamed into place
 * (a crash leaves the old file or the new one).  0 or -errno; -EINVAL for a
 * value with a newline (the stage then has no origin). */
int dfs_stage_write_origin(const char *stage_dir, const struct dfs_stage_origin *o);
/* Read STAGE_DIR/origin into O: 0, -ENOENT (none: a stage of an older discfs),
 * -EBADMSG, -EPROTONOSUPPORT or another -errno. */
int dfs_stage_read_origin(const char *stage_dir, struct dfs_stage_origin *o);
/* The same from the LEN bytes of TEXT */
int dfs_stage_parse_origin(const char *text, size_t len, struct dfs_stage_origin *o);

/* The bytes of disk that the stage STAGE_DIR takes, as du counts them: blocks
 * allocated to it and everything below (holes of sparse content files take
 * none), symlinks not followed.  Also while a mount uses it.  Returns bytes or
 * -errno (-ENOENT: no such stage). */
int64_t dfs_stage_disk_use(const char *stage_dir);

/* The pid of the mount that holds STAGE_DIR now (the flock of journal.h), seen
 * in /proc/locks without touching the lock (1 when the pid is not known), 0 when
 * no mount holds it, or -errno. */
pid_t dfs_stage_holder(const char *stage_dir);
/* Take the lock of STAGE_DIR as a mount does, so that no mount opens it while it
 * is removed: returns its descriptor (closing it releases the lock), or -EBUSY
 * with the pid of the mount that holds it in *holder (0 if not known). */
int dfs_stage_lock(const char *stage_dir, pid_t *holder);
/* Remove the stage STAGE_DIR, locked by dfs_stage_lock() (LOCK_FD, closed here):
 * renamed aside in one step, then deleted.  0 or -errno. */
int dfs_stage_remove(const char *stage_dir, int lock_fd);

#endif

/* burn/internal.h - state shared by the files of burn/ (disc.h is their table of
 * contents) */
#ifndef DISCFS_BURN_INTERNAL_H
#define DISCFS_BURN_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include <libburn/libburn.h>
#include <libisofs/libisofs.h>
#include <libisoburn/libisoburn.h>
#include <pthread.h>

#include "disc.h"

struct dfs_disc {
    char key_scratch[65]; /* identify(): the stage key of what it identified */
    int empty_tree;       /* no session could be read: an empty tree is shown */
    char *adr;            /* libburn address: "stdio:/abs/path" or a drive path */
    char *image_path;     /* image files: the file itself, else NULL */
    int image_fd;         /* image files: the open image, locked (drive.c open_image) */
    dev_t image_dev;      /* ... and what it was when it was opened */
    ino_t image_ino;
    off_t image_size; /* image files: size and mtime when last found unchanged */
    struct timespec image_mtim;
    int64_t image_checked_ns; /* ... then (monotonic; read without the lock: atomic) */
    int image_created;        /* ... made by this mount (a new file: a blank disc) */
    struct burn_drive_info *dinfo;
    struct burn_drive *drive;
    IsoImage *image; /* newest session, attached to the drive; own reference */
    /* Drives: serializes burn_read_data(), and a commit holds it from the identity
     * check through the burn to the re-import, so readers wait for the drive
     * (recursive: the commit's own re-import reads under it) */
    pthread_mutex_t read_lock;
    struct timespec last_read;  /* drives: the last read of file data (monotonic) */
    struct timespec last_check; /* ... and the last identity check for reads */
    struct dfs_disc_info info;
    uint64_t free_blocks; /* drives: free blocks at the last load */
    struct {
        uint64_t capacity; /* blocks: NWA + free at the last load */
        uint32_t min_track, align, runout;
        uint32_t gap; /* closing the next session (space.c) */
    } space;
    uint32_t sane[8]; /* reimport.c: sessions (their starts) whose tree passed the check */
    int n_sane;
    int close;                /* finalize the disc with the next commit */
    int want_session;         /* the session to load (dfs_disc_load_session), 0 = the newest */
    int quiet;                /* failures go to last_error only: the caller tells them (commit) */
    int probe;                /* dfs_disc_probe(), dfs_disc_open_readonly(): read-only, no lock,
                               * nothing written */
    int toc_only;             /* dfs_disc_probe(): no tree either */
    int tree_built;           /* the image's tree is a failed commit's, not the disc's */
    struct dfs_disc *parent;  /* a session of PARENT shown apart (dfs_disc_open_snapshot):
                               * its own tree; data, blocks and checks are PARENT's */
    char desc[300];           /* the disc as messages name it (identify() in drive.c) */
    dfs_progress_fn progress; /* a commit's phases and bytes (dfs_disc_set_progress) */
    void *progress_ctx;
    char last_error[8192];
};

/* The disc as messages name it: the image file's path, or the drive's address */
static inline const char *dfs_disc_name(const struct dfs_disc *d)
{
    return d->image_path ? d->image_path : d->adr;
}

/* drive.c */
/* Print d->last_error, unless the caller tells it (d->quiet: a commit) */
void dfs_tell(const struct dfs_disc *d);
/* The image file's path still names the file that is mounted: 0, or -EIO with
 * the reason in last_error (nothing may be written then). */
int dfs_check_image_path(struct dfs_disc *d);
/* Drain the library message queues into the log; keep the worst one in d->last_error
 * (d may be NULL).  Returns ERR unchanged so that it can end a return statement. */
int dfs_lib_error(struct dfs_disc *d, int err, const char *what);
/* The same, but when a message holds TEXT nothing is printed and -EUCLEAN returned. */
int dfs_lib_error_unless(struct dfs_disc *d, int err, const char *what, const char *text);
/* A disc structure with nothing opened (image_fd -1, a recursive read_lock) */
struct dfs_disc *dfs_disc_new(void);
/* Acquire the drive and import the newest session into d->image, filling d->info. */
int dfs_disc_load(struct dfs_disc *d);
/* Release the image and the drive. */
void dfs_disc_unload(struct dfs_disc *d);
/* media.c */
/* The medium's table of contents into d->info (sessions, msc1, nwa, free blocks). */
int dfs_read_toc(struct dfs_disc *d);
/* A written medium has an ISO 9660 volume descriptor where its session d->info.msc1
 * starts: 0, or -EMEDIUMTYPE with the message in last_error. */
int dfs_check_iso(struct dfs_disc *d);
/* Image files: -EUCLEAN (d->last_error says why) if the chain of sessions
 * libisoburn follows to find them does not end (before isoburn_drive_aquire) */
int dfs_check_chain(struct dfs_disc *d);
/* tree.c: -EUCLEAN (d->last_error says why) unless the directories of the session
 * libisofs is about to import (at libisoburn's msc1) form a tree it can read */
int dfs_check_tree(struct dfs_disc *d);
/* ... of the older session whose volume descriptors are at START + 16 (the message
 * names the session at START and what to do when it is read apart) */
int dfs_check_tree_at(struct dfs_disc *d, uint32_t start);
/* The fingerprint (FP), description (DESC) and d->key_scratch of the disc. */
int dfs_identify(struct dfs_disc *d, char fp[65], char *desc, size_t desc_size);
/* Close a track that a cut-short write left damaged: 1 if one was closed. */
int dfs_close_damaged(struct dfs_disc *d);
/* Load the newest readable session older than the newest one (write-once media). */
void dfs_names_charset(int writing);
int dfs_read_older_session(struct dfs_disc *d, struct isoburn_read_opts *ro);
/* Re-assess the medium (drives) and compare it with the loaded disc: 0 when it is
 * the same, -EIO (message in last_error, reads fail until it is back) if not.
 * Call with read_lock held. */
int dfs_disc_check_identity(struct dfs_disc *d);
/* Before a read of file data from a drive: after 2 s of idleness, or while
 * another disc is in it, is it (again) the mounted disc?  0, or -EIO (said once).
 * Call with read_lock held. */
int dfs_disc_check_reads(struct dfs_disc *d);
/* After a burn that failed on a sequential drive: re-assess, and take the disc's
 * new state (sessions, NWA, free blocks, fingerprint) as the mounted disc's.
 * Call with read_lock held. */
void dfs_disc_after_failed_write(struct dfs_disc *d);
/* read.c: whole 2048-byte blocks from the medium */
int dfs_disc_read_blocks(struct dfs_disc *d, uint32_t lba, void *buf, int count);

/* session.c */
/* Read the loaded session back against its MD5 tag, which must cover START: 1 it
 * matches, 2 it does not, 0 no such tag, or -errno. */
int dfs_session_md5(struct dfs_disc *d, uint32_t start, uint32_t *tag_start, uint32_t *end);
/* the same, telling its progress (DFS_PHASE_VERIFYING) */
int dfs_session_md5_told(struct dfs_disc *d, uint32_t start, uint32_t *tag_start, uint32_t *end);
/* The mode bits, owner and times (whole seconds) of ST on N */
void dfs_node_set_stat(IsoNode *n, const struct stat *st);

/* dedup.c */
struct dfs_dedup;
/* LOCAL, a node of the new tree made from the local file PATH, with ST and the
 * attributes X, may have its data on the disc already: noted in *DD (made on
 * the first call).  0 or -ENOMEM. */
int dfs_dedup_note(struct dfs_dedup **dd, IsoNode *local, const char *path, const struct stat *st,
                   const struct dfs_xattr *x, size_t n);
/* Once the new tree is built (OLD: the children of the loaded session's root,
 * taken out of it): every noted file whose size and MD5 a file of the loaded
 * session has refers to that file's data instead.  0, or -errno (then the tree
 * is not fit to be written). */
int dfs_dedup_resolve(struct dfs_disc *disc, struct dfs_dedup *dd, IsoNode **old, size_t n_old);
void dfs_dedup_free(struct dfs_dedup *dd);

/* reimport.c */
/* The session whose volume descriptors are at LBA + 16, imported once more into
 * *OUT (a new image; MD5: with its checksum array).  Unless it is the loaded one,
 * check it first as the mount does (dfs_session_sane).  0 or -errno. */
int dfs_import_session(struct dfs_disc *d, uint32_t lba, int md5, IsoImage **out);
/* Has that session a regular file of SIZES[i] bytes at PATHS[i] (NULL: none) for
 * some i < N?  Reads only the directories on the way. */
int dfs_session_has_file(struct dfs_disc *d, uint32_t lba, const char *const *paths,
                         const off_t *sizes, size_t n);
/* dfs_check_tree_at(D, LBA), once per session and mount (a session never changes;
 * another disc never gets this far, dfs_disc_check_identity) */
int dfs_session_sane(struct dfs_disc *d, uint32_t lba);

/* xattr.c */
/* The node's attributes and ACLs as Linux xattrs, and what Rock Ridge could not
 * record exactly: MTIME (holding the Rock Ridge one) gets its exact seconds and
 * nanoseconds, *LINK a malloc'd exact symlink target or NULL. */
int dfs_node_get_xattrs(IsoNode *node, struct dfs_xattr **out, size_t *n, struct timespec *mtime,
                        char **link);
/* Make the node's attributes exactly X (ACLs included) and record what Rock Ridge
 * cannot hold of MTIME and of the symlink target LINK (NULL: none); ALWAYS_NS: the
 * nanoseconds also when they are 0 (the root: when its only attributes have empty
 * values, and nothing else in the tree has any, libisofs 1.5.4 writes them so that
 * they do not read back). */
int dfs_node_set_xattrs(IsoNode *node, const struct dfs_xattr *x, size_t n,
                        const struct timespec *mtime, const char *link, int always_ns);

/* space.c */
/* The space model of the loaded disc (after read_toc: needs info and free_blocks). */
void dfs_space_load(struct dfs_disc *d);

#endif

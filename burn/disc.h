/* burn/disc.h - the disc: drive, newest session, file data, commit of a new session.
 *
 * This layer knows libisoburn/libisofs/libburn and nothing about FUSE or the view.
 * Errors are negative errno values; the library's own message is logged once where
 * it is translated (drive.c: dfs_lib_error) and kept in dfs_disc_last_error().
 *
 * Table of contents:
 *   drive.c    library set-up, devices (the image file's descriptor and lock), load
 *              and unload of a session
 *   media.c    media state, table of contents, fingerprint and stage keys, sessions
 *   read.c     reads of blocks and of file data by extents
 *   image.c    walk of the imported session and its hard-link families
 *   session.c  building the tree of the next session, writing and verifying it
 *   dedup.c    staged files whose content is on the disc already refer to it
 *   reimport.c a session imported once more, for nodes of its files (dedup.c)
 *   space.c    what a session costs on the medium (DESIGN.md, Space)
 *   verify.c   the recorded MD5s of a session and of its files, checked
 *   xattr.c    xattrs, ACLs and private attributes in AAIP
 */
#ifndef DISCFS_BURN_DISC_H
#define DISCFS_BURN_DISC_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct dfs_disc;
struct dfs_disc_entry; /* image.c */

enum dfs_media_state {
    DFS_MEDIA_BLANK,      /* no session: empty tree, first commit writes session 1 */
    DFS_MEDIA_APPENDABLE, /* sessions, room for another */
    DFS_MEDIA_CLOSED,     /* finalized or full: read-only */
};

struct dfs_disc_info {
    enum dfs_media_state state;
    int sessions;         /* ISO sessions on the medium */
    int emulated;         /* multi-session emulation (image file, overwriteable) */
    uint32_t msc1;        /* start of the newest session */
    uint32_t nwa;         /* next writable address */
    char profile[80];     /* "stdio file", "CD-R", ... */
    char volid[33];       /* volume id of the newest session */
    char fingerprint[65]; /* identity of the disc, hex (see DESIGN.md, Identity) */
    int empty_tree;       /* no session can be read (a failed first burn): empty tree */
    char stage_key[65];   /* names its stage: the newest session's identity, which a
                           * failed write leaves as it was and a commit changes */
    int lost;             /* the last identity check found another disc: reads fail */
};

/* ---- drive.c ---- */

/* Once per process, before any other call; returns 0 or -errno. */
int dfs_libs_init(void);
void dfs_libs_finish(void);

/* Open DEVICE (a path to an image file, "stdio:PATH", "mmc:PATH" or /dev/srN) and
 * import its newest session.  A missing or empty image file is a blank disc. */
int dfs_disc_open(const char *device, struct dfs_disc **out);
void dfs_disc_close(struct dfs_disc *d);
/* Open DEVICE only to read its table of contents, for dfs_disc_sessions(): the
 * image file read-only and not locked (a mount may hold it), a missing one is
 * -ENOENT (never created), a drive's damaged track is not closed, no session is
 * imported, nothing is written and nothing printed (dfs_disc_last_error() says
 * why it failed).  Close it with dfs_disc_close(), also after a failure. */
int dfs_disc_probe(const char *device, struct dfs_disc **out);
/* The same, but with the newest session's tree imported (`discfs inspect`): still
 * read-only, unlocked, nothing written; failures are said. */
int dfs_disc_open_readonly(const char *device, struct dfs_disc **out);
/* The image file as its stage keys name it ("/abs/path", not resolved), or NULL
 * for a drive */
const char *dfs_disc_image_path(const struct dfs_disc *d);
const struct dfs_disc_info *dfs_disc_get_info(const struct dfs_disc *d);
/* Blocks of 2048 bytes that the next session may still use: on image files the
 * free space of the filesystem that holds the image, on drives the medium's. */
uint64_t dfs_disc_free_blocks(struct dfs_disc *d);
/* Is the medium in the drive still the disc that was loaded (DESIGN.md, Identity)?
 * Re-assesses the drive and compares fingerprints: 0 when it is, -EIO when another
 * disc (or none) is in the drive, with both named in dfs_disc_last_error().  After
 * a mismatch, reads of on-disc data fail with EIO until a check finds the disc
 * back.  dfs_commit_write() does the same check itself, right before writing. */
int dfs_disc_verify(struct dfs_disc *d);
/* CLOSE: the following commits finalize the disc (sequential media only: image
 * files and DVD+RW/BD-RE stay appendable). */
void dfs_disc_set_close(struct dfs_disc *d, int close);
/* The sessions of the disc, oldest first: number (1...), start and the key of the
 * stage that a mount of that session would use (DESIGN.md, Identity); the first
 * entry is the blank disc before the first session (number -1, msc1 UINT32_MAX;
 * any_blank: a blank disc in a drive has no identity of its own, so its stage may
 * as well belong to another disc).
 * Returns the count, with a malloc'd array in *out, or -errno. */
struct dfs_session_ref {
    int number;
    uint32_t msc1;
    char key[65];
    int any_blank;
    uint32_t blocks; /* of its tracks */
    char date[32];   /* its volume's creation time as recorded, "" if none */
    char volid[33];  /* its volume id */
};
int dfs_disc_sessions(struct dfs_disc *d, struct dfs_session_ref **out);
/* Show session NUMBER instead of the newest one (its tree and stage key; -1: the
 * empty tree of the blank disc); new sessions still go after all of them.  0 or
 * -errno (then nothing is loaded). */
int dfs_disc_load_session(struct dfs_disc *d, int number);
/* Session NUMBER of D as a disc of its own, for a read-only view of it beside the
 * mount (fs/sessions.c): its tree imported apart from D's (checked as a mount
 * checks it), its state DFS_MEDIA_CLOSED; its data, blocks and identity checks are
 * D's.  0 or -errno: -EUCLEAN when the session itself cannot be shown (damaged, or
 * its tree not importable), for good; other errors may pass (-ENOENT: no such
 * session, -EIO: the mounted disc is not there now, -ENOMEM).  Also after a failure
 * *OUT is to be closed with dfs_disc_close(), before D, and dfs_disc_last_error(*OUT)
 * says why. */
int dfs_disc_open_snapshot(struct dfs_disc *d, int number, struct dfs_disc **out);
/* Does the newest session on the disc read back with its MD5 tag?  1 yes, 0 no. */
int dfs_disc_newest_verifies(struct dfs_disc *d);

/* verify.c: does the session loaded read back with the MD5 tag it recorded?  1 yes,
 * 2 no, 0 it has none, -errno; *BLOCKS the blocks the tag covers.  Its progress
 * is told as DFS_PHASE_VERIFYING (dfs_disc_set_progress). */
int dfs_disc_check_session(struct dfs_disc *d, uint32_t *blocks);
/* verify.c: does the file E of a walk of the session loaded read back with the MD5
 * the session recorded for it?  1 yes, 2 no, 0 none recorded, -errno (a read). */
int dfs_disc_check_file(struct dfs_disc *d, const struct dfs_disc_entry *e);

/* Fault injection for crash tests: with DISCFS_TEST_CRASH=NAME in the environment
 * the process kills itself (SIGKILL) at the point called NAME. */
void dfs_crash_point(const char *name);

/* The message behind the last failure of this disc, or "" */
const char *dfs_disc_last_error(const struct dfs_disc *d);

/* ---- space.c ---- */

/* Blocks of the medium: written ones plus free ones (df's f_blocks). */
uint64_t dfs_disc_capacity(struct dfs_disc *d);
/* The largest file, in blocks, the medium could ever hold: a drive's capacity;
 * on image files the ISO 9660 address space (2^32 blocks of 2048 bytes). */
uint64_t dfs_disc_max_file_blocks(struct dfs_disc *d);
/* Blocks the next session takes from dfs_disc_free_blocks() when it holds PAYLOAD
 * blocks of ISO 9660 data: padding, alignment, run-out and the close gap of the
 * medium (CD: 11400 after the first session, 6900 after later ones). */
uint64_t dfs_disc_session_blocks(struct dfs_disc *d, uint64_t payload);

/* ---- image.c ---- */

/* One contiguous run of a file's data on the disc. */
struct dfs_extent {
    uint32_t lba;
    uint64_t size; /* bytes */
};

/* An extended attribute as Linux shows it; ACLs are system.posix_acl_access and
 * system.posix_acl_default in their binary form (xattr.c). */
struct dfs_xattr {
    char *name;
    char *value;
    size_t size;
};
void dfs_xattrs_free(struct dfs_xattr *x, size_t n);
/* Is VALUE a well-formed binary POSIX ACL? */
int dfs_acl_valid(const void *value, size_t size);
/* Does the ACL VALUE say no more than the mode bits (owner, group, other only)? */
int dfs_acl_is_minimal(const void *value, size_t size);

/* One node of the imported tree, as handed to a walk callback. */
struct dfs_disc_entry {
    const char *name;       /* NULL for the root */
    struct stat st;         /* mode, uid, gid, size, rdev, 1 s times; st_ino = disc inode or 0 */
    const char *link;       /* symlink target (exact: from AAIP where Rock Ridge loses it) */
    struct dfs_extent *ext; /* file data (malloc'd, the callback may keep it: set *ext to NULL) */
    int n_ext;
    int zisofs; /* the data is zisofs-compressed: 1 version 1, 2 version 2 (zisofs.c) */
    void *node; /* opaque on-disc node, valid until dfs_disc_node_put() */
    struct dfs_xattr *xattrs; /* malloc'd, the callback may keep them: set to NULL */
    size_t n_xattrs;
    /* Hard links: entries with the same non-zero family are names of one inode;
     * 0 for a single name.  Files: their disc inode number (st_ino; names of one
     * family also share their extents); symlinks and special files: a number given
     * to the names that libisofs finds to be one inode (iso_node_cmp_ino), with the
     * top bit set. */
    uint64_t family;
    char *own_link; /* the walk's: the exact target read from AAIP, or NULL */
};

/* Called for every node below (and including) the root, parents before children.
 * *child_cookie is handed back as parent_cookie for this node's children.
 * Take a reference on e->node with dfs_disc_node_get() to keep it. */
typedef int (*dfs_disc_walk_fn)(void *ctx, void *parent_cookie, struct dfs_disc_entry *e,
                                void **child_cookie);
/* -ESTALE after a failed commit: the image's tree is then the attempt's, until the
 * next session is imported */
int dfs_disc_walk(struct dfs_disc *d, dfs_disc_walk_fn fn, void *ctx, void *root_cookie);
void dfs_disc_node_get(void *node);
void dfs_disc_node_put(void *node);

/* Read file data held in EXT at byte offset OFF; returns bytes read or -errno.
 * Safe to call from several threads at once, also while a commit runs. */
ssize_t dfs_disc_read(struct dfs_disc *d, const struct dfs_extent *ext, int n_ext, void *buf,
                      size_t size, off_t off);
/* zisofs.c: the same for a file of USIZE bytes, stored as it is (ZISOFS 0), or
 * zisofs-compressed (1: version 1, decompressed; 2: version 2, -EIO) */
ssize_t dfs_disc_read_file(struct dfs_disc *d, const struct dfs_extent *ext, int n_ext, int zisofs,
                           uint64_t usize, void *buf, size_t size, off_t off);

/* ---- session.c ---- */

/* The tree of the next session is built node by node, parents first.  A
 * non-directory is either a node of the disc, moved into place (disc_node: a file's
 * data is not rewritten, it stays where it is), or made from a local object
 * (local_path: a file's staged content, or the stand-in of a hard-linked symlink
 * or special file), or new (symlinks and special files).  Names added from the same
 * local path, or that are disc nodes of one family, are one inode in the session.
 *
 * A file's disc node is never cloned: libisofs would write a clone's data again,
 * reading it from the disc that is being written (every name of an on-disc family
 * has a disc node of its own; a new name of an on-disc file is staged content).
 * Staged content of a single name whose size and MD5 a file of the loaded session
 * has is not written again: when the session is written, the name takes an
 * imported node with that file's extents, as an inode of its own (dedup.c). */
struct dfs_commit_node {
    const char *name;
    struct stat st;                 /* type and attributes to record */
    const char *link;               /* symlinks */
    void *disc_node;                /* a node of the disc for this name */
    const char *local_path;         /* staged content or a stand-in */
    int clone;                      /* symlinks, special files: a further name, a clone
                                     * of disc_node (which stays where it is) */
    const struct dfs_xattr *xattrs; /* all of them, ACLs included */
    size_t n_xattrs;
};

struct dfs_commit;

int dfs_commit_begin(struct dfs_disc *d, struct dfs_commit **out);
/* Set the root directory's attributes. */
int dfs_commit_root(struct dfs_commit *c, const struct stat *st, const struct dfs_xattr *x,
                    size_t n);
/* Add N under PARENT (NULL = root); *handle is the new directory for its children. */
int dfs_commit_add(struct dfs_commit *c, void *parent, const struct dfs_commit_node *n,
                   void **handle);
/* Write the session, activate it and import it again as a fresh mount would.
 * INTENT (may be NULL) is told where the session will start before anything is
 * written; its error cancels the write.  On failure nothing of the old sessions
 * is touched; -EBADE: a session was written, but the newest session a reader
 * finds is not it, or does not read back as written (its MD5 tag), so the data
 * staged for it must be written again: the view keeps its nodes, the disc stays
 * as it was loaded now (the next commit appends after everything). */
int dfs_commit_write(struct dfs_commit *c, int (*intent)(void *ctx, uint32_t start), void *ctx);
/* -EUCLEAN from dfs_commit_write(): libisofs 1.5.4 miscounts a continuation area
 * of the tree ("Calculated and written ECMA-119 tree end differ": it counts an
 * entry whose continuation area crosses a block boundary both padded to the next
 * block and split there).  The write rehearses the tree first and returns -EUCLEAN
 * before anything is written; a miscount found only while writing (the image end,
 * not the tree) returns it too, after the failed write.  Padding every directory with a private
 * attribute of another length (ATTEMPT 1, 2, ...) moves the continuation areas;
 * then the write may be tried again. */
int dfs_commit_pad(struct dfs_commit *c, int attempt);
/* How many layouts a commit tries (each is rehearsed before anything is written) */
#define DFS_PAD_ATTEMPTS 24
/* The phases of a commit as dfs_commit_write() goes through them (the caller
 * adds its own before and after), with bytes done of a total in each. */
enum dfs_phase {
    DFS_PHASE_IDLE,      /* no commit runs */
    DFS_PHASE_QUEUED,    /* asked for, waiting for the one before it */
    DFS_PHASE_BUILDING,  /* the tree of the session is described */
    DFS_PHASE_CHECKING,  /* the disc in the drive is the mounted one; the tree rehearsed */
    DFS_PHASE_WRITING,   /* bytes of the session written */
    DFS_PHASE_CLOSING,   /* the drive closes the track and session (and the disc) */
    DFS_PHASE_VERIFYING, /* the session read back with its MD5 */
};
typedef void (*dfs_progress_fn)(void *ctx, enum dfs_phase phase, uint64_t done, uint64_t total);
/* FN (NULL: none) is told each phase as it starts and its bytes as they go, from
 * the thread that calls dfs_commit_write(). */
void dfs_disc_set_progress(struct dfs_disc *d, dfs_progress_fn fn, void *ctx);
/* Free the builder (after write, or to give up before it). */
void dfs_commit_end(struct dfs_commit *c);

#endif

/* fs/discfs.h - the mount: options apart from state (STYLE.md 3)
 *
 * Table of contents of fs/:
 *   main.c    options, set-up and tear-down of a mount
 *   cli.c     checks of the command line and of the mount a command names
 *   cmd_*.c   the commands: commit, umount, discard, status (cmd_commit.c), sessions,
 *             verify, inspect, stages
 *   committer.c  the commit's own thread; control.h its channel
 *   log.c     syslog for a daemon in the background
 *   ops.c     FUSE low-level operations: thin glue over the view (only user of fuse_lowlevel.h)
 *   view.c    the merged tree (view.h)
 *   file.c    file data, copy-up
 *   commit.c  the view as a new session
 */
#ifndef DISCFS_FS_DISCFS_H
#define DISCFS_FS_DISCFS_H

#include <stdio.h>

#include "view.h"

struct dfs_options {
    char *device;
    char *mountpoint;  /* as given, then its real path (dfs_cli_check_mountpoint) */
    const char *extra; /* the first argument after MOUNTPOINT: a usage error */
    int nonempty;      /* -o nonempty: mount on a directory that is not empty */
    char *cache;       /* cache root */
    int debug;         /* -o debug: trace every op as op(args) = result */
    int foreground;
    int single_thread;
    int writeback;     /* kernel writeback cache */
    int journal_async; /* -o journal=async */
    int close;         /* -o close: every commit finalizes the disc */
    int session;       /* -o session=N: session N, read-only; 0 = the newest */
    char *snapdir;     /* -o snapdir=NAME: the sessions' directory (NULL: .sessions;
                        * "" or "none": none) */
    char *readahead;   /* -o readahead=KB (NULL: as the disc's device reads ahead) */
};

struct dfs_mount {
    struct dfs_options opt;
    struct dfs_disc *disc;
    struct dfs_store store;
    struct dfs_view *view;
    struct dfs_journal *journal;     /* until the view takes it over */
    struct dfs_committer *committer; /* committer.c */
    int discard;                     /* drop the stage at the end (discfs discard) */
    struct dfs_sessions *sessions;   /* sessions.c: MOUNTPOINT/.sessions */
    long readahead_kb;               /* readahead.c: to set at the first open; -1 when done or none
                                      * (a failure is said when -o readahead= asked for it) */
};

/* cli.c: the checks of the command line, before anything is opened.  Each prints
 * its one message and returns the exit status: 0 to go on, or one of these. */
enum { DFS_EXIT_FAILURE = 1, DFS_EXIT_USAGE = 2 };
/* DEVICE: a bare word that names nothing is an unknown command; under /dev only a
 * block or character device; not a directory; a missing file only as NAME.iso or
 * stdio:PATH (a new blank image) */
int dfs_cli_check_device(const char *device);
/* The same for a command that reads DEVICE (sessions, verify): it must exist */
int dfs_cli_check_existing_device(const char *device);
/* How such a command opens the disc: to write (may close a damaged track), read-only
 * with the newest tree (dfs_disc_open_readonly), or its table of contents only
 * (dfs_disc_probe: an image file a mount holds can be read) */
enum dfs_cli_open { DFS_CLI_WRITE, DFS_CLI_READONLY, DFS_CLI_TOC };
/* For such a command: DEVICE checked, the libraries set up and the disc opened as
 * HOW says; 0 and *OUT, or the exit status after one message.  dfs_cli_close_disc()
 * undoes it. */
int dfs_cli_open_disc(const char *device, enum dfs_cli_open how, struct dfs_disc **out);
void dfs_cli_close_disc(struct dfs_disc *disc);
/* Call EACH with the device number ("MAJ:MIN"), mount point, type and source of
 * every mount, in the order of /proc/self/mountinfo (escapes undone), until it
 * returns nonzero; that value, or 0 */
int dfs_scan_mounts(int (*each)(const char *dev, const char *mnt, const char *type,
                                const char *source, void *arg),
                    void *arg);
/* fuse.discfs or fuseblk.discfs */
int dfs_is_discfs_type(const char *type);
/* the message for a mount whose daemon is gone */
void dfs_cli_say_daemon_gone(const char *arg);
/* ARG: an empty directory (or, with NONEMPTY, any directory) that is not a mount
 * point; its real path in *OUT (to free) */
int dfs_cli_check_mountpoint(const char *arg, int nonempty, char **out);
/* ARG names the mount point of a discfs mount whose daemon runs: its absolute path
 * (to free), or NULL after one message */
char *dfs_cli_find_mount(const char *arg);
/* fusermount3 -u MOUNTPOINT: 0, or -1 with what fusermount3 said in MSG */
int dfs_cli_fusermount_u(const char *mountpoint, char *msg, size_t size);
/* S as a name on a line of its own: UTF-8 as it is; control characters, bytes that
 * are no UTF-8 and '\\' as \\ooo (ls -b) */
void dfs_print_name(FILE *out, const char *s);
/* "1.5 MiB" of BYTES in BUF; "?" if negative */
const char *dfs_size_str(int64_t bytes, char buf[32]);
/* cmd_commit.c: discfs commit|umount|status MOUNTPOINT (argv[1] the command) */
int dfs_cmd_commit(int argc, char *argv[]);
/* cmd_sessions.c: discfs sessions DEVICE */
int dfs_cmd_sessions(int argc, char *argv[]);
/* cmd_verify.c: discfs verify DEVICE */
int dfs_cmd_verify(int argc, char *argv[]);
/* cmd_inspect.c: discfs inspect DEVICE */
int dfs_cmd_inspect(int argc, char *argv[]);
/* cmd_stages.c: discfs stages [--cache DIR] [--remove KEY | --remove-unclaimable] [--yes] */
int dfs_cmd_stages(int argc, char *argv[]);

/* log.c: from now on, what is written to stderr goes to syslog (a daemon in the
 * background); 0 or -1 */
int dfs_log_to_syslog(void);

/* readahead.c: the readahead of the block device that holds PATH (an image file) or
 * is PATH (a drive), in KiB; -1 when there is none (tmpfs, a network filesystem) */
long dfs_readahead_of(const char *path);
/* The kernel's readahead of the mount set to M->readahead_kb, once: called at every
 * open, as only after FUSE's INIT (which cuts it to 128 KiB) it stays.  A failure
 * is said when -o readahead= asked for it (only root can set it). */
void dfs_readahead_apply(struct dfs_mount *m);

/* sessions.c: MOUNTPOINT/.sessions (-o snapdir=NAME), every session of the disc
 * read-only.  A node id of the kernel names a view and an id in it: session N's
 * ids are N << 48 | id. */
#define DFS_SNAP_SHIFT 48
#define DFS_SNAPDIR_DEFAULT ".sessions"                          /* -o snapdir= */
#define DFS_SESSIONS_ID (UINT64_C(0xffff) << DFS_SNAP_SHIFT | 1) /* .sessions itself */
struct dfs_node {
    struct dfs_view *view; /* the mount's (snap 0), or session SNAP's */
    uint64_t id;           /* in that view */
    unsigned snap;
};
/* m->sessions, NULL with -o snapdir=none; with the view open (its root's own entry
 * of the name is said once) */
int dfs_sessions_init(struct dfs_mount *m);
void dfs_sessions_fini(struct dfs_mount *m);
/* The view and id of the kernel's node id INO: 0; 1 for .sessions itself (no view);
 * -ESTALE */
int dfs_sessions_route(struct dfs_mount *m, uint64_t ino, struct dfs_node *n);
/* ST, from session SNAP's view (node id in st_dev), as the kernel sees it */
void dfs_sessions_out(unsigned snap, struct stat *st);
/* NAME in the root, which the tree has not: .sessions itself, or -ENOENT */
int dfs_sessions_lookup_root(struct dfs_mount *m, const char *name, struct stat *st);
/* A change was refused in the sessions' directory itself: said once, naming the
 * option that frees the name for an entry of the tree */
void dfs_sessions_refused(struct dfs_mount *m);
/* Is NAME in DIR .sessions itself (in the root, where the tree has no entry of that
 * name)?  It is not removed, moved or replaced: changes fail with EROFS there. */
int dfs_sessions_named(struct dfs_mount *m, uint64_t dir, const char *name);
/* .sessions itself: its attributes, a session in it, its entries */
int dfs_sessions_getattr(struct dfs_mount *m, struct stat *st);
int dfs_sessions_lookup(struct dfs_mount *m, const char *name, struct stat *st);
/* The kernel holds nothing of session SNAP's view any more: it goes (closed a
 * little later, by a thread of its own), until the next lookup imports it again */
void dfs_sessions_forgot(struct dfs_mount *m, unsigned snap);
/* how many sessions are imported now (discfs status) */
int dfs_sessions_in_memory(struct dfs_mount *m);
int dfs_sessions_readdir(struct dfs_mount *m, off_t off, dfs_fill_fn fill, void *ctx);

/* ops.c: the requests' handlers, for serve.c */
struct fuse_lowlevel_ops;
const struct fuse_lowlevel_ops *dfs_fuse_ops(void);
/* serve.c: is ARG (one -o option, or an option such as -r) one that FUSE takes?
 * Asked of libfuse itself, with its messages silenced. */
int dfs_fuse_option_known(const char *arg);
/* serve.c: mount MOUNTPOINT with the FUSE arguments in ARGS and serve until unmounted.
 * Returns 0, or -errno when the mount could not be set up. */
struct fuse_args;
int dfs_fuse_serve(struct dfs_mount *m, struct fuse_args *args);

#endif

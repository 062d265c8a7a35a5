/* fs/discfs.h - the mount: options apart from state (STYLE.md 3)
 *
 * Table of contents of fs/:
 *   main.c    command line, set-up and tear-down of a mount, `discfs commit`
 *   ops.c     FUSE low-level operations: thin glue over the view (only user of fuse_lowlevel.h)
 *   view.c    the merged tree (view.h)
 *   file.c    file data, copy-up
 *   commit.c  the view as a new session
 */
#ifndef DISCFS_FS_DISCFS_H
#define DISCFS_FS_DISCFS_H

#include "view.h"

struct dfs_options {
    char *device;
    char *mountpoint;
    char *cache; /* cache root */
    int debug;   /* -o debug: trace every op as op(args) = result */
    int foreground;
    int single_thread;
    int writeback;     /* kernel writeback cache */
    int journal_async; /* -o journal=async */
    int close;         /* -o close: every commit finalizes the disc */
};

struct dfs_mount {
    struct dfs_options opt;
    struct dfs_disc *disc;
    struct dfs_store store;
    struct dfs_view *view;
    struct dfs_journal *journal; /* until the view takes it over */
    int commit_failed;           /* the last commit's error, reported at exit */
};

/* ops.c: mount MOUNTPOINT with the FUSE arguments in ARGS and serve until unmounted.
 * Returns 0, or -errno when the mount could not be set up. */
struct fuse_args;
int dfs_fuse_serve(struct dfs_mount *m, struct fuse_args *args);

#endif

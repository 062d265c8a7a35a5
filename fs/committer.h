/* fs/committer.h - the commit on its own thread (committer.c) */
#ifndef DISCFS_FS_COMMITTER_H
#define DISCFS_FS_COMMITTER_H

#include <stdint.h>

#include "control.h"

struct dfs_mount;

/* Start the thread (after the daemon forked to the background): 0 or -errno;
 * without it, dfs_committer_wait() commits in its caller. */
int dfs_committer_start(struct dfs_mount *m);
/* End the thread once the commits asked for are done. */
void dfs_committer_stop(struct dfs_mount *m);
/* Is the thread there to serve requests nobody waits for? */
int dfs_committer_running(struct dfs_mount *m);
/* Ask for a commit of every change made so far (CLOSE: it closes the disc); the
 * ticket to wait for. */
uint64_t dfs_committer_request(struct dfs_mount *m, int close);
/* Wait for the commit that serves TICKET: 0 written, 1 nothing to commit,
 * -errno (the changes stay staged; the commit said why on stderr). */
int dfs_committer_wait(struct dfs_mount *m, uint64_t ticket);
/* Request and wait */
int dfs_committer_commit(struct dfs_mount *m, int close);
/* DISCARD: the stage is dropped when the mount ends, and commits that start from
 * now on fail (-ECANCELED), until it is 0 again.  -EBUSY (nothing set) while a
 * commit runs or is asked for. */
int dfs_committer_set_discard(struct dfs_mount *m, int discard);
/* What `discfs status` shows; without FULL only the commit's part (DFS_IOC_PROGRESS) */
void dfs_committer_status(struct dfs_mount *m, struct dfs_ctl_status *st, int full);

#endif

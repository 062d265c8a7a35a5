/* fs/control.h - the control channel of a mount: ioctls on its root directory.
 *
 * `discfs commit|status|umount MOUNTPOINT` open the mount point and ask the daemon
 * through these (README.md, Commands).  An ioctl reaches the daemon as a FUSE
 * request with the caller's uid: only the user who mounted and root are served
 * (EPERM otherwise).  Unlike `sync MOUNTPOINT` (an fsync of the root, during which
 * the kernel holds the root directory's lock), an ioctl holds no lock: a commit
 * asked for this way leaves lookups in the root free while it runs.
 *
 * The structures are the ABI between the command and the daemon of one build;
 * `version` guards against a daemon of another build.
 */
#ifndef DISCFS_FS_CONTROL_H
#define DISCFS_FS_CONTROL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#define DFS_CTL_VERSION 3
#define DFS_CTL_RECENT 8

/* DFS_IOC_COMMIT: ask for a commit; the daemon answers at once with the ticket
 * of the commit that will hold every change made so far (status.done >= ticket:
 * it ended, with status.last_result if status.last_ticket >= ticket). */
enum { DFS_CTL_CLOSE = 1 }; /* this commit closes (finalizes) the disc */
struct dfs_ctl_commit {
    uint32_t version;
    uint32_t flags;
    uint64_t ticket; /* out */
};

struct dfs_ctl_status {
    uint32_t version;
    int32_t pid; /* of the daemon */
    /* the commit that runs (phase != DFS_PHASE_IDLE) and the last one that ended */
    int32_t phase;          /* enum dfs_phase (burn/disc.h) */
    uint32_t phases_seen;   /* 1 << phase of each phase the commit went through */
    uint64_t requested;     /* the last ticket handed out */
    uint64_t done;          /* every ticket up to this one is served */
    uint64_t serving;       /* the highest ticket the commit that runs (or ran last)
                             * serves: phases_seen and progress are of it */
    struct dfs_ctl_result { /* the last commits that ended, newest first */
        uint64_t ticket;    /* the highest ticket it served (0: none) */
        int32_t result;     /* 0 written, 1 nothing to commit, -errno failed */
        int32_t reserved;
    } recent[DFS_CTL_RECENT];
    uint64_t phase_done; /* bytes of this phase done, of phase_total (0: unknown) */
    uint64_t phase_total;
    int64_t started_ms;    /* the commit that runs began (CLOCK_MONOTONIC, ms) */
    int64_t phase_ms;      /* this phase began */
    int64_t last_ended;    /* the last commit ended (time(2)), 0: none yet */
    int64_t last_written;  /* the last one that wrote a session ended */
    uint64_t last_blocks;  /* blocks the last written session took */
    int32_t last_session;  /* its number */
    int32_t commits;       /* sessions written by this mount */
    char last_error[1024]; /* why the last commit failed, or "" */
    /* the disc, as it was when no commit ran last */
    char device[512];
    char profile[80];
    char volid[36];
    int32_t sessions;
    int32_t state;         /* enum dfs_media_state */
    int32_t readonly;      /* the mount is read-only (closed disc, -o session=N) */
    int32_t shown_session; /* -o session=N: N, else 0 */
    uint64_t capacity_blocks;
    uint64_t free_blocks; /* of the disc, before the next session */
    /* the changes staged for the next session (pending_known 0: not counted,
     * because a commit was running) */
    int32_t dirty;
    int32_t pending_known;
    uint64_t added, changed, removed; /* names */
    uint64_t staged_bytes;            /* file content staged */
    uint64_t next_blocks;             /* the next session at most (the space model) */
    uint64_t stage_disk_bytes;        /* what the stage takes in the cache */
    char stage_dir[1024];
    char snapdir[256];          /* the directory of the mount point that shows the sessions
                                 * (-o snapdir=NAME), "" with -o snapdir=none */
    int32_t sessions_in_memory; /* sessions under it imported now (sessions.c) */
    int32_t reserved2;
};

/* The result of the commit that served TICKET (done >= TICKET): the first one
 * that served it, unless that failed and a later one wrote everything (0). */
static inline int dfs_ctl_result(const struct dfs_ctl_result *recent, uint64_t ticket)
{
    int i, result;

    for (i = DFS_CTL_RECENT - 1; i >= 0 && recent[i].ticket < ticket; i--)
        ;
    if (i < 0)
        return recent[0].result;
    result = recent[i].result;
    for (; i >= 0 && result < 0; i--)
        if (recent[i].result == 0)
            result = 0;
    return result;
}

/* Ask the daemon behind FD (its mount point, opened) for CMD (DFS_IOC_STATUS, or
 * DFS_IOC_PROGRESS: the commit's part only) into ST: 0, or the errno of the ioctl
 * (EPROTO: the daemon is of another version).  Says nothing. */
static inline int dfs_ctl_ask_status(int fd, unsigned long cmd, struct dfs_ctl_status *st)
{
    memset(st, 0, sizeof(*st));
    st->version = DFS_CTL_VERSION;
    if (ioctl(fd, cmd, st) < 0)
        return errno;
    return st->version == DFS_CTL_VERSION ? 0 : EPROTO;
}

/* DFS_IOC_DISCARD: DISCARD 1: when the mount ends (the caller unmounts it next),
 * the daemon drops the stage instead of committing it, and commits asked for
 * meanwhile fail (-ECANCELED); 0: not any more (the unmount failed). */
struct dfs_ctl_discard {
    uint32_t version;
    int32_t discard;
};

#define DFS_IOC_COMMIT _IOWR('D', 0x71, struct dfs_ctl_commit)
#define DFS_IOC_STATUS _IOR('D', 0x72, struct dfs_ctl_status)
#define DFS_IOC_DISCARD _IOW('D', 0x73, struct dfs_ctl_discard)
/* the commit's part of the status only (what `discfs commit` polls): no walk of
 * the disc for the pending changes, no count of the stage's disk use */
#define DFS_IOC_PROGRESS _IOR('D', 0x74, struct dfs_ctl_status)

#endif

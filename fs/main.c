/* fs/main.c - `discfs DEVICE MOUNTPOINT [-o options]`: options, set-up and tear-down of a
 * mount (the checks of the command line are in cli.c, the commands in cmd_*.c) */
#define _GNU_SOURCE
#include <fuse_opt.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "committer.h"
#include "discfs.h"
#include "journal.h"

enum { KEY_HELP, KEY_VERSION, KEY_FOREGROUND, KEY_DEBUG_FUSE, KEY_SINGLE };

#define OPT(t, p)                                                                                  \
    {                                                                                              \
        t, offsetof(struct dfs_options, p), 1                                                      \
    }
static const struct fuse_opt dfs_opts[] = {
    {"cache=%s", offsetof(struct dfs_options, cache), 0},
    OPT("debug", debug),
    OPT("writeback", writeback),
    {"journal=async", offsetof(struct dfs_options, journal_async), 1},
    {"journal=sync", offsetof(struct dfs_options, journal_async), 0},
    OPT("close", close),
    {"session=%d", offsetof(struct dfs_options, session), 0},
    {"snapdir=%s", offsetof(struct dfs_options, snapdir), 0},
    {"readahead=%s", offsetof(struct dfs_options, readahead), 0},
    OPT("nonempty", nonempty), /* ours: FUSE 3 refuses it */
    {"nowriteback", offsetof(struct dfs_options, writeback), 0},
    /* mount(8) hands the helper (mount -t fuse.discfs, fstab) the mount's generic
     * options; libfuse knows ro, rw, [no]suid, [no]dev, [no]exec, sync, async, dirsync,
     * [no]atime but not these, which it could not give the kernel: accepted and ignored
     * (nosymfollow, which discfs cannot honour, stays refused) */
    FUSE_OPT_KEY("relatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("norelatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("strictatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nostrictatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("diratime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nodiratime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("lazytime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nolazytime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("iversion", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("noiversion", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("mand", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nomand", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("silent", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("loud", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION),
    FUSE_OPT_KEY("-f", KEY_FOREGROUND),
    FUSE_OPT_KEY("-d", KEY_DEBUG_FUSE),
    FUSE_OPT_KEY("-s", KEY_SINGLE),
    FUSE_OPT_END,
};

static void usage(FILE *out)
{
    char *root = dfs_store_default_root();

    fprintf(out,
            "usage: discfs DEVICE MOUNTPOINT [-f] [-d] [-s] [-o option[,option...]]\n"
            "       discfs commit MOUNTPOINT [--close]  (write the changes as a session)\n"
            "       discfs status MOUNTPOINT [--json]   (the disc, pending changes, commits)\n"
            "       discfs umount MOUNTPOINT    (commit, then unmount if that worked)\n"
            "       discfs discard MOUNTPOINT [--yes]  (unmount, dropping the staged changes)\n"
            "       discfs sessions DEVICE      (list the sessions; -o session=N mounts one)\n"
            "       discfs verify DEVICE        (every session and file against its MD5)\n"
            "       discfs inspect DEVICE [--tree]  (the staged changes, without mounting)\n"
            "       discfs stages [--cache DIR] [--remove KEY | --remove-unclaimable]\n"
            "                                   (list the stages in the cache, remove stale\n"
            "                                   ones; see discfs stages --help)\n"
            "\n"
            "DEVICE is an ISO image file (stdio:PATH also names one) or a drive (/dev/srN,\n"
            "mmc:PATH).  A missing image file is created as a blank disc only if its name\n"
            "ends in .iso or it is written stdio:PATH; an empty file is a blank disc too.\n"
            "Under /dev only a drive (a block or character device) is taken.  The commands\n"
            "are commit, status, umount, discard, sessions, verify, inspect and stages (each\n"
            "with --help): a first argument that is a bare word (no '/', no '.', no stdio: or\n"
            "mmc:) and names no file is an unknown command.\n"
            "MOUNTPOINT must be an empty directory that is not a mount point already.\n"
            "\n"
            "Changes are staged in a local cache and written as one new session on\n"
            "unmount, on `discfs commit MOUNTPOINT` and on `sync MOUNTPOINT`.  In the\n"
            "background the daemon logs to syslog (journalctl -t discfs).\n"
            "\n"
            "options:\n"
            "    -o cache=DIR       where staged changes live (default %s)\n"
            "    -o debug           trace every operation on stderr\n"
            "    -o writeback       let the kernel cache writes (default off)\n"
            "    -o journal=sync    sync every staged change before it returns: a power\n"
            "                       cut loses nothing acknowledged, at several times the\n"
            "                       cost per small file (default journal=async: changes are\n"
            "                       written at once, so kill -9 loses nothing, and synced\n"
            "                       within a second and on fsync and sync MOUNTPOINT)\n"
            "    -o session=N       show session N (1 is the oldest) read-only, as it was\n"
            "                       written; the disc's staged changes are not touched\n"
            "    -o snapdir=NAME    show every session read-only as MOUNTPOINT/NAME/N\n"
            "                       (default .sessions; snapdir=none: not at all)\n"
            "    -o readahead=KB    how far the kernel reads ahead in files (default: as\n"
            "                       far as the device of the image or drive; root only)\n"
            "    -o close           a commit closes (finalizes) the disc: no later\n"
            "                       session, the mount turns read-only (default off;\n"
            "                       no effect on image files, DVD+RW and BD-RE)\n"
            "    -o nonempty        mount on a directory that is not empty (hiding its files)\n"
            "    -f                 stay in the foreground\n"
            "    -d                 FUSE debug output (implies -f)\n"
            "    -s                 single-threaded\n"
            "    -o allow_other, -o ro and the other FUSE mount options\n"
            "\n"
            "exit status: 0 success, 1 failure (also: a DEVICE or MOUNTPOINT that cannot be\n"
            "used, a path that is not a discfs mount), 2 usage error (an unknown command or\n"
            "option, a missing or extra argument)\n",
            root ? root : "~/.cache/discfs");
    free(root);
}

/* -o session=N: session N of the disc, read-only, without a stage (the stage of the
 * disc, if any, belongs to its newest session and is not touched).  0 or an exit
 * status (said). */
static int mount_older_session(struct dfs_mount *m)
{
    const struct dfs_disc_info *info = dfs_disc_get_info(m->disc);
    int err;

    if (m->opt.session < 1 || m->opt.session > info->sessions) {
        fprintf(stderr, "discfs: '%s' has %d session%s: -o session=N takes 1 to %d\n",
                m->opt.device, info->sessions, info->sessions == 1 ? "" : "s", info->sessions);
        return info->sessions ? DFS_EXIT_USAGE : DFS_EXIT_FAILURE;
    }
    err = dfs_disc_load_session(m->disc, m->opt.session);
    if (err) {
        const char *msg = dfs_disc_last_error(m->disc);
        fprintf(stderr, "discfs: cannot mount session %d of '%s': %s\n", m->opt.session,
                m->opt.device, msg[0] ? msg : strerror(-err));
        return DFS_EXIT_FAILURE;
    }
    err = dfs_view_open(&m->view, m->disc, NULL);
    if (err) {
        fprintf(stderr, "discfs: cannot build the view of session %d of '%s': %s\n", m->opt.session,
                m->opt.device, strerror(-err));
        return DFS_EXIT_FAILURE;
    }
    m->view->readonly = 1;
    return 0;
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    struct dfs_options *o = data;

    (void)outargs;
    switch (key) {
    case FUSE_OPT_KEY_NONOPT:
        if (!o->device) {
            o->device = strdup(arg);
            return 0;
        }
        if (!o->mountpoint) {
            o->mountpoint = strdup(arg); /* checked after DEVICE (main) */
            return 0;
        }
        if (!o->extra)
            o->extra = arg; /* reported after DEVICE: it may be an unknown command */
        return 0;
    case KEY_HELP:
        usage(stdout);
        exit(0);
    case KEY_VERSION:
        printf("discfs %s\n", DISCFS_VERSION);
        exit(0);
    case KEY_FOREGROUND:
        o->foreground = 1;
        return 0;
    case KEY_DEBUG_FUSE:
        o->foreground = 1;
        return 1; /* FUSE's own -d */
    case KEY_SINGLE:
        o->single_thread = 1;
        return 0;
    default: /* FUSE's: refused here, before anything is opened, if FUSE does not know it */
        if (key == FUSE_OPT_KEY_OPT && !dfs_fuse_option_known(arg)) {
            fprintf(stderr, "discfs: unknown option '%s%s'; see discfs --help\n",
                    arg[0] == '-' ? "" : "-o ", arg);
            return -1;
        }
        return 1;
    }
}

static int add_opt(struct fuse_args *args, const char *fmt, const char *val)
{
    char *s;
    int ret;

    if (asprintf(&s, fmt, val) < 0)
        return -1;
    ret = fuse_opt_add_arg(args, s);
    free(s);
    return ret;
}

/* fsname is shown by mount and df: escape the separators of -o */
static char *escape_fsname(const char *s)
{
    char *out = malloc(2 * strlen(s) + 1), *p = out;

    if (!out)
        return NULL;
    for (; *s; s++) {
        if (*s == ',' || *s == '\\')
            *p++ = '\\';
        *p++ = *s;
    }
    *p = '\0';
    return out;
}

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct dfs_mount m;
    const struct dfs_disc_info *info;
    char *fsname = NULL, *mountpoint, *discard = NULL;
    long replayed;
    int err, status;

    if (argc >= 2 && (strcmp(argv[1], "commit") == 0 || strcmp(argv[1], "umount") == 0 ||
                      strcmp(argv[1], "status") == 0 || strcmp(argv[1], "discard") == 0))
        return dfs_cmd_commit(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "sessions") == 0)
        return dfs_cmd_sessions(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return dfs_cmd_verify(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "inspect") == 0)
        return dfs_cmd_inspect(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "stages") == 0)
        return dfs_cmd_stages(argc, argv);
    memset(&m, 0, sizeof(m));
    m.store.data_fd = -1;
    m.opt.journal_async = 1; /* durable like a local filesystem (DESIGN.md) */
    if (fuse_opt_parse(&args, &m.opt, dfs_opts, opt_proc) != 0) {
        status = DFS_EXIT_USAGE;
        goto out_args;
    }
    if (!m.opt.device) {
        usage(stderr);
        status = DFS_EXIT_USAGE;
        goto out_args;
    }
    status = dfs_cli_check_device(m.opt.device);
    if (status)
        goto out_args;
    status = DFS_EXIT_USAGE;
    if (!m.opt.mountpoint) {
        fprintf(stderr, "discfs: no MOUNTPOINT after '%s'; see discfs --help\n", m.opt.device);
        goto out_args;
    }
    if (m.opt.extra) {
        fprintf(stderr, "discfs: unexpected argument '%s'; see discfs --help\n", m.opt.extra);
        goto out_args;
    }
    if (m.opt.snapdir && (strchr(m.opt.snapdir, '/') || strcmp(m.opt.snapdir, ".") == 0 ||
                          strcmp(m.opt.snapdir, "..") == 0 || strlen(m.opt.snapdir) > 255)) {
        fprintf(stderr,
                "discfs: -o snapdir='%s' cannot name a directory in the mount point: give a "
                "name without '/' (not '.' or '..', at most 255 bytes), or none; see discfs "
                "--help\n",
                m.opt.snapdir);
        goto out_args;
    }
    m.readahead_kb = -1;
    if (m.opt.readahead) {
        char *end;
        errno = 0;
        m.readahead_kb = strtol(m.opt.readahead, &end, 10);
        if (errno || end == m.opt.readahead || *end || m.readahead_kb > 1048576 ||
            !isdigit((unsigned char)m.opt.readahead[0])) {
            fprintf(stderr,
                    "discfs: -o readahead='%s' is not a size in KiB from 0 to 1048576; see "
                    "discfs --help\n",
                    m.opt.readahead);
            goto out_args;
        }
    }
    mountpoint = m.opt.mountpoint;
    status = dfs_cli_check_mountpoint(mountpoint, m.opt.nonempty, &m.opt.mountpoint);
    free(mountpoint);
    if (status)
        goto out_args;
    status = DFS_EXIT_FAILURE;
    if (m.opt.cache) {
        char *abs;
        if (mkdir(m.opt.cache, 0700) < 0 && errno != EEXIST) {
            fprintf(stderr, "discfs: cannot create the cache '%s': %s\n", m.opt.cache,
                    strerror(errno));
            goto out_args;
        }
        abs = realpath(m.opt.cache, NULL);
        if (!abs) {
            fprintf(stderr, "discfs: cannot use the cache '%s': %s\n", m.opt.cache,
                    strerror(errno));
            goto out_args;
        }
        free(m.opt.cache);
        m.opt.cache = abs;
    } else {
        m.opt.cache = dfs_store_default_root();
        if (!m.opt.cache)
            goto out_args;
    }
    if (dfs_libs_init() != 0)
        goto out_args;
    err = dfs_disc_open(m.opt.device, &m.disc);
    if (err) {
        /* burn/ printed what it put in last_error: said once */
        if (!dfs_disc_last_error(m.disc)[0])
            fprintf(stderr, "discfs: cannot mount '%s': %s\n", m.opt.device, strerror(-err));
        goto out_disc;
    }
    info = dfs_disc_get_info(m.disc);
    dfs_disc_set_close(m.disc, m.opt.close);
    if (!m.opt.readahead) {
        /* as far as the device of the disc's data, if more than FUSE's 128 KiB */
        const char *path = dfs_disc_image_path(m.disc);
        long kb;
        if (!path)
            path = strncmp(m.opt.device, "mmc:", 4) == 0 ? m.opt.device + 4 : m.opt.device;
        kb = dfs_readahead_of(path);
        m.readahead_kb = kb > 128 ? kb : -1;
    }
    if (m.opt.session) {
        status = mount_older_session(&m);
        if (status)
            goto out_disc;
        status = DFS_EXIT_FAILURE;
        goto serve;
    }
    if (dfs_find_stage(m.disc, m.opt.cache) != 0)
        goto out_disc;
    err = dfs_store_open(&m.store, m.opt.cache, info->stage_key);
    if (err) {
        fprintf(stderr, "discfs: cannot open the stage in '%s': %s\n", m.opt.cache, strerror(-err));
        goto out_disc;
    }
    err = dfs_journal_open(&m.journal, m.store.dir, info->stage_key, NULL);
    if (err) {
        fprintf(stderr, "discfs: cannot mount '%s': %s\n", m.opt.device,
                dfs_journal_error(m.journal)[0] ? dfs_journal_error(m.journal) : strerror(-err));
        goto out_store;
    }
    dfs_stage_note_origin(m.disc, m.store.dir, m.opt.device, NULL);
    err = dfs_view_open(&m.view, m.disc, &m.store);
    if (err) {
        fprintf(stderr, "discfs: cannot build the view of '%s': %s\n", m.opt.device,
                strerror(-err));
        goto out_store;
    }
    replayed = dfs_view_replay(m.view, m.journal);
    m.journal = NULL; /* the view owns it now */
    if (replayed < 0) {
        fprintf(stderr,
                "discfs: cannot mount '%s': the pending changes in '%s' do not apply to it "
                "(%s); they are kept there untouched\n",
                m.opt.device, m.store.dir, strerror((int)-replayed));
        goto out_view;
    }
    if (replayed > 0)
        fprintf(stderr,
                "discfs: %ld pending changes of an earlier mount were found in '%s' "
                "and are back in the mount; they are written at the next commit\n",
                replayed, m.store.dir);
    if (info->state == DFS_MEDIA_CLOSED)
        fprintf(stderr,
                "discfs: '%s' is closed (finalized or full): no session can be appended, so "
                "it is mounted read-only\n",
                m.opt.device);
serve:
    fsname = escape_fsname(m.opt.device);
    if (!fsname || add_opt(&args, "-ofsname=%s", fsname) ||
        add_opt(&args, "-o%s", "subtype=discfs") || add_opt(&args, "-o%s", "default_permissions") ||
        ((info->state == DFS_MEDIA_CLOSED || m.opt.session) && add_opt(&args, "-o%s", "ro"))) {
        fprintf(stderr, "discfs: out of memory\n");
        goto out_view;
    }
    if (dfs_sessions_init(&m) != 0) {
        fprintf(stderr, "discfs: out of memory\n");
        goto out_view;
    }
    err = dfs_fuse_serve(&m, &args);
    if (err)
        goto out_view;
    /* unmounted: the last commit (DESIGN.md: a commit trigger); the committer
     * told what went wrong.  After discfs discard: no commit, the stage goes */
    if (m.discard) {
        dfs_committer_stop(&m); /* no commit replaces the stage any more */
        discard = m.store.dir ? strdup(m.store.dir) : NULL; /* -o session=N has none */
        status = m.store.dir && !discard ? DFS_EXIT_FAILURE : 0;
        goto out_view;
    }
    if (dfs_committer_commit(&m, 0) < 0)
        goto out_view;
    status = 0;
out_view:
    dfs_committer_stop(&m);
    if (m.view) {
        dfs_view_stop_flusher(m.view);
        dfs_journal_close(m.view->journal);
    }
    dfs_view_close(m.view);
out_store:
    dfs_journal_close(m.journal);
    dfs_store_close(&m.store);
    if (discard) {
        err = dfs_store_destroy(discard);
        if (err) {
            fprintf(stderr,
                    "discfs: cannot remove the discarded stage '%s': %s; remove it by hand\n",
                    discard, strerror(-err));
            status = DFS_EXIT_FAILURE;
        } else {
            fprintf(stderr, "discfs: the changes staged for '%s' were discarded\n", m.opt.device);
        }
        free(discard);
    }
out_disc:
    dfs_sessions_fini(&m); /* the sessions' discs before theirs */
    dfs_disc_close(m.disc);
    dfs_libs_finish();
out_args:
    fuse_opt_free_args(&args);
    free(fsname);
    free(m.opt.device);
    free(m.opt.mountpoint);
    free(m.opt.cache);
    free(m.opt.snapdir);
    free(m.opt.readahead);
    return status;
}

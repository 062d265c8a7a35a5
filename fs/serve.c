/* fs/serve.c - the FUSE session of a mount: set up, mounted, served by the worker
 * threads, unmounted (the requests themselves are ops.c's).  With ops.c the only
 * file that includes fuse_lowlevel.h (STYLE.md 1: the glue is these two). */
#define _GNU_SOURCE
#include <fuse_lowlevel.h>

#include <errno.h>
#include <stdio.h>

#include "committer.h"
#include "discfs.h"

static void quiet_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
    (void)level;
    (void)fmt;
    (void)ap;
}

int dfs_fuse_option_known(const char *arg)
{
    char *argv[] = {"discfs", "-o", (char *)arg, NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, argv);
    struct fuse_session *se;

    if (arg[0] == '-') { /* such as -r */
        argv[1] = (char *)arg;
        argv[2] = NULL;
        args.argc = 2;
    }
    /* nothing is opened before fuse_session_mount(): this only parses ARG */
    fuse_set_log_func(quiet_log);
    se = fuse_session_new(&args, dfs_fuse_ops(), sizeof(struct fuse_lowlevel_ops), NULL);
    fuse_set_log_func(NULL);
    if (se)
        fuse_session_destroy(se);
    fuse_opt_free_args(&args);
    return se != NULL;
}

int dfs_fuse_serve(struct dfs_mount *m, struct fuse_args *args)
{
    struct fuse_session *se;
    struct fuse_loop_config *cfg;
    int ret;

    se = fuse_session_new(args, dfs_fuse_ops(), sizeof(struct fuse_lowlevel_ops), m);
    if (!se)
        return -EINVAL;
    if (fuse_set_signal_handlers(se) != 0) {
        ret = -EIO;
        goto out_destroy;
    }
    if (fuse_session_mount(se, m->opt.mountpoint) != 0) {
        fprintf(stderr, "discfs: cannot mount on '%s'\n", m->opt.mountpoint);
        ret = -EIO;
        goto out_signals;
    }
    fuse_daemonize(m->opt.foreground);
    if (!m->opt.foreground && dfs_log_to_syslog() != 0)
        fprintf(stderr, "discfs: cannot log to syslog\n");
    /* after the fork: threads do not survive it.  The journal's sync thread of a
     * mount with a stage (journal=async), then the commit thread */
    if (m->opt.journal_async && m->view->journal && dfs_view_start_flusher(m->view) != 0) {
        fprintf(stderr, "discfs: cannot start the journal's sync thread; unmounting '%s'\n",
                m->opt.mountpoint);
        ret = -EIO;
        goto out_unmount;
    }
    if (dfs_committer_start(m) != 0)
        fprintf(stderr, "discfs: cannot start the commit thread: commits run in the request "
                        "that asks for them\n");
    if (m->opt.single_thread) {
        ret = fuse_session_loop(se);
    } else {
        cfg = fuse_loop_cfg_create();
        fuse_loop_cfg_set_clone_fd(cfg, 0);
        /* a change made while a session is written waits in its worker until the
         * commit is done (view.h): with few workers, a handful of waiting
         * changes left none for lookups and reads.  Workers are started only when
         * all are busy, and idle ones end (libfuse keeps 10). */
        fuse_loop_cfg_set_max_threads(cfg, 1024);
        ret = fuse_session_loop_mt(se, cfg);
        fuse_loop_cfg_destroy(cfg);
    }
    /* The unmount aborts the connection: a worker that takes a request from the
     * kernel's queue just then (a RELEASE sent in the background as a file closed)
     * reads ECONNABORTED, not ENODEV (fs/fuse/dev.c), and libfuse ends the loop with
     * it, after saying "reading device".  The mount has ended as at any unmount:
     * its last commit follows (tests/mount/unmount-aborted.sh). */
    if (ret == -ECONNABORTED)
        ret = 0;
    ret = ret < 0 ? ret : 0;
out_unmount:
    fuse_session_unmount(se);
out_signals:
    fuse_remove_signal_handlers(se);
out_destroy:
    fuse_session_destroy(se);
    return ret;
}

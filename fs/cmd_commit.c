/* fs/cmd_commit.c - `discfs commit MOUNTPOINT [--close]`, `discfs umount MOUNTPOINT`,
 * `discfs discard MOUNTPOINT [--yes]` and `discfs status MOUNTPOINT [--json]`:
 * commands that ask the daemon of a mount through its control channel (control.h)
 * and show what it says. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "discfs.h"

enum { CMD_COMMIT, CMD_UMOUNT, CMD_STATUS, CMD_DISCARD };

static const char *const phase_names[] = {
    [DFS_PHASE_IDLE] = "idle",
    [DFS_PHASE_QUEUED] = "waiting",
    [DFS_PHASE_BUILDING] = "describing the tree",
    [DFS_PHASE_CHECKING] = "checking the disc",
    [DFS_PHASE_WRITING] = "writing",
    [DFS_PHASE_CLOSING] = "closing",
    [DFS_PHASE_VERIFYING] = "verifying",
};

static const char *phase_name(int phase)
{
    return phase >= 0 && phase <= DFS_PHASE_VERIFYING ? phase_names[phase] : "?";
}

static void usage(FILE *out, int cmd)
{
    static const char *const text[] = {
        [CMD_COMMIT] =
            "usage: discfs commit MOUNTPOINT [--close]\n"
            "Write the changes staged in the discfs mount at MOUNTPOINT as a new session,\n"
            "read it back and check it, showing the phases and the progress (a bar on a\n"
            "terminal, a line per phase and per 5 % otherwise).  Exit status 0 when the\n"
            "session is written and verified, or when there is nothing to commit; 1 when\n"
            "the commit failed (the changes stay staged; the message says why); 2 for a\n"
            "usage error.\n"
            "  --close   the session closes (finalizes) the disc: nothing can be appended\n"
            "            later (write-once media; no effect on image files)\n",
        [CMD_UMOUNT] = "usage: discfs umount MOUNTPOINT\n"
                       "Commit the changes of the discfs mount at MOUNTPOINT (as discfs "
                       "commit), then\nunmount it and wait for its daemon to end.  If the "
                       "commit fails, the mount\nstays, so that nothing is lost; exit status "
                       "1.\n",
        [CMD_DISCARD] =
            "usage: discfs discard MOUNTPOINT [--yes]\n"
            "Drop every change staged in the discfs mount at MOUNTPOINT and unmount it,\n"
            "without writing a session: the disc stays as its last session left it; mount\n"
            "it again to use it.  Asks first on a terminal; --yes does not ask (needed\n"
            "when not on a terminal).  If the mount is in use it cannot be unmounted:\n"
            "nothing is dropped then (exit status 1).\n",
        [CMD_STATUS] =
            "usage: discfs status MOUNTPOINT [--json]\n"
            "Show the disc of the discfs mount at MOUNTPOINT (type, sessions, capacity,\n"
            "free space), the changes staged for the next session (names added, changed\n"
            "and removed, bytes), what the next session costs at most and what is free\n"
            "after it, the stage in the cache, and the commit running or the last one.\n"
            "  --json    the same as one JSON object\n",
    };
    fputs(text[cmd], out);
}

/* ---- the channel ---- */

/* say once why the daemon of ARG did not answer the ioctl (errno ERR) */
static void channel_error(const char *arg, int err)
{
    if (err == EPERM)
        fprintf(stderr,
                "discfs: '%s' was mounted by another user: only that user and root can "
                "commit it or see its status\n",
                arg);
    else if (err == ENOTTY || err == ENOSYS || err == EPROTO || err == EINVAL)
        fprintf(stderr,
                "discfs: the daemon of '%s' is another version of discfs and does not "
                "understand this command; use `sync %s` to commit, or remount it with this "
                "version\n",
                arg, arg);
    else if (err == ENOTCONN)
        dfs_cli_say_daemon_gone(arg);
    else
        fprintf(stderr, "discfs: cannot ask the daemon of '%s': %s\n", arg, strerror(err));
}

/* CMD: DFS_IOC_STATUS, or DFS_IOC_PROGRESS (the commit's part only) */
static int ask_status(int fd, const char *arg, unsigned long cmd, struct dfs_ctl_status *st)
{
    int err = dfs_ctl_ask_status(fd, cmd, st);

    if (err)
        channel_error(arg, err);
    return err ? -1 : 0;
}

static int get_status(int fd, const char *arg, struct dfs_ctl_status *st)
{
    return ask_status(fd, arg, DFS_IOC_STATUS, st);
}

/* ---- sizes and times as people read them ---- */

static const char *time_str(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;

    strftime(buf, len, "%Y-%m-%d %H:%M:%S", localtime(&tt));
    return buf;
}

static int64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static const char *duration_str(int64_t ms, char *buf, size_t len)
{
    int64_t s = (ms + 500) / 1000;

    if (s < 60)
        snprintf(buf, len, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(buf, len, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(buf, len, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    return buf;
}

/* ---- discfs commit ---- */

struct shown {
    int tty;
    unsigned told; /* 1 << phase of the phases told */
    int percent;   /* of it, in steps of 5 (lines) */
    int width;     /* of the bar line drawn */
};

/* "45% 230.0 MiB of 512.0 MiB, 38.2 MB/s, 7s left" of the phase in ST */
static void rate_str(const struct dfs_ctl_status *st, char *buf, size_t len)
{
    char done[32], total[32], eta[32];
    int64_t ms = now_ms() - st->phase_ms;
    double rate = ms > 0 ? (double)st->phase_done / ((double)ms / 1000) : 0;

    if (!st->phase_total) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, len, "%3d%% %s of %s, %.1f MB/s, %s left",
             (int)(st->phase_done * 100 / st->phase_total),
             dfs_size_str((int64_t)(st->phase_done), done),
             dfs_size_str((int64_t)(st->phase_total), total), rate / 1e6,
             rate > 0
                 ? duration_str((int64_t)((double)(st->phase_total - st->phase_done) / rate * 1000),
                                eta, sizeof(eta))
                 : "?");
}

static void show_progress(struct shown *s, const struct dfs_ctl_status *st)
{
    char rate[160];
    int percent = st->phase_total ? (int)(st->phase_done * 100 / st->phase_total) : 0;

    rate_str(st, rate, sizeof(rate));
    if (s->tty) {
        if (st->phase == DFS_PHASE_IDLE)
            return;
        char bar[26];
        int fill = percent / 4, n;

        memset(bar, ' ', 25);
        memset(bar, '#', (size_t)fill);
        bar[25] = '\0';
        if (st->phase_total)
            n = printf("\r%-20s [%s] %s", phase_name(st->phase), bar, rate);
        else
            n = printf("\r%s", phase_name(st->phase));
        if (n < s->width)
            printf("%*s", s->width - n, "");
        s->width = n;
        fflush(stdout);
        return;
    }
    /* every phase once, also one that passed between two looks */
    for (int p = DFS_PHASE_BUILDING; p <= DFS_PHASE_VERIFYING; p++) {
        char total[32];
        if (!(st->phases_seen & (1u << p)) || (s->told & (1u << p)))
            continue;
        s->told |= 1u << p;
        if (p == st->phase && st->phase_total)
            printf("%s %s\n", phase_name(p), dfs_size_str((int64_t)(st->phase_total), total));
        else
            printf("%s\n", phase_name(p));
        s->percent = 0;
    }
    if (st->phase_total && percent / 5 > s->percent / 5) {
        s->percent = percent;
        printf("%s %s\n", phase_name(st->phase), rate);
    }
    fflush(stdout);
}

/* Ask for a commit of the mount open at FD (ARG as named) and follow it: 0 written
 * or nothing to commit, -1 failed (said) */
static int commit(int fd, const char *arg, int close_disc, struct dfs_ctl_status *st)
{
    struct dfs_ctl_commit c = {.version = DFS_CTL_VERSION, .flags = close_disc ? DFS_CTL_CLOSE : 0};
    struct shown shown = {.tty = isatty(STDOUT_FILENO)};
    int64_t start = now_ms();
    char size[32], took[32];
    int result;

    if (ioctl(fd, DFS_IOC_COMMIT, &c) < 0) {
        channel_error(arg, errno);
        return -1;
    }
    for (;;) {
        if (ask_status(fd, arg, DFS_IOC_PROGRESS, st) != 0) /* no walk of the disc */
            return -1;
        if (st->serving < c.ticket) { /* the commit before it runs yet */
            usleep(100000);
            continue;
        }
        if (st->done >= c.ticket && !shown.tty)
            show_progress(&shown, st); /* the phases it went through since the last look */
        if (st->done >= c.ticket)
            break;
        show_progress(&shown, st);
        usleep(100000);
    }
    if (shown.tty && shown.width)
        printf("\n");
    result = dfs_ctl_result(st->recent, c.ticket);
    if (result == 1) {
        printf("discfs: nothing to commit in '%s'%s\n", arg,
               close_disc ? "; the disc was not closed (a session closes it: stage a change)" : "");
    } else if (result == 0) {
        printf("discfs: session %d written to '%s' and verified (%s in %s)\n", st->last_session,
               st->device, dfs_size_str((int64_t)(st->last_blocks * 2048), size),
               duration_str(now_ms() - start, took, sizeof(took)));
    } else {
        fprintf(stderr, "discfs: commit of '%s' failed: %s; the changes stay staged\n", arg,
                st->last_error[0] ? st->last_error : strerror(-result));
        return -1;
    }
    fflush(stdout);
    return 0;
}

/* wait until the daemon PID has ended */
static void wait_daemon(pid_t pid, const char *arg)
{
    int waited = 0;

    while (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)) {
        if (waited++ == 40)
            fprintf(stderr, "discfs: waiting for the daemon of '%s' (pid %d) to end\n", arg,
                    (int)pid);
        usleep(50000);
    }
}

/* ---- discfs umount ---- */

static int umount_mount(int fd, const char *arg, const char *abs)
{
    struct dfs_ctl_status st;
    char msg[1024];
    pid_t pid;

    if (commit(fd, arg, 0, &st) != 0) {
        fprintf(stderr,
                "discfs: '%s' stays mounted so that nothing is lost; fix the cause and run "
                "discfs umount again, or unmount it with fusermount3 -u to keep the changes "
                "staged for the next mount\n",
                arg);
        close(fd);
        return -1;
    }
    pid = st.pid;
    close(fd);
    if (dfs_cli_fusermount_u(abs, msg, sizeof(msg)) != 0) {
        fprintf(stderr,
                "discfs: everything in '%s' is committed, but it cannot be unmounted (%s); "
                "unmount it when it is no longer in use\n",
                arg, msg);
        return -1;
    }
    /* the daemon ends after a last commit of what came in meanwhile */
    wait_daemon(pid, arg);
    return 0;
}

/* ---- discfs discard ---- */

static int set_discard(int fd, const char *arg, int on)
{
    struct dfs_ctl_discard dc = {.version = DFS_CTL_VERSION, .discard = on};

    if (ioctl(fd, DFS_IOC_DISCARD, &dc) < 0) {
        if (errno == EBUSY)
            fprintf(stderr,
                    "discfs: a commit of '%s' runs or is asked for: nothing was dropped; wait "
                    "for it (discfs status %s), then discard what is staged after it\n",
                    arg, arg);
        else
            channel_error(arg, errno);
        return -1;
    }
    return 0;
}

static int discard_mount(int fd, const char *arg, const char *abs, int yes)
{
    sigset_t block, old_mask;
    struct dfs_ctl_status st;
    char msg[1024], size[32];

    if (get_status(fd, arg, &st) != 0) {
        close(fd);
        return -1;
    }
    if (!yes) {
        char answer[16] = "";
        if (!isatty(STDIN_FILENO)) {
            fprintf(stderr,
                    "discfs: discard of '%s' drops its staged changes and is not asked for on a "
                    "terminal here: add --yes if that is meant\n",
                    arg);
            close(fd);
            return -1;
        }
        if (st.pending_known)
            printf("Drop the changes staged in '%s' (%llu added, %llu changed, %llu removed, "
                   "%s of content) and unmount it? [y/N] ",
                   arg, (unsigned long long)st.added, (unsigned long long)st.changed,
                   (unsigned long long)st.removed, dfs_size_str((int64_t)(st.staged_bytes), size));
        else
            printf("Drop the changes staged in '%s' and unmount it? [y/N] ", arg);
        fflush(stdout);
        if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
            printf("discfs: nothing was dropped\n");
            close(fd);
            return 0;
        }
    }
    /* from telling the daemon to drop the stage to the unmount (or to telling it
     * not to), a signal must not leave it told: the next unmount would drop it */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGQUIT);
    sigprocmask(SIG_BLOCK, &block, &old_mask);
    if (set_discard(fd, arg, 1) != 0) {
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        close(fd);
        return -1;
    }
    close(fd);
    if (dfs_cli_fusermount_u(abs, msg, sizeof(msg)) != 0) {
        int again = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (again < 0 || set_discard(again, arg, 0) != 0)
            fprintf(stderr,
                    "discfs: '%s' cannot be unmounted (%s), and its daemon could not be told "
                    "to keep the changes: unmount it with fusermount3 -u when it is no longer "
                    "in use (they are dropped then), or kill -9 its daemon (pid %d) to keep "
                    "them staged\n",
                    arg, msg, (int)st.pid);
        else
            fprintf(stderr,
                    "discfs: '%s' cannot be unmounted (%s): nothing was dropped; try again when "
                    "it is no longer in use\n",
                    arg, msg);
        if (again >= 0)
            close(again);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return -1;
    }
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    wait_daemon(st.pid, arg);
    printf("discfs: the changes staged in '%s' were dropped and it was unmounted\n", arg);
    return 0;
}

/* ---- discfs status ---- */

static void json_str(const char *key, const char *s, int last)
{
    printf("  \"%s\": \"", key);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int n = *p < 0x80             ? 0
                : (*p & 0xe0) == 0xc0 ? 1
                : (*p & 0xf0) == 0xe0 ? 2
                : (*p & 0xf8) == 0xf0 ? 3
                                      : -1;
        int k = 1;

        while (n > 0 && k <= n && (p[k] & 0xc0) == 0x80)
            k++;
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else if (n == 0)
            putchar(*p);
        else if (n > 0 && k == n + 1 && *p != 0xc0 && *p != 0xc1) {
            fwrite(p, 1, (size_t)k, stdout); /* a whole UTF-8 sequence */
            p += n;
        } else {
            fputs("\\ufffd", stdout); /* a byte JSON cannot hold: the replacement character */
        }
    }
    printf("\"%s\n", last ? "" : ",");
}

static void json_num(const char *key, long long n)
{
    printf("  \"%s\": %lld,\n", key, n);
}

static const char *state_name(int state)
{
    return state == DFS_MEDIA_BLANK        ? "blank"
           : state == DFS_MEDIA_APPENDABLE ? "appendable"
                                           : "closed";
}

static void status_json(const char *abs, const struct dfs_ctl_status *st)
{
    int result = st->recent[0].ticket ? st->recent[0].result : 0;

    printf("{\n");
    json_str("mountpoint", abs, 0);
    json_str("device", st->device, 0);
    json_num("pid", st->pid);
    if (st->phase == DFS_PHASE_IDLE) {
        json_str("profile", st->profile, 0);
        json_str("volume_id", st->volid, 0);
        json_str("state", state_name(st->state), 0);
        json_num("sessions", st->sessions);
        json_num("capacity_bytes", (long long)(st->capacity_blocks * 2048));
        json_num("free_bytes", (long long)(st->free_blocks * 2048));
        printf("  \"readonly\": %s,\n", st->readonly ? "true" : "false");
        json_num("shown_session", st->shown_session);
    }
    if (st->pending_known) {
        json_num("added", (long long)st->added);
        json_num("changed", (long long)st->changed);
        json_num("removed", (long long)st->removed);
        json_num("staged_bytes", (long long)st->staged_bytes);
        json_num("next_session_bytes", (long long)(st->next_blocks * 2048));
        json_num("free_after_bytes", (long long)(st->free_blocks > st->next_blocks
                                                     ? (st->free_blocks - st->next_blocks) * 2048
                                                     : 0));
    }
    if (st->snapdir[0])
        json_num("sessions_in_memory", st->sessions_in_memory);
    json_num("stage_disk_bytes", (long long)st->stage_disk_bytes);
    json_str("stage", st->stage_dir, 0);
    json_str("commit_phase", phase_name(st->phase), 0);
    json_num("commit_phase_done_bytes", (long long)st->phase_done);
    json_num("commit_phase_total_bytes", (long long)st->phase_total);
    json_num("commits", st->commits);
    json_num("last_commit_ended", st->last_ended);
    json_num("last_session_written", st->last_written);
    json_num("last_commit_result", result > 0 ? 0 : -result);
    json_num("last_session", st->last_session);
    json_str("last_commit_error", st->last_error, 1);
    printf("}\n");
}

static void status_text(const char *abs, const struct dfs_ctl_status *st)
{
    char a[32], b[32], when[64];
    int result = st->recent[0].result;

    printf("mount       %s (daemon pid %d)\n", abs, st->pid);
    if (st->phase == DFS_PHASE_IDLE) {
        printf("device      %s (%s), volume '%s'\n", st->device, st->profile, st->volid);
        printf("disc        %d session%s, %s%s; %s free of %s\n", st->sessions,
               st->sessions == 1 ? "" : "s", state_name(st->state),
               st->shown_session ? ", an older session shown read-only"
               : st->readonly    ? ", mounted read-only"
                                 : "",
               dfs_size_str((int64_t)(st->free_blocks * 2048), a),
               dfs_size_str((int64_t)(st->capacity_blocks * 2048), b));
    } else {
        printf("device      %s\n", st->device);
    }
    if (st->pending_known) {
        printf("pending     %llu added, %llu changed, %llu removed; %s of file content "
               "staged\n",
               (unsigned long long)st->added, (unsigned long long)st->changed,
               (unsigned long long)st->removed, dfs_size_str((int64_t)(st->staged_bytes), a));
        if (!st->readonly)
            printf("next        the next session takes at most %s; %s free after it\n",
                   dfs_size_str((int64_t)(st->next_blocks * 2048), a),
                   dfs_size_str(st->free_blocks > st->next_blocks
                                    ? (int64_t)(st->free_blocks - st->next_blocks) * 2048
                                    : 0,
                                b));
    } else {
        printf("pending     not counted now (a commit runs, or the last one failed; discfs "
               "inspect DEVICE counts them)\n");
    }
    if (st->snapdir[0])
        printf("sessions    %s/%s: %d session%s in memory (each until the kernel has "
               "forgotten its files)\n",
               abs, st->snapdir, st->sessions_in_memory, st->sessions_in_memory == 1 ? "" : "s");
    if (st->stage_dir[0])
        printf("stage       %s (%s in the cache)\n", st->stage_dir,
               dfs_size_str((int64_t)(st->stage_disk_bytes), a));
    if (st->phase != DFS_PHASE_IDLE) {
        char rate[160];
        rate_str(st, rate, sizeof(rate));
        printf("commit      running for %s: %s %s\n",
               duration_str(now_ms() - st->started_ms, a, sizeof(a)), phase_name(st->phase), rate);
    }
    if (result < 0 && st->last_ended) {
        printf("last commit %s: failed: %s\n", time_str(st->last_ended, when, sizeof(when)),
               st->last_error[0] ? st->last_error : strerror(-result));
    } else if (st->last_written) {
        printf("last commit %s: session %d written and verified (%s)\n",
               time_str(st->last_written, when, sizeof(when)), st->last_session,
               dfs_size_str((int64_t)(st->last_blocks * 2048), a));
    } else {
        printf("last commit none in this mount\n");
    }
}

/* ---- the command line ---- */

int dfs_cmd_commit(int argc, char *argv[])
{
    int cmd = strcmp(argv[1], "umount") == 0    ? CMD_UMOUNT
              : strcmp(argv[1], "status") == 0  ? CMD_STATUS
              : strcmp(argv[1], "discard") == 0 ? CMD_DISCARD
                                                : CMD_COMMIT;
    const char *arg = NULL;
    int close_disc = 0, json = 0, yes = 0, fd, ret;
    struct dfs_ctl_status st;
    char *abs;

    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, cmd);
            return 0;
        } else if (cmd == CMD_COMMIT && strcmp(argv[i], "--close") == 0) {
            close_disc = 1;
        } else if (cmd == CMD_STATUS && strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (cmd == CMD_DISCARD && strcmp(argv[i], "--yes") == 0) {
            yes = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "discfs: unknown option '%s' of %s; see discfs %s --help\n", argv[i],
                    argv[1], argv[1]);
            return DFS_EXIT_USAGE;
        } else if (arg) {
            fprintf(stderr,
                    "discfs: %s takes one MOUNTPOINT, '%s' is one too many; see discfs %s "
                    "--help\n",
                    argv[1], argv[i], argv[1]);
            return DFS_EXIT_USAGE;
        } else {
            arg = argv[i];
        }
    }
    if (!arg) {
        fprintf(stderr, "discfs: %s takes one MOUNTPOINT, none was given; see discfs %s --help\n",
                argv[1], argv[1]);
        return DFS_EXIT_USAGE;
    }
    abs = dfs_cli_find_mount(arg);
    if (!abs)
        return DFS_EXIT_FAILURE;
    fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        channel_error(arg, errno);
        free(abs);
        return DFS_EXIT_FAILURE;
    }
    if (cmd == CMD_STATUS) {
        ret = get_status(fd, arg, &st);
        if (!ret)
            (json ? status_json : status_text)(abs, &st);
    } else if (cmd == CMD_COMMIT) {
        ret = commit(fd, arg, close_disc, &st);
    } else if (cmd == CMD_DISCARD) {
        ret = discard_mount(fd, arg, abs, yes);
        fd = -1; /* closed before the unmount */
    } else {
        ret = umount_mount(fd, arg, abs);
        fd = -1; /* closed before the unmount */
    }
    if (fd >= 0)
        close(fd);
    free(abs);
    return ret ? DFS_EXIT_FAILURE : 0;
}

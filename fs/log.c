/* fs/log.c - where a daemon in the background says things: syslog (the journal),
 * as discfs[pid] (README.md, Logs).  Everything discfs prints goes to stderr; in
 * the background stderr becomes a stream whose lines go to syslog. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "discfs.h"

static char pending[4096]; /* a line not ended yet (the FILE's lock is held) */
static size_t n_pending;

static void send_line(const char *line, size_t len)
{
    /* a commit's result (committer.c) is news; the rest is what went wrong */
    static const char ok[] = "discfs: session ";
    int level = len > sizeof(ok) - 1 && memcmp(line, ok, sizeof(ok) - 1) == 0 &&
                        memmem(line, len, " and read back (", 16)
                    ? LOG_INFO
                    : LOG_WARNING;

    if (len >= 8 && memcmp(line, "discfs: ", 8) == 0) { /* syslog names us */
        line += 8;
        len -= 8;
    }
    syslog(level, "%.*s", (int)len, line);
}

static ssize_t log_write(void *cookie, const char *buf, size_t size)
{
    (void)cookie;
    for (size_t i = 0; i < size; i++) {
        if (buf[i] == '\n' || n_pending == sizeof(pending)) {
            send_line(pending, n_pending);
            n_pending = 0;
        }
        if (buf[i] != '\n')
            pending[n_pending++] = buf[i];
    }
    return (ssize_t)size;
}

/* at exit: a last line without its newline goes too */
static void flush_pending(void)
{
    fflush(stderr);
    if (n_pending)
        send_line(pending, n_pending);
    n_pending = 0;
}

int dfs_log_to_syslog(void)
{
    cookie_io_functions_t io = {.write = log_write};
    FILE *f;

    openlog("discfs", LOG_PID, LOG_DAEMON);
    f = fopencookie(NULL, "w", io);
    if (!f)
        return -1;
    setvbuf(f, NULL, _IOLBF, 0);
    stderr = f;
    atexit(flush_pending);
    return 0;
}

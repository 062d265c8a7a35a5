/* cache/journal.c - the stage's transaction log (see journal.h) */
#define _GNU_SOURCE
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR_MAGIC "DFSJOURN"
#define HDR_SIZE 64
#define REC_MAGIC 0x52534644u
#define REC_HDR 20              /* magic, version, type, length, sequence */
#define MAX_PAYLOAD (64u << 20) /* a BASE map of 4M inodes is one record (fs/replay.c) */

struct dfs_journal {
    char *dir;
    int fd;       /* the journal, O_RDWR | O_APPEND */
    int lock_fd;  /* STAGE/lock, flock'ed */
    uint64_t seq; /* sequence number of the next record */
    off_t end;    /* end of the last intact record */
    int replayed;
    int lazy;     /* dfs_journal_set_lazy(): no fdatasync per record */
    int unsynced; /* records written since the last fdatasync */
    char error[512];
};

uint32_t dfs_crc32c(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = v & 0xff;
    p[1] = v >> 8;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (v >> (8 * i)) & 0xff;
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (v >> (8 * i)) & 0xff;
}

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int full_read(int fd, void *buf, size_t len, off_t off)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (int)got;
}

static int full_write(int fd, const void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        done += (size_t)n;
    }
    return 0;
}

/* A new, empty journal for FINGERPRINT: complete before it carries the name. */
static int create_journal(struct dfs_journal *j, const char *fingerprint)
{
    unsigned char hdr[HDR_SIZE] = {0};
    char tmp[4096], path[4096];
    int fd, err;

    memcpy(hdr, HDR_MAGIC, 8);
    put32(hdr + 8, DFS_JOURNAL_VERSION);
    put32(hdr + 12, HDR_SIZE);
    snprintf((char *)hdr + 16, 33, "%s", fingerprint);
    put32(hdr + 60, dfs_crc32c(0, hdr, 60));
    snprintf(tmp, sizeof(tmp), "%s/journal.new", j->dir);
    snprintf(path, sizeof(path), "%s/journal", j->dir);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    err = full_write(fd, hdr, sizeof(hdr));
    if (!err && fsync(fd) < 0)
        err = -errno;
    close(fd);
    if (!err && rename(tmp, path) < 0)
        err = -errno;
    if (!err) {
        int dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return err;
}

/* Check the header; returns 0, 1 when the journal belongs to another base, or -errno. */
static int check_header(struct dfs_journal *j, const char *fingerprint)
{
    unsigned char hdr[HDR_SIZE];
    int n = full_read(j->fd, hdr, sizeof(hdr), 0);

    if (n < 0)
        return n;
    if (n < HDR_SIZE || memcmp(hdr, HDR_MAGIC, 8) != 0 ||
        get32(hdr + 60) != dfs_crc32c(0, hdr, 60)) {
        snprintf(j->error, sizeof(j->error),
                 "'%s/journal' is not a discfs journal (bad header): move it away to mount",
                 j->dir);
        return -EBADMSG;
    }
    if (get32(hdr + 8) != DFS_JOURNAL_VERSION || get32(hdr + 12) != HDR_SIZE) {
        snprintf(j->error, sizeof(j->error),
                 "'%s/journal' has version %u, this discfs reads version %u: use a discfs "
                 "that knows it to commit the pending changes",
                 j->dir, get32(hdr + 8), DFS_JOURNAL_VERSION);
        return -EPROTONOSUPPORT;
    }
    hdr[16 + 32] = '\0';
    return strcmp((char *)hdr + 16, fingerprint) == 0 ? 0 : 1;
}

int dfs_journal_open(struct dfs_journal **out, const char *stage_dir, const char *fingerprint,
                     pid_t *holder)
{
    struct dfs_journal *j = calloc(1, sizeof(*j));
    char path[4096];
    int err;

    *out = j;
    if (!j)
        return -ENOMEM;
    j->fd = j->lock_fd = -1;
    j->dir = strdup(stage_dir);
    if (!j->dir)
        return -ENOMEM;
    snprintf(path, sizeof(path), "%s/lock", stage_dir);
    j->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (j->lock_fd < 0)
        return -errno;
    if (flock(j->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        char buf[32] = "";
        err = errno == EWOULDBLOCK ? -EBUSY : -errno;
        if (pread(j->lock_fd, buf, sizeof(buf) - 1, 0) > 0 && holder)
            *holder = (pid_t)atoi(buf);
        buf[strcspn(buf, "\n")] = '\0';
        snprintf(j->error, sizeof(j->error),
                 "the stage '%s' is in use by another discfs mount%s%s%s: unmount that one first",
                 stage_dir, buf[0] ? " (pid " : "", buf, buf[0] ? ")" : "");
        close(j->lock_fd);
        j->lock_fd = -1;
        return err;
    }
    {
        char pid[32];
        int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
        /* the pid is a courtesy for the message above: failure does not matter */
        if (ftruncate(j->lock_fd, 0) == 0) {
            ssize_t w = pwrite(j->lock_fd, pid, (size_t)n, 0);
            (void)w;
        }
    }
    snprintf(path, sizeof(path), "%s/journal", stage_dir);
    j->fd = open(path, O_RDWR | O_CLOEXEC);
    if (j->fd < 0 && errno != ENOENT)
        return -errno;
    if (j->fd >= 0) {
        err = check_header(j, fingerprint);
        if (err < 0)
            return err;
        if (err == 1) {
            /* another base: keep it aside, never replay it */
            char stale[4096];
            for (int i = 1;; i++) {
                snprintf(stale, sizeof(stale), "%s/journal.stale-%d", stage_dir, i);
                if (access(stale, F_OK) != 0)
                    break;
            }
            if (rename(path, stale) < 0)
                return -errno;
            fprintf(stderr,
                    "discfs: the journal in '%s' belongs to another state of the disc; it is "
                    "kept as '%s' and not replayed\n",
                    stage_dir, stale);
            close(j->fd);
            j->fd = -1;
        }
    }
    if (j->fd < 0) {
        err = create_journal(j, fingerprint);
        if (err)
            return err;
        j->fd = open(path, O_RDWR | O_CLOEXEC);
        if (j->fd < 0)
            return -errno;
    }
    j->end = HDR_SIZE;
    return 0;
}

void dfs_journal_close(struct dfs_journal *j)
{
    if (!j)
        return;
    if (j->fd >= 0)
        close(j->fd);
    if (j->lock_fd >= 0)
        close(j->lock_fd); /* releases the flock */
    free(j->dir);
    free(j);
}

/* The intact records of the journal FD from HDR_SIZE on, each handed to FN (none:
 * -EEXIST at the first).  Returns the count or -errno (an unknown record version:
 * -EPROTONOSUPPORT, said in ERROR); *end is where the intact records end and
 * *torn tells whether something that is not an intact record follows. */
static long scan_records(int fd, const char *dir, char *error, size_t error_size, dfs_journal_fn fn,
                         void *ctx, off_t *end, int *torn)
{
    unsigned char hdr[REC_HDR], crcbuf[4];
    unsigned char *payload = NULL;
    off_t off = HDR_SIZE;
    uint64_t seq = 0;
    int err = 0;
    struct stat st;

    *torn = 0;
    if (fstat(fd, &st) < 0)
        return -errno;
    for (;;) {
        uint32_t len;
        int n = full_read(fd, hdr, REC_HDR, off);

        if (n < 0) {
            err = n;
            break;
        }
        if (n == 0)
            break;
        if (n < REC_HDR || get32(hdr) != REC_MAGIC)
            goto torn_tail;
        if (get16(hdr + 4) != DFS_JOURNAL_VERSION) {
            snprintf(error, error_size,
                     "'%s/journal' holds a record of version %u, this discfs reads version %u: "
                     "use a discfs that knows it",
                     dir, get16(hdr + 4), DFS_JOURNAL_VERSION);
            err = -EPROTONOSUPPORT;
            break;
        }
        len = get32(hdr + 8);
        if (len > MAX_PAYLOAD || off + REC_HDR + (off_t)len + 4 > st.st_size)
            goto torn_tail;
        free(payload);
        payload = malloc(len ? len : 1);
        if (!payload) {
            err = -ENOMEM;
            break;
        }
        if (full_read(fd, payload, len, off + REC_HDR) != (int)len ||
            full_read(fd, crcbuf, 4, off + REC_HDR + len) != 4)
            goto torn_tail;
        if (get32(crcbuf) != dfs_crc32c(dfs_crc32c(0, hdr, REC_HDR), payload, len))
            goto torn_tail;
        if (get64(hdr + 12) != seq)
            goto torn_tail; /* a record from an earlier life of the file */
        err = fn ? fn(ctx, get16(hdr + 6), payload, len) : -EEXIST;
        if (err)
            break;
        seq++;
        off += REC_HDR + (off_t)len + 4;
    }
    goto out;

torn_tail:
    *torn = 1;
out:
    free(payload);
    *end = off;
    return err ? err : (long)seq;
}

long dfs_journal_replay(struct dfs_journal *j, dfs_journal_fn fn, void *ctx, int *torn)
{
    int cut;
    long n = scan_records(j->fd, j->dir, j->error, sizeof(j->error), fn, ctx, &j->end, &cut);

    /* a write that never completed: cut it off, keep everything before it */
    if (n >= 0 && cut && (ftruncate(j->fd, j->end) < 0 || fdatasync(j->fd) < 0))
        n = -errno;
    if (torn)
        *torn = cut;
    if (n >= 0)
        j->seq = (uint64_t)n;
    j->replayed = 1;
    return n;
}

static int count_only(void *ctx, uint16_t type, const void *payload, uint32_t len)
{
    (void)ctx;
    (void)type;
    (void)payload;
    (void)len;
    return 0;
}

long dfs_journal_peek(const char *stage_dir, char base[33], dfs_journal_fn fn, void *ctx)
{
    struct dfs_journal j = {.dir = (char *)stage_dir};
    char path[4096];
    off_t end;
    int torn;
    long n;

    base[0] = '\0';
    snprintf(path, sizeof(path), "%s/journal", stage_dir);
    j.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (j.fd < 0)
        return -errno;
    n = check_header(&j, base);
    if (n >= 0) {
        unsigned char hdr[HDR_SIZE];
        if (full_read(j.fd, hdr, sizeof(hdr), 0) == HDR_SIZE)
            snprintf(base, 33, "%.32s", (char *)hdr + 16);
        n = scan_records(j.fd, stage_dir, j.error, sizeof(j.error), fn ? fn : count_only, ctx, &end,
                         &torn);
    }
    close(j.fd);
    return n;
}

int dfs_journal_append(struct dfs_journal *j, uint16_t type, const void *payload, uint32_t len)
{
    unsigned char hdr[REC_HDR], crc[4];
    int err;

    if (!j->replayed)
        return -EINVAL; /* appending before replay would bury the old records */
    if (len > MAX_PAYLOAD)
        return -E2BIG;
    put32(hdr, REC_MAGIC);
    put16(hdr + 4, DFS_JOURNAL_VERSION);
    put16(hdr + 6, type);
    put32(hdr + 8, len);
    put64(hdr + 12, j->seq);
    put32(crc, dfs_crc32c(dfs_crc32c(0, hdr, REC_HDR), payload, len));
    {
        unsigned char stack[4096], *buf = stack;
        size_t total = REC_HDR + len + 4;
        if (total > sizeof(stack)) {
            buf = malloc(total);
            if (!buf)
                return -ENOMEM;
        }
        memcpy(buf, hdr, REC_HDR);
        if (len)
            memcpy(buf + REC_HDR, payload, len);
        memcpy(buf + REC_HDR + len, crc, 4);
        /* one pwrite at the end of the intact records: a torn write is caught by
         * the checksum and overwritten by the next append */
        err = 0;
        {
            size_t done = 0;
            while (done < total) {
                ssize_t n = pwrite(j->fd, buf + done, total - done, j->end + (off_t)done);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0) {
                    err = -errno;
                    break;
                }
                done += (size_t)n;
            }
        }
        if (buf != stack)
            free(buf);
        if (!err && !j->lazy && fdatasync(j->fd) < 0)
            err = -errno;
        if (!err && j->lazy)
            j->unsynced = 1;
        if (err) {
            snprintf(j->error, sizeof(j->error), "cannot write to '%s/journal': %s", j->dir,
                     strerror(-err));
            return err;
        }
        j->end += (off_t)total;
    }
    j->seq++;
    return 0;
}

void dfs_journal_set_lazy(struct dfs_journal *j, int lazy)
{
    j->lazy = lazy;
}

int dfs_journal_sync(struct dfs_journal *j)
{
    if (!j->unsynced)
        return 0;
    if (fdatasync(j->fd) < 0) {
        snprintf(j->error, sizeof(j->error), "cannot sync '%s/journal': %s", j->dir,
                 strerror(errno));
        return -errno;
    }
    j->unsynced = 0;
    return 0;
}

int dfs_journal_sync_begin(struct dfs_journal *j)
{
    int fd;

    if (!j->unsynced)
        return -1;
    fd = dup(j->fd);
    if (fd >= 0)
        j->unsynced = 0;
    return fd;
}

int dfs_journal_sync_end(struct dfs_journal *j, int fd, int err)
{
    close(fd);
    if (err >= 0)
        return 0;
    j->unsynced = 1;
    snprintf(j->error, sizeof(j->error), "cannot sync '%s/journal': %s", j->dir, strerror(-err));
    return err;
}

uint64_t dfs_journal_count(const struct dfs_journal *j)
{
    return j->seq;
}

const char *dfs_journal_error(const struct dfs_journal *j)
{
    return j ? j->error : "";
}

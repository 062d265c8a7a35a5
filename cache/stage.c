/* cache/stage.c - a stage as a whole: where it comes from, what it takes, who holds
 * it, and its removal (see store.h) */
#define _GNU_SOURCE
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "journal.h" /* dfs_crc32c() */

#define ORIGIN_MAGIC "discfs-stage-origin"

/* ---- origin ---- */

/* "NAME VALUE\n" at *N of BUF; -EINVAL for a value that a line cannot hold */
static int put_line(char *buf, size_t size, size_t *n, const char *name, const char *value)
{
    int w;

    if (strchr(value, '\n'))
        return -EINVAL;
    w = snprintf(buf + *n, size - *n, "%s %s\n", name, value);
    if (w < 0 || (size_t)w >= size - *n)
        return -ENAMETOOLONG;
    *n += (size_t)w;
    return 0;
}

/* The text of O: the magic and version, "NAME VALUE" lines, then "crc32c HEX" of
 * all before it */
static int origin_text(const struct dfs_stage_origin *o, char *buf, size_t size, size_t *len)
{
    char version[16], session[16], mounted[32], crc[16];
    size_t n = 0;
    int err;

    snprintf(version, sizeof(version), "%d", DFS_ORIGIN_VERSION);
    snprintf(session, sizeof(session), "%d", o->session);
    snprintf(mounted, sizeof(mounted), "%" PRId64, o->mounted);
    err = put_line(buf, size, &n, ORIGIN_MAGIC, version);
    err = err ? err : put_line(buf, size, &n, "kind", o->kind);
    err = err ? err : put_line(buf, size, &n, "device", o->device);
    err = err ? err : put_line(buf, size, &n, "path", o->path);
    err = err ? err : put_line(buf, size, &n, "volid", o->volid);
    err = err ? err : put_line(buf, size, &n, "profile", o->profile);
    err = err ? err : put_line(buf, size, &n, "session", session);
    err = err ? err : put_line(buf, size, &n, "mounted", mounted);
    err = err ? err : put_line(buf, size, &n, "version", o->version);
    if (err)
        return err;
    snprintf(crc, sizeof(crc), "%08" PRIx32, dfs_crc32c(0, buf, n));
    err = put_line(buf, size, &n, "crc32c", crc);
    *len = n;
    return err;
}

int dfs_stage_write_origin(const char *stage_dir, const struct dfs_stage_origin *o)
{
    char buf[2 * 4096 + 1024], tmp[4096], path[4096];
    size_t len;
    ssize_t w;
    int fd, err = origin_text(o, buf, sizeof(buf), &len);

    if (err)
        return err;
    if (snprintf(tmp, sizeof(tmp), "%s/origin.new", stage_dir) >= (int)sizeof(tmp) ||
        snprintf(path, sizeof(path), "%s/origin", stage_dir) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    /* complete before it carries the name: a crash leaves the old one or the new */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    w = write(fd, buf, len);
    if (w < 0 || (size_t)w != len || fsync(fd) < 0)
        err = w >= 0 && (size_t)w != len ? -EIO : -errno;
    close(fd);
    if (!err && rename(tmp, path) < 0)
        err = -errno;
    if (err)
        unlink(tmp);
    return err;
}

/* "NAME VALUE" of LINE into O; unknown names are skipped (a later version's) */
static void origin_field(struct dfs_stage_origin *o, char *line)
{
    struct {
        const char *name;
        char *dst;
        size_t size;
    } strs[] = {
        {"kind", o->kind, sizeof(o->kind)},          {"device", o->device, sizeof(o->device)},
        {"path", o->path, sizeof(o->path)},          {"volid", o->volid, sizeof(o->volid)},
        {"profile", o->profile, sizeof(o->profile)}, {"version", o->version, sizeof(o->version)}};
    char *value = strchr(line, ' ');

    if (!value)
        return;
    *value++ = '\0';
    if (strcmp(line, "session") == 0)
        o->session = atoi(value);
    else if (strcmp(line, "mounted") == 0)
        o->mounted = strtoll(value, NULL, 10);
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strcmp(line, strs[i].name) == 0)
            snprintf(strs[i].dst, strs[i].size, "%s", value);
}

int dfs_stage_parse_origin(const char *text, size_t len, struct dfs_stage_origin *o)
{
    char *copy, *line, *save = NULL;
    const char *crc;
    int version = 0;

    memset(o, 0, sizeof(*o));
    if (sscanf(text, ORIGIN_MAGIC " %d\n", &version) != 1)
        return -EBADMSG;
    if (version != DFS_ORIGIN_VERSION)
        return -EPROTONOSUPPORT;
    /* the last line is the checksum of everything before it */
    crc = len > 16 ? text + len - 16 : NULL; /* "crc32c 01234567\n" */
    if (!crc || text[len - 1] != '\n' || crc[-1] != '\n' || strncmp(crc, "crc32c ", 7) != 0 ||
        strtoul(crc + 7, NULL, 16) != dfs_crc32c(0, text, (size_t)(crc - text)))
        return -EBADMSG;
    copy = strndup(text, (size_t)(crc - text));
    if (!copy)
        return -ENOMEM;
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        origin_field(o, line);
    free(copy);
    return 0;
}

int dfs_stage_read_origin(const char *stage_dir, struct dfs_stage_origin *o)
{
    char path[4096], buf[2 * 4096 + 1024];
    ssize_t n;
    int fd;

    memset(o, 0, sizeof(*o));
    if (snprintf(path, sizeof(path), "%s/origin", stage_dir) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return dfs_stage_parse_origin(buf, (size_t)n, o);
}

/* ---- disk use ---- */

/* Bytes allocated below the directory FD (closed here), itself not counted */
static int64_t use_below(int fd)
{
    DIR *d = fdopendir(fd);
    struct dirent *de;
    int64_t sum = 0;

    if (!d) {
        close(fd);
        return -errno;
    }
    while (sum >= 0 && (de = readdir(d))) {
        struct stat st;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT) /* gone meanwhile: a mount removed it */
                sum = -errno;
            continue;
        }
        sum += (int64_t)st.st_blocks * 512;
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int64_t below = sub < 0 ? (errno == ENOENT ? 0 : -errno) : use_below(sub);
            sum = below < 0 ? below : sum + below;
        }
    }
    closedir(d);
    return sum;
}

int64_t dfs_stage_disk_use(const char *stage_dir)
{
    int fd = open(stage_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    int64_t below;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -errno;
    }
    below = use_below(fd);
    return below < 0 ? below : below + (int64_t)st.st_blocks * 512;
}

/* ---- the lock of a mount ---- */

pid_t dfs_stage_holder(const char *stage_dir)
{
    char path[4096], line[256];
    struct stat st;
    pid_t pid = 0;
    FILE *f;

    if (snprintf(path, sizeof(path), "%s/lock", stage_dir) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    if (stat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno; /* never locked */
    /* /proc/locks shows the flock of a mount (journal.h) without touching it */
    f = fopen("/proc/locks", "re");
    if (!f) {
        int fd = open(path, O_RDONLY | O_CLOEXEC), busy;
        if (fd < 0)
            return -errno;
        busy = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
        close(fd); /* releases the trial lock at once */
        return busy ? 1 : 0;
    }
    while (!pid && fgets(line, sizeof(line), f)) {
        unsigned maj, min;
        unsigned long long ino;
        long p;

        if (sscanf(line, "%*d: FLOCK %*s %*s %ld %x:%x:%llu", &p, &maj, &min, &ino) == 4 &&
            maj == major(st.st_dev) && min == minor(st.st_dev) && ino == st.st_ino)
            pid = p > 0 ? (pid_t)p : 1;
    }
    fclose(f);
    return pid;
}

int dfs_stage_lock(const char *stage_dir, pid_t *holder)
{
    char path[4096];
    int fd;

    *holder = 0;
    if (snprintf(path, sizeof(path), "%s/lock", stage_dir) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno == EWOULDBLOCK ? -EBUSY : -errno;
        close(fd);
        if (err == -EBUSY) {
            pid_t p = dfs_stage_holder(stage_dir);
            *holder = p > 0 ? p : 0;
        }
        return err;
    }
    return fd;
}

/* ---- removal ---- */

int dfs_stage_remove(const char *stage_dir, int lock_fd)
{
    char aside[4096];
    const char *slash = strrchr(stage_dir, '/');
    int err;

    /* out of the way under a name no mount looks for, in one step: a mount
     * that starts now makes a new stage, never finds half of this one */
    if (!slash || snprintf(aside, sizeof(aside), "%.*s/.removing-%s.%d", (int)(slash - stage_dir),
                           stage_dir, slash + 1, (int)getpid()) >= (int)sizeof(aside))
        return -ENAMETOOLONG;
    if (rename(stage_dir, aside) < 0)
        return -errno;
    err = dfs_store_destroy(aside);
    close(lock_fd); /* its file is gone with the rest */
    return err;
}

/* cache/store.c - content files of the stage directory (see store.h) */
#define _GNU_SOURCE
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* DIR may hold the cache of the user who runs discfs: an absolute path that is this
 * user's own or does not exist yet */
static int own_dir(const char *dir)
{
    struct stat st;

    if (!dir || dir[0] != '/')
        return 0;
    if (stat(dir, &st) < 0)
        return errno == ENOENT;
    return st.st_uid == getuid();
}

char *dfs_store_default_root(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char *out = NULL;

    if (own_dir(xdg)) {
        if (asprintf(&out, "%s/discfs", xdg) < 0)
            return NULL;
        return out;
    }
    /* A `user` mount of fstab runs discfs as that user, but mount(8) drops HOME and
     * mount.fuse3 then sets HOME=/root: the cache must not follow a HOME of another
     * user, but the user's home in the password database. */
    if (!own_dir(home)) {
        struct passwd *pw = getpwuid(getuid());
        home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
    }
    if (home) {
        if (asprintf(&out, "%s/.cache/discfs", home) < 0)
            return NULL;
    } else {
        if (asprintf(&out, "/tmp/discfs-%u", (unsigned)getuid()) < 0)
            return NULL;
    }
    return out;
}

/* mkdir -p with mode 0700 for the components we create */
static int mkdir_p(const char *path)
{
    char *p = strdup(path);
    int err = 0;

    if (!p)
        return -ENOMEM;
    for (char *c = p + 1;; c++) {
        if (*c == '/' || *c == '\0') {
            char saved = *c;
            *c = '\0';
            if (mkdir(p, 0700) < 0 && errno != EEXIST) {
                err = -errno;
                break;
            }
            *c = saved;
            if (saved == '\0')
                break;
        }
    }
    free(p);
    return err;
}

int dfs_store_open(struct dfs_store *s, const char *root, const char *key)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int err;

    memset(s, 0, sizeof(*s));
    s->data_fd = -1;
    if (asprintf(&s->dir, "%s/%s", root, key) < 0) {
        s->dir = NULL;
        return -ENOMEM;
    }
    err = mkdir_p(s->dir);
    if (err)
        goto out_free;
    /* the stage holds private copies of the user's files: it is the user's alone;
     * the directory it is in keeps its mode (-o cache=/tmp must not lock others
     * out of /tmp) */
    if (chmod(s->dir, 0700) < 0) {
        err = -errno;
        goto out_free;
    }
    {
        char data[4096];
        snprintf(data, sizeof(data), "%s/data", s->dir);
        if (mkdir(data, 0700) < 0 && errno != EEXIST) {
            err = -errno;
            goto out_free;
        }
        s->data_fd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->data_fd < 0) {
            err = -errno;
            goto out_free;
        }
    }
    if (fstat(s->data_fd, &st) < 0) {
        err = -errno;
        goto out_close;
    }
    d = fdopendir(dup(s->data_fd));
    if (!d) {
        err = -errno;
        goto out_close;
    }
    rewinddir(d); /* the dup shares its offset with data_fd */
    while ((de = readdir(d))) {
        char *end;
        uint64_t id = strtoull(de->d_name, &end, 16);
        if (*end == '\0' && end != de->d_name && id >= s->next_id)
            s->next_id = id + 1;
    }
    closedir(d);
    if (s->next_id == 0)
        s->next_id = 1;
    return 0;

out_close:
    close(s->data_fd);
    s->data_fd = -1;
out_free:
    free(s->dir);
    s->dir = NULL;
    return err;
}

void dfs_store_close(struct dfs_store *s)
{
    if (s->data_fd >= 0)
        close(s->data_fd);
    s->data_fd = -1;
    free(s->dir);
    s->dir = NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 ? -errno : 0;
}

int dfs_store_destroy(const char *dir)
{
    int ret = nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);

    return ret > 0 ? 0 : ret < 0 ? (ret == -1 ? -errno : ret) : 0;
}

static void id_name(uint64_t id, char name[17])
{
    snprintf(name, 17, "%016" PRIx64, id);
}

int dfs_store_create(struct dfs_store *s, uint64_t *id)
{
    char name[17];

    for (;;) {
        uint64_t n = __atomic_fetch_add(&s->next_id, 1, __ATOMIC_RELAXED);
        int fd;

        id_name(n, name);
        fd = openat(s->data_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            *id = n;
            return fd;
        }
        if (errno != EEXIST)
            return -errno;
    }
}

int dfs_store_open_file(const struct dfs_store *s, uint64_t id, int flags)
{
    char name[17];
    int fd;

    id_name(id, name);
    fd = openat(s->data_fd, name, (flags & ~O_CREAT) | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int dfs_store_path(const struct dfs_store *s, uint64_t id, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/data/%016" PRIx64, s->dir, id);
    return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int dfs_store_remove(const struct dfs_store *s, uint64_t id)
{
    char name[17];

    id_name(id, name);
    if (unlinkat(s->data_fd, name, 0) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

long dfs_store_count(const struct dfs_store *s)
{
    DIR *d = fdopendir(dup(s->data_fd));
    struct dirent *de;
    long n = 0;

    if (!d)
        return -errno;
    rewinddir(d);
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int dfs_store_sync_dir(const struct dfs_store *s)
{
    return fsync(s->data_fd) < 0 ? -errno : 0;
}

long dfs_store_list(const struct dfs_store *s, uint64_t **ids)
{
    DIR *d = fdopendir(dup(s->data_fd));
    struct dirent *de;
    long n = 0, cap = 0;

    *ids = NULL;
    if (!d)
        return -errno;
    rewinddir(d);
    while ((de = readdir(d))) {
        char *end;
        uint64_t id = strtoull(de->d_name, &end, 16);
        if (*end != '\0' || end == de->d_name)
            continue;
        if (n == cap) {
            uint64_t *m = realloc(*ids, (size_t)(cap = cap ? 2 * cap : 64) * sizeof(*m));
            if (!m) {
                closedir(d);
                free(*ids);
                *ids = NULL;
                return -ENOMEM;
            }
            *ids = m;
        }
        (*ids)[n++] = id;
    }
    closedir(d);
    return n;
}

void dfs_store_reserve(struct dfs_store *s, uint64_t id)
{
    if (id >= s->next_id)
        s->next_id = id + 1;
}

/* ROOT/<key>/links: stand-ins of hard-linked symlinks and special files, made for
 * the commit that is being built and removed after it (nothing else is kept there) */
int dfs_store_stand_in(const struct dfs_store *s, uint64_t id, mode_t mode, dev_t rdev,
                       const char *target, int make, char *path, size_t len)
{
    int n = snprintf(path, len, "%s/links", s->dir);

    if (n < 0 || (size_t)n >= len)
        return -ENAMETOOLONG;
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    n = snprintf(path, len, "%s/links/%016" PRIx64, s->dir, id);
    if (n < 0 || (size_t)n >= len)
        return -ENAMETOOLONG;
    if (!make)
        return 0;
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    if (S_ISLNK(mode) ? symlink(target, path) : mknod(path, (mode & S_IFMT) | 0600, rdev))
        return -errno;
    return 0;
}

void dfs_store_drop_stand_ins(const struct dfs_store *s)
{
    char path[4096];
    DIR *d;
    struct dirent *de;

    if (!s->dir || snprintf(path, sizeof(path), "%s/links", s->dir) >= (int)sizeof(path))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
    rmdir(path);
}

int dfs_store_set_mtime(const struct dfs_store *s, uint64_t id, const struct timespec *mtime)
{
    char name[17];
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, *mtime};

    id_name(id, name);
    return utimensat(s->data_fd, name, ts, 0) < 0 ? -errno : 0;
}

#define HOLE_BLOCK 4096

static int all_zero(const unsigned char *p, size_t n)
{
    return n && p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

static int write_all(int fd, const unsigned char *buf, size_t size, off_t off)
{
    while (size) {
        ssize_t n = pwrite(fd, buf, size, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += n;
        size -= (size_t)n;
        off += n;
    }
    return 0;
}

ssize_t dfs_store_pwrite(int fd, const void *buf_, size_t size, off_t off, off_t file_size)
{
    const unsigned char *buf = buf_;
    size_t done = 0, run = 0; /* bytes from done on that are still to be written */
    int err = 0;

    while (done + run < size && !err) {
        off_t pos = off + (off_t)(done + run);
        size_t piece = HOLE_BLOCK - (size_t)(pos % HOLE_BLOCK);

        if (piece > size - done - run)
            piece = size - done - run;
        if (piece < HOLE_BLOCK || !all_zero(buf + done + run, piece)) {
            run += piece;
            continue;
        }
        /* a whole block of zeros: write what came before it, leave it a hole */
        err = write_all(fd, buf + done, run, off + (off_t)done);
        done += run;
        run = 0;
        if (!err && pos < file_size &&
            fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, pos, (off_t)piece) < 0)
            err = write_all(fd, buf + done, piece, pos); /* no holes here: zeros */
        done += piece;
    }
    if (!err)
        err = write_all(fd, buf + done, run, off + (off_t)done);
    if (!err && off + (off_t)size > file_size) {
        struct stat st;
        if (fstat(fd, &st) < 0)
            err = -errno;
        else if (st.st_size < off + (off_t)size && ftruncate(fd, off + (off_t)size) < 0)
            err = -errno;
    }
    return err ? err : (ssize_t)size;
}

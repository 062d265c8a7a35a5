/* fs/cli.c - the checks of the command line, made before anything is opened, and of
 * the mount a command such as `discfs commit` names (README.md, Using it).
 *
 * A mistake on the command line must never turn into a mount: a bare word that names
 * nothing is an unknown command, no file is ever created under /dev, a missing image
 * is created only for a name that says it is one (.iso, stdio:), and a mount point
 * must be an empty directory that is not a mount point yet.  Each check prints one
 * message (what is wrong with what, and what to do) and returns the exit status. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "discfs.h"

/* ---- paths and mounts ---- */

/* The absolute path of PATH with its directory resolved and its last component as it
 * is (also when that is missing, or a mount whose daemon is gone), or NULL. */
static char *abs_path(const char *path)
{
    char *copy = strdup(path), *slash, *dir, *out = NULL;
    const char *base;

    if (!copy)
        return NULL;
    while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
        copy[strlen(copy) - 1] = '\0';
    slash = strrchr(copy, '/');
    base = slash ? slash + 1 : copy;
    if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(copy, "/") == 0) {
        out = realpath(copy, NULL);
        goto out_free;
    }
    if (slash)
        *slash = '\0';
    dir = realpath(slash ? (copy[0] ? copy : "/") : ".", NULL);
    if (dir && asprintf(&out, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, base) < 0)
        out = NULL;
    free(dir);
out_free:
    free(copy);
    return out;
}

/* /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
    char *out = s;

    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

int dfs_scan_mounts(int (*each)(const char *dev, const char *mnt, const char *type,
                                const char *source, void *arg),
                    void *arg)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char *line = NULL;
    size_t cap = 0;
    int ret = 0;

    if (!f)
        return 0;
    while (!ret && getline(&line, &cap, f) > 0) {
        char *fields[5], *save = NULL, *dash, *t, *src;
        char *p = line;
        int i;

        dash = strstr(line, " - ");
        if (!dash)
            continue;
        *dash = '\0';
        for (i = 0; i < 5 && (fields[i] = strtok_r(p, " ", &save)); i++)
            p = NULL;
        t = strtok_r(dash + 3, " \n", &save);
        if (i < 5 || !t)
            continue;
        src = strtok_r(NULL, " \n", &save);
        unescape(fields[4]);
        unescape(t);
        if (src)
            unescape(src);
        ret = each(fields[2], fields[4], t, src ? src : "", arg);
    }
    free(line);
    fclose(f);
    return ret;
}

struct mount_query {
    const char *want;
    char *type, *source;
    size_t type_size, source_size;
    int found;
};

static int note_mount_at(const char *dev, const char *mnt, const char *type, const char *source,
                         void *arg)
{
    struct mount_query *q = arg;

    (void)dev;
    if (strcmp(mnt, q->want) == 0) { /* the last one wins: it is the one on top */
        snprintf(q->type, q->type_size, "%s", type);
        snprintf(q->source, q->source_size, "%s", source);
        q->found = 1;
    }
    return 0;
}

/* Is ABS a mount point?  Then 1, with the type and source of the topmost mount there
 * (the last line of /proc/self/mountinfo that names it). */
static int mount_at(const char *abs, char *type, size_t type_size, char *source, size_t source_size)
{
    struct mount_query q = {abs, type, source, type_size, source_size, 0};

    dfs_scan_mounts(note_mount_at, &q);
    return q.found;
}

/* a FUSE mount whose daemon is gone (an open, not a stat: the kernel answers that from
 * its cache for a while) */
static int daemon_gone(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOTCONN;
    close(fd);
    return 0;
}

int dfs_is_discfs_type(const char *type)
{
    return strcmp(type, "fuse.discfs") == 0 || strcmp(type, "fuseblk.discfs") == 0;
}

/* ---- DEVICE ---- */

/* a word such as `status`: no '/', no '.', no stdio: or mmc: */
static int is_bare_word(const char *arg)
{
    return !strchr(arg, '/') && !strchr(arg, '.') && strncmp(arg, "stdio:", 6) != 0 &&
           strncmp(arg, "mmc:", 4) != 0;
}

static int is_iso_name(const char *path)
{
    size_t n = strlen(path);

    return n > 4 && strcasecmp(path + n - 4, ".iso") == 0 && path[n - 5] != '/';
}

/* PATH is in /dev (its directory resolved): only drives live there */
static int under_dev(const char *path)
{
    char *abs = abs_path(path);
    int ret;

    if (!abs) /* its directory is missing: judged by its name */
        return strncmp(path, "/dev/", 5) == 0;
    ret = strncmp(abs, "/dev/", 5) == 0;
    free(abs);
    return ret;
}

int dfs_cli_check_device(const char *device)
{
    const char *path = device;
    struct stat st;
    int prefixed = 0;

    if (strncmp(device, "mmc:", 4) == 0) {
        if (stat(device + 4, &st) < 0) {
            fprintf(stderr, "discfs: no drive at '%s': %s\n", device + 4, strerror(errno));
            return DFS_EXIT_FAILURE;
        }
        return 0; /* libburn says whether it is a drive */
    }
    if (strncmp(device, "stdio:", 6) == 0) {
        path = device + 6;
        prefixed = 1;
    }
    if (!path[0]) {
        fprintf(stderr, "discfs: DEVICE '%s' names no file; see discfs --help\n", device);
        return DFS_EXIT_USAGE;
    }
    if (is_bare_word(device) && lstat(device, &st) < 0 && errno == ENOENT) {
        fprintf(stderr, "discfs: unknown command '%s'; see discfs --help\n", device);
        return DFS_EXIT_USAGE;
    }
    if (under_dev(path)) {
        if (stat(path, &st) < 0) {
            fprintf(stderr,
                    "discfs: no drive at '%s': %s; name a drive that is there, or an ISO "
                    "image file outside /dev\n",
                    path, strerror(errno));
            return DFS_EXIT_FAILURE;
        }
        if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode)) {
            fprintf(stderr,
                    "discfs: '%s' is not a drive (not a block or character device); name a "
                    "drive such as /dev/sr0, or an ISO image file outside /dev\n",
                    path);
            return DFS_EXIT_FAILURE;
        }
        return 0;
    }
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr,
                    "discfs: '%s' is a directory; name an ISO image file, or a drive as "
                    "/dev/srN or mmc:PATH\n",
                    path);
            return DFS_EXIT_FAILURE;
        }
        return 0; /* burn/ refuses what is not a regular file or not an ISO image */
    }
    if (errno == ENOENT && !prefixed && !is_iso_name(path)) {
        fprintf(stderr,
                "discfs: '%s' does not exist; a new blank image is made only for a name "
                "ending in .iso, or written stdio:PATH\n",
                path);
        return DFS_EXIT_FAILURE;
    }
    return 0; /* a new image, or one that burn/ names with the reason it cannot be opened */
}

void dfs_cli_say_daemon_gone(const char *arg)
{
    fprintf(stderr,
            "discfs: the daemon of the discfs mount '%s' is gone; unmount it with "
            "fusermount3 -u -z: its changes stay staged for the next mount of the disc\n",
            arg);
}

/* ---- a drive a mount holds ---- */

static const char *device_file(const char *device)
{
    if (strncmp(device, "mmc:", 4) == 0)
        return device + 4;
    return strncmp(device, "stdio:", 6) == 0 ? device + 6 : device;
}

struct holder {
    char dev[PATH_MAX], mnt[PATH_MAX];
};

static int note_holder(const char *dev, const char *mnt, const char *type, const char *source,
                       void *arg)
{
    struct holder *h = arg;
    char real[PATH_MAX];

    (void)dev;
    if (!dfs_is_discfs_type(type) || !realpath(device_file(source), real) || strcmp(real, h->dev))
        return 0;
    snprintf(h->mnt, sizeof(h->mnt), "%s", mnt);
    return 1;
}

/* The directory in the mount point MNT that shows its sessions, as its daemon says
 * (-o snapdir; "" with snapdir=none): 0, or -1 (SNAP "") when the daemon does not say */
static int snapdir_of(const char *mnt, char *snap, size_t len)
{
    struct dfs_ctl_status *st = calloc(1, sizeof(*st));
    int fd, ok = 0;

    snap[0] = '\0';
    if (!st)
        return -1;
    fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ok = dfs_ctl_ask_status(fd, DFS_IOC_STATUS, st) == 0;
        close(fd);
    }
    if (ok)
        snprintf(snap, len, "%.*s", (int)sizeof(st->snapdir) - 1, st->snapdir);
    free(st);
    return ok ? 0 : -1;
}

/* Say so when a discfs mount holds the drive DEVICE (libburn cannot open it then) */
static int say_drive_held(const char *device)
{
    struct holder h;
    char snap[256];

    if (!realpath(device_file(device), h.dev) || !dfs_scan_mounts(note_holder, &h))
        return 0;
    if (snapdir_of(h.mnt, snap, sizeof(snap)) == 0 && !snap[0])
        fprintf(stderr,
                "discfs: the drive '%s' is held by the discfs mount at '%s', which shows "
                "no sessions (-o snapdir=none); unmount it to read the disc here\n",
                device, h.mnt);
    else if (snap[0])
        fprintf(stderr,
                "discfs: the drive '%s' is held by the discfs mount at '%s': its sessions "
                "are in %s/%s while it is mounted; unmount it to read the disc here\n",
                device, h.mnt, h.mnt, snap);
    else /* its daemon did not say (gone, or another user's mount) */
        fprintf(stderr,
                "discfs: the drive '%s' is held by the discfs mount at '%s'; unmount it to "
                "read the disc here\n",
                device, h.mnt);
    return 1;
}

int dfs_cli_open_disc(const char *device, enum dfs_cli_open how, struct dfs_disc **out)
{
    int err = dfs_cli_check_existing_device(device);

    *out = NULL;
    if (err)
        return err;
    if (dfs_libs_init() != 0)
        return DFS_EXIT_FAILURE;
    err = how == DFS_CLI_TOC        ? dfs_disc_probe(device, out)
          : how == DFS_CLI_READONLY ? dfs_disc_open_readonly(device, out)
                                    : dfs_disc_open(device, out);
    if (err) {
        const char *why = *out ? dfs_disc_last_error(*out) : "";

        if (*out && !dfs_disc_image_path(*out) && say_drive_held(device))
            ;
        else if (!why[0]) /* burn/ said what it put there */
            fprintf(stderr, "discfs: cannot open '%s': %s\n", device, strerror(-err));
        else if (how == DFS_CLI_TOC) /* the probe is quiet */
            fprintf(stderr, "discfs: %s\n", why);
        dfs_disc_close(*out);
        *out = NULL;
        dfs_libs_finish();
        return DFS_EXIT_FAILURE;
    }
    return 0;
}

void dfs_cli_close_disc(struct dfs_disc *disc)
{
    dfs_disc_close(disc);
    dfs_libs_finish();
}

int dfs_cli_check_existing_device(const char *device)
{
    const char *path = strncmp(device, "stdio:", 6) == 0 ? device + 6 : device;
    int err = dfs_cli_check_device(device);

    if (err)
        return err;
    if (strncmp(device, "mmc:", 4) != 0 && access(path, F_OK) != 0) {
        fprintf(stderr, "discfs: no disc or image '%s': %s\n", device, strerror(errno));
        return DFS_EXIT_FAILURE; /* never a new blank image, as a mount would make */
    }
    return 0;
}

/* ---- MOUNTPOINT ---- */

/* DIR has no entry but . and ..; 1 also when it cannot be read (fusermount3 decides) */
static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int empty = 1;

    if (!d)
        return 1;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

int dfs_cli_check_mountpoint(const char *arg, int nonempty, char **out)
{
    char type[64], source[PATH_MAX], *abs = realpath(arg, NULL);
    struct stat st;

    *out = NULL;
    if (!abs) {
        if (errno == ENOTCONN)
            fprintf(stderr,
                    "discfs: cannot mount on '%s': a mount whose daemon is gone is there; "
                    "unmount it first (fusermount3 -u -z)\n",
                    arg);
        else if (errno == ENOENT)
            fprintf(stderr,
                    "discfs: cannot mount on '%s': it does not exist; make an empty directory "
                    "there first\n",
                    arg);
        else
            fprintf(stderr, "discfs: cannot mount on '%s': %s\n", arg, strerror(errno));
        return DFS_EXIT_FAILURE;
    }
    if (mount_at(abs, type, sizeof(type), source, sizeof(source))) {
        int gone = daemon_gone(abs);
        fprintf(stderr,
                "discfs: cannot mount on '%s': it is a mount point already (%s '%s'%s); "
                "unmount that first%s, or name another directory\n",
                arg, dfs_is_discfs_type(type) ? "discfs mount of" : type, source,
                gone ? ", its daemon is gone" : "", gone ? " (fusermount3 -u -z)" : "");
        goto out_fail;
    }
    if (stat(abs, &st) < 0) {
        fprintf(stderr, "discfs: cannot mount on '%s': %s\n", arg, strerror(errno));
        goto out_fail;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "discfs: cannot mount on '%s': not a directory; name an empty directory\n",
                arg);
        goto out_fail;
    }
    if (!nonempty && !dir_is_empty(abs)) {
        fprintf(stderr,
                "discfs: cannot mount on '%s': the directory is not empty (the mount would "
                "hide its files); name an empty directory, or add -o nonempty\n",
                arg);
        goto out_fail;
    }
    *out = abs;
    return 0;

out_fail:
    free(abs);
    return DFS_EXIT_FAILURE;
}

/* ---- the mount a command names ---- */

/* ARG names the mount point of a discfs mount whose daemon runs: its absolute path,
 * or NULL after one message */
char *dfs_cli_find_mount(const char *arg)
{
    char type[64], source[PATH_MAX], *abs = realpath(arg, NULL);

    if (!abs && errno == ENOTCONN) /* a FUSE mount whose daemon is gone */
        abs = abs_path(arg);
    if (!abs) {
        fprintf(stderr, "discfs: cannot use '%s': %s; name the mount point of a discfs mount\n",
                arg, strerror(errno));
        return NULL;
    }
    if (!mount_at(abs, type, sizeof(type), source, sizeof(source))) {
        fprintf(stderr,
                "discfs: '%s' is not a discfs mount (not a mount point); name the mount "
                "point of a discfs mount\n",
                arg);
        goto out_fail;
    }
    if (!dfs_is_discfs_type(type)) {
        fprintf(stderr,
                "discfs: '%s' is not a discfs mount (it is a %s mount); name the mount point "
                "of a discfs mount\n",
                arg, type);
        goto out_fail;
    }
    if (daemon_gone(abs)) {
        dfs_cli_say_daemon_gone(arg);
        goto out_fail;
    }
    return abs;

out_fail:
    free(abs);
    return NULL;
}

/* fusermount3 -u MOUNTPOINT: 0, or -1 with what fusermount3 said in MSG */
int dfs_cli_fusermount_u(const char *mountpoint, char *msg, size_t size)
{
    char *argv[] = {"fusermount3", "-u", (char *)mountpoint, NULL};
    posix_spawn_file_actions_t fa;
    size_t len = 0;
    int pfd[2], status, err;
    ssize_t n;
    pid_t pid;

    msg[0] = '\0';
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        snprintf(msg, size, "%s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDERR_FILENO);
    err = posix_spawnp(&pid, "fusermount3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (err) {
        close(pfd[0]);
        snprintf(msg, size, "cannot run fusermount3: %s", strerror(err));
        return -1;
    }
    while (len + 1 < size && (n = read(pfd[0], msg + len, size - 1 - len)) > 0)
        len += (size_t)n;
    msg[len] = '\0';
    close(pfd[0]);
    msg[strcspn(msg, "\n")] = '\0';
    if (strncmp(msg, "fusermount3: ", 13) == 0)
        memmove(msg, msg + 13, strlen(msg + 13) + 1);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (!msg[0])
            snprintf(msg, size, "fusermount3 failed");
        return -1;
    }
    return 0;
}

/* ---- output ---- */

const char *dfs_size_str(int64_t bytes, char buf[32])
{
    static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;

    if (bytes < 0)
        return "?";
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, 32, "%lld bytes", (long long)bytes);
    else
        snprintf(buf, 32, "%.1f %s", v, unit[u]);
    return buf;
}

/* The length of the UTF-8 sequence at S (2 to 4 bytes, shortest form, at most
 * U+10FFFF, no surrogate), or 0 when S does not start one */
static int utf8_len(const unsigned char *s)
{
    int n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    unsigned cp;

    if (!n || s[0] > 0xf4)
        return 0;
    cp = s[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void dfs_print_name(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int n = *p >= 0x80 ? utf8_len(p) : 1;

        if (!n || *p < 0x20 || *p == 0x7f || *p == '\\') { /* not text: as octal */
            fprintf(out, "\\%03o", *p++);
            continue;
        }
        fwrite(p, 1, (size_t)n, out);
        p += n;
    }
}

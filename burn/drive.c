/* burn/drive.c - library set-up, devices, media state and the disc fingerprint */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <unistd.h>

int dfs_libs_init(void)
{
    char msg[1024];

    if (!isoburn_is_compatible(isoburn_header_version_major, isoburn_header_version_minor,
                               isoburn_header_version_micro, 0)) {
        fprintf(stderr, "discfs: libisoburn is older than the one discfs was built with\n");
        return -ENOSYS;
    }
    if (!isoburn_initialize(msg, 0)) {
        fprintf(stderr, "discfs: cannot initialize libisoburn: %s\n", msg);
        return -EIO;
    }
    /* Messages are queued and drained by dfs_lib_error(), never printed by the libraries. */
    burn_msgs_set_severities("WARNING", "NEVER", "discfs: ");
    iso_set_msgs_severities("WARNING", "NEVER", "discfs: ");
    dfs_names_charset(0);
    return 0;
}

/* libisofs reads names in its "local" character set, process-wide.  Reading,
 * it is ISO-8859-1: every byte but '/' and NUL maps to itself, so Rock Ridge
 * names come in byte-exact (reference/libisofs.md pitfall 4).  While a session's
 * tree is made it is UTF-8: Rock Ridge names are still copied as they are
 * (input and output character sets are the same), and the Joliet names are
 * converted from UTF-8 to UCS-2, as xorriso does in a UTF-8 locale; bytes that
 * are not UTF-8 become '_' there.  libisofs takes the charset when the burn
 * source is made, and the commit holds the drive meanwhile. */
void dfs_names_charset(int writing)
{
    iso_set_local_charset(writing ? "UTF-8" : "ISO-8859-1", 0);
}

void dfs_libs_finish(void)
{
    isoburn_finish();
}

static const char *sev_rank[] = {"ALL",   "DEBUG",  "UPDATE",  "NOTE",  "HINT",  "WARNING",
                                 "SORRY", "MISHAP", "FAILURE", "FATAL", "ABORT", NULL};

static int rank(const char *sev)
{
    for (int i = 0; sev_rank[i]; i++)
        if (strcmp(sev, sev_rank[i]) == 0)
            return i;
    return 0;
}

/* The library messages since the last call, in LOG (one line each, as printed). */
static void drain(char *log, size_t size, char *best, size_t best_size)
{
    char text[4096], sev[80];
    int code, os_errno, imgid, best_rank = -1, len = 0;

    log[0] = best[0] = '\0';
    for (int lib = 0; lib < 2; lib++)
        while (lib == 0 ? burn_msgs_obtain("ALL", &code, text, &os_errno, sev) > 0
                        : iso_obtain_msgs("ALL", &code, &imgid, text, sev) > 0) {
            if ((size_t)len < size)
                len += snprintf(log + len, size - (size_t)len, "discfs: %s %s: %s\n",
                                lib == 0 ? "libburn" : "libisofs", sev, text);
            if (rank(sev) >= best_rank) {
                best_rank = rank(sev);
                snprintf(best, best_size, "%s", text);
            }
        }
}

static int lib_error(struct dfs_disc *d, int err, const char *what, const char *unless)
{
    char log[16384], best[4096];

    drain(log, sizeof(log), best, sizeof(best));
    if (unless && strstr(log, unless)) {
        if (d && what)
            snprintf(d->last_error, sizeof(d->last_error), "%s: %s", what, best);
        return -EUCLEAN; /* the caller knows what to do about it: nothing said */
    }
    /* err == 0 and no subject: the operation went well, its notes are dropped */
    if (err == 0 && !what)
        return 0;
    if (!(d && d->quiet))
        fputs(log, stderr);
    if (err < 0 && what) {
        if (!(d && d->quiet))
            fprintf(stderr, "discfs: %s: %s\n", what, best[0] ? best : strerror(-err));
        if (d)
            snprintf(d->last_error, sizeof(d->last_error), "%s: %s", what,
                     best[0] ? best : strerror(-err));
    }
    return err;
}

int dfs_lib_error(struct dfs_disc *d, int err, const char *what)
{
    return lib_error(d, err, what, NULL);
}

int dfs_lib_error_unless(struct dfs_disc *d, int err, const char *what, const char *text)
{
    return lib_error(d, err, what, text);
}

/* The pid that holds a flock on the file ST (from /proc/locks), or -1. */
static long lock_holder(const struct stat *st)
{
    FILE *f = fopen("/proc/locks", "re");
    char line[256];
    long pid = -1;

    if (!f)
        return -1;
    while (pid < 0 && fgets(line, sizeof(line), f)) {
        unsigned maj, min;
        unsigned long long ino;
        long p;

        if (sscanf(line, "%*d: FLOCK %*s %*s %ld %x:%x:%llu", &p, &maj, &min, &ino) == 4 &&
            maj == major(st->st_dev) && min == minor(st->st_dev) && ino == st->st_ino)
            pid = p;
    }
    fclose(f);
    return pid;
}

/* An image file is opened once, for the life of the mount, and everything goes
 * through that descriptor: reads, identity checks, and libburn's writes (address
 * "stdio:/dev/fd/N", which libburn dups), so that what was identified is what is
 * written even if the path is renamed or replaced meanwhile (dfs_check_image_path()).
 * A missing file is created empty (a blank disc), and removed again at unmount if
 * it is still empty.  The open file is locked: one mount per image, whatever the
 * cache (DESIGN.md, Identity). */
static int open_image(struct dfs_disc *d)
{
    struct stat st;

    d->image_fd = open(d->image_path, (d->probe ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (d->image_fd < 0 && errno == ENOENT && !d->probe) {
        d->image_fd = open(d->image_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        d->image_created = d->image_fd >= 0;
    }
    if (d->image_fd < 0 && (errno == EACCES || errno == EROFS))
        d->image_fd = open(d->image_path, O_RDONLY | O_CLOEXEC); /* mounted read-only */
    if (d->image_fd < 0) {
        int err = -errno;
        snprintf(d->last_error, sizeof(d->last_error), "cannot open '%s': %s", d->image_path,
                 strerror(-err));
        dfs_tell(d);
        return err;
    }
    if (fstat(d->image_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(d->last_error, sizeof(d->last_error),
                 "'%s' is not a regular file: name an ISO image file, or a drive as /dev/srN "
                 "or mmc:PATH",
                 d->image_path);
        dfs_tell(d);
        return -EINVAL;
    }
    d->image_dev = st.st_dev;
    d->image_ino = st.st_ino;
    if (!d->probe && flock(d->image_fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
        snprintf(d->last_error, sizeof(d->last_error),
                 "'%s' is in use by another discfs mount (pid %ld): one mount per image, "
                 "whatever the cache; unmount it first",
                 d->image_path, lock_holder(&st));
        dfs_tell(d);
        return -EBUSY;
    }
    return asprintf(&d->adr, "stdio:/dev/fd/%d", d->image_fd) < 0 ? -ENOMEM : 0;
}

void dfs_tell(const struct dfs_disc *d)
{
    if (!d->quiet)
        fprintf(stderr, "discfs: %s\n", d->last_error);
}

/* The path of the image still names the file that is mounted (0), or -EIO with the
 * reason in last_error: nothing may be written then (DESIGN.md, Identity). */
static int image_path_is_ours(const struct dfs_disc *d)
{
    struct stat st;

    return stat(d->image_path, &st) == 0 && st.st_dev == d->image_dev && st.st_ino == d->image_ino;
}

int dfs_check_image_path(struct dfs_disc *d)
{
    struct stat st;

    if (image_path_is_ours(d))
        return 0;
    snprintf(d->last_error, sizeof(d->last_error),
             "the image '%s' was %s since it was mounted; nothing was written: put the mounted "
             "image back under that name and sync again, or unmount to give up the changes",
             d->image_path,
             stat(d->image_path, &st) == 0 ? "replaced by another file" : "moved or removed");
    dfs_tell(d);
    return -EIO;
}

/* "PATH" (an image file), "stdio:PATH", "mmc:PATH" or "/dev/srN" -> libburn address */
static int parse_device(struct dfs_disc *d, const char *device)
{
    const char *path = device;
    char abs[PATH_MAX];

    if (strncmp(device, "mmc:", 4) == 0) {
        d->adr = strdup(device + 4);
        return d->adr ? 0 : -ENOMEM;
    }
    if (strncmp(device, "/dev/", 5) == 0) {
        struct stat st;
        if (stat(device, &st) == 0 && (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))) {
            d->adr = strdup(device);
            return d->adr ? 0 : -ENOMEM;
        }
    }
    if (strncmp(device, "stdio:", 6) == 0)
        path = device + 6;
    if (path[0] != '/') {
        if (!getcwd(abs, sizeof(abs)))
            return -errno;
        if (strlen(abs) + strlen(path) + 2 > sizeof(abs))
            return -ENAMETOOLONG;
        strcat(abs, "/");
        strcat(abs, path);
        path = abs;
    }
    d->image_path = strdup(path);
    if (!d->image_path)
        return -ENOMEM;
    return open_image(d);
}

/* An image file that libisoburn calls blank must really be empty (all zero in the
 * first 64 KiB), else it is something else and we refuse to write over it. */
static int check_blank_image(struct dfs_disc *d)
{
    char buf[65536];
    ssize_t n;

    if (d->image_fd < 0)
        return 0;
    n = pread(d->image_fd, buf, sizeof(buf), 0);
    if (n < 0)
        return -errno;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i]) {
            snprintf(d->last_error, sizeof(d->last_error),
                     "'%s' is not an ISO 9660 image (no volume descriptor at block 16); "
                     "refusing to use it as a disc: name an ISO image or a new file",
                     d->image_path);
            return -EMEDIUMTYPE;
        }
    return 0;
}

/* The drive stays acquired from here to dfs_disc_unload(), i.e. for the life of a
 * mount (released and grabbed again only around the re-import after a commit):
 * libburn's grab is exclusive and sends PREVENT MEDIUM REMOVAL, so the tray is
 * locked and no other libburn program writes in between.  That does not stop a
 * forced eject or swap: dfs_disc_check_identity() re-assesses before every write. */
/* A failure of dfs_disc_load(), told unless the caller tells it (d->quiet) */
static void say(const struct dfs_disc *d)
{
    if (!d->quiet)
        dfs_tell(d);
}

int dfs_disc_load(struct dfs_disc *d)
{
    struct isoburn_read_opts *ro = NULL;
    enum burn_disc_status st;
    int profile = 0, ret, err, older_ok, newest_bad = 0;
    char what[600], not_iso[sizeof(d->last_error)] = "";

    snprintf(what, sizeof(what), "cannot open '%s'", dfs_disc_name(d));
    d->empty_tree = d->info.empty_tree = 0; /* what this load finds */
    d->tree_built = 0;
    err = dfs_check_chain(d);
    if (err) {
        say(d);
        return err;
    }
    /* bit5|bit6: attributes of staged files come from the view, not from the cache
     * files' own ACL/xattrs. */
    ret = isoburn_drive_aquire(&d->dinfo, d->adr, 1 | 32 | 64);
    if (ret <= 0) {
        d->dinfo = NULL;
        return dfs_lib_error(d, ret == 0 ? -ENODEV : -EIO, what);
    }
    d->drive = d->dinfo[0].drive;
    burn_disc_get_profile(d->drive, &profile, d->info.profile);
    d->info.emulated = isoburn_needs_emulation(d->drive) == 1;
    /* a write-once disc whose newest session cannot be read shows an older one */
    older_ok = !d->image_path && !d->info.emulated && !d->want_session;
    st = isoburn_disc_get_status(d->drive);
    switch (st) {
    case BURN_DISC_BLANK:
        d->info.state = DFS_MEDIA_BLANK;
        err = check_blank_image(d);
        if (err) {
            say(d);
            goto out_release;
        }
        break;
    case BURN_DISC_APPENDABLE:
        d->info.state = DFS_MEDIA_APPENDABLE;
        break;
    case BURN_DISC_FULL:
        d->info.state = DFS_MEDIA_CLOSED;
        break;
    case BURN_DISC_EMPTY:
        snprintf(d->last_error, sizeof(d->last_error),
                 "no disc in '%s': insert a disc and mount again", d->adr);
        say(d);
        err = -ENOMEDIUM;
        goto out_release;
    default:
        snprintf(d->last_error, sizeof(d->last_error),
                 "the medium in '%s' is not usable for ISO 9660 sessions (%s)", d->adr,
                 d->info.profile);
        say(d);
        err = -EMEDIUMTYPE;
        goto out_release;
    }
    /* a write cut short (power loss, a crash) leaves a damaged track that no
     * session can follow: close it, the one write a mount does on its own */
    if (!d->image_path && !d->info.emulated && st == BURN_DISC_APPENDABLE && !d->probe &&
        dfs_close_damaged(d) && isoburn_disc_get_status(d->drive) == BURN_DISC_FULL)
        d->info.state = DFS_MEDIA_CLOSED;
    dfs_read_toc(d);
    if (d->want_session > 0) { /* an older session was asked for (fs/main.c) */
        char num[16];
        int lba;

        snprintf(num, sizeof(num), "%d", d->want_session);
        if (isoburn_set_msc1(d->drive, 1, num, 0) <= 0 ||
            isoburn_disc_get_msc1(d->drive, &lba) <= 0) {
            snprintf(what, sizeof(what), "cannot find session %d of '%s'", d->want_session,
                     dfs_disc_name(d));
            err = dfs_lib_error(d, -EIO, what);
            goto out_release;
        }
        d->info.msc1 = (uint32_t)lba;
    }
    if (d->info.state != DFS_MEDIA_BLANK && d->want_session >= 0) {
        err = dfs_check_iso(d);
        if (err && older_ok && d->info.sessions >= 2) {
            newest_bad = 1; /* no volume descriptor where it starts: an older one is shown */
            snprintf(not_iso, sizeof(not_iso), "%s", d->last_error);
            err = 0;
        } else if (err) {
            say(d);
            goto out_release;
        }
    }
    if (d->toc_only) /* a table of contents of ISO 9660 sessions is all a probe wants */
        return 0;

    if (isoburn_ropt_new(&ro, 0) <= 0) {
        err = dfs_lib_error(d, -ENOMEM, what);
        goto out_release;
    }
    /* AAIP (xattr, ACL) and the MD5 array are loaded; the session tag check is left
     * to verification (it reads the tree twice). */
    isoburn_ropt_set_extensions(ro, isoburn_ropt_noiso1999 | isoburn_ropt_nomd5tag |
                                        isoburn_ropt_map_stripped | isoburn_ropt_joliet_stripped);
    isoburn_ropt_set_default_perms(ro, 0, 0, 0444);
    /* an image file is read through the page cache: libisoburn's own cache (32 tiles
     * of 32 blocks, 2 MiB kept as long as the image is) adds nothing there (its
     * documentation says so) but resident memory; one tile is enough */
    if (d->image_path)
        isoburn_ropt_set_data_cache(ro, 1, 32, 0);
    ret = newest_bad || d->want_session < 0 ? 0 : isoburn_read_image(d->drive, ro, &d->image);
    if (ret <= 0 && older_ok)
        ret = dfs_read_older_session(d, ro);
    if (ret <= 0 && newest_bad) { /* no session of ISO 9660 at all */
        isoburn_ropt_destroy(&ro, 0);
        snprintf(d->last_error, sizeof(d->last_error), "%s", not_iso);
        say(d);
        err = -EMEDIUMTYPE;
        goto out_release;
    }
    if (ret <= 0 && ((!d->image_path && !d->info.emulated && !d->want_session &&
                      d->info.state == DFS_MEDIA_APPENDABLE) ||
                     d->want_session < 0)) {
        /* not one session can be read (the first burn of a blank disc failed), or
         * the blank disc before the first session was asked for: show the empty
         * tree the disc had (and find its stage, dfs_identify()); new sessions go after
         * all of them */
        dfs_lib_error(d, 0, NULL);
        isoburn_ropt_set_extensions(ro, isoburn_ropt_pretend_blank);
        d->image = NULL;
        ret = isoburn_read_image(d->drive, ro, &d->image);
        if (ret > 0) {
            d->empty_tree = d->info.empty_tree = 1;
            if (!d->want_session && !d->quiet)
                fprintf(stderr,
                        "discfs: no session of '%s' can be read (the first burn failed?): "
                        "showing an empty disc; new sessions go after the broken one\n",
                        d->adr);
        }
    }
    isoburn_ropt_destroy(&ro, 0);
    if (ret <= 0) {
        d->image = NULL;
        snprintf(what, sizeof(what), "cannot read the ISO 9660 tree of '%s'", dfs_disc_name(d));
        err = dfs_lib_error(d, -EIO, what);
        if (d->info.state != DFS_MEDIA_BLANK)
            err = -EMEDIUMTYPE;
        goto out_release;
    }
    if (d->info.state == DFS_MEDIA_BLANK)
        iso_image_set_volume_id(d->image, "DISCFS");
    snprintf(d->info.volid, sizeof(d->info.volid), "%s",
             iso_image_get_volume_id(d->image) ? iso_image_get_volume_id(d->image) : "");
    dfs_space_load(d);
    err = dfs_identify(d, d->info.fingerprint, d->desc, sizeof(d->desc));
    snprintf(d->info.stage_key, sizeof(d->info.stage_key), "%s", d->key_scratch);
    if (err) {
        dfs_lib_error(d, err, what);
        goto out_image;
    }
    dfs_lib_error(d, 0, NULL);
    return 0;

out_image:
    iso_image_unref(d->image);
    d->image = NULL;
out_release:
    isoburn_drive_release(d->drive, 0);
    burn_drive_info_free(d->dinfo);
    d->dinfo = NULL;
    d->drive = NULL;
    return err;
}

void dfs_disc_unload(struct dfs_disc *d)
{
    if (d->image)
        iso_image_unref(d->image);
    d->image = NULL;
    if (d->drive) {
        isoburn_drive_release(d->drive, 0);
        burn_drive_info_free(d->dinfo);
    }
    d->drive = NULL;
    d->dinfo = NULL;
}

struct dfs_disc *dfs_disc_new(void)
{
    struct dfs_disc *d = calloc(1, sizeof(*d));
    pthread_mutexattr_t a;

    if (!d)
        return NULL;
    d->image_fd = -1;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&d->read_lock, &a);
    pthread_mutexattr_destroy(&a);
    return d;
}

int dfs_disc_open(const char *device, struct dfs_disc **out)
{
    struct dfs_disc *d = dfs_disc_new();
    int err;

    if (!d)
        return -ENOMEM;
    err = parse_device(d, device);
    if (!err)
        err = dfs_disc_load(d);
    if (err) {
        *out = d; /* the caller may read last_error, then close */
        return err;
    }
    *out = d;
    return 0;
}

int dfs_disc_probe(const char *device, struct dfs_disc **out)
{
    struct dfs_disc *d = dfs_disc_new();
    int err;

    *out = d;
    if (!d)
        return -ENOMEM;
    d->probe = d->quiet = d->toc_only = 1;
    err = parse_device(d, device);
    return err ? err : dfs_disc_load(d);
}

int dfs_disc_open_readonly(const char *device, struct dfs_disc **out)
{
    struct dfs_disc *d = dfs_disc_new();
    int err;

    *out = d;
    if (!d)
        return -ENOMEM;
    d->probe = 1;
    err = parse_device(d, device);
    return err ? err : dfs_disc_load(d);
}

const char *dfs_disc_image_path(const struct dfs_disc *d)
{
    return d->image_path;
}

void dfs_disc_close(struct dfs_disc *d)
{
    if (!d)
        return;
    dfs_disc_unload(d);
    if (d->image_fd >= 0) {
        struct stat st;
        /* a file made for a blank disc that got no session goes again */
        if (d->image_created && fstat(d->image_fd, &st) == 0 && st.st_size == 0 &&
            image_path_is_ours(d))
            unlink(d->image_path);
        close(d->image_fd);
    }
    pthread_mutex_destroy(&d->read_lock);
    free(d->adr);
    free(d->image_path);
    free(d);
}

const struct dfs_disc_info *dfs_disc_get_info(const struct dfs_disc *d)
{
    return &d->info;
}

uint64_t dfs_disc_free_blocks(struct dfs_disc *d)
{
    if (d->image_path) {
        struct statvfs sv;
        char dir[PATH_MAX], *slash;

        snprintf(dir, sizeof(dir), "%s", d->image_path);
        slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        if (statvfs(dir, &sv) < 0)
            return 0;
        return (uint64_t)sv.f_bavail * sv.f_frsize / 2048;
    }
    return d->free_blocks;
}

void dfs_disc_set_close(struct dfs_disc *d, int close)
{
    d->close = close;
}

const char *dfs_disc_last_error(const struct dfs_disc *d)
{
    return d ? d->last_error : "";
}

int dfs_disc_load_session(struct dfs_disc *d, int number)
{
    int err;

    pthread_mutex_lock(&d->read_lock);
    dfs_disc_unload(d);
    d->want_session = number;
    err = dfs_disc_load(d);
    pthread_mutex_unlock(&d->read_lock);
    return err;
}

void dfs_crash_point(const char *name)
{
    const char *want = getenv("DISCFS_TEST_CRASH");

    if (want && strcmp(want, name) == 0)
        raise(SIGKILL);
}

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
    /* Byte-exact Rock Ridge names: every byte but '/' and NUL survives
     * (reference/libisofs.md pitfall 4).  Joliet names of non-ASCII bytes are
     * therefore Latin-1 interpretations. */
    iso_set_local_charset("ISO-8859-1", 0);
    return 0;
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

int dfs_lib_error(struct dfs_disc *d, int err, const char *what)
{
    char text[4096], sev[80], best[4096] = "";
    int code, os_errno, imgid, best_rank = -1;

    /* err == 0 and no subject: the operation went well, its notes are dropped */
    int quiet = err == 0 && !what;

    while (burn_msgs_obtain("ALL", &code, text, &os_errno, sev) > 0) {
        if (!quiet)
            fprintf(stderr, "discfs: libburn %s: %s\n", sev, text);
        if (rank(sev) >= best_rank) {
            best_rank = rank(sev);
            snprintf(best, sizeof(best), "%s", text);
        }
    }
    while (iso_obtain_msgs("ALL", &code, &imgid, text, sev) > 0) {
        if (!quiet)
            fprintf(stderr, "discfs: libisofs %s: %s\n", sev, text);
        if (rank(sev) >= best_rank) {
            best_rank = rank(sev);
            snprintf(best, sizeof(best), "%s", text);
        }
    }
    if (err < 0 && what) {
        if (best[0])
            fprintf(stderr, "discfs: %s: %s\n", what, best);
        else
            fprintf(stderr, "discfs: %s: %s\n", what, strerror(-err));
        if (d)
            snprintf(d->last_error, sizeof(d->last_error), "%s: %s", what,
                     best[0] ? best : strerror(-err));
    }
    return err;
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
 * written even if the path is renamed or replaced meanwhile (check_image_path()).
 * A missing file is created empty (a blank disc), and removed again at unmount if
 * it is still empty.  The open file is locked: one mount per image, whatever the
 * cache (DESIGN.md, Identity). */
static int open_image(struct dfs_disc *d)
{
    struct stat st;

    d->image_fd = open(d->image_path, O_RDWR | O_CLOEXEC);
    if (d->image_fd < 0 && errno == ENOENT) {
        d->image_fd = open(d->image_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        d->image_created = d->image_fd >= 0;
    }
    if (d->image_fd < 0 && (errno == EACCES || errno == EROFS))
        d->image_fd = open(d->image_path, O_RDONLY | O_CLOEXEC); /* mounted read-only */
    if (d->image_fd < 0) {
        int err = -errno;
        snprintf(d->last_error, sizeof(d->last_error), "cannot open '%s': %s", d->image_path,
                 strerror(-err));
        fprintf(stderr, "discfs: %s\n", d->last_error);
        return err;
    }
    if (fstat(d->image_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(d->last_error, sizeof(d->last_error),
                 "'%s' is not a regular file: name an ISO image file, or a drive as /dev/srN "
                 "or mmc:PATH",
                 d->image_path);
        fprintf(stderr, "discfs: %s\n", d->last_error);
        return -EINVAL;
    }
    d->image_dev = st.st_dev;
    d->image_ino = st.st_ino;
    if (flock(d->image_fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
        snprintf(d->last_error, sizeof(d->last_error),
                 "'%s' is in use by another discfs mount (pid %ld): one mount per image, "
                 "whatever the cache; unmount it first",
                 d->image_path, lock_holder(&st));
        fprintf(stderr, "discfs: %s\n", d->last_error);
        return -EBUSY;
    }
    return asprintf(&d->adr, "stdio:/dev/fd/%d", d->image_fd) < 0 ? -ENOMEM : 0;
}

/* The path of the image still names the file that is mounted (0), or -EIO with the
 * reason in last_error: nothing may be written then (DESIGN.md, Identity). */
static int image_path_is_ours(const struct dfs_disc *d)
{
    struct stat st;

    return stat(d->image_path, &st) == 0 && st.st_dev == d->image_dev && st.st_ino == d->image_ino;
}

static int check_image_path(struct dfs_disc *d)
{
    struct stat st;

    if (image_path_is_ours(d))
        return 0;
    snprintf(d->last_error, sizeof(d->last_error),
             "the image '%s' was %s since it was mounted; nothing was written: put the mounted "
             "image back under that name and sync again, or unmount to give up the changes",
             d->image_path,
             stat(d->image_path, &st) == 0 ? "replaced by another file" : "moved or removed");
    fprintf(stderr, "discfs: %s\n", d->last_error);
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

/* A written medium must have an ISO 9660 primary volume descriptor where its newest
 * session starts (audio, UDF-only and garbage have none): refuse it otherwise. */
static int check_iso(struct dfs_disc *d)
{
    unsigned char pvd[2048];
    int err = dfs_disc_read_blocks(d, d->info.msc1 + 16, pvd, 1);

    if ((err || pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) != 0) && !d->image_path) {
        snprintf(d->last_error, sizeof(d->last_error),
                 "the disc in '%s' has no ISO 9660 session (no volume descriptor at block "
                 "%u; audio, UDF or raw data?): discfs mounts blank and ISO 9660 discs only",
                 d->adr, d->info.msc1 + 16);
        return -EMEDIUMTYPE;
    }
    if (err || pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) != 0) {
        snprintf(d->last_error, sizeof(d->last_error),
                 "'%s' is not an ISO 9660 image (no volume descriptor at block %u); refusing "
                 "to use it as a disc: name an ISO image or a new file",
                 d->image_path ? d->image_path : d->adr, d->info.msc1 + 16);
        return -EMEDIUMTYPE;
    }
    return 0;
}

static void hex(const unsigned char *in, int n, char *out)
{
    for (int i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

/* What libburn says about the medium in a (non-emulated) drive right now: its
 * cached answers are refreshed by burn_drive_re_assess() only. */
static void fresh_toc(struct dfs_disc *d, int *sessions, uint32_t *msc1, uint32_t *nwa)
{
    struct burn_disc *disc = burn_drive_get_disc(d->drive);
    struct burn_write_opts *wo;
    int n = 0, lba = 0, next = 0;

    *sessions = 0;
    *msc1 = 0;
    *nwa = 0;
    if (disc) {
        burn_disc_get_sessions(disc, &n);
        *sessions = n;
        burn_disc_free(disc);
    }
    if (burn_disc_get_msc1(d->drive, &lba) > 0 && lba > 0)
        *msc1 = (uint32_t)lba;
    if (burn_disc_get_status(d->drive) != BURN_DISC_APPENDABLE)
        return;
    wo = burn_write_opts_new(d->drive);
    if (wo) {
        if (burn_disc_track_lba_nwa(d->drive, wo, 0, &lba, &next) > 0)
            *nwa = (uint32_t)next;
        burn_write_opts_free(wo);
    }
}

/* libburn's status of a medium as a media state, -1 for none that is usable */
static int media_state(enum burn_disc_status st)
{
    switch (st) {
    case BURN_DISC_BLANK:
        return DFS_MEDIA_BLANK;
    case BURN_DISC_APPENDABLE:
        return DFS_MEDIA_APPENDABLE;
    case BURN_DISC_FULL:
        return DFS_MEDIA_CLOSED;
    default:
        return -1;
    }
}

/* DESIGN.md, Identity: the fingerprint of the medium in the drive (hex MD5 into
 * FP) and a description of it for messages (DESC).  Assembled from the media
 * profile, media id and CD disc id (drives), the session count, msc1 and the next
 * writable address, and the volume descriptors of the newest session (on emulated
 * media also the superblock at block 16 that every session rewrites).  On
 * sequential drives the figures come fresh from libburn (after
 * burn_drive_re_assess they describe whatever disc is in the drive); on emulated
 * media they are libisoburn's, and the descriptors read now tell the discs apart.
 * Any blank disc has the same fingerprint. */
/* The medium as identities and messages name it. */
static void media_name(struct dfs_disc *d, char *media, size_t size)
{
    char *product = NULL, *c1 = NULL, *c2 = NULL, *book = NULL, type[80], bar[9];
    int profile = 0, app = 0, valid = 0;
    unsigned int disc_id = 0;

    if (d->image_path) {
        snprintf(media, size, "image file");
        return;
    }
    burn_disc_get_profile(d->drive, &profile, type);
    if (burn_disc_get_media_id(d->drive, &product, &c1, &c2, &book, 0) > 0)
        snprintf(media, size, "%s %s", type, product ? product : "");
    else
        snprintf(media, size, "%s", type);
    free(product);
    free(book);
    free(c1);
    free(c2);
    if (burn_disc_get_cd_info(d->drive, type, &disc_id, bar, &app, &valid) > 0 && (valid & 1))
        snprintf(media + strlen(media), size - strlen(media), " disc id %08x", disc_id);
}

/* The stage key of the session that starts at MSC1 (DESIGN.md, Identity): the MD5
 * of the medium, msc1 and the session's volume descriptor, leaving out what a
 * failed write changes (session count, NWA).  A blank disc's key (MSC1 == UINT32_MAX)
 * is "blank" and, for an image file, its path. */
static int session_key(struct dfs_disc *d, const char *media, uint32_t msc1, char key[65])
{
    void *ctx = NULL; /* iso_md5_start() frees a non-NULL context */
    unsigned char pvd[2048];
    char head[512], md5[16];
    int err = 0;

    if (iso_md5_start(&ctx) < 0)
        return -ENOMEM;
    if (msc1 == UINT32_MAX) {
        iso_md5_compute(ctx, "blank", 5);
        if (d->image_path)
            iso_md5_compute(ctx, d->image_path, (int)strlen(d->image_path));
    } else {
        snprintf(head, sizeof(head), "%s|%u|", media, msc1);
        iso_md5_compute(ctx, head, strlen(head));
        err = dfs_disc_read_blocks(d, msc1 + 16, pvd, 1);
        if (!err)
            iso_md5_compute(ctx, (char *)pvd, sizeof(pvd));
    }
    iso_md5_end(&ctx, md5);
    hex((unsigned char *)md5, 16, key);
    return err;
}

/* DESIGN.md, Identity: the fingerprint of the medium in the drive (hex MD5 into
 * FP) and a description of it for messages (DESC).  Assembled from the media
 * profile, media id and CD disc id (drives), the session count, msc1 and the next
 * writable address, and the volume descriptors of the newest session (on emulated
 * media also the superblock at block 16 that every session rewrites).  On
 * sequential drives the figures come fresh from libburn (after
 * burn_drive_re_assess they describe whatever disc is in the drive); on emulated
 * media they are libisoburn's, and the descriptors read now tell the discs apart.
 * Any blank disc has the same fingerprint.  Also sets d->key_scratch, the stage
 * key of the session that is loaded (d->info.msc1: not the newest one, when that
 * cannot be read or another one was asked for). */
static int identify(struct dfs_disc *d, char fp[65], char *desc, size_t desc_size)
{
    void *ctx = NULL; /* iso_md5_start() frees a non-NULL context */
    char md5[16], head[512], media[200] = "", volid[33] = "";
    unsigned char pvd[2048];
    enum dfs_media_state state = d->info.state;
    int sessions = d->info.sessions;
    uint32_t msc1 = d->info.msc1, nwa = d->info.nwa;
    int err;

    if (!d->image_path && !d->info.emulated) {
        int s = media_state(burn_disc_get_status(d->drive));
        if (s < 0) {
            snprintf(fp, 65, "none");
            snprintf(desc, desc_size, "no usable disc");
            return 0;
        }
        state = (enum dfs_media_state)s;
        fresh_toc(d, &sessions, &msc1, &nwa);
    }
    media_name(d, media, sizeof(media));
    if (iso_md5_start(&ctx) < 0)
        return -ENOMEM;
    if (state == DFS_MEDIA_BLANK && d->info.emulated && !d->image_path &&
        dfs_disc_read_blocks(d, 16, pvd, 1) == 0 && memcmp(pvd + 1, "CD001", 5) == 0)
        state = DFS_MEDIA_APPENDABLE; /* libisoburn's blank, but it has a session now */
    if (state == DFS_MEDIA_BLANK || d->empty_tree) {
        if (state != DFS_MEDIA_BLANK) { /* identity: the broken session counts */
            snprintf(head, sizeof(head), "%s|%d|%u|%u|", media, sessions, msc1, nwa);
            iso_md5_compute(ctx, head, strlen(head));
        }
        /* an image file is also known by its path: two new image files are two
         * discs (and two stages), while any blank disc in a drive is as good as another */
        iso_md5_compute(ctx, "blank", 5);
        if (d->image_path)
            iso_md5_compute(ctx, d->image_path, (int)strlen(d->image_path));
        iso_md5_end(&ctx, md5);
        hex((unsigned char *)md5, 16, fp);
        /* the stage key of a blank disc, also after a failed first burn */
        session_key(d, media, UINT32_MAX, d->key_scratch);
        snprintf(desc, desc_size, "%s %s", state == DFS_MEDIA_BLANK ? "a blank" : "an unreadable",
                 media);
        return 0;
    }
    snprintf(head, sizeof(head), "%s|%d|%u|%u|", media, sessions, msc1, nwa);
    iso_md5_compute(ctx, head, strlen(head));
    err = dfs_disc_read_blocks(d, msc1 + 16, pvd, 1);
    if (!err) {
        iso_md5_compute(ctx, (char *)pvd, sizeof(pvd));
        if (pvd[0] == 1 && memcmp(pvd + 1, "CD001", 5) == 0) {
            memcpy(volid, pvd + 40, 32);
            for (int i = 31; i >= 0 && (volid[i] == ' ' || volid[i] == '\0'); i--)
                volid[i] = '\0';
        }
        if (d->info.emulated && msc1 != 0)
            err = dfs_disc_read_blocks(d, 16, pvd, 1);
        if (!err)
            iso_md5_compute(ctx, (char *)pvd, sizeof(pvd));
    }
    iso_md5_end(&ctx, md5);
    hex((unsigned char *)md5, 16, fp);
    if (!err)
        err = session_key(d, media, d->info.msc1, d->key_scratch);
    if (err)
        return err;
    snprintf(desc, desc_size, "%s, %d session%s, newest at block %u, volume '%s'", media, sessions,
             sessions == 1 ? "" : "s", msc1, volid);
    return 0;
}

static int read_toc(struct dfs_disc *d)
{
    struct isoburn_toc_disc *toc;
    struct isoburn_toc_session **sess;
    int n = 0, lba, nwa;
    struct burn_write_opts *wo;

    d->info.sessions = 0;
    d->info.msc1 = 0;
    toc = isoburn_toc_drive_get_disc(d->drive);
    if (toc) {
        sess = isoburn_toc_disc_get_sessions(toc, &n);
        if (sess && n > 0) {
            struct isoburn_toc_track **tr;
            int nt = 0;
            tr = isoburn_toc_session_get_tracks(sess[n - 1], &nt);
            if (tr && nt > 0) {
                struct burn_toc_entry e;
                isoburn_toc_track_get_entry(tr[0], &e);
                if (e.extensions_valid & 1)
                    d->info.msc1 = e.start_lba;
            }
        }
        d->info.sessions = n;
        isoburn_toc_disc_free(toc);
    }
    if (isoburn_disc_get_msc1(d->drive, &lba) > 0 && lba > 0)
        d->info.msc1 = lba;
    d->info.nwa = 0;
    wo = burn_write_opts_new(d->drive);
    if (wo) {
        if (isoburn_disc_track_lba_nwa(d->drive, wo, 0, &lba, &nwa) > 0)
            d->info.nwa = nwa;
        if (d->info.state != DFS_MEDIA_CLOSED)
            d->free_blocks = (uint64_t)isoburn_disc_available_space(d->drive, wo) / 2048;
        burn_write_opts_free(wo);
    }
    return 0;
}

/* A failed burn may leave the track damaged and the session open (DVD, BD: the
 * drive reports Damage and no valid NWA; so does a write cut by a power loss).
 * Close them, as xorriso's -close_damaged does, so that the next session can
 * follow (reference/libburn.md §5).  Returns 1 if a damaged track was closed. */
static int close_damaged(struct dfs_disc *d)
{
    struct burn_write_opts *wo = burn_write_opts_new(d->drive);
    int lba, nwa, closed = 0;

    if (!wo)
        return 0;
    burn_write_opts_set_write_type(wo, BURN_WRITE_TAO, BURN_BLOCK_MODE1);
    burn_write_opts_set_simulate(wo, 0);
    burn_write_opts_set_multi(wo, !d->close);
    burn_disc_track_lba_nwa(d->drive, wo, 0, &lba, &nwa); /* sets the damage state */
    if (burn_disc_next_track_is_damaged(d->drive, 0) & 1) {
        if (burn_disc_close_damaged(wo, 0) <= 0) {
            dfs_lib_error(d, -EIO, "cannot close the track damaged by an interrupted write");
        } else {
            fprintf(stderr,
                    "discfs: closed the track that an interrupted write left damaged on '%s' "
                    "(its blocks are lost) so that sessions can follow\n",
                    d->adr);
            closed = 1;
        }
        burn_drive_re_assess(d->drive, 0);
    }
    burn_write_opts_free(wo);
    return closed;
}

/* The newest session of a write-once disc cannot be read: a write that failed
 * or was cut short (its tree points at blocks that were never written).  Mount
 * the newest older session that can be read; new sessions still go after all of
 * them.  Returns what isoburn_read_image() returned for the one found. */
static int read_older_session(struct dfs_disc *d, struct isoburn_read_opts *ro)
{
    char num[16];
    int ret = 0, lba;

    dfs_lib_error(d, 0, NULL); /* the failure of the newest session: reported below */
    for (int n = d->info.sessions - 1; n >= 1 && ret <= 0; n--) {
        snprintf(num, sizeof(num), "%d", n);
        if (isoburn_set_msc1(d->drive, 1, num, 0) <= 0 ||
            isoburn_disc_get_msc1(d->drive, &lba) <= 0)
            break;
        d->info.msc1 = (uint32_t)lba;
        if (check_iso(d) != 0)
            continue;
        d->image = NULL;
        ret = isoburn_read_image(d->drive, ro, &d->image);
        dfs_lib_error(d, 0, NULL);
        if (ret > 0)
            fprintf(stderr,
                    "discfs: the newest session of '%s' cannot be read (a write that failed or "
                    "was cut short?): showing session %d of %d, the newest readable one; new "
                    "sessions still go after all of them\n",
                    d->adr, n, d->info.sessions);
    }
    d->last_error[0] = '\0';
    return ret;
}

/* The drive stays acquired from here to dfs_disc_unload(), i.e. for the life of a
 * mount (released and grabbed again only around the re-import after a commit):
 * libburn's grab is exclusive and sends PREVENT MEDIUM REMOVAL, so the tray is
 * locked and no other libburn program writes in between.  That does not stop a
 * forced eject or swap: dfs_disc_check_identity() re-assesses before every write. */
int dfs_disc_load(struct dfs_disc *d)
{
    struct isoburn_read_opts *ro = NULL;
    enum burn_disc_status st;
    int profile = 0, ret, err, older_ok, newest_bad = 0;
    char what[600];

    snprintf(what, sizeof(what), "cannot open '%s'", d->image_path ? d->image_path : d->adr);
    d->empty_tree = d->info.empty_tree = 0; /* what this load finds */
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
            fprintf(stderr, "discfs: %s\n", d->last_error);
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
        fprintf(stderr, "discfs: %s\n", d->last_error);
        err = -ENOMEDIUM;
        goto out_release;
    default:
        snprintf(d->last_error, sizeof(d->last_error),
                 "the medium in '%s' is not usable for ISO 9660 sessions (%s)", d->adr,
                 d->info.profile);
        fprintf(stderr, "discfs: %s\n", d->last_error);
        err = -EMEDIUMTYPE;
        goto out_release;
    }
    /* a write cut short (power loss, a crash) leaves a damaged track that no
     * session can follow: close it, the one write a mount does on its own */
    if (!d->image_path && !d->info.emulated && st == BURN_DISC_APPENDABLE && close_damaged(d) &&
        isoburn_disc_get_status(d->drive) == BURN_DISC_FULL)
        d->info.state = DFS_MEDIA_CLOSED;
    read_toc(d);
    if (d->want_session > 0) { /* an older session was asked for (fs/main.c) */
        char num[16];
        int lba;

        snprintf(num, sizeof(num), "%d", d->want_session);
        if (isoburn_set_msc1(d->drive, 1, num, 0) <= 0 ||
            isoburn_disc_get_msc1(d->drive, &lba) <= 0) {
            snprintf(what, sizeof(what), "cannot find session %d of '%s'", d->want_session,
                     d->image_path ? d->image_path : d->adr);
            err = dfs_lib_error(d, -EIO, what);
            goto out_release;
        }
        d->info.msc1 = (uint32_t)lba;
    }
    if (d->info.state != DFS_MEDIA_BLANK && d->want_session >= 0) {
        err = check_iso(d);
        if (err && older_ok) {
            newest_bad = 1; /* no volume descriptor where it starts: an older one is shown */
            err = 0;
        } else if (err) {
            fprintf(stderr, "discfs: %s\n", d->last_error);
            goto out_release;
        }
    }

    if (isoburn_ropt_new(&ro, 0) <= 0) {
        err = dfs_lib_error(d, -ENOMEM, what);
        goto out_release;
    }
    /* AAIP (xattr, ACL) and the MD5 array are loaded; the session tag check is left
     * to verification (it reads the tree twice). */
    isoburn_ropt_set_extensions(ro, isoburn_ropt_noiso1999 | isoburn_ropt_nomd5tag |
                                        isoburn_ropt_map_stripped | isoburn_ropt_joliet_stripped);
    isoburn_ropt_set_default_perms(ro, 0, 0, 0444);
    ret = newest_bad || d->want_session < 0 ? 0 : isoburn_read_image(d->drive, ro, &d->image);
    if (ret <= 0 && older_ok)
        ret = read_older_session(d, ro);
    if (ret <= 0 && ((!d->image_path && !d->info.emulated && !d->want_session &&
                      d->info.state == DFS_MEDIA_APPENDABLE) ||
                     d->want_session < 0)) {
        /* not one session can be read (the first burn of a blank disc failed), or
         * the blank disc before the first session was asked for: show the empty
         * tree the disc had (and find its stage, identify()); new sessions go after
         * all of them */
        dfs_lib_error(d, 0, NULL);
        isoburn_ropt_set_extensions(ro, isoburn_ropt_pretend_blank);
        d->image = NULL;
        ret = isoburn_read_image(d->drive, ro, &d->image);
        if (ret > 0) {
            d->empty_tree = d->info.empty_tree = 1;
            if (!d->want_session)
                fprintf(stderr,
                        "discfs: no session of '%s' can be read (the first burn failed?): "
                        "showing an empty disc; new sessions go after the broken one\n",
                        d->adr);
        }
    }
    isoburn_ropt_destroy(&ro, 0);
    if (ret <= 0) {
        d->image = NULL;
        snprintf(what, sizeof(what), "cannot read the ISO 9660 tree of '%s'",
                 d->image_path ? d->image_path : d->adr);
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
    err = identify(d, d->info.fingerprint, d->desc, sizeof(d->desc));
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

int dfs_disc_open(const char *device, struct dfs_disc **out)
{
    struct dfs_disc *d = calloc(1, sizeof(*d));
    int err;

    if (!d)
        return -ENOMEM;
    d->image_fd = -1;
    {
        pthread_mutexattr_t a;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&d->read_lock, &a);
        pthread_mutexattr_destroy(&a);
    }
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

int dfs_disc_read_blocks(struct dfs_disc *d, uint32_t lba, void *buf, int count)
{
    if (d->image_path) {
        size_t want = (size_t)count * 2048, got = 0;
        if (d->image_fd < 0)
            return -EIO;
        while (got < want) {
            ssize_t n =
                pread(d->image_fd, (char *)buf + got, want - got, (off_t)lba * 2048 + (off_t)got);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            if (n == 0) { /* past the end of the file: reads as zeros */
                memset((char *)buf + got, 0, want - got);
                break;
            }
            got += (size_t)n;
        }
        return 0;
    }
    {
        off_t done = 0;
        int ret;

        pthread_mutex_lock(&d->read_lock);
        if (d->info.lost || !d->drive) {
            /* another disc is in the drive (found by the last identity check), or
             * the re-import after a commit failed: never hand out its bytes */
            pthread_mutex_unlock(&d->read_lock);
            return -EIO;
        }
        ret = burn_read_data(d->drive, (off_t)lba * 2048, buf, (off_t)count * 2048, &done, 2);
        pthread_mutex_unlock(&d->read_lock);
        if (ret <= 0)
            return dfs_lib_error(d, -EIO, "cannot read from the disc");
        return 0;
    }
}

int dfs_disc_check_identity(struct dfs_disc *d)
{
    char fp[65], desc[sizeof(d->desc)];
    int err;

    if (!d->drive)
        return -EIO;
    /* libburn retries UNIT ATTENTION silently and answers from its cache: only a
     * re-assessment sees another disc (reference/libburn.md §4) */
    if (!d->image_path && burn_drive_re_assess(d->drive, 0) <= 0) {
        d->info.lost = 1;
        return dfs_lib_error(d, -EIO, "cannot re-assess the disc in the drive");
    }
    if (d->image_path && check_image_path(d))
        return -EIO;
    d->info.lost = 0; /* let identify() read the disc now in the drive */
    err = identify(d, fp, desc, sizeof(desc));
    if (err) {
        snprintf(fp, sizeof(fp), "unreadable");
        snprintf(desc, sizeof(desc), "a disc whose newest session cannot be read");
    }
    dfs_lib_error(d, 0, NULL);
    if (strcmp(fp, d->info.fingerprint) == 0)
        return 0;
    d->info.lost = 1;
    if (d->image_path)
        snprintf(d->last_error, sizeof(d->last_error),
                 "the image '%s' was changed by another program since it was mounted (its "
                 "volume descriptors differ); nothing was written: to keep its new sessions, "
                 "unmount and mount it again",
                 d->image_path);
    else
        snprintf(d->last_error, sizeof(d->last_error),
                 "the disc in '%s' is not the mounted one: mounted %s; in the drive now %s; "
                 "nothing was written: put the mounted disc back and sync again",
                 d->adr, d->desc, desc);
    fprintf(stderr, "discfs: %s\n", d->last_error);
    return -EIO;
}

int dfs_disc_verify(struct dfs_disc *d)
{
    int err;

    pthread_mutex_lock(&d->read_lock);
    err = dfs_disc_check_identity(d);
    pthread_mutex_unlock(&d->read_lock);
    return err;
}

void dfs_disc_after_failed_write(struct dfs_disc *d)
{
    uint32_t old_nwa = d->info.nwa;
    char fp[65];

    if (d->image_path || d->info.emulated || !d->drive)
        return; /* the superblock of emulated sessions is rewritten only at the end */
    if (burn_drive_re_assess(d->drive, 0) <= 0) {
        dfs_lib_error(d, -EIO, "cannot re-assess the disc after a failed write");
        return;
    }
    close_damaged(d);
    {
        int s = media_state(isoburn_disc_get_status(d->drive));
        if (s == DFS_MEDIA_APPENDABLE || s == DFS_MEDIA_CLOSED)
            d->info.state = (enum dfs_media_state)s;
    }
    read_toc(d);
    dfs_space_load(d);
    if (identify(d, fp, d->desc, sizeof(d->desc)) != 0) {
        snprintf(fp, sizeof(fp), "unreadable"); /* as dfs_disc_check_identity() says */
        snprintf(d->desc, sizeof(d->desc), "a disc whose newest session cannot be read");
    }
    snprintf(d->info.fingerprint, sizeof(d->info.fingerprint), "%s", fp);
    dfs_lib_error(d, 0, NULL);
    if (d->info.nwa != old_nwa)
        fprintf(stderr,
                "discfs: the failed write used blocks %u to %u of '%s'; the changes stay "
                "staged and the next commit writes them after these blocks\n",
                old_nwa, d->info.nwa ? d->info.nwa - 1 : 0, d->adr);
}

int dfs_disc_sessions(struct dfs_disc *d, struct dfs_session_ref **out)
{
    struct isoburn_toc_disc *toc;
    struct isoburn_toc_session **sess;
    struct dfs_session_ref *v = NULL;
    char media[200];
    int n = 0, count = 0, err = 0;

    *out = NULL;
    if (!d->drive)
        return -EIO;
    media_name(d, media, sizeof(media));
    pthread_mutex_lock(&d->read_lock);
    toc = isoburn_toc_drive_get_disc(d->drive);
    sess = toc ? isoburn_toc_disc_get_sessions(toc, &n) : NULL;
    if (!(v = calloc((size_t)n + 1, sizeof(*v))))
        err = -ENOMEM;
    if (!err) { /* the blank disc the first session was written on */
        v[0].number = -1;
        v[0].msc1 = UINT32_MAX;
        v[0].any_blank = !d->image_path;
        session_key(d, media, UINT32_MAX, v[0].key);
        count = 1;
    }
    for (int i = 0; i < n && sess && !err; i++) {
        struct isoburn_toc_track **tr;
        struct burn_toc_entry e;
        int nt = 0;

        tr = isoburn_toc_session_get_tracks(sess[i], &nt);
        if (!tr || nt < 1)
            continue;
        isoburn_toc_track_get_entry(tr[0], &e);
        if (!(e.extensions_valid & 1))
            continue;
        v[count].number = i + 1;
        v[count].msc1 = (uint32_t)e.start_lba;
        if (session_key(d, media, v[count].msc1, v[count].key) == 0)
            count++;
    }
    if (toc)
        isoburn_toc_disc_free(toc);
    dfs_lib_error(d, 0, NULL);
    pthread_mutex_unlock(&d->read_lock);
    if (err) {
        free(v);
        return err;
    }
    *out = v;
    return count;
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

int dfs_disc_newest_verifies(struct dfs_disc *d)
{
    struct dfs_session_ref *s = NULL;
    uint32_t tag_start, end;
    int n = dfs_disc_sessions(d, &s), ok = 0;

    /* the newest session must be the one loaded, and match its tag */
    if (n > 0 && !d->want_session && s[n - 1].msc1 == d->info.msc1) {
        pthread_mutex_lock(&d->read_lock);
        ok = dfs_session_md5(d, d->info.msc1, &tag_start, &end) == 1;
        pthread_mutex_unlock(&d->read_lock);
    }
    free(s);
    return ok;
}

void dfs_crash_point(const char *name)
{
    const char *want = getenv("DISCFS_TEST_CRASH");

    if (want && strcmp(want, name) == 0)
        raise(SIGKILL);
}

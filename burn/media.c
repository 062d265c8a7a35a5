/* burn/media.c - the medium: its state, table of contents and identity
 * (DESIGN.md, Identity), and the sessions on it */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A written medium must have an ISO 9660 primary volume descriptor where its newest
 * session starts (audio, UDF-only and garbage have none): refuse it otherwise. */
int dfs_check_iso(struct dfs_disc *d)
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
                 dfs_disc_name(d), d->info.msc1 + 16);
        return -EMEDIUMTYPE;
    }
    return dfs_check_tree(d);
}

/* The volume space size of a primary volume descriptor in BLK, as libisoburn
 * reads it (a signed int), or 0 with *FOUND 0 when BLK is none */
static int32_t pvd_blocks(const unsigned char *blk, int *found)
{
    *found = blk[0] == 1 && memcmp(blk + 1, "CD001", 5) == 0;
    return *found ? (int32_t)((uint32_t)blk[80] | (uint32_t)blk[81] << 8 | (uint32_t)blk[82] << 16 |
                              (uint32_t)blk[83] << 24)
                  : 0;
}

/* libisoburn 1.5.4 (isoburn_emulate_toc) finds the sessions of an image file by
 * following their chain from the superblock at block 16: a session starts at
 * block 32, its volume descriptor at 16 blocks past its start holds its size,
 * the next session starts after it, rounded up to 32 blocks (or 16 blocks
 * earlier, for growisofs' alignment), until the end the superblock gives.  A
 * session that claims 0 blocks (or more than 2^31, a negative int) leaves it
 * where it is, or sends it back: isoburn_drive_aquire() never returns (xorriso
 * hangs on such images too).  The chain is followed here first, the same way,
 * and the image refused if it is so. */
int dfs_check_chain(struct dfs_disc *d)
{
    unsigned char *buf;
    int64_t lba = 32, end, readable, size = 0, next16;
    int found, probe = 0, err = 0;
    struct stat st;

    if (!d->image_path || d->image_fd < 0 || fstat(d->image_fd, &st) < 0)
        return 0;
    buf = malloc(2 * 2048);
    if (!buf)
        return -ENOMEM;
    readable = st.st_size / 2048;
    if (dfs_disc_read_blocks(d, 16, buf, 1))
        goto out; /* no superblock: one session, no chain */
    end = pvd_blocks(buf, &found);
    while (lba < end) {
        /* blocks LBA and LBA + 16: zeros past the end of the file, as read */
        if (dfs_disc_read_blocks(d, (uint32_t)lba, buf, 1) ||
            dfs_disc_read_blocks(d, (uint32_t)lba + 16, buf + 2048, 1))
            break;
        found = 0;
        if (probe)
            size = pvd_blocks(buf, &found);
        if (found)
            lba -= 16; /* where growisofs' alignment puts a session */
        else
            size = pvd_blocks(buf + 2048, &found);
        if (!found)
            break; /* the chain ends (libisoburn: "broken"): the sessions so far */
        if (size <= 0) {
            snprintf(d->last_error, sizeof(d->last_error),
                     "the sessions of '%s' are damaged: the volume descriptor of the session "
                     "at block %lld claims %lld blocks; it cannot be mounted (libisoburn would "
                     "search for the next session for ever)",
                     d->image_path, (long long)lba, (long long)size);
            err = -EUCLEAN;
            break;
        }
        if (lba + size > readable)
            size = readable - lba;
        lba += size;
        next16 = (lba + 15) / 16 * 16;
        lba = (lba + 31) / 32 * 32;
        probe = lba - next16 == 16;
    }
out:
    free(buf);
    return err;
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
/* The key of the session at MSC1 whose volume descriptor block (msc1 + 16) is PVD,
 * or NULL where it cannot be read; 0 or -ENOMEM */
static int session_key_of(struct dfs_disc *d, const char *media, uint32_t msc1,
                          const unsigned char *pvd, char key[65])
{
    void *ctx = NULL; /* iso_md5_start() frees a non-NULL context */
    char head[512], md5[16];

    if (iso_md5_start(&ctx) < 0)
        return -ENOMEM;
    if (msc1 == UINT32_MAX) {
        iso_md5_compute(ctx, "blank", 5);
        if (d->image_path)
            iso_md5_compute(ctx, d->image_path, (int)strlen(d->image_path));
    } else {
        snprintf(head, sizeof(head), "%s|%u|", media, msc1);
        iso_md5_compute(ctx, head, strlen(head));
        if (pvd)
            iso_md5_compute(ctx, (char *)pvd, 2048);
        /* two images whose sessions were made in the same second can have the
         * same volume descriptors (a copy has): an image file is known by its
         * path as well, as a blank one is (two images, two stages) */
        if (d->image_path)
            iso_md5_compute(ctx, d->image_path, (int)strlen(d->image_path));
    }
    iso_md5_end(&ctx, md5);
    hex((unsigned char *)md5, 16, key);
    return 0;
}

/* The key of the session at MSC1 (UINT32_MAX: the blank disc), its volume
 * descriptor read here; -errno if it cannot be read (the key is made without it) */
static int session_key(struct dfs_disc *d, const char *media, uint32_t msc1, char key[65])
{
    unsigned char pvd[2048];
    int err = msc1 == UINT32_MAX ? 0 : dfs_disc_read_blocks(d, msc1 + 16, pvd, 1);

    int ret = session_key_of(d, media, msc1, msc1 == UINT32_MAX || err ? NULL : pvd, key);

    return err ? err : ret;
}

/* The volume id of the primary volume descriptor PVD, trailing blanks dropped */
static void pvd_volid(const unsigned char *pvd, char volid[33])
{
    memcpy(volid, pvd + 40, 32);
    volid[32] = '\0';
    for (int i = 31; i >= 0 && (volid[i] == ' ' || volid[i] == '\0'); i--)
        volid[i] = '\0';
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
int dfs_identify(struct dfs_disc *d, char fp[65], char *desc, size_t desc_size)
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
        if (pvd[0] == 1 && memcmp(pvd + 1, "CD001", 5) == 0)
            pvd_volid(pvd, volid);
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

int dfs_read_toc(struct dfs_disc *d)
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
int dfs_close_damaged(struct dfs_disc *d)
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
int dfs_read_older_session(struct dfs_disc *d, struct isoburn_read_opts *ro)
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
        if (dfs_check_iso(d) != 0)
            continue;
        d->image = NULL;
        ret = isoburn_read_image(d->drive, ro, &d->image);
        dfs_lib_error(d, 0, NULL);
        if (ret > 0 && !d->quiet)
            fprintf(stderr,
                    "discfs: the newest session of '%s' cannot be read (a write that failed or "
                    "was cut short?): showing session %d of %d, the newest readable one; new "
                    "sessions still go after all of them\n",
                    d->adr, n, d->info.sessions);
    }
    d->last_error[0] = '\0';
    return ret;
}

/* Is the medium in the drive (the image file) still the mounted one?  0 yes, 1 no
 * (DESC: what is there now), -EIO when it cannot be told (message in last_error).
 * Sets d->info.lost.  read_lock held. */
static int same_disc(struct dfs_disc *d, char *desc, size_t desc_size)
{
    char fp[65];
    int err;

    if (!d->drive)
        return -EIO;
    /* libburn retries UNIT ATTENTION silently and answers from its cache: only a
     * re-assessment sees another disc (reference/libburn.md §4) */
    if (!d->image_path && burn_drive_re_assess(d->drive, 0) <= 0) {
        __atomic_store_n(&d->info.lost, 1, __ATOMIC_RELAXED);
        return dfs_lib_error(d, -EIO, "cannot re-assess the disc in the drive");
    }
    if (d->image_path && dfs_check_image_path(d))
        return -EIO;
    __atomic_store_n(&d->info.lost, 0,
                     __ATOMIC_RELAXED); /* let dfs_identify() read the disc now in the drive */
    err = dfs_identify(d, fp, desc, desc_size);
    if (err) {
        snprintf(fp, sizeof(fp), "unreadable");
        snprintf(desc, desc_size, "a disc whose newest session cannot be read");
    }
    dfs_lib_error(d, 0, NULL);
    if (strcmp(fp, d->info.fingerprint) == 0)
        return 0;
    __atomic_store_n(&d->info.lost, 1, __ATOMIC_RELAXED);
    return 1;
}

/* A drive idle for this long is asked again before its next read of file data */
#define IDLE_NS 2000000000LL

static long long ns_since(const struct timespec *t, const struct timespec *now)
{
    return (now->tv_sec - t->tv_sec) * 1000000000LL + (now->tv_nsec - t->tv_nsec);
}

/* An image file is read through the descriptor of the file identified at mount, so
 * a move or a replacement of its path does not matter; but another program may
 * write into the file itself (xorriso appending a session, dd of another image):
 * when its size or mtime changed, its volume descriptors are compared again
 * (d->read_lock held). */
static int check_image_reads(struct dfs_disc *d, const struct timespec *now)
{
    char fp[65], desc[sizeof(d->desc)];
    int was_lost = d->info.lost;
    struct stat st;

    if (was_lost && (int64_t)now->tv_sec * 1000000000LL + now->tv_nsec -
                            __atomic_load_n(&d->image_checked_ns, __ATOMIC_RELAXED) <
                        IDLE_NS)
        return -EIO; /* looked at less than IDLE_NS ago */
    if (fstat(d->image_fd, &st) < 0)
        return 0; /* the read says what is wrong */
    if (!was_lost && st.st_size == d->image_size && st.st_mtim.tv_sec == d->image_mtim.tv_sec &&
        st.st_mtim.tv_nsec == d->image_mtim.tv_nsec) {
        __atomic_store_n(&d->image_checked_ns, (int64_t)now->tv_sec * 1000000000LL + now->tv_nsec,
                         __ATOMIC_RELAXED);
        return 0;
    }
    if (dfs_identify(d, fp, desc, sizeof(desc)) != 0)
        snprintf(fp, sizeof(fp), "unreadable");
    dfs_lib_error(d, 0, NULL);
    if (strcmp(fp, d->info.fingerprint) == 0) {
        d->image_size = st.st_size;
        d->image_mtim = st.st_mtim;
        __atomic_store_n(&d->info.lost, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&d->image_checked_ns, (int64_t)now->tv_sec * 1000000000LL + now->tv_nsec,
                         __ATOMIC_RELAXED);
        if (was_lost)
            fprintf(stderr, "discfs: the image '%s' is as it was mounted again: reads go on\n",
                    d->image_path);
        return 0;
    }
    __atomic_store_n(&d->info.lost, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&d->image_checked_ns, (int64_t)now->tv_sec * 1000000000LL + now->tv_nsec,
                     __ATOMIC_RELAXED);
    if (!was_lost)
        fprintf(stderr,
                "discfs: the image '%s' was changed by another program since it was mounted: "
                "reads of the files on it fail (EIO) until it is as it was; unmount and mount it "
                "again to see what it holds now (staged changes are kept)\n",
                d->image_path);
    return -EIO;
}

int dfs_disc_check_reads(struct dfs_disc *d)
{
    struct timespec now;
    char desc[sizeof(d->desc)];
    int was_lost = d->info.lost, ret;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (d->image_path)
        return check_image_reads(d, &now);
    if (ns_since(&d->last_read, &now) < IDLE_NS && !was_lost) {
        d->last_read = now;
        return 0;
    }
    if (was_lost && ns_since(&d->last_check, &now) < IDLE_NS)
        return -EIO;
    d->last_check = d->last_read = now;
    ret = same_disc(d, desc, sizeof(desc));
    if (ret == 0 && was_lost)
        fprintf(stderr, "discfs: the mounted disc is back in '%s': reads go on\n", d->adr);
    if (ret == 1 && !was_lost)
        fprintf(stderr,
                "discfs: the disc in '%s' is not the mounted one (mounted %s; in the drive now "
                "%s): reads of the mount fail (EIO) until the mounted disc is back; staged "
                "changes are kept\n",
                d->adr, d->desc, desc);
    else if (ret < 0 && !was_lost)
        fprintf(stderr,
                "discfs: %s: reads of the mount fail (EIO) until the mounted disc is back; "
                "staged changes are kept\n",
                d->last_error);
    return ret == 0 ? 0 : -EIO;
}

int dfs_disc_check_identity(struct dfs_disc *d)
{
    char desc[sizeof(d->desc)];
    int ret = same_disc(d, desc, sizeof(desc));

    if (ret <= 0)
        return ret;
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
    dfs_tell(d);
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
    dfs_close_damaged(d);
    {
        int s = media_state(isoburn_disc_get_status(d->drive));
        if (s == DFS_MEDIA_APPENDABLE || s == DFS_MEDIA_CLOSED)
            d->info.state = (enum dfs_media_state)s;
    }
    dfs_read_toc(d);
    dfs_space_load(d);
    if (dfs_identify(d, fp, d->desc, sizeof(d->desc)) != 0) {
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

/* The volume id and creation time of the session S, from its primary volume
 * descriptor PVD (ECMA-119 8.4.26: "YYYYMMDDHHMMSScc" and an offset from GMT in
 * 15-minute units) */
static void describe_session(const unsigned char *pvd, struct dfs_session_ref *s)
{
    const unsigned char *t = pvd + 813;
    int off;

    if (pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) != 0)
        return;
    pvd_volid(pvd, s->volid);
    for (int i = 0; i < 14; i++)
        if (t[i] < '0' || t[i] > '9')
            return;
    off = (signed char)t[16] * 15;
    snprintf(s->date, sizeof(s->date), "%.4s-%.2s-%.2s %.2s:%.2s:%.2s %c%02d%02d", t, t + 4, t + 6,
             t + 8, t + 10, t + 12, off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
}

int dfs_disc_sessions(struct dfs_disc *d, struct dfs_session_ref **out)
{
    struct isoburn_toc_disc *toc;
    struct isoburn_toc_session **sess;
    struct dfs_session_ref *v = NULL;
    unsigned char pvd[2048];
    char media[200];
    int n = 0, count = 0, err = 0;

    *out = NULL;
    /* the drive: a commit replaces d->drive (its re-import), with this lock held */
    pthread_mutex_lock(&d->read_lock);
    if (!d->drive) {
        pthread_mutex_unlock(&d->read_lock);
        return -EIO;
    }
    media_name(d, media, sizeof(media));
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
        memset(&v[count], 0, sizeof(v[count])); /* a session skipped below left it */
        v[count].number = i + 1;
        v[count].msc1 = (uint32_t)e.start_lba;
        for (int t = 0; t < nt; t++) {
            struct burn_toc_entry te;
            isoburn_toc_track_get_entry(tr[t], &te);
            if (te.extensions_valid & 1)
                v[count].blocks += (uint32_t)te.track_blocks;
        }
        /* one read of its volume descriptor for its key and its description */
        if (dfs_disc_read_blocks(d, v[count].msc1 + 16, pvd, 1) != 0 ||
            session_key_of(d, media, v[count].msc1, pvd, v[count].key) != 0)
            continue;
        describe_session(pvd, &v[count]);
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

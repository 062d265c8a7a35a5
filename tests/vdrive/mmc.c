/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MMC command set of the virtual drive, written from the MMC-5 field
 * layouts and the fields libburn reads (shared/reference/libburn.md).
 * No libburn code is copied.
 */
#include "vdrive.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VD_VENDOR "VIRTUAL "
#define VD_PRODUCT "MMC BURNER      "
#define VD_REVISION "0.1 "
#define VD_SERIAL "VD000001"
#define VD_BUFFER_BYTES (2 * 1024 * 1024)

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* LBA to MSF as CD addresses it (lead-in LBAs are negative). */
static void lba_to_msf(int32_t lba, uint8_t *msf)
{
    int32_t x = lba >= -150 ? lba + 150 : lba + 450150;

    msf[0] = (uint8_t)(x / (60 * 75));
    msf[1] = (uint8_t)(x / 75 % 60);
    msf[2] = (uint8_t)(x % 75);
}

static void sense(struct vd_req *r, int key, int asc, int ascq, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void sense(struct vd_req *r, int key, int asc, int ascq, const char *fmt, ...)
{
    va_list ap;

    r->check = 1;
    r->key = (uint8_t)key;
    r->asc = (uint8_t)asc;
    r->ascq = (uint8_t)ascq;
    r->resid = r->len;
    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(r->note, sizeof(r->note), fmt, ap);
        va_end(ap);
    }
}

static void note(struct vd_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct vd_req *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->note, sizeof(r->note), fmt, ap);
    va_end(ap);
}

/* Copy a built reply into the data buffer, truncated to the allocation. */
static void reply(struct vd_req *r, const uint8_t *data, uint32_t len, uint32_t alloc)
{
    uint32_t n = len;

    if (n > alloc)
        n = alloc;
    if (n > r->len)
        n = r->len;
    if (r->dir == VD_DIR_FROM_DEV && r->buf)
        memcpy(r->buf, data, n);
    r->resid = r->len - n;
}

/* ------------------------------------------------------------------ */
/* context and state files                                              */

void vd_ctx_init(struct vd_ctx *c, const char *dir)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->dir, sizeof(c->dir), "%s", dir);
    c->data_fd = -1;
    /* default page 05: TAO, BUFE, multi-session off, mode 1 */
    c->page05[0] = 0x05;
    c->page05[1] = 0x32;
    c->page05[2] = 0x41;
    c->page05[3] = 0x04;
    c->page05[4] = 0x08;
}

void vd_ctx_fini(struct vd_ctx *c)
{
    if (c->data_fd >= 0)
        close(c->data_fd);
    c->data_fd = -1;
}

static int same_stat(const struct stat *st, ino_t ino, const struct timespec *mt)
{
    return st->st_ino == ino && st->st_mtim.tv_sec == mt->tv_sec &&
           st->st_mtim.tv_nsec == mt->tv_nsec;
}

static void unload(struct vd_ctx *c)
{
    if (c->data_fd >= 0)
        close(c->data_fd);
    c->data_fd = -1;
    c->have_medium = 0;
    c->medium_path[0] = 0;
    c->sao_armed = 0;
}

static int load_medium(struct vd_ctx *c)
{
    char data[VD_PATH_MAX];
    struct stat st;
    int ret;

    unload(c);
    if (!c->drive.medium[0] || c->drive.tray_open)
        return 0;
    ret = vd_path(c->medium_path, sizeof(c->medium_path), c->dir, c->drive.medium, ".medium");
    if (ret < 0)
        return ret;
    if (stat(c->medium_path, &st) < 0) {
        ret = -errno;
        vd_fmt(c->error, sizeof(c->error), "cannot stat '%s': %s", c->medium_path, strerror(errno));
        return ret;
    }
    ret = vd_medium_load(c->medium_path, &c->m, c->error, sizeof(c->error));
    if (ret < 0)
        return ret;
    ret = vd_path(data, sizeof(data), c->dir, c->drive.medium, ".data");
    if (ret < 0)
        return ret;
    c->data_fd = open(data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (c->data_fd < 0) {
        ret = -errno;
        vd_fmt(c->error, sizeof(c->error), "cannot open '%s': %s", data, strerror(errno));
        return ret;
    }
    c->medium_ino = st.st_ino;
    c->medium_mtime = st.st_mtim;
    c->have_medium = 1;
    return 0;
}

/*
 * Pick up changes made by vdrive-ctl (load, eject, swap, fault files).
 * A new drive generation means the medium changed: the next command gets
 * UNIT ATTENTION.
 */
int vd_ctx_refresh(struct vd_ctx *c)
{
    char path[VD_PATH_MAX];
    struct stat st;
    int ret;

    ret = vd_path(path, sizeof(path), c->dir, "drive", "");
    if (ret < 0)
        return ret;
    if (stat(path, &st) < 0) {
        ret = -errno;
        vd_fmt(c->error, sizeof(c->error), "cannot stat '%s': %s", path, strerror(errno));
        unload(c);
        c->have_drive_state = 0;
        return ret;
    }
    if (!c->have_drive_state || !same_stat(&st, c->drive_ino, &c->drive_mtime)) {
        struct vd_drive_state s;
        int first = !c->have_drive_state;

        ret = vd_drive_state_load(path, &s, c->error, sizeof(c->error));
        if (ret < 0) {
            unload(c);
            return ret;
        }
        c->drive_ino = st.st_ino;
        c->drive_mtime = st.st_mtim;
        c->have_drive_state = 1;
        if (first || s.generation != c->drive.generation) {
            if (!first)
                c->unit_attention = 1;
            c->drive = s;
            c->seen_generation = s.generation;
            return load_medium(c);
        }
        c->drive = s;
    }
    if (c->have_medium) {
        /* somebody else rewrote the medium state (vdrive-ctl) */
        if (stat(c->medium_path, &st) < 0) {
            unload(c);
            return -errno;
        }
        if (!same_stat(&st, c->medium_ino, &c->medium_mtime))
            return load_medium(c);
    } else if (c->drive.medium[0] && !c->drive.tray_open) {
        return load_medium(c);
    }
    return 0;
}

static int save_medium(struct vd_ctx *c, struct vd_req *r)
{
    struct stat st;
    int ret = vd_medium_save(c->medium_path, &c->m);

    if (ret < 0) {
        sense(r, 4, 0x44, 0, "cannot save '%s': %s", c->medium_path, strerror(-ret));
        return ret;
    }
    if (stat(c->medium_path, &st) == 0) {
        c->medium_ino = st.st_ino;
        c->medium_mtime = st.st_mtim;
    }
    return 0;
}

static void refresh_faults(struct vd_ctx *c)
{
    char path[VD_PATH_MAX];
    struct stat st;

    if (vd_path(path, sizeof(path), c->dir, "faults", "") < 0)
        return;
    if (stat(path, &st) < 0) {
        c->faults.n = 0;
        c->faults_ino = 0;
        return;
    }
    if (same_stat(&st, c->faults_ino, &c->faults_mtime))
        return;
    if (vd_faults_load(path, &c->faults) < 0)
        c->faults.n = 0;
    c->faults_ino = st.st_ino;
    c->faults_mtime = st.st_mtim;
}

/* Disarm fault i (faults are one-shot). */
static void consume_fault(struct vd_ctx *c, int i)
{
    char path[VD_PATH_MAX];
    struct stat st;

    c->faults.f[i] = c->faults.f[--c->faults.n];
    if (vd_path(path, sizeof(path), c->dir, "faults", "") < 0)
        return;
    if (vd_faults_save(path, &c->faults) == 0 && stat(path, &st) == 0) {
        c->faults_ino = st.st_ino;
        c->faults_mtime = st.st_mtim;
    }
}

/* ------------------------------------------------------------------ */
/* helpers about the loaded medium                                      */

static unsigned mflags(const struct vd_ctx *c)
{
    return c->have_medium ? c->m.type->flags : 0;
}

static int need_medium(struct vd_ctx *c, struct vd_req *r)
{
    if (c->have_medium)
        return 1;
    if (c->drive.tray_open)
        sense(r, 2, 0x3a, 0x02, "medium not present, tray open");
    else
        sense(r, 2, 0x3a, 0x00, "medium not present%s%s", c->error[0] ? ": " : "", c->error);
    return 0;
}

static int write_speed(const struct vd_ctx *c)
{
    unsigned f = mflags(c);

    if (f & VD_BD)
        return 26970; /* 6x */
    if (f & (VD_DVD_MINUS | VD_DVD_PLUS))
        return 22160; /* 16x */
    return 8468;      /* 48x */
}

/* Track number of the invisible/incomplete track (for 51h and 52h). */
static int last_track_no(const struct vd_ctx *c)
{
    const struct vd_medium *m = &c->m;

    if (m->type->flags & VD_OVERWRITE)
        return 1;
    const struct vd_track *t = vd_medium_open_track((struct vd_medium *)m);

    if ((t && t->size == 0) || m->finalized)
        return m->ntracks;
    return m->ntracks + 1;
}

/* ------------------------------------------------------------------ */
/* commands                                                             */

static void cmd_inquiry(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[36] = {0};

    (void)c;
    if (r->cdb[1] & 1) {
        sense(r, 5, 0x24, 0, "vital product data not supported");
        return;
    }
    d[0] = 0x05; /* CD/DVD device */
    d[1] = 0x80; /* removable */
    d[2] = 0x05;
    d[3] = 0x32;
    d[4] = 31;
    memcpy(d + 8, VD_VENDOR, 8);
    memcpy(d + 16, VD_PRODUCT, 16);
    memcpy(d + 32, VD_REVISION, 4);
    reply(r, d, sizeof(d), get16(r->cdb + 3));
}

static void cmd_request_sense(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[18] = {0};

    d[0] = 0x70;
    d[7] = 10;
    if (c->unit_attention) {
        c->unit_attention = 0;
        d[2] = 6;
        d[12] = 0x28;
    } else if (!c->have_medium) {
        d[2] = 2;
        d[12] = 0x3a;
        d[13] = c->drive.tray_open ? 2 : 0;
    }
    reply(r, d, sizeof(d), r->cdb[4]);
}

static void cmd_tur(struct vd_ctx *c, struct vd_req *r)
{
    need_medium(c, r);
}

static void cmd_start_stop(struct vd_ctx *c, struct vd_req *r)
{
    int loej = r->cdb[4] & 2, start = r->cdb[4] & 1;
    char path[VD_PATH_MAX];
    int ret;

    if (!loej)
        return;
    if (!start && c->prevent) {
        sense(r, 5, 0x53, 0x02, "medium removal prevented");
        return;
    }
    if (!!c->drive.tray_open == !start)
        return; /* already there */
    /* Open or close the tray; the medium stays in it. */
    c->drive.tray_open = !start;
    c->drive.generation++;
    c->seen_generation = c->drive.generation;
    if (vd_path(path, sizeof(path), c->dir, "drive", "") < 0)
        return;
    ret = vd_drive_state_save(path, &c->drive);
    if (ret < 0) {
        sense(r, 4, 0x44, 0, "cannot save '%s': %s", path, strerror(-ret));
        return;
    }
    c->have_drive_state = 0; /* reload without UNIT ATTENTION */
    vd_ctx_refresh(c);
    note(r, "tray %s", start ? "closed" : "opened");
}

static void cmd_prevent(struct vd_ctx *c, struct vd_req *r)
{
    c->prevent = r->cdb[4] & 1;
}

static void cmd_read_capacity(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[8];

    if (!need_medium(c, r))
        return;
    put32(d, vd_medium_read_capacity(&c->m));
    put32(d + 4, VD_BLOCK);
    reply(r, d, sizeof(d), sizeof(d));
}

static void cmd_read(struct vd_ctx *c, struct vd_req *r, uint32_t lba, uint32_t n)
{
    uint64_t bytes = (uint64_t)n * VD_BLOCK;
    ssize_t got;

    if (!need_medium(c, r))
        return;
    if (bytes > r->len || r->dir != VD_DIR_FROM_DEV) {
        sense(r, 5, 0x24, 0,
              "transfer length %" PRIu32 " blocks exceeds "
              "buffer of %" PRIu32 " bytes",
              n, r->len);
        return;
    }
    if (!vd_medium_readable(&c->m, lba, n)) {
        sense(r, 5, 0x21, 0, "read of unrecorded blocks %" PRIu32 "+%" PRIu32, lba, n);
        return;
    }
    got = pread(c->data_fd, r->buf, (size_t)bytes, (off_t)lba * VD_BLOCK);
    if (got < 0) {
        sense(r, 3, 0x11, 0, "cannot read medium data: %s", strerror(errno));
        return;
    }
    if ((uint64_t)got < bytes)
        memset(r->buf + got, 0, (size_t)(bytes - (uint64_t)got));
    r->resid = r->len - (uint32_t)bytes;
}

static int store(struct vd_ctx *c, struct vd_req *r, int64_t lba, const uint8_t *data, uint32_t n)
{
    size_t bytes = (size_t)n * VD_BLOCK;
    ssize_t done;

    if (lba < 0) { /* SAO pre-gap: not stored */
        int64_t skip = -lba < n ? -lba : n;
        data += skip * VD_BLOCK;
        bytes -= (size_t)skip * VD_BLOCK;
        lba = 0;
    }
    if (bytes == 0)
        return 0;
    done = pwrite(c->data_fd, data, bytes, (off_t)lba * VD_BLOCK);
    if (done < 0 || (size_t)done != bytes) {
        sense(r, 3, 0x0c, 0, "cannot store medium data: %s",
              done < 0 ? strerror(errno) : "short write");
        return -EIO;
    }
    return 0;
}

/* The process dies the way a drive without power would leave the disc. */
static void power_loss(struct vd_ctx *c)
{
    struct vd_track *t = vd_medium_open_track(&c->m);

    if (t)
        t->state = VD_TRACK_DAMAGED;
    vd_medium_save(c->medium_path, &c->m);
    kill(getpid(), SIGKILL);
    _exit(137);
}

static void cmd_write(struct vd_ctx *c, struct vd_req *r, int64_t lba, uint32_t n)
{
    struct vd_medium *m = &c->m;
    struct vd_track *t;
    uint32_t nwa, limit;
    int valid;
    int64_t corrupt_lba = -1; /* a corrupt fault: this block is stored as corrupt_blk */
    uint8_t corrupt_blk[VD_BLOCK];

    if (!need_medium(c, r))
        return;
    if ((uint64_t)n * VD_BLOCK > r->len || r->dir != VD_DIR_TO_DEV) {
        sense(r, 5, 0x24, 0, "transfer length mismatch");
        return;
    }
    if (m->type->flags & VD_OVERWRITE) {
        if (lba < 0 || (uint64_t)lba + n > m->capacity) {
            sense(r, 5, 0x21, 0, "lba %" PRId64 " beyond capacity", lba);
            return;
        }
        limit = (uint32_t)lba + n;
        nwa = (uint32_t)lba;
        goto faults;
    }
    valid = vd_medium_nwa(m, &nwa);
    if (m->finalized) {
        sense(r, 5, 0x21, 0x02, "write-once violation: medium is closed");
        return;
    }
    if (!valid) {
        sense(r, 5, 0x21, 0x02,
              "write-once violation: no writable address "
              "(track damaged or medium full)");
        return;
    }
    if (c->sao_armed && m->ntracks == 0 && lba < 0 && lba >= c->sao_start) {
        /* SAO on blank CD: the pre-gap of track 1 comes first */
        if (lba != c->sao_start) {
            sense(r, 5, 0x21, 0x02, "write-once violation: lba %" PRId64 " != %" PRId32, lba,
                  c->sao_start);
            return;
        }
        c->sao_start += (int32_t)n;
        if (lba + n <= 0)
            return; /* all pre-gap */
        n = (uint32_t)(lba + n);
        r->buf += (size_t)(-lba) * VD_BLOCK;
        lba = 0;
    } else if (lba != (int64_t)nwa) {
        sense(r, 5, 0x21, 0x02, "write-once violation: lba %" PRId64 " != nwa %" PRIu32, lba, nwa);
        return;
    }
    t = vd_medium_open_track(m);
    if (t && t->size > 0 && (uint64_t)nwa + n > t->start + t->size) {
        sense(r, 5, 0x21, 0x02, "write beyond reserved track: %" PRIu32 "+%" PRIu32 " > %" PRIu32,
              nwa, n, t->start + t->size);
        return;
    }
    if ((uint64_t)nwa + n > m->capacity) {
        sense(r, 5, 0x21, 0x00, "write beyond capacity: %" PRIu32 "+%" PRIu32 " > %" PRIu32, nwa, n,
              m->capacity);
        return;
    }
    limit = nwa + n;

faults:
    refresh_faults(c);
    for (int i = 0; i < c->faults.n; i++) {
        uint32_t at = c->faults.f[i].lba;
        enum vd_fault_kind kind = c->faults.f[i].kind;

        if (at < nwa || at >= limit)
            continue;
        consume_fault(c, i);
        if (kind == VD_FAULT_CORRUPT) {
            /* a bad disc: the drive reports success, the medium holds other bytes */
            uint8_t blk[VD_BLOCK];
            memcpy(blk, r->buf + (size_t)(at - nwa) * VD_BLOCK, VD_BLOCK);
            blk[100] ^= 0xff;
            note(r, "injected corruption at lba %" PRIu32, at);
            corrupt_lba = at;
            memcpy(corrupt_blk, blk, VD_BLOCK);
            break;
        }
        /* the blocks before the fault do reach the medium */
        n = at - nwa;
        if (!(m->type->flags & VD_OVERWRITE) && n > 0) {
            t = vd_medium_open_track(m);
            if (!t) {
                t = &m->track[m->ntracks++];
                memset(t, 0, sizeof(*t));
                t->session = m->sessions + 1;
                t->start = nwa;
            }
            t->written += n;
        }
        if (store(c, r, nwa, r->buf, n) < 0)
            return;
        if (kind == VD_FAULT_POWER_LOSS)
            power_loss(c);
        if (!(m->type->flags & VD_OVERWRITE)) {
            t = vd_medium_open_track(m);
            if (t)
                t->state = VD_TRACK_DAMAGED;
            save_medium(c, r);
        }
        sense(r, 3, 0x0c, 0x00, "injected write error at lba %" PRIu32, at);
        return;
    }

    if (m->type->flags & VD_OVERWRITE) {
        if (store(c, r, nwa, r->buf, n) == 0 && corrupt_lba >= 0)
            store(c, r, corrupt_lba, corrupt_blk, 1);
        return;
    }
    if (m->ntracks >= VD_MAX_TRACKS && !vd_medium_open_track(m)) {
        sense(r, 5, 0x72, 0x05, "no more track reservations allowed");
        return;
    }
    if (store(c, r, nwa, r->buf, n) < 0)
        return;
    if (corrupt_lba >= 0 && store(c, r, corrupt_lba, corrupt_blk, 1) < 0)
        return;
    t = vd_medium_open_track(m);
    if (!t) {
        t = &m->track[m->ntracks++];
        memset(t, 0, sizeof(*t));
        t->session = m->sessions + 1;
        t->start = nwa;
        t->state = VD_TRACK_OPEN;
    }
    t->written += n;
    save_medium(c, r);
}

static void cmd_sync_cache(struct vd_ctx *c, struct vd_req *r)
{
    if (!need_medium(c, r))
        return;
    if ((c->m.type->flags & VD_DVD_MINUS) && (c->page05[2] & 0x0f) == 2 &&
        vd_medium_open_track(&c->m)) {
        /* DVD-R DAO: the drive closes the only session and the disc */
        vd_medium_close_session(&c->m, 1);
        note(r, "DAO: disc finalized");
        save_medium(c, r);
        return;
    }
    if (c->sao_armed) {
        /* SAO: the drive writes lead-in and lead-out by itself now */
        struct vd_track *t = vd_medium_open_track(&c->m);
        int finalize = (c->page05[3] >> 6) == 0;

        c->sao_armed = 0;
        if (t) {
            t->size = t->written; /* no TAO run-out */
            t->state = VD_TRACK_CLOSED;
            c->m.next_start = t->start + t->size;
        }
        vd_medium_close_session(&c->m, finalize);
        note(r, "SAO session closed%s", finalize ? ", disc finalized" : "");
        save_medium(c, r);
    }
}

static void cmd_close(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    int func = r->cdb[2] & 7, done = 0;
    unsigned f;

    if (!need_medium(c, r))
        return;
    f = m->type->flags;
    if (f & VD_OVERWRITE)
        return; /* stops background formatting: nothing to do */
    switch (func) {
    case 1: /* close track */
        done = vd_medium_close_track(m);
        note(r, done ? "track closed" : "no open track");
        break;
    case 2: /* close session; CD and DVD-R: page 05 multi decides */
        if (f & (VD_CD | VD_DVD_MINUS))
            done = vd_medium_close_session(m, (c->page05[3] >> 6) == 0);
        else
            done = vd_medium_close_session(m, 0);
        note(r, "%s%s", done ? "session closed" : "no open session",
             m->finalized ? ", disc finalized" : "");
        break;
    case 3: /* DVD+R DL: close session recording without finalizing */
        done = vd_medium_close_session(m, 0);
        break;
    case 5: /* DVD+R: finalize with minimal radius */
    case 6: /* DVD+R, BD-R: finalize */
        vd_medium_close_session(m, 1);
        m->finalized = m->sessions > 0;
        done = 1;
        note(r, "disc finalized");
        break;
    default:
        sense(r, 5, 0x24, 0, "close function %d not supported", func);
        return;
    }
    if (done || m->finalized)
        save_medium(c, r);
}

static void cmd_reserve_track(struct vd_ctx *c, struct vd_req *r)
{
    uint32_t blocks = get32(r->cdb + 5);
    int ret;

    if (!need_medium(c, r))
        return;
    if (r->cdb[1] & 1) {
        sense(r, 5, 0x24, 0, "reservation by address not supported");
        return;
    }
    if (c->m.type->flags & (VD_OVERWRITE | VD_CD)) {
        sense(r, 5, 0x20, 0, "RESERVE TRACK not supported on this medium");
        return;
    }
    ret = vd_medium_reserve(&c->m, blocks);
    if (ret == -ENOSPC) {
        sense(r, 5, 0x21, 0,
              "reservation of %" PRIu32 " blocks beyond "
              "capacity",
              blocks);
        return;
    }
    if (ret < 0) {
        sense(r, 5, 0x2c, 0, "cannot reserve a track now: %s", strerror(-ret));
        return;
    }
    note(r, "reserved %" PRIu32 " blocks", blocks);
    save_medium(c, r);
}

static void cmd_read_buffer_capacity(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[12] = {0};

    (void)c;
    put16(d, 10);
    put32(d + 4, VD_BUFFER_BYTES);
    put32(d + 8, VD_BUFFER_BYTES);
    reply(r, d, sizeof(d), get16(r->cdb + 7));
}

/* GET CONFIGURATION: profile list and the features libburn looks at */
static size_t feature(uint8_t *p, int code, int current, int len)
{
    put16(p, (uint32_t)code);
    p[2] = (uint8_t)(current ? 0x01 : 0);
    p[3] = (uint8_t)len;
    memset(p + 4, 0, (size_t)len);
    return 4 + (size_t)len;
}

static void cmd_get_configuration(struct vd_ctx *c, struct vd_req *r)
{
    static const int profiles[] = {0x43, 0x41, 0x40, 0x1b, 0x1a, 0x11, 0x10, 0x0a, 0x09, 0x08};
    uint8_t d[1024], *p;
    int rt = r->cdb[1] & 3, start = (int)get16(r->cdb + 2);
    int cur = c->have_medium ? c->m.type->profile : 0;
    unsigned f = mflags(c);
    size_t len = 8, n;
    uint8_t *feat[32];
    int nfeat = 0;

    memset(d, 0, sizeof(d));
    put16(d + 6, (uint32_t)cur);

    /* 0000h profile list */
    p = d + len;
    feat[nfeat++] = p;
    n = feature(p, 0x0000, 1, 4 * (int)(sizeof(profiles) / sizeof(int)));
    p[2] |= 0x02; /* persistent */
    for (size_t i = 0; i < sizeof(profiles) / sizeof(int); i++) {
        put16(p + 4 + 4 * i, (uint32_t)profiles[i]);
        p[4 + 4 * i + 2] = profiles[i] == cur;
    }
    len += n;
    /* 0001h core: ATAPI */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0001, 1, 8);
    p[2] |= 0x0a;
    put32(p + 4, 2);
    /* 0003h removable medium: tray, eject, lock */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0003, 1, 4);
    p[4] = 0x29;
    /* 0010h random readable */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0010, c->have_medium, 8);
    put32(p + 4, VD_BLOCK);
    put16(p + 8, f & VD_BD ? 32 : (f & VD_CD) || !f ? 1 : 16);
    /* 0021h incremental streaming writable: link size */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0021, (f & (VD_CD | VD_DVD_MINUS)) != 0, 8);
    put16(p + 4, 0x0001 | 0x0100); /* mode 1, ... */
    p[6] = 0x03;                   /* BUF, ARSV */
    p[7] = 1;                      /* number of link sizes */
    p[8] = f & VD_DVD_MINUS ? 16 : 7;
    /* 0023h formattable */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0023, (f & (VD_BD | VD_OVERWRITE)) != 0, 8);
    /* 002Ah DVD+RW, 002Bh DVD+R */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x002a, (f & VD_DVD_PLUS) && (f & VD_OVERWRITE), 4);
    p[4] = 1;
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x002b, (f & VD_DVD_PLUS) && !(f & VD_OVERWRITE), 4);
    p[4] = 1;
    /* 002Dh CD track at once, 002Eh CD mastering (SAO) */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x002d, (f & VD_CD) != 0, 4);
    p[4] = 0x40 | 0x02; /* BUF, CD-RW */
    put16(p + 6, 0x0001);
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x002e, (f & VD_CD) != 0, 4);
    p[4] = 0x40 | 0x20; /* BUF, SAO */
    p[5] = 0;
    p[6] = 0x10; /* max cue sheet length 4096 */
    /* 002Fh DVD-R write */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x002f, (f & VD_DVD_MINUS) != 0, 4);
    p[4] = 0x40;
    /* 0040h BD read, 0041h BD write */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0040, (f & VD_BD) != 0, 28);
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0041, (f & VD_BD) != 0, 20);
    /* 0108h drive serial number */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0108, 1, 8);
    p[2] |= 0x02;
    memcpy(p + 4, VD_SERIAL, 8);

    if (rt != 0 || start != 0) {
        /* RT 1: current ones from start on; RT 2: exactly that one */
        uint8_t out[1024];
        size_t olen = 8;

        memcpy(out, d, 8);
        for (int i = 0; i < nfeat; i++) {
            int code = (int)get16(feat[i]);
            size_t fl = 4 + feat[i][3];

            if (code < start || (rt == 2 && code != start) || (rt == 1 && !(feat[i][2] & 1)))
                continue;
            memcpy(out + olen, feat[i], fl);
            olen += fl;
        }
        memcpy(d, out, olen);
        len = olen;
    }
    put32(d, (uint32_t)len - 4);
    reply(r, d, (uint32_t)len, get16(r->cdb + 7));
}

static size_t page_2a(struct vd_ctx *c, uint8_t *p)
{
    int speed = write_speed(c);

    memset(p, 0, 36);
    p[0] = 0x2a;
    p[1] = 34;
    p[2] = 0x1b; /* reads CD-R, CD-RW, DVD-ROM, DVD-R */
    p[3] = 0x13; /* writes CD-R, CD-RW, DVD-R */
    p[4] = 0xc0; /* BUF, multi-session */
    p[6] = 0x29; /* tray, eject, lock */
    put16(p + 8, 7056);
    put16(p + 10, 256);
    put16(p + 12, VD_BUFFER_BYTES / 1024);
    put16(p + 14, 7056);
    put16(p + 18, (uint32_t)speed);
    put16(p + 20, (uint32_t)speed);
    put16(p + 28, (uint32_t)speed);
    put16(p + 30, 1);
    put16(p + 34, (uint32_t)speed);
    return 36;
}

static void cmd_mode_sense(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[256] = {0};
    int page = r->cdb[2] & 0x3f;
    size_t len = 8;

    if (page == 0x01 || page == 0x3f) {
        d[len] = 0x01;
        d[len + 1] = 0x0a;
        len += 12;
    }
    if (page == 0x05 || page == 0x3f) {
        memcpy(d + len, c->page05, sizeof(c->page05));
        len += sizeof(c->page05);
    }
    if (page == 0x2a || page == 0x3f)
        len += page_2a(c, d + len);
    if (len == 8) {
        sense(r, 5, 0x24, 0, "mode page %02Xh not supported", page);
        return;
    }
    put16(d, (uint32_t)len - 2);
    reply(r, d, (uint32_t)len, get16(r->cdb + 7));
}

static void cmd_mode_select(struct vd_ctx *c, struct vd_req *r)
{
    uint32_t plen = get16(r->cdb + 7), off;

    if (plen > r->len)
        plen = r->len;
    if (plen < 8 || r->dir != VD_DIR_TO_DEV)
        return;
    off = 8 + get16(r->buf + 6);
    while (off + 2 <= plen) {
        int code = r->buf[off] & 0x3f, pl = r->buf[off + 1] + 2;

        if (code == 0x05) {
            size_t n = (size_t)pl < sizeof(c->page05) ? (size_t)pl : sizeof(c->page05);
            if (off + n > plen)
                n = plen - off;
            memcpy(c->page05, r->buf + off, n);
            c->page05[0] = 0x05;
            note(r, "page 05: write type %d, multi %d, test write %d", c->page05[2] & 0x0f,
                 c->page05[3] >> 6, !!(c->page05[2] & 0x10));
        }
        off += (uint32_t)pl;
    }
    r->resid = 0;
}

static void cmd_disc_info(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    uint8_t d[34] = {0};
    enum vd_status st;
    unsigned f;
    int sessions, first, last, state;

    if (!need_medium(c, r))
        return;
    if (r->cdb[1] & 7) {
        sense(r, 5, 0x24, 0, "disc information type %d", r->cdb[1] & 7);
        return;
    }
    f = m->type->flags;
    st = vd_medium_status(m);
    last = last_track_no(c);
    if (f & VD_OVERWRITE) {
        sessions = 1;
        first = 1;
        state = 3;
    } else if (st == VD_BLANK) {
        sessions = 1;
        first = 1;
        state = 0;
    } else if (st == VD_FULL) {
        sessions = (int)m->sessions;
        first = last;
        for (int i = 0; i < m->ntracks; i++)
            if (m->track[i].session == m->sessions) {
                first = i + 1;
                break;
            }
        state = 3;
    } else {
        sessions = (int)m->sessions + 1;
        first = last;
        state = 0;
        if (vd_medium_open_session(m)) {
            state = 1; /* incomplete */
            for (int i = 0; i < m->ntracks; i++)
                if (m->track[i].session > m->sessions) {
                    first = i + 1;
                    break;
                }
        }
    }
    put16(d, 32);
    d[2] =
        (uint8_t)((f & VD_ERASABLE ? 0x10 : 0) | state << 2 | ((f & VD_OVERWRITE) ? 2 : (int)st));
    d[3] = 1;
    d[4] = (uint8_t)sessions;
    d[9] = (uint8_t)(sessions >> 8);
    d[5] = (uint8_t)first;
    d[10] = (uint8_t)(first >> 8);
    d[6] = (uint8_t)last;
    d[11] = (uint8_t)(last >> 8);
    d[7] = (uint8_t)((m->disc_id_valid ? 0x80 : 0) | 0x20 |
                     ((f & VD_OVERWRITE) && (f & VD_DVD_PLUS) ? 3 : 0));
    d[8] = 0x00;
    put32(d + 12, m->disc_id_valid ? m->disc_id : 0);
    if (f & VD_CD) {
        uint8_t msf[3];

        if (st == VD_BLANK) {
            d[17] = (uint8_t)m->atip_m;
            d[18] = (uint8_t)m->atip_s;
            d[19] = (uint8_t)m->atip_f;
            lba_to_msf((int32_t)m->capacity, d + 21);
        } else if (st == VD_APPENDABLE) {
            lba_to_msf((int32_t)m->next_start - VD_CD_LEADIN - VD_CD_PREGAP, msf);
            memcpy(d + 17, msf, 3);
            lba_to_msf((int32_t)m->capacity, d + 21);
        } else {
            memset(d + 16, 0xff, 8);
        }
    } else {
        put32(d + 16, st == VD_APPENDABLE ? m->next_start : 0);
        put32(d + 20, m->capacity);
    }
    reply(r, d, sizeof(d), get16(r->cdb + 7));
}

static void track_info(struct vd_ctx *c, struct vd_req *r, int no)
{
    struct vd_medium *m = &c->m;
    uint8_t d[48] = {0};
    unsigned f = m->type->flags;
    int dvdr = (f & VD_DVD_MINUS) != 0;
    uint32_t nwa;

    put16(d, 46);
    d[2] = (uint8_t)no;
    d[32] = (uint8_t)(no >> 8);
    d[5] = 0x04; /* data, uninterrupted */
    if (f & VD_OVERWRITE) {
        d[3] = 1;
        d[6] = 0x01;
        d[7] = 0x01;
        put32(d + 16, m->capacity);
        put32(d + 20, m->type->align);
        put32(d + 24, m->capacity);
    } else if (no >= 1 && no <= m->ntracks) {
        const struct vd_track *t = &m->track[no - 1];

        d[3] = (uint8_t)t->session;
        d[33] = (uint8_t)(t->session >> 8);
        d[6] = (uint8_t)(0x01 | (dvdr ? 0x30 : 0));
        put32(d + 8, t->start);
        if (t->written > 0) {
            d[7] |= 0x02; /* LRA_V */
            put32(d + 28, t->start + t->written - 1);
        }
        switch (t->state) {
        case VD_TRACK_OPEN:
            if (vd_medium_nwa(m, &nwa)) {
                d[7] |= 0x01;
                put32(d + 12, nwa);
            }
            if (t->size > 0) { /* reserved */
                d[6] |= 0x80;
                put32(d + 16, t->size - t->written);
                put32(d + 24, t->size);
            } else {
                put32(d + 16, m->capacity - nwa);
                put32(d + 24, m->capacity - t->start);
            }
            break;
        case VD_TRACK_DAMAGED:
            d[5] |= 0x20; /* damage, NWA_V stays 0 */
            put32(d + 24, t->written);
            break;
        case VD_TRACK_CLOSED:
            put32(d + 24, t->size);
            break;
        }
        if (dvdr)
            put32(d + 20, 16);
    } else if (no == m->ntracks + 1 && !m->finalized) {
        /* the invisible track */
        int valid = vd_medium_nwa(m, &nwa);

        d[3] = (uint8_t)(m->sessions + 1);
        d[33] = (uint8_t)((m->sessions + 1) >> 8);
        d[6] = (uint8_t)(0x40 | 0x01 | (dvdr ? 0x30 : 0));
        put32(d + 8, m->next_start);
        if (valid) {
            d[7] = 0x01;
            put32(d + 12, nwa);
            put32(d + 16, m->capacity - nwa);
        }
        put32(d + 24, m->capacity > m->next_start ? m->capacity - m->next_start : 0);
        if (dvdr)
            put32(d + 20, 16);
    } else {
        sense(r, 5, 0x24, 0, "no track %d", no);
        return;
    }
    reply(r, d, sizeof(d), get16(r->cdb + 7));
}

static void cmd_track_info(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    uint32_t addr = get32(r->cdb + 2);
    int type = r->cdb[1] & 3, no = -1;

    if (!need_medium(c, r))
        return;
    switch (type) {
    case 0: /* by LBA */
        for (int i = 0; i < m->ntracks; i++) {
            const struct vd_track *t = &m->track[i];
            uint32_t end = t->state == VD_TRACK_CLOSED ? t->start + t->size : m->capacity;
            if (addr >= t->start && addr < end)
                no = i + 1;
        }
        if (no < 0 && addr >= m->next_start && addr < m->capacity)
            no = m->ntracks + 1;
        break;
    case 1: /* by track number; FFh: the invisible/incomplete track */
        no = addr == 0xff && !(m->type->flags & VD_OVERWRITE) ? last_track_no(c) : (int)addr;
        break;
    case 2: /* first track of a session */
        for (int i = 0; i < m->ntracks; i++)
            if (m->track[i].session == addr) {
                no = i + 1;
                break;
            }
        if (no < 0 && addr == m->sessions + 1)
            no = m->ntracks + 1;
        break;
    default:
        break;
    }
    if (no < 0) {
        sense(r, 5, 0x24, 0, "no track at address type %d value %" PRIu32, type, addr);
        return;
    }
    track_info(c, r, no);
}

static void toc_addr(uint8_t *p, uint32_t lba, int msf)
{
    if (msf) {
        p[0] = 0;
        lba_to_msf((int32_t)lba, p + 1);
    } else {
        put32(p, lba);
    }
}

static void cmd_read_toc(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    int msf = (r->cdb[1] & 2) != 0, fmt = r->cdb[2] & 0x0f;
    uint32_t alloc = get16(r->cdb + 7);
    uint8_t d[4 + 11 * (VD_MAX_TRACKS + 3 * 100)];
    size_t len = 4;
    unsigned f;
    int closed = 0; /* tracks in closed sessions */

    if (!need_medium(c, r))
        return;
    f = m->type->flags;
    if (fmt == 0 && (r->cdb[9] & 0xc0))
        fmt = r->cdb[9] >> 6;
    memset(d, 0, sizeof(d));
    for (int i = 0; i < m->ntracks; i++)
        if (m->track[i].session <= m->sessions && m->track[i].state == VD_TRACK_CLOSED)
            closed = i + 1;
    if (fmt == 4) { /* ATIP */
        if (!(f & VD_CD)) {
            sense(r, 5, 0x24, 0, "no ATIP on this medium");
            return;
        }
        put16(d, 26);
        d[4] = 0x55; /* indicative writing power, reference speed */
        d[5] = 0x40; /* unrestricted use */
        d[6] = (uint8_t)(0x80 | (f & VD_ERASABLE ? 0x40 : 0));
        d[8] = (uint8_t)m->atip_m;
        d[9] = (uint8_t)m->atip_s;
        d[10] = (uint8_t)m->atip_f;
        lba_to_msf((int32_t)m->capacity, d + 12);
        reply(r, d, 28, alloc);
        return;
    }
    if (f & VD_OVERWRITE) {
        if (fmt != 0 && fmt != 1) {
            sense(r, 5, 0x24, 0, "TOC format %d on a DVD/BD", fmt);
            return;
        }
        d[2] = 1;
        d[3] = 1;
        d[5] = 0x14;
        d[6] = 1;
        len = 12;
        if (fmt == 0) {
            d[4 + 8 + 1] = 0x14;
            d[4 + 8 + 2] = 0xaa;
            toc_addr(d + 4 + 8 + 4, m->capacity, msf);
            len = 20;
        }
        put16(d, (uint32_t)len - 2);
        reply(r, d, (uint32_t)len, alloc);
        return;
    }
    if (closed == 0 && fmt != 2) {
        sense(r, 5, 0x24, 0, "no complete session");
        return;
    }
    switch (fmt) {
    case 0: { /* TOC: tracks of closed sessions, then the lead-out */
        int from = r->cdb[6] ? r->cdb[6] : 1;
        const struct vd_track *lt = &m->track[closed - 1];

        d[2] = 1;
        d[3] = (uint8_t)closed;
        if (from > closed && from != 0xaa) {
            sense(r, 5, 0x24, 0, "no track %d", from);
            return;
        }
        for (int i = from - 1; i < closed && from != 0xaa; i++) {
            d[len + 1] = 0x14;
            d[len + 2] = (uint8_t)(i + 1);
            toc_addr(d + len + 4, m->track[i].start, msf);
            len += 8;
        }
        d[len + 1] = 0x14;
        d[len + 2] = 0xaa;
        toc_addr(d + len + 4, lt->start + lt->size, msf);
        len += 8;
        break;
    }
    case 1: { /* session info: first track of the last complete session */
        int first = 0;

        for (int i = 0; i < closed; i++)
            if (m->track[i].session == m->sessions) {
                first = i;
                break;
            }
        d[2] = 1;
        d[3] = (uint8_t)m->sessions;
        d[5] = 0x14;
        d[6] = (uint8_t)(first + 1);
        toc_addr(d + 8, m->track[first].start, msf);
        len = 12;
        break;
    }
    case 2: { /* full TOC, always MSF */
        if (!(f & VD_CD)) {
            sense(r, 5, 0x24, 0, "TOC format 2 on a DVD/BD");
            return;
        }
        d[2] = 1;
        d[3] = (uint8_t)m->sessions;
        for (uint32_t s = 1; s <= m->sessions; s++) {
            int ft = -1, lt = -1;
            for (int i = 0; i < closed; i++)
                if (m->track[i].session == s) {
                    if (ft < 0)
                        ft = i;
                    lt = i;
                }
            if (ft < 0)
                continue;
            for (int point = 0xa0; point <= 0xa2; point++) {
                uint8_t *p = d + len;
                p[0] = (uint8_t)s;
                p[1] = 0x14;
                p[3] = (uint8_t)point;
                if (point == 0xa0) {
                    p[8] = (uint8_t)(ft + 1);
                    p[9] = 0x00; /* CD-DA or CD-ROM */
                } else if (point == 0xa1) {
                    p[8] = (uint8_t)(lt + 1);
                } else {
                    lba_to_msf((int32_t)(m->track[lt].start + m->track[lt].size), p + 8);
                }
                len += 11;
            }
            for (int i = ft; i <= lt; i++) {
                uint8_t *p = d + len;
                p[0] = (uint8_t)s;
                p[1] = 0x14;
                p[3] = (uint8_t)(i + 1);
                lba_to_msf((int32_t)m->track[i].start, p + 8);
                len += 11;
            }
        }
        break;
    }
    default:
        sense(r, 5, 0x24, 0, "TOC format %d not supported", fmt);
        return;
    }
    put16(d, (uint32_t)len - 2);
    reply(r, d, (uint32_t)len, alloc);
}

static void cmd_read_disc_structure(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    int media = r->cdb[1] & 0x0f, fmt = r->cdb[7];
    uint32_t alloc = get16(r->cdb + 8);
    uint8_t d[4 + 4096];
    uint8_t *p = d + 4;
    size_t len;
    unsigned f;

    if (!need_medium(c, r))
        return;
    f = m->type->flags;
    memset(d, 0, sizeof(d));
    if (fmt == 0xff) { /* list of readable structures */
        int codes[4], n = 0;

        if (media == 1 && (f & VD_BD)) {
            codes[n++] = 0x00;
            codes[n++] = 0x0a;
        } else if (media == 0 && (f & (VD_DVD_MINUS | VD_DVD_PLUS))) {
            codes[n++] = 0x00;
            codes[n++] = f & VD_DVD_MINUS ? 0x0e : 0x11;
        }
        codes[n++] = 0xff;
        for (int i = 0; i < n; i++) {
            p[4 * i] = (uint8_t)codes[i];
            p[4 * i + 1] = 0x40; /* readable */
            put16(p + 4 * i + 2, codes[i] == 0xff ? 4u * (unsigned)n : 2048u);
        }
        len = 4 + 4 * (size_t)n;
    } else if (media == 1) {
        if (!(f & VD_BD)) {
            sense(r, 5, 0x30, 0x02, "no BD structure on this medium");
            return;
        }
        if (fmt == 0x00) { /* disc information */
            memcpy(p, "DI", 2);
            p[2] = 1;
            p[3] = 0x08;
            memcpy(p + 8, f & VD_OVERWRITE ? "BDW" : "BDR", 3);
            memcpy(p + 100, m->manufacturer, strnlen(m->manufacturer, 6));
            memcpy(p + 106, m->type_id, strnlen(m->type_id, 3));
            p[111] = (uint8_t)m->revision;
            len = 4 + 4096;
        } else if (fmt == 0x0a) { /* spare area: none */
            len = 4 + 12;
        } else {
            sense(r, 5, 0x24, 0, "BD structure %02Xh not supported", fmt);
            return;
        }
    } else if (media == 0) {
        if (!(f & (VD_DVD_MINUS | VD_DVD_PLUS))) {
            sense(r, 5, 0x30, 0x02, "no DVD structure on this medium");
            return;
        }
        if (fmt == 0x00) { /* physical format */
            p[0] = f & VD_DVD_MINUS ? 0x25 : f & VD_OVERWRITE ? 0x92 : 0xa1;
            p[1] = 0x0f;
            p[2] = 0x01;
            p[3] = 0x10;
            put32(p + 4, 0x030000);
            put32(p + 8, 0x030000 + m->capacity - 1);
            if ((f & VD_DVD_PLUS)) {
                memcpy(p + 19, m->manufacturer, strnlen(m->manufacturer, 8));
                memcpy(p + 27, m->type_id, strnlen(m->type_id, 3));
                p[30] = (uint8_t)m->revision;
            }
            len = 4 + 2048;
        } else if (fmt == 0x0e && (f & VD_DVD_MINUS)) { /* pre-pit */
            size_t ml = strnlen(m->manufacturer, 12);

            p[16] = 3;
            memcpy(p + 17, m->manufacturer, ml < 6 ? ml : 6);
            p[24] = 4;
            if (ml > 6)
                memcpy(p + 25, m->manufacturer + 6, ml - 6);
            len = 4 + 2048;
        } else if (fmt == 0x11 && (f & VD_DVD_PLUS)) { /* ADIP */
            memcpy(p + 19, m->manufacturer, strnlen(m->manufacturer, 8));
            memcpy(p + 27, m->type_id, strnlen(m->type_id, 3));
            p[30] = (uint8_t)m->revision;
            len = 4 + 256;
        } else {
            sense(r, 5, 0x24, 0, "DVD structure %02Xh not supported", fmt);
            return;
        }
    } else {
        sense(r, 5, 0x24, 0, "media type %d not supported", media);
        return;
    }
    put16(d, (uint32_t)len - 2);
    reply(r, d, (uint32_t)len, alloc);
}

static void cmd_blank(struct vd_ctx *c, struct vd_req *r)
{
    if (!need_medium(c, r))
        return;
    if (!(c->m.type->flags & VD_ERASABLE)) {
        sense(r, 5, 0x30, 0x05, "medium is not erasable");
        return;
    }
    vd_medium_blank(&c->m);
    if (ftruncate(c->data_fd, 0) < 0) {
        sense(r, 3, 0x0c, 0, "cannot truncate medium data: %s", strerror(errno));
        return;
    }
    note(r, "blanked (type %d)", r->cdb[1] & 7);
    save_medium(c, r);
}

static void cmd_format_unit(struct vd_ctx *c, struct vd_req *r)
{
    if (!need_medium(c, r))
        return;
    if (!(c->m.type->flags & (VD_OVERWRITE | VD_BD))) {
        sense(r, 5, 0x30, 0x05, "medium cannot be formatted");
        return;
    }
    r->resid = 0;
    note(r, "format accepted (no-op)");
}

static void cmd_read_format_capacities(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    uint8_t d[4 + 8 * 3] = {0};
    size_t len = 12;
    unsigned f;

    if (!c->have_medium) {
        put32(d + 4, 0xffffffff);
        d[8] = 3; /* no medium */
        put32(d + 8, 3u << 24 | VD_BLOCK);
        d[3] = 8;
        reply(r, d, len, get16(r->cdb + 7));
        return;
    }
    f = m->type->flags;
    put32(d + 4, m->capacity);
    put32(d + 8, VD_BLOCK);
    d[8] = (f & VD_OVERWRITE) ? 2 : 1; /* formatted / unformatted */
    if (f & (VD_OVERWRITE | VD_BD)) {
        put32(d + 12, m->capacity);
        put32(d + 16, 0);
        d[16] = (uint8_t)((f & VD_DVD_PLUS ? 0x26 : f & VD_OVERWRITE ? 0x31 : 0x32) << 2);
        len += 8;
    }
    d[3] = (uint8_t)(len - 4);
    reply(r, d, len, get16(r->cdb + 7));
}

static void cmd_send_cue_sheet(struct vd_ctx *c, struct vd_req *r)
{
    if (!need_medium(c, r))
        return;
    if (!(c->m.type->flags & VD_CD) || vd_medium_status(&c->m) != VD_BLANK) {
        sense(r, 5, 0x2c, 0, "SAO only on blank CD");
        return;
    }
    c->sao_armed = 1;
    c->sao_start = -150;
    r->resid = 0;
    note(r, "cue sheet of %" PRIu32 " bytes, SAO armed", get32(r->cdb + 5) >> 8);
}

static void cmd_get_performance(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[8 + 16] = {0};
    int type = r->cdb[10];

    if (type != 0x03 && type != 0x00) {
        sense(r, 5, 0x24, 0, "performance type %d", type);
        return;
    }
    put32(d, sizeof(d) - 4);
    if (type == 0x03) { /* write speed descriptor */
        d[8] = 0x00;
        put32(d + 12, c->have_medium ? c->m.capacity : 0);
        put32(d + 16, (uint32_t)write_speed(c));
        put32(d + 20, (uint32_t)write_speed(c));
    } else {
        put32(d + 8, 0);
        put32(d + 12, 7056);
        put32(d + 16, c->have_medium ? c->m.capacity - 1 : 0);
        put32(d + 20, 7056);
    }
    reply(r, d, sizeof(d), get16(r->cdb + 8) * 16 + 8);
}

static void cmd_event_status(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[8] = {0};

    if (!(r->cdb[1] & 1)) {
        sense(r, 5, 0x24, 0, "asynchronous event status");
        return;
    }
    put16(d, 6);
    d[2] = 0x04; /* media class */
    d[3] = 0x10;
    d[5] = (uint8_t)((c->drive.tray_open ? 1 : 0) | (c->have_medium ? 2 : 0));
    reply(r, d, sizeof(d), get16(r->cdb + 7));
}

void vd_exec(struct vd_ctx *c, struct vd_req *r)
{
    const uint8_t *cdb = r->cdb;
    int op = cdb[0];

    r->check = 0;
    r->resid = r->len;
    r->note[0] = 0;
    if (c->unit_attention && op != 0x12 && op != 0x03) {
        c->unit_attention = 0;
        sense(r, 6, 0x28, 0, "medium may have changed");
        return;
    }
    switch (op) {
    case 0x00:
        cmd_tur(c, r);
        break;
    case 0x03:
        cmd_request_sense(c, r);
        break;
    case 0x04:
        cmd_format_unit(c, r);
        break;
    case 0x12:
        cmd_inquiry(c, r);
        break;
    case 0x1b:
        cmd_start_stop(c, r);
        break;
    case 0x1e:
        cmd_prevent(c, r);
        break;
    case 0x23:
        cmd_read_format_capacities(c, r);
        break;
    case 0x25:
        cmd_read_capacity(c, r);
        break;
    case 0x28:
        cmd_read(c, r, get32(cdb + 2), get16(cdb + 7));
        break;
    case 0xa8:
        cmd_read(c, r, get32(cdb + 2), get32(cdb + 6));
        break;
    case 0x2a:
        cmd_write(c, r, (int32_t)get32(cdb + 2), get16(cdb + 7));
        break;
    case 0xaa:
        cmd_write(c, r, (int32_t)get32(cdb + 2), get32(cdb + 6));
        break;
    case 0x35:
        cmd_sync_cache(c, r);
        break;
    case 0x43:
        cmd_read_toc(c, r);
        break;
    case 0x46:
        cmd_get_configuration(c, r);
        break;
    case 0x4a:
        cmd_event_status(c, r);
        break;
    case 0x51:
        cmd_disc_info(c, r);
        break;
    case 0x52:
        cmd_track_info(c, r);
        break;
    case 0x55:
        cmd_mode_select(c, r);
        break;
    case 0x5a:
        cmd_mode_sense(c, r);
        break;
    case 0x5b:
        cmd_close(c, r);
        break;
    case 0x53:
        cmd_reserve_track(c, r);
        break;
    case 0x5c:
        cmd_read_buffer_capacity(c, r);
        break;
    case 0x5d:
        cmd_send_cue_sheet(c, r);
        break;
    case 0xa1:
        cmd_blank(c, r);
        break;
    case 0xac:
        cmd_get_performance(c, r);
        break;
    case 0xad:
        cmd_read_disc_structure(c, r);
        break;
    case 0xb6: /* SET STREAMING */
    case 0xbb: /* SET CD SPEED */
    case 0x54: /* SEND OPC INFORMATION */
        r->resid = 0;
        break;
    default:
        sense(r, 5, 0x20, 0, "unsupported opcode %02Xh", op);
        break;
    }
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MMC command set of the virtual drive, written from the MMC-5 field
 * layouts and the fields libburn reads (shared/reference/libburn.md).
 * No libburn code is copied.
 */
#include "vdrive.h"
#include "mmc.h"

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

void vd_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void vd_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint32_t vd_get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

uint32_t vd_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* LBA to MSF as CD addresses it (lead-in LBAs are negative). */
void vd_lba_to_msf(int32_t lba, uint8_t *msf)
{
    int32_t x = lba >= -150 ? lba + 150 : lba + 450150;

    msf[0] = (uint8_t)(x / (60 * 75));
    msf[1] = (uint8_t)(x / 75 % 60);
    msf[2] = (uint8_t)(x % 75);
}

void vd_sense(struct vd_req *r, int key, int asc, int ascq, const char *fmt, ...)
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

void vd_note(struct vd_req *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->note, sizeof(r->note), fmt, ap);
    va_end(ap);
}

/* Copy a built reply into the data buffer, truncated to the allocation. */
void vd_reply(struct vd_req *r, const uint8_t *data, uint32_t len, uint32_t alloc)
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

int vd_save_medium(struct vd_ctx *c, struct vd_req *r)
{
    struct stat st;
    int ret = vd_medium_save(c->medium_path, &c->m);

    if (ret < 0) {
        vd_sense(r, 4, 0x44, 0, "cannot save '%s': %s", c->medium_path, strerror(-ret));
        return ret;
    }
    if (stat(c->medium_path, &st) == 0) {
        c->medium_ino = st.st_ino;
        c->medium_mtime = st.st_mtim;
    }
    return 0;
}

void vd_refresh_faults(struct vd_ctx *c)
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
void vd_consume_fault(struct vd_ctx *c, int i)
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

unsigned vd_mflags(const struct vd_ctx *c)
{
    return c->have_medium ? c->m.type->flags : 0;
}

int vd_need_medium(struct vd_ctx *c, struct vd_req *r)
{
    if (c->have_medium)
        return 1;
    if (c->drive.tray_open)
        vd_sense(r, 2, 0x3a, 0x02, "medium not present, tray open");
    else
        vd_sense(r, 2, 0x3a, 0x00, "medium not present%s%s", c->error[0] ? ": " : "", c->error);
    return 0;
}

int vd_write_speed(const struct vd_ctx *c)
{
    unsigned f = vd_mflags(c);

    if (f & VD_BD)
        return 26970; /* 6x */
    if (f & (VD_DVD_MINUS | VD_DVD_PLUS))
        return 22160; /* 16x */
    return 8468;      /* 48x */
}

/* Track number of the invisible/incomplete track (for 51h and 52h). */
int vd_last_track_no(const struct vd_ctx *c)
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
        vd_sense(r, 5, 0x24, 0, "vital product data not supported");
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
    vd_reply(r, d, sizeof(d), vd_get16(r->cdb + 3));
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
    vd_reply(r, d, sizeof(d), r->cdb[4]);
}

static void cmd_tur(struct vd_ctx *c, struct vd_req *r)
{
    vd_need_medium(c, r);
}

static void cmd_start_stop(struct vd_ctx *c, struct vd_req *r)
{
    int loej = r->cdb[4] & 2, start = r->cdb[4] & 1;
    char path[VD_PATH_MAX];
    int ret;

    if (!loej)
        return;
    if (!start && c->prevent) {
        vd_sense(r, 5, 0x53, 0x02, "medium removal prevented");
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
        vd_sense(r, 4, 0x44, 0, "cannot save '%s': %s", path, strerror(-ret));
        return;
    }
    c->have_drive_state = 0; /* reload without UNIT ATTENTION */
    vd_ctx_refresh(c);
    vd_note(r, "tray %s", start ? "closed" : "opened");
}

static void cmd_prevent(struct vd_ctx *c, struct vd_req *r)
{
    c->prevent = r->cdb[4] & 1;
}

static void cmd_read_capacity(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[8];

    if (!vd_need_medium(c, r))
        return;
    vd_put32(d, vd_medium_read_capacity(&c->m));
    vd_put32(d + 4, VD_BLOCK);
    vd_reply(r, d, sizeof(d), sizeof(d));
}

static void cmd_read(struct vd_ctx *c, struct vd_req *r, uint32_t lba, uint32_t n)
{
    uint64_t bytes = (uint64_t)n * VD_BLOCK;
    ssize_t got;

    if (!vd_need_medium(c, r))
        return;
    if (bytes > r->len || r->dir != VD_DIR_FROM_DEV) {
        vd_sense(r, 5, 0x24, 0,
                 "transfer length %" PRIu32 " blocks exceeds "
                 "buffer of %" PRIu32 " bytes",
                 n, r->len);
        return;
    }
    if (!vd_medium_readable(&c->m, lba, n)) {
        vd_sense(r, 5, 0x21, 0, "read of unrecorded blocks %" PRIu32 "+%" PRIu32, lba, n);
        return;
    }
    got = pread(c->data_fd, r->buf, (size_t)bytes, (off_t)lba * VD_BLOCK);
    if (got < 0) {
        vd_sense(r, 3, 0x11, 0, "cannot read medium data: %s", strerror(errno));
        return;
    }
    if ((uint64_t)got < bytes)
        memset(r->buf + got, 0, (size_t)(bytes - (uint64_t)got));
    r->resid = r->len - (uint32_t)bytes;
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
        vd_sense(r, 6, 0x28, 0, "medium may have changed");
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
        vd_cmd_format_unit(c, r);
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
        vd_cmd_read_format_capacities(c, r);
        break;
    case 0x25:
        cmd_read_capacity(c, r);
        break;
    case 0x28:
        cmd_read(c, r, vd_get32(cdb + 2), vd_get16(cdb + 7));
        break;
    case 0xa8:
        cmd_read(c, r, vd_get32(cdb + 2), vd_get32(cdb + 6));
        break;
    case 0x2a:
        vd_cmd_write(c, r, (int32_t)vd_get32(cdb + 2), vd_get16(cdb + 7));
        break;
    case 0xaa:
        vd_cmd_write(c, r, (int32_t)vd_get32(cdb + 2), vd_get32(cdb + 6));
        break;
    case 0x35:
        vd_cmd_sync_cache(c, r);
        break;
    case 0x43:
        vd_cmd_read_toc(c, r);
        break;
    case 0x46:
        vd_cmd_get_configuration(c, r);
        break;
    case 0x4a:
        vd_cmd_event_status(c, r);
        break;
    case 0x51:
        vd_cmd_disc_info(c, r);
        break;
    case 0x52:
        vd_cmd_track_info(c, r);
        break;
    case 0x55:
        vd_cmd_mode_select(c, r);
        break;
    case 0x5a:
        vd_cmd_mode_sense(c, r);
        break;
    case 0x5b:
        vd_cmd_close(c, r);
        break;
    case 0x53:
        vd_cmd_reserve_track(c, r);
        break;
    case 0x5c:
        vd_cmd_read_buffer_capacity(c, r);
        break;
    case 0x5d:
        vd_cmd_send_cue_sheet(c, r);
        break;
    case 0xa1:
        vd_cmd_blank(c, r);
        break;
    case 0xac:
        vd_cmd_get_performance(c, r);
        break;
    case 0xad:
        vd_cmd_read_disc_structure(c, r);
        break;
    case 0xb6: /* SET STREAMING */
    case 0xbb: /* SET CD SPEED */
    case 0x54: /* SEND OPC INFORMATION */
        r->resid = 0;
        break;
    default:
        vd_sense(r, 5, 0x20, 0, "unsupported opcode %02Xh", op);
        break;
    }
}

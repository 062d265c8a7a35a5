/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MMC commands of the virtual drive that write or change the medium: WRITE,
 * SYNCHRONIZE CACHE, CLOSE TRACK/SESSION, RESERVE TRACK, BLANK, FORMAT UNIT, SEND
 * CUE SHEET (and READ BUFFER CAPACITY, which a writer polls).  Written from the
 * MMC-5 field layouts and the fields libburn reads (shared/reference/libburn.md).
 * No libburn code is copied.
 */
#include "vdrive.h"
#include "mmc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
        vd_sense(r, 3, 0x0c, 0, "cannot store medium data: %s",
                 done < 0 ? strerror(errno) : "short write");
        return -EIO;
    }
    return 0;
}

/* The process dies the way a drive without power would leave the disc. */
/* The open track a WRITE at NWA goes into; a new one if none is open. */
static struct vd_track *open_track(struct vd_medium *m, uint32_t nwa)
{
    struct vd_track *t = vd_medium_open_track(m);

    if (!t) {
        t = &m->track[m->ntracks++];
        memset(t, 0, sizeof(*t));
        t->session = m->sessions + 1;
        t->start = nwa;
        t->state = VD_TRACK_OPEN;
    }
    return t;
}

static void power_loss(struct vd_ctx *c)
{
    struct vd_track *t = vd_medium_open_track(&c->m);

    if (t)
        t->state = VD_TRACK_DAMAGED;
    vd_medium_save(c->medium_path, &c->m);
    kill(getpid(), SIGKILL);
    _exit(137);
}

void vd_cmd_write(struct vd_ctx *c, struct vd_req *r, int64_t lba, uint32_t n)
{
    struct vd_medium *m = &c->m;
    struct vd_track *t;
    uint32_t nwa, limit;
    int valid;
    int64_t corrupt_lba = -1; /* a corrupt fault: this block is stored as corrupt_blk */
    uint8_t corrupt_blk[VD_BLOCK];

    if (!vd_need_medium(c, r))
        return;
    if ((uint64_t)n * VD_BLOCK > r->len || r->dir != VD_DIR_TO_DEV) {
        vd_sense(r, 5, 0x24, 0, "transfer length mismatch");
        return;
    }
    if (m->type->flags & VD_OVERWRITE) {
        if (lba < 0 || (uint64_t)lba + n > m->capacity) {
            vd_sense(r, 5, 0x21, 0, "lba %" PRId64 " beyond capacity", lba);
            return;
        }
        limit = (uint32_t)lba + n;
        nwa = (uint32_t)lba;
        goto faults;
    }
    valid = vd_medium_nwa(m, &nwa);
    if (m->finalized) {
        vd_sense(r, 5, 0x21, 0x02, "write-once violation: medium is closed");
        return;
    }
    if (!valid) {
        vd_sense(r, 5, 0x21, 0x02,
                 "write-once violation: no writable address "
                 "(track damaged or medium full)");
        return;
    }
    if (c->sao_armed && m->ntracks == 0 && lba < 0 && lba >= c->sao_start) {
        /* SAO on blank CD: the pre-gap of track 1 comes first */
        if (lba != c->sao_start) {
            vd_sense(r, 5, 0x21, 0x02, "write-once violation: lba %" PRId64 " != %" PRId32, lba,
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
        vd_sense(r, 5, 0x21, 0x02, "write-once violation: lba %" PRId64 " != nwa %" PRIu32, lba,
                 nwa);
        return;
    }
    t = vd_medium_open_track(m);
    if (t && t->size > 0 && (uint64_t)nwa + n > t->start + t->size) {
        vd_sense(r, 5, 0x21, 0x02,
                 "write beyond reserved track: %" PRIu32 "+%" PRIu32 " > %" PRIu32, nwa, n,
                 t->start + t->size);
        return;
    }
    if ((uint64_t)nwa + n > m->capacity) {
        vd_sense(r, 5, 0x21, 0x00, "write beyond capacity: %" PRIu32 "+%" PRIu32 " > %" PRIu32, nwa,
                 n, m->capacity);
        return;
    }
    limit = nwa + n;

faults:
    vd_refresh_faults(c);
    for (int i = 0; i < c->faults.n; i++) {
        uint32_t at = c->faults.f[i].lba;
        enum vd_fault_kind kind = c->faults.f[i].kind;

        if (at < nwa || at >= limit)
            continue;
        vd_consume_fault(c, i);
        if (kind == VD_FAULT_CORRUPT) {
            /* a bad disc: the drive reports success, the medium holds other bytes */
            uint8_t blk[VD_BLOCK];
            memcpy(blk, r->buf + (size_t)(at - nwa) * VD_BLOCK, VD_BLOCK);
            blk[1] ^= 0xff; /* in a volume descriptor: its "CD001" */
            vd_note(r, "injected corruption at lba %" PRIu32, at);
            corrupt_lba = at;
            memcpy(corrupt_blk, blk, VD_BLOCK);
            break;
        }
        /* the blocks before the fault do reach the medium */
        n = at - nwa;
        if (!(m->type->flags & VD_OVERWRITE) && n > 0)
            open_track(m, nwa)->written += n;
        if (store(c, r, nwa, r->buf, n) < 0)
            return;
        if (kind == VD_FAULT_POWER_LOSS)
            power_loss(c);
        if (!(m->type->flags & VD_OVERWRITE)) {
            t = vd_medium_open_track(m);
            if (t)
                t->state = VD_TRACK_DAMAGED;
            vd_save_medium(c, r);
        }
        vd_sense(r, 3, 0x0c, 0x00, "injected write error at lba %" PRIu32, at);
        return;
    }

    if (m->type->flags & VD_OVERWRITE) {
        if (store(c, r, nwa, r->buf, n) == 0 && corrupt_lba >= 0)
            store(c, r, corrupt_lba, corrupt_blk, 1);
        return;
    }
    if (m->ntracks >= VD_MAX_TRACKS && !vd_medium_open_track(m)) {
        vd_sense(r, 5, 0x72, 0x05, "no more track reservations allowed");
        return;
    }
    if (store(c, r, nwa, r->buf, n) < 0)
        return;
    if (corrupt_lba >= 0 && store(c, r, corrupt_lba, corrupt_blk, 1) < 0)
        return;
    open_track(m, nwa)->written += n;
    vd_save_medium(c, r);
}

void vd_cmd_sync_cache(struct vd_ctx *c, struct vd_req *r)
{
    if (!vd_need_medium(c, r))
        return;
    if ((c->m.type->flags & VD_DVD_MINUS) && (c->page05[2] & 0x0f) == 2 &&
        vd_medium_open_track(&c->m)) {
        /* DVD-R DAO: the drive closes the only session and the disc */
        vd_medium_close_session(&c->m, 1);
        vd_note(r, "DAO: disc finalized");
        vd_save_medium(c, r);
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
        vd_note(r, "SAO session closed%s", finalize ? ", disc finalized" : "");
        vd_save_medium(c, r);
    }
}

void vd_cmd_close(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    int func = r->cdb[2] & 7, done = 0;
    unsigned f;

    if (!vd_need_medium(c, r))
        return;
    f = m->type->flags;
    if (f & VD_OVERWRITE)
        return; /* stops background formatting: nothing to do */
    switch (func) {
    case 1: /* close track */
        done = vd_medium_close_track(m);
        vd_note(r, done ? "track closed" : "no open track");
        break;
    case 2: /* close session; CD and DVD-R: page 05 multi decides */
        if (f & (VD_CD | VD_DVD_MINUS))
            done = vd_medium_close_session(m, (c->page05[3] >> 6) == 0);
        else
            done = vd_medium_close_session(m, 0);
        vd_note(r, "%s%s", done ? "session closed" : "no open session",
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
        vd_note(r, "disc finalized");
        break;
    default:
        vd_sense(r, 5, 0x24, 0, "close function %d not supported", func);
        return;
    }
    if (done || m->finalized)
        vd_save_medium(c, r);
}

void vd_cmd_reserve_track(struct vd_ctx *c, struct vd_req *r)
{
    uint32_t blocks = vd_get32(r->cdb + 5);
    int ret;

    if (!vd_need_medium(c, r))
        return;
    if (r->cdb[1] & 1) {
        vd_sense(r, 5, 0x24, 0, "reservation by address not supported");
        return;
    }
    if (c->m.type->flags & (VD_OVERWRITE | VD_CD)) {
        vd_sense(r, 5, 0x20, 0, "RESERVE TRACK not supported on this medium");
        return;
    }
    ret = vd_medium_reserve(&c->m, blocks);
    if (ret == -ENOSPC) {
        vd_sense(r, 5, 0x21, 0,
                 "reservation of %" PRIu32 " blocks beyond "
                 "capacity",
                 blocks);
        return;
    }
    if (ret < 0) {
        vd_sense(r, 5, 0x2c, 0, "cannot reserve a track now: %s", strerror(-ret));
        return;
    }
    vd_note(r, "reserved %" PRIu32 " blocks", blocks);
    vd_save_medium(c, r);
}

void vd_cmd_read_buffer_capacity(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[12] = {0};

    (void)c;
    vd_put16(d, 10);
    vd_put32(d + 4, VD_BUFFER_BYTES);
    vd_put32(d + 8, VD_BUFFER_BYTES);
    vd_reply(r, d, sizeof(d), vd_get16(r->cdb + 7));
}

void vd_cmd_blank(struct vd_ctx *c, struct vd_req *r)
{
    if (!vd_need_medium(c, r))
        return;
    if (!(c->m.type->flags & VD_ERASABLE)) {
        vd_sense(r, 5, 0x30, 0x05, "medium is not erasable");
        return;
    }
    vd_medium_blank(&c->m);
    if (ftruncate(c->data_fd, 0) < 0) {
        vd_sense(r, 3, 0x0c, 0, "cannot truncate medium data: %s", strerror(errno));
        return;
    }
    vd_note(r, "blanked (type %d)", r->cdb[1] & 7);
    vd_save_medium(c, r);
}

void vd_cmd_format_unit(struct vd_ctx *c, struct vd_req *r)
{
    if (!vd_need_medium(c, r))
        return;
    if (!(c->m.type->flags & (VD_OVERWRITE | VD_BD))) {
        vd_sense(r, 5, 0x30, 0x05, "medium cannot be formatted");
        return;
    }
    r->resid = 0;
    vd_note(r, "format accepted (no-op)");
}

void vd_cmd_send_cue_sheet(struct vd_ctx *c, struct vd_req *r)
{
    if (!vd_need_medium(c, r))
        return;
    if (!(c->m.type->flags & VD_CD) || vd_medium_status(&c->m) != VD_BLANK) {
        vd_sense(r, 5, 0x2c, 0, "SAO only on blank CD");
        return;
    }
    c->sao_armed = 1;
    c->sao_start = -150;
    r->resid = 0;
    vd_note(r, "cue sheet of %" PRIu32 " bytes, SAO armed", vd_get32(r->cdb + 5) >> 8);
}

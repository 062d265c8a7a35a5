/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtual drive's answers about the medium: GET CONFIGURATION, MODE
 * SENSE/SELECT, READ DISC INFORMATION, READ TRACK INFORMATION, READ TOC/PMA/ATIP,
 * READ DISC STRUCTURE, READ FORMAT CAPACITIES, GET PERFORMANCE, GET EVENT STATUS.
 * Written from the MMC-5 field layouts and the fields libburn reads
 * (shared/reference/libburn.md); no libburn code is copied.  mmc.c has the
 * commands that change the medium and the dispatcher.
 */
#include "vdrive.h"
#include "mmc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* GET CONFIGURATION: profile list and the features libburn looks at */
static size_t feature(uint8_t *p, int code, int current, int len)
{
    vd_put16(p, (uint32_t)code);
    p[2] = (uint8_t)(current ? 0x01 : 0);
    p[3] = (uint8_t)len;
    memset(p + 4, 0, (size_t)len);
    return 4 + (size_t)len;
}

void vd_cmd_get_configuration(struct vd_ctx *c, struct vd_req *r)
{
    static const int profiles[] = {0x43, 0x41, 0x40, 0x1b, 0x1a, 0x11, 0x10, 0x0a, 0x09, 0x08};
    uint8_t d[1024], *p;
    int rt = r->cdb[1] & 3, start = (int)vd_get16(r->cdb + 2);
    int cur = c->have_medium ? c->m.type->profile : 0;
    unsigned f = vd_mflags(c);
    size_t len = 8, n;
    uint8_t *feat[32];
    int nfeat = 0;

    memset(d, 0, sizeof(d));
    vd_put16(d + 6, (uint32_t)cur);

    /* 0000h profile list */
    p = d + len;
    feat[nfeat++] = p;
    n = feature(p, 0x0000, 1, 4 * (int)(sizeof(profiles) / sizeof(int)));
    p[2] |= 0x02; /* persistent */
    for (size_t i = 0; i < sizeof(profiles) / sizeof(int); i++) {
        vd_put16(p + 4 + 4 * i, (uint32_t)profiles[i]);
        p[4 + 4 * i + 2] = profiles[i] == cur;
    }
    len += n;
    /* 0001h core: ATAPI */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0001, 1, 8);
    p[2] |= 0x0a;
    vd_put32(p + 4, 2);
    /* 0003h removable medium: tray, eject, lock */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0003, 1, 4);
    p[4] = 0x29;
    /* 0010h random readable */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0010, c->have_medium, 8);
    vd_put32(p + 4, VD_BLOCK);
    vd_put16(p + 8, f & VD_BD ? 32 : (f & VD_CD) || !f ? 1 : 16);
    /* 0021h incremental streaming writable: link size */
    p = d + len;
    feat[nfeat++] = p;
    len += feature(p, 0x0021, (f & (VD_CD | VD_DVD_MINUS)) != 0, 8);
    vd_put16(p + 4, 0x0001 | 0x0100); /* mode 1, ... */
    p[6] = 0x03;                      /* BUF, ARSV */
    p[7] = 1;                         /* number of link sizes */
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
    vd_put16(p + 6, 0x0001);
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
            int code = (int)vd_get16(feat[i]);
            size_t fl = 4 + feat[i][3];

            if (code < start || (rt == 2 && code != start) || (rt == 1 && !(feat[i][2] & 1)))
                continue;
            memcpy(out + olen, feat[i], fl);
            olen += fl;
        }
        memcpy(d, out, olen);
        len = olen;
    }
    vd_put32(d, (uint32_t)len - 4);
    vd_reply(r, d, (uint32_t)len, vd_get16(r->cdb + 7));
}

static size_t page_2a(struct vd_ctx *c, uint8_t *p)
{
    int speed = vd_write_speed(c);

    memset(p, 0, 36);
    p[0] = 0x2a;
    p[1] = 34;
    p[2] = 0x1b; /* reads CD-R, CD-RW, DVD-ROM, DVD-R */
    p[3] = 0x13; /* writes CD-R, CD-RW, DVD-R */
    p[4] = 0xc0; /* BUF, multi-session */
    p[6] = 0x29; /* tray, eject, lock */
    vd_put16(p + 8, 7056);
    vd_put16(p + 10, 256);
    vd_put16(p + 12, VD_BUFFER_BYTES / 1024);
    vd_put16(p + 14, 7056);
    vd_put16(p + 18, (uint32_t)speed);
    vd_put16(p + 20, (uint32_t)speed);
    vd_put16(p + 28, (uint32_t)speed);
    vd_put16(p + 30, 1);
    vd_put16(p + 34, (uint32_t)speed);
    return 36;
}

void vd_cmd_mode_sense(struct vd_ctx *c, struct vd_req *r)
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
        vd_sense(r, 5, 0x24, 0, "mode page %02Xh not supported", page);
        return;
    }
    vd_put16(d, (uint32_t)len - 2);
    vd_reply(r, d, (uint32_t)len, vd_get16(r->cdb + 7));
}

void vd_cmd_mode_select(struct vd_ctx *c, struct vd_req *r)
{
    uint32_t plen = vd_get16(r->cdb + 7), off;

    if (plen > r->len)
        plen = r->len;
    if (plen < 8 || r->dir != VD_DIR_TO_DEV)
        return;
    off = 8 + vd_get16(r->buf + 6);
    while (off + 2 <= plen) {
        int code = r->buf[off] & 0x3f, pl = r->buf[off + 1] + 2;

        if (code == 0x05) {
            size_t n = (size_t)pl < sizeof(c->page05) ? (size_t)pl : sizeof(c->page05);
            if (off + n > plen)
                n = plen - off;
            memcpy(c->page05, r->buf + off, n);
            c->page05[0] = 0x05;
            vd_note(r, "page 05: write type %d, multi %d, test write %d", c->page05[2] & 0x0f,
                    c->page05[3] >> 6, !!(c->page05[2] & 0x10));
        }
        off += (uint32_t)pl;
    }
    r->resid = 0;
}

void vd_cmd_disc_info(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    uint8_t d[34] = {0};
    enum vd_status st;
    unsigned f;
    int sessions, first, last, state;

    if (!vd_need_medium(c, r))
        return;
    if (r->cdb[1] & 7) {
        vd_sense(r, 5, 0x24, 0, "disc information type %d", r->cdb[1] & 7);
        return;
    }
    f = m->type->flags;
    st = vd_medium_status(m);
    last = vd_last_track_no(c);
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
    vd_put16(d, 32);
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
    vd_put32(d + 12, m->disc_id_valid ? m->disc_id : 0);
    if (f & VD_CD) {
        uint8_t msf[3];

        if (st == VD_BLANK) {
            d[17] = (uint8_t)m->atip_m;
            d[18] = (uint8_t)m->atip_s;
            d[19] = (uint8_t)m->atip_f;
            vd_lba_to_msf((int32_t)m->capacity, d + 21);
        } else if (st == VD_APPENDABLE) {
            vd_lba_to_msf((int32_t)m->next_start - VD_CD_LEADIN - VD_CD_PREGAP, msf);
            memcpy(d + 17, msf, 3);
            vd_lba_to_msf((int32_t)m->capacity, d + 21);
        } else {
            memset(d + 16, 0xff, 8);
        }
    } else {
        vd_put32(d + 16, st == VD_APPENDABLE ? m->next_start : 0);
        vd_put32(d + 20, m->capacity);
    }
    vd_reply(r, d, sizeof(d), vd_get16(r->cdb + 7));
}

static void track_info(struct vd_ctx *c, struct vd_req *r, int no)
{
    struct vd_medium *m = &c->m;
    uint8_t d[48] = {0};
    unsigned f = m->type->flags;
    int dvdr = (f & VD_DVD_MINUS) != 0;
    uint32_t nwa;

    vd_put16(d, 46);
    d[2] = (uint8_t)no;
    d[32] = (uint8_t)(no >> 8);
    d[5] = 0x04; /* data, uninterrupted */
    if (f & VD_OVERWRITE) {
        d[3] = 1;
        d[6] = 0x01;
        d[7] = 0x01;
        vd_put32(d + 16, m->capacity);
        vd_put32(d + 20, m->type->align);
        vd_put32(d + 24, m->capacity);
    } else if (no >= 1 && no <= m->ntracks) {
        const struct vd_track *t = &m->track[no - 1];

        d[3] = (uint8_t)t->session;
        d[33] = (uint8_t)(t->session >> 8);
        d[6] = (uint8_t)(0x01 | (dvdr ? 0x30 : 0));
        vd_put32(d + 8, t->start);
        if (t->written > 0) {
            d[7] |= 0x02; /* LRA_V */
            vd_put32(d + 28, t->start + t->written - 1);
        }
        switch (t->state) {
        case VD_TRACK_OPEN:
            if (vd_medium_nwa(m, &nwa)) {
                d[7] |= 0x01;
                vd_put32(d + 12, nwa);
            }
            if (t->size > 0) { /* reserved */
                d[6] |= 0x80;
                vd_put32(d + 16, t->size - t->written);
                vd_put32(d + 24, t->size);
            } else {
                vd_put32(d + 16, m->capacity - nwa);
                vd_put32(d + 24, m->capacity - t->start);
            }
            break;
        case VD_TRACK_DAMAGED:
            d[5] |= 0x20; /* damage, NWA_V stays 0 */
            vd_put32(d + 24, t->written);
            break;
        case VD_TRACK_CLOSED:
            vd_put32(d + 24, t->size);
            break;
        }
        if (dvdr)
            vd_put32(d + 20, 16);
    } else if (no == m->ntracks + 1 && !m->finalized) {
        /* the invisible track */
        int valid = vd_medium_nwa(m, &nwa);

        d[3] = (uint8_t)(m->sessions + 1);
        d[33] = (uint8_t)((m->sessions + 1) >> 8);
        d[6] = (uint8_t)(0x40 | 0x01 | (dvdr ? 0x30 : 0));
        vd_put32(d + 8, m->next_start);
        if (valid) {
            d[7] = 0x01;
            vd_put32(d + 12, nwa);
            vd_put32(d + 16, m->capacity - nwa);
        }
        vd_put32(d + 24, m->capacity > m->next_start ? m->capacity - m->next_start : 0);
        if (dvdr)
            vd_put32(d + 20, 16);
    } else {
        vd_sense(r, 5, 0x24, 0, "no track %d", no);
        return;
    }
    vd_reply(r, d, sizeof(d), vd_get16(r->cdb + 7));
}

void vd_cmd_track_info(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    uint32_t addr = vd_get32(r->cdb + 2);
    int type = r->cdb[1] & 3, no = -1;

    if (!vd_need_medium(c, r))
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
        no = addr == 0xff && !(m->type->flags & VD_OVERWRITE) ? vd_last_track_no(c) : (int)addr;
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
        vd_sense(r, 5, 0x24, 0, "no track at address type %d value %" PRIu32, type, addr);
        return;
    }
    track_info(c, r, no);
}

static void toc_addr(uint8_t *p, uint32_t lba, int msf)
{
    if (msf) {
        p[0] = 0;
        vd_lba_to_msf((int32_t)lba, p + 1);
    } else {
        vd_put32(p, lba);
    }
}

void vd_cmd_read_toc(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    int msf = (r->cdb[1] & 2) != 0, fmt = r->cdb[2] & 0x0f;
    uint32_t alloc = vd_get16(r->cdb + 7);
    uint8_t d[4 + 11 * (VD_MAX_TRACKS + 3 * 100)];
    size_t len = 4;
    unsigned f;
    int closed = 0; /* tracks in closed sessions */

    if (!vd_need_medium(c, r))
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
            vd_sense(r, 5, 0x24, 0, "no ATIP on this medium");
            return;
        }
        vd_put16(d, 26);
        d[4] = 0x55; /* indicative writing power, reference speed */
        d[5] = 0x40; /* unrestricted use */
        d[6] = (uint8_t)(0x80 | (f & VD_ERASABLE ? 0x40 : 0));
        d[8] = (uint8_t)m->atip_m;
        d[9] = (uint8_t)m->atip_s;
        d[10] = (uint8_t)m->atip_f;
        vd_lba_to_msf((int32_t)m->capacity, d + 12);
        vd_reply(r, d, 28, alloc);
        return;
    }
    if (f & VD_OVERWRITE) {
        if (fmt != 0 && fmt != 1) {
            vd_sense(r, 5, 0x24, 0, "TOC format %d on a DVD/BD", fmt);
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
        vd_put16(d, (uint32_t)len - 2);
        vd_reply(r, d, (uint32_t)len, alloc);
        return;
    }
    if (closed == 0 && fmt != 2) {
        vd_sense(r, 5, 0x24, 0, "no complete session");
        return;
    }
    switch (fmt) {
    case 0: { /* TOC: tracks of closed sessions, then the lead-out */
        int from = r->cdb[6] ? r->cdb[6] : 1;
        const struct vd_track *lt = &m->track[closed - 1];

        d[2] = 1;
        d[3] = (uint8_t)closed;
        if (from > closed && from != 0xaa) {
            vd_sense(r, 5, 0x24, 0, "no track %d", from);
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
            vd_sense(r, 5, 0x24, 0, "TOC format 2 on a DVD/BD");
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
                    vd_lba_to_msf((int32_t)(m->track[lt].start + m->track[lt].size), p + 8);
                }
                len += 11;
            }
            for (int i = ft; i <= lt; i++) {
                uint8_t *p = d + len;
                p[0] = (uint8_t)s;
                p[1] = 0x14;
                p[3] = (uint8_t)(i + 1);
                vd_lba_to_msf((int32_t)m->track[i].start, p + 8);
                len += 11;
            }
        }
        break;
    }
    default:
        vd_sense(r, 5, 0x24, 0, "TOC format %d not supported", fmt);
        return;
    }
    vd_put16(d, (uint32_t)len - 2);
    vd_reply(r, d, (uint32_t)len, alloc);
}

void vd_cmd_read_disc_structure(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    int media = r->cdb[1] & 0x0f, fmt = r->cdb[7];
    uint32_t alloc = vd_get16(r->cdb + 8);
    uint8_t d[4 + 4096];
    uint8_t *p = d + 4;
    size_t len;
    unsigned f;

    if (!vd_need_medium(c, r))
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
            vd_put16(p + 4 * i + 2, codes[i] == 0xff ? 4u * (unsigned)n : 2048u);
        }
        len = 4 + 4 * (size_t)n;
    } else if (media == 1) {
        if (!(f & VD_BD)) {
            vd_sense(r, 5, 0x30, 0x02, "no BD structure on this medium");
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
            vd_sense(r, 5, 0x24, 0, "BD structure %02Xh not supported", fmt);
            return;
        }
    } else if (media == 0) {
        if (!(f & (VD_DVD_MINUS | VD_DVD_PLUS))) {
            vd_sense(r, 5, 0x30, 0x02, "no DVD structure on this medium");
            return;
        }
        if (fmt == 0x00) { /* physical format */
            p[0] = f & VD_DVD_MINUS ? 0x25 : f & VD_OVERWRITE ? 0x92 : 0xa1;
            p[1] = 0x0f;
            p[2] = 0x01;
            p[3] = 0x10;
            vd_put32(p + 4, 0x030000);
            vd_put32(p + 8, 0x030000 + m->capacity - 1);
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
            vd_sense(r, 5, 0x24, 0, "DVD structure %02Xh not supported", fmt);
            return;
        }
    } else {
        vd_sense(r, 5, 0x24, 0, "media type %d not supported", media);
        return;
    }
    vd_put16(d, (uint32_t)len - 2);
    vd_reply(r, d, (uint32_t)len, alloc);
}

void vd_cmd_read_format_capacities(struct vd_ctx *c, struct vd_req *r)
{
    struct vd_medium *m = &c->m;
    uint8_t d[4 + 8 * 3] = {0};
    size_t len = 12;
    unsigned f;

    if (!c->have_medium) {
        vd_put32(d + 4, 0xffffffff);
        d[8] = 3; /* no medium */
        vd_put32(d + 8, 3u << 24 | VD_BLOCK);
        d[3] = 8;
        vd_reply(r, d, len, vd_get16(r->cdb + 7));
        return;
    }
    f = m->type->flags;
    vd_put32(d + 4, m->capacity);
    vd_put32(d + 8, VD_BLOCK);
    d[8] = (f & VD_OVERWRITE) ? 2 : 1; /* formatted / unformatted */
    if (f & (VD_OVERWRITE | VD_BD)) {
        vd_put32(d + 12, m->capacity);
        vd_put32(d + 16, 0);
        d[16] = (uint8_t)((f & VD_DVD_PLUS ? 0x26 : f & VD_OVERWRITE ? 0x31 : 0x32) << 2);
        len += 8;
    }
    d[3] = (uint8_t)(len - 4);
    vd_reply(r, d, len, vd_get16(r->cdb + 7));
}

void vd_cmd_get_performance(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[8 + 16] = {0};
    int type = r->cdb[10];

    if (type != 0x03 && type != 0x00) {
        vd_sense(r, 5, 0x24, 0, "performance type %d", type);
        return;
    }
    vd_put32(d, sizeof(d) - 4);
    if (type == 0x03) { /* write speed descriptor */
        d[8] = 0x00;
        vd_put32(d + 12, c->have_medium ? c->m.capacity : 0);
        vd_put32(d + 16, (uint32_t)vd_write_speed(c));
        vd_put32(d + 20, (uint32_t)vd_write_speed(c));
    } else {
        vd_put32(d + 8, 0);
        vd_put32(d + 12, 7056);
        vd_put32(d + 16, c->have_medium ? c->m.capacity - 1 : 0);
        vd_put32(d + 20, 7056);
    }
    vd_reply(r, d, sizeof(d), vd_get16(r->cdb + 8) * 16 + 8);
}

void vd_cmd_event_status(struct vd_ctx *c, struct vd_req *r)
{
    uint8_t d[8] = {0};

    if (!(r->cdb[1] & 1)) {
        vd_sense(r, 5, 0x24, 0, "asynchronous event status");
        return;
    }
    vd_put16(d, 6);
    d[2] = 0x04; /* media class */
    d[3] = 0x10;
    d[5] = (uint8_t)((c->drive.tray_open ? 1 : 0) | (c->have_medium ? 2 : 0));
    vd_reply(r, d, sizeof(d), vd_get16(r->cdb + 7));
}

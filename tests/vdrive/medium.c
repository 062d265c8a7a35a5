/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Media types, the medium model and the small versioned state files.
 *
 * A medium state file looks like this (one record per line, "key value";
 * unknown keys are ignored, an unknown magic or version is refused):
 *
 *   vdrive-medium 1
 *   type cdr
 *   capacity 359849
 *   gap_first 11400
 *   gap_next 6900
 *   next_start 11702
 *   sessions 1
 *   finalized 0
 *   disc_id 0x12345678        (or "none")
 *   atip_leadin 97:26:66
 *   manufacturer VIRTDVDR0001
 *   type_id R01
 *   revision 1
 *   track 1 0 300 302 closed  (session start written size state)
 *
 * The size of a track that is not closed yet is its reservation (RESERVE
 * TRACK), or 0 for an open-ended track.
 */
#include "vdrive.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Capacities are those of common 80 min CD-R/RW, 4.7 GB DVD±R and 25 GB
 * BD-R. CD gaps are the Red Book figures (lead-out 6750 after the first
 * session, 2250 after later ones, plus 4500 lead-in and 150 pre-gap).
 * DVD and BD gaps are assumptions, see README.md.
 */
static const struct vd_type vd_types[] = {
    {"cdr", 0x09, VD_CD, 359849, 11400, 6900, 1, "", "", 0, "CD-R"},
    {"cdrw", 0x0a, VD_CD | VD_ERASABLE, 359849, 11400, 6900, 1, "", "", 0, "CD-RW"},
    {"dvd-r", 0x11, VD_DVD_MINUS, 2298496, 38112, 6144, 16, "VIRTDVDR0001", "", 0,
     "DVD-R sequential recording"},
    {"dvd+r", 0x1b, VD_DVD_PLUS, 2295104, 2048, 2048, 16, "VIRTDVD+", "R01", 1, "DVD+R"},
    {"dvd+rw", 0x1a, VD_DVD_PLUS | VD_OVERWRITE, 2295104, 0, 0, 16, "VIRTDVD+", "W01", 1, "DVD+RW"},
    {"bd-r", 0x41, VD_BD, 12219392, 0, 0, 32, "VIRTBD", "R01", 0, "BD-R sequential recording"},
    {"bd-re", 0x43, VD_BD | VD_OVERWRITE, 12219392, 0, 0, 32, "VIRTBD", "E01", 0, "BD-RE"},
};

#define VD_NTYPES (sizeof(vd_types) / sizeof(vd_types[0]))

const struct vd_type *vd_type_find(const char *name)
{
    for (size_t i = 0; i < VD_NTYPES; i++)
        if (strcmp(vd_types[i].name, name) == 0)
            return &vd_types[i];
    return NULL;
}

const struct vd_type *vd_type_at(int i)
{
    if (i < 0 || (size_t)i >= VD_NTYPES)
        return NULL;
    return &vd_types[i];
}

void vd_medium_init(struct vd_medium *m, const struct vd_type *t)
{
    memset(m, 0, sizeof(*m));
    m->type = t;
    m->capacity = t->capacity;
    m->gap_first = t->gap_first;
    m->gap_next = t->gap_next;
    m->atip_m = 97; /* 97m26s66f: CMC Magnetics in libburn's table */
    m->atip_s = 26;
    m->atip_f = 66;
    snprintf(m->manufacturer, sizeof(m->manufacturer), "%s", t->manufacturer);
    snprintf(m->type_id, sizeof(m->type_id), "%s", t->type_id);
    m->revision = t->revision;
}

static const char *const track_state_names[] = {"open", "damaged", "closed"};

static int parse_u32(const char *s, uint32_t *v)
{
    char *end;
    unsigned long long x;

    errno = 0;
    x = strtoull(s, &end, 0);
    if (errno || end == s || *end || x > UINT32_MAX)
        return -EINVAL;
    *v = (uint32_t)x;
    return 0;
}

static int read_text(const char *path, char **text)
{
    FILE *f;
    char *buf = NULL;
    size_t len = 0, n;
    char chunk[4096];

    f = fopen(path, "re");
    if (!f)
        return -errno;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        char *nb = realloc(buf, len + n + 1);
        if (!nb) {
            free(buf);
            fclose(f);
            return -ENOMEM;
        }
        buf = nb;
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!buf) {
        buf = malloc(1);
        if (!buf)
            return -ENOMEM;
    }
    buf[len] = 0;
    *text = buf;
    return 0;
}

/* Check "MAGIC VERSION" on the first line; returns the rest of the text. */
static int check_header(const char *path, char *text, const char *magic, int version, char **rest,
                        char *err, size_t errlen)
{
    char *nl = strchr(text, '\n');
    char want[64];
    int got;

    if (nl)
        *nl = 0;
    if (strncmp(text, magic, strlen(magic)) != 0 || text[strlen(magic)] != ' ') {
        snprintf(err, errlen, "'%s' is not a %s file", path, magic);
        return -EINVAL;
    }
    got = atoi(text + strlen(magic) + 1);
    if (got != version) {
        snprintf(want, sizeof(want), "%d", version);
        snprintf(err, errlen, "'%s' has unknown %s version %d (this vdrive reads %s)", path, magic,
                 got, want);
        return -EPROTO;
    }
    *rest = nl ? nl + 1 : text + strlen(text);
    return 0;
}

int vd_medium_load(const char *path, struct vd_medium *m, char *err, size_t errlen)
{
    char *text, *rest, *line, *save = NULL;
    int ret, lineno = 1;

    ret = read_text(path, &text);
    if (ret < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-ret));
        return ret;
    }
    ret = check_header(path, text, VD_MEDIUM_MAGIC, VD_MEDIUM_VERSION, &rest, err, errlen);
    if (ret < 0)
        goto out_free;

    memset(m, 0, sizeof(*m));
    for (line = strtok_r(rest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char key[32], v1[64], v2[64], v3[64], v4[64], v5[64];
        int n;
        uint32_t x = 0;

        lineno++;
        n = sscanf(line, "%31s %63s %63s %63s %63s %63s", key, v1, v2, v3, v4, v5);
        if (n < 2)
            continue;
        ret = 0;
        if (strcmp(key, "type") == 0) {
            m->type = vd_type_find(v1);
            if (!m->type) {
                snprintf(err, errlen, "'%s': unknown medium type '%s'", path, v1);
                ret = -EINVAL;
                goto out_free;
            }
        } else if (strcmp(key, "disc_id") == 0) {
            m->disc_id_valid = strcmp(v1, "none") != 0;
            if (m->disc_id_valid)
                ret = parse_u32(v1, &m->disc_id);
        } else if (strcmp(key, "atip_leadin") == 0) {
            if (sscanf(v1, "%d:%d:%d", &m->atip_m, &m->atip_s, &m->atip_f) != 3)
                ret = -EINVAL;
        } else if (strcmp(key, "manufacturer") == 0) {
            vd_copy(m->manufacturer, sizeof(m->manufacturer), strcmp(v1, "-") ? v1 : "");
        } else if (strcmp(key, "type_id") == 0) {
            vd_copy(m->type_id, sizeof(m->type_id), strcmp(v1, "-") ? v1 : "");
        } else if (strcmp(key, "track") == 0) {
            struct vd_track *t;
            int s;

            if (n != 6 || m->ntracks >= VD_MAX_TRACKS) {
                ret = -EINVAL;
            } else {
                t = &m->track[m->ntracks++];
                if (parse_u32(v1, &t->session) || parse_u32(v2, &t->start) ||
                    parse_u32(v3, &t->written) || parse_u32(v4, &t->size))
                    ret = -EINVAL;
                for (s = 0; s < 3; s++)
                    if (strcmp(v5, track_state_names[s]) == 0)
                        break;
                if (s == 3)
                    ret = -EINVAL;
                t->state = (enum vd_track_state)s;
            }
        } else {
            uint32_t *dst = NULL;

            if (strcmp(key, "capacity") == 0)
                dst = &m->capacity;
            else if (strcmp(key, "gap_first") == 0)
                dst = &m->gap_first;
            else if (strcmp(key, "gap_next") == 0)
                dst = &m->gap_next;
            else if (strcmp(key, "next_start") == 0)
                dst = &m->next_start;
            else if (strcmp(key, "sessions") == 0)
                dst = &m->sessions;
            if (dst) {
                ret = parse_u32(v1, dst);
            } else if (strcmp(key, "finalized") == 0 || strcmp(key, "revision") == 0) {
                ret = parse_u32(v1, &x);
                if (key[0] == 'f')
                    m->finalized = !!x;
                else
                    m->revision = (int)x;
            }
            /* anything else: a key from a later minor change, ignored */
        }
        if (ret < 0) {
            snprintf(err, errlen, "'%s' line %d: bad record '%s'", path, lineno, line);
            goto out_free;
        }
    }
    if (!m->type) {
        snprintf(err, errlen, "'%s' names no medium type", path);
        ret = -EINVAL;
    }
out_free:
    free(text);
    return ret;
}

int vd_write_atomic(const char *path, const char *text, size_t len)
{
    char tmp[VD_PATH_MAX + 32];
    int fd, ret = 0;
    size_t off = 0;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ret = -errno;
            break;
        }
        off += (size_t)n;
    }
    if (close(fd) < 0 && ret == 0)
        ret = -errno;
    if (ret == 0 && rename(tmp, path) < 0)
        ret = -errno;
    if (ret < 0)
        unlink(tmp);
    return ret;
}

int vd_medium_save(const char *path, const struct vd_medium *m)
{
    char *text;
    size_t cap = 1024 + (size_t)m->ntracks * 80, len = 0;
    int ret;

    text = malloc(cap);
    if (!text)
        return -ENOMEM;
#define OUT(...) len += (size_t)snprintf(text + len, cap - len, __VA_ARGS__)
    OUT("%s %d\n", VD_MEDIUM_MAGIC, VD_MEDIUM_VERSION);
    OUT("type %s\n", m->type->name);
    OUT("capacity %" PRIu32 "\n", m->capacity);
    OUT("gap_first %" PRIu32 "\n", m->gap_first);
    OUT("gap_next %" PRIu32 "\n", m->gap_next);
    OUT("next_start %" PRIu32 "\n", m->next_start);
    OUT("sessions %" PRIu32 "\n", m->sessions);
    OUT("finalized %d\n", m->finalized);
    if (m->disc_id_valid)
        OUT("disc_id 0x%08" PRIx32 "\n", m->disc_id);
    else
        OUT("disc_id none\n");
    OUT("atip_leadin %02d:%02d:%02d\n", m->atip_m, m->atip_s, m->atip_f);
    OUT("manufacturer %s\n", m->manufacturer[0] ? m->manufacturer : "-");
    OUT("type_id %s\n", m->type_id[0] ? m->type_id : "-");
    OUT("revision %d\n", m->revision);
    for (int i = 0; i < m->ntracks; i++) {
        const struct vd_track *t = &m->track[i];
        OUT("track %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %s\n", t->session, t->start,
            t->written, t->size, track_state_names[t->state]);
    }
#undef OUT
    ret = vd_write_atomic(path, text, len);
    free(text);
    return ret;
}

struct vd_track *vd_medium_open_track(struct vd_medium *m)
{
    struct vd_track *t;

    if (m->ntracks == 0)
        return NULL;
    t = &m->track[m->ntracks - 1];
    return t->state == VD_TRACK_CLOSED ? NULL : t;
}

/* Is a session open (tracks written, session not yet closed)? */
int vd_medium_open_session(const struct vd_medium *m)
{
    return m->ntracks > 0 && m->track[m->ntracks - 1].session > m->sessions;
}

enum vd_status vd_medium_status(const struct vd_medium *m)
{
    if (m->type->flags & VD_OVERWRITE)
        return VD_FULL; /* a formatted overwriteable medium is "complete" */
    if (m->finalized)
        return VD_FULL;
    if (m->ntracks == 0)
        return VD_BLANK;
    return VD_APPENDABLE;
}

const char *vd_status_name(enum vd_status s)
{
    switch (s) {
    case VD_BLANK:
        return "blank";
    case VD_APPENDABLE:
        return "appendable";
    default:
        return "full";
    }
}

/* The next writable address; returns 1 if it is valid (NWA_V). */
int vd_medium_nwa(const struct vd_medium *m, uint32_t *nwa)
{
    const struct vd_track *t = NULL;

    if (m->ntracks > 0 && m->track[m->ntracks - 1].state != VD_TRACK_CLOSED)
        t = &m->track[m->ntracks - 1];
    if (t) {
        *nwa = t->start + t->written;
        if (t->size > 0 && t->written >= t->size) /* reservation full */
            return 0;
        return t->state == VD_TRACK_OPEN && *nwa < m->capacity;
    }
    *nwa = m->next_start;
    if (m->type->flags & VD_OVERWRITE)
        return 1;
    return !m->finalized && m->next_start < m->capacity;
}

static uint32_t round_up(uint32_t x, uint32_t a)
{
    return a > 1 ? (x + a - 1) / a * a : x;
}

/* Close the open (or damaged) track; returns 1 if one was closed. */
int vd_medium_close_track(struct vd_medium *m)
{
    struct vd_track *t = vd_medium_open_track(m);

    if (!t)
        return 0;
    if (m->type->flags & VD_CD) {
        /* TAO: two run-out blocks; the next track has a pre-gap */
        t->size = t->written + VD_CD_RUNOUT;
        m->next_start = t->start + t->size + VD_CD_PREGAP;
    } else if (t->size > 0) {
        /* a reserved track keeps its reservation */
        if (round_up(t->written, m->type->align) > t->size)
            t->size = round_up(t->written, m->type->align);
        if (t->start + t->size > m->next_start)
            m->next_start = t->start + t->size;
    } else {
        t->size = round_up(t->written, m->type->align);
        m->next_start = t->start + t->size;
    }
    t->state = VD_TRACK_CLOSED;
    return 1;
}

/*
 * Close the open session (closing its open track first). finalize: no
 * further session. Returns 1 if a session was closed.
 */
int vd_medium_close_session(struct vd_medium *m, int finalize)
{
    const struct vd_track *last;
    uint32_t end;

    vd_medium_close_track(m);
    if (!vd_medium_open_session(m)) {
        if (finalize && m->sessions > 0)
            m->finalized = 1;
        return 0;
    }
    m->sessions++;
    last = &m->track[m->ntracks - 1];
    end = last->start + last->size;
    if (finalize) {
        m->finalized = 1;
        m->next_start = end;
        return 1;
    }
    m->next_start = round_up(end + (m->sessions == 1 ? m->gap_first : m->gap_next), m->type->align);
    if (m->next_start >= m->capacity) /* no room for another session */
        m->finalized = 1;
    return 1;
}

int vd_medium_readable(const struct vd_medium *m, uint32_t lba, uint32_t n)
{
    if ((uint64_t)lba + n > m->capacity)
        return 0;
    if (m->type->flags & VD_OVERWRITE)
        return 1;
    while (n > 0) {
        int ok = 0;
        for (int i = 0; i < m->ntracks; i++) {
            const struct vd_track *t = &m->track[i];
            if (lba >= t->start && lba < t->start + t->written) {
                uint32_t k = t->start + t->written - lba;
                if (k > n)
                    k = n;
                lba += k;
                n -= k;
                ok = 1;
                break;
            }
        }
        if (!ok)
            return 0;
    }
    return 1;
}

/* READ CAPACITY: the last readable block. */
/* RESERVE TRACK: the next track gets a fixed size. */
int vd_medium_reserve(struct vd_medium *m, uint32_t blocks)
{
    struct vd_track *t;
    uint32_t size = round_up(blocks, m->type->align);

    if (m->finalized || vd_medium_open_track(m))
        return -EBUSY;
    if (m->ntracks >= VD_MAX_TRACKS)
        return -EMLINK;
    if (size == 0 || (uint64_t)m->next_start + size > m->capacity)
        return -ENOSPC;
    t = &m->track[m->ntracks++];
    memset(t, 0, sizeof(*t));
    t->session = m->sessions + 1;
    t->start = m->next_start;
    t->size = size;
    t->state = VD_TRACK_OPEN;
    m->next_start += size;
    return 0;
}

uint32_t vd_medium_read_capacity(const struct vd_medium *m)
{
    uint32_t last = 0;

    if (m->type->flags & VD_OVERWRITE)
        return m->capacity - 1;
    for (int i = 0; i < m->ntracks; i++) {
        const struct vd_track *t = &m->track[i];
        if (t->written > 0 && t->start + t->written - 1 > last)
            last = t->start + t->written - 1;
    }
    return last;
}

void vd_medium_blank(struct vd_medium *m)
{
    m->ntracks = 0;
    m->sessions = 0;
    m->finalized = 0;
    m->next_start = 0;
}

int vd_drive_state_load(const char *path, struct vd_drive_state *s, char *err, size_t errlen)
{
    char *text, *rest, *line, *save = NULL;
    int ret;

    ret = read_text(path, &text);
    if (ret < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-ret));
        return ret;
    }
    ret = check_header(path, text, VD_DRIVE_MAGIC, VD_DRIVE_VERSION, &rest, err, errlen);
    if (ret < 0)
        goto out_free;
    memset(s, 0, sizeof(*s));
    for (line = strtok_r(rest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char key[32], v[VD_NAME_MAX];

        if (sscanf(line, "%31s %63s", key, v) != 2)
            continue;
        if (strcmp(key, "generation") == 0)
            s->generation = strtoul(v, NULL, 10);
        else if (strcmp(key, "medium") == 0)
            snprintf(s->medium, sizeof(s->medium), "%s", strcmp(v, "-") ? v : "");
        else if (strcmp(key, "tray") == 0)
            s->tray_open = strcmp(v, "open") == 0;
    }
out_free:
    free(text);
    return ret;
}

int vd_drive_state_save(const char *path, const struct vd_drive_state *s)
{
    char text[256];
    int len;

    len = snprintf(text, sizeof(text),
                   "%s %d\ngeneration %lu\nmedium %s\n"
                   "tray %s\n",
                   VD_DRIVE_MAGIC, VD_DRIVE_VERSION, s->generation, s->medium[0] ? s->medium : "-",
                   s->tray_open ? "open" : "closed");
    return vd_write_atomic(path, text, (size_t)len);
}

int vd_faults_load(const char *path, struct vd_faults *f)
{
    char *text, *rest, *line, *save = NULL, err[256];
    int ret;

    memset(f, 0, sizeof(*f));
    ret = read_text(path, &text);
    if (ret == -ENOENT)
        return 0;
    if (ret < 0)
        return ret;
    ret = check_header(path, text, VD_FAULTS_MAGIC, VD_FAULTS_VERSION, &rest, err, sizeof(err));
    if (ret < 0)
        goto out_free;
    for (line = strtok_r(rest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char key[32];
        uint32_t lba;

        if (sscanf(line, "%31s %" SCNu32, key, &lba) != 2 || f->n >= VD_MAX_FAULTS)
            continue;
        if (strcmp(key, "write-error") == 0)
            f->f[f->n].kind = VD_FAULT_WRITE_ERROR;
        else if (strcmp(key, "power-loss") == 0)
            f->f[f->n].kind = VD_FAULT_POWER_LOSS;
        else if (strcmp(key, "corrupt") == 0)
            f->f[f->n].kind = VD_FAULT_CORRUPT;
        else
            continue;
        f->f[f->n++].lba = lba;
    }
out_free:
    free(text);
    return ret;
}

const char *vd_fault_name(enum vd_fault_kind kind)
{
    return kind == VD_FAULT_WRITE_ERROR  ? "write-error"
           : kind == VD_FAULT_POWER_LOSS ? "power-loss"
                                         : "corrupt";
}

int vd_faults_save(const char *path, const struct vd_faults *f)
{
    char text[64 + VD_MAX_FAULTS * 40];
    size_t len;

    len = (size_t)snprintf(text, sizeof(text), "%s %d\n", VD_FAULTS_MAGIC, VD_FAULTS_VERSION);
    for (int i = 0; i < f->n; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %" PRIu32 "\n",
                                vd_fault_name(f->f[i].kind), f->f[i].lba);
    return vd_write_atomic(path, text, len);
}

int vd_path(char *buf, size_t len, const char *dir, const char *name, const char *suffix)
{
    int n = snprintf(buf, len, "%s/%s%s", dir, name, suffix);

    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Bounded formatting for messages, where truncation is acceptable. */
void vd_fmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

void vd_copy(char *dst, size_t len, const char *src)
{
    size_t n = strnlen(src, len - 1);

    memcpy(dst, src, n);
    dst[n] = 0;
}

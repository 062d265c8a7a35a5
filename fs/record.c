/* fs/record.c - the payloads of the journal's records as bytes (the format: record.h)
 *
 * One description of each layout per direction: put_record() writes a record (or
 * only counts its bytes, to size the buffer first), decode() reads one.  The reader
 * is a cursor that turns bad at the first field that does not fit and stays bad, so
 * that a layout reads as the list of its fields and is checked once at its end.
 */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ---- */

/* P is NULL to count the bytes only */
struct wr {
    unsigned char *p;
    size_t len;
};

static void put(struct wr *w, const void *src, size_t n)
{
    if (w->p && n)
        memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void put_u64(struct wr *w, uint64_t v)
{
    unsigned char b[8];

    for (int i = 0; i < 8; i++)
        b[i] = (v >> (8 * i)) & 0xff;
    put(w, b, 8);
}

static void put_str(struct wr *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    put_u64(w, n);
    put(w, s, n);
}

static void put_time(struct wr *w, const struct timespec *ts)
{
    put_u64(w, (uint64_t)ts->tv_sec);
    put_u64(w, (uint64_t)ts->tv_nsec);
}

/* R, checked by check() */
static void put_record(struct wr *w, const struct dfs_record *r)
{
    switch (r->type) {
    case DFS_REC_MAKE:
        put_u64(w, r->dir);
        put_u64(w, r->id);
        put_u64(w, r->mode);
        put_u64(w, r->rdev);
        put_u64(w, r->uid);
        put_u64(w, r->gid);
        put_time(w, &r->mtime);
        put_u64(w, r->cache_id);
        put_str(w, r->name);
        put_str(w, r->name2);
        put_time(w, &r->op_time);
        break;
    case DFS_REC_UNLINK:
    case DFS_REC_RMDIR:
        put_u64(w, r->dir);
        put_str(w, r->name);
        put_time(w, &r->op_time);
        break;
    case DFS_REC_RENAME:
        put_u64(w, r->dir);
        put_str(w, r->name);
        put_u64(w, r->newdir);
        put_str(w, r->name2);
        put_u64(w, r->flags);
        put_time(w, &r->op_time);
        break;
    case DFS_REC_SETATTR:
        put_u64(w, r->id);
        put_u64(w, r->to_set);
        put_u64(w, r->mode);
        put_u64(w, r->uid);
        put_u64(w, r->gid);
        put_u64(w, r->size);
        put_time(w, &r->atime);
        put_time(w, &r->mtime);
        put_time(w, &r->ctime);
        break;
    case DFS_REC_STAGE:
        put_u64(w, r->id);
        put_u64(w, r->cache_id);
        break;
    case DFS_REC_LINK:
        put_u64(w, r->id);
        put_u64(w, r->newdir);
        put_str(w, r->name);
        put_time(w, &r->op_time);
        break;
    case DFS_REC_XATTR:
        put_u64(w, r->id);
        put_u64(w, r->remove);
        put_str(w, r->name);
        put_u64(w, r->value_size);
        put(w, r->value, (size_t)r->value_size);
        break;
    case DFS_REC_BASE:
        put_u64(w, r->n_map);
        if (!w->p) {
            w->len += 16 * (size_t)r->n_map;
            break;
        }
        for (uint64_t i = 0; i < r->n_map; i++) {
            uint64_t pair[2];

            dfs_record_base_pair(r, i, pair);
            put_u64(w, pair[0]);
            put_u64(w, pair[1]);
        }
        break;
    case DFS_REC_COMMIT:
        put_u64(w, r->start);
        break;
    }
}

static int str_ok(const char *s)
{
    return !s || strlen(s) <= DFS_RECORD_STR_MAX;
}

/* What the encoder refuses: what the decoder would refuse, and what is missing */
static int check(const struct dfs_record *r)
{
    switch (r->type) {
    case DFS_REC_MAKE:
    case DFS_REC_RENAME:
        return str_ok(r->name) && str_ok(r->name2) ? 0 : -ENAMETOOLONG;
    case DFS_REC_UNLINK:
    case DFS_REC_RMDIR:
    case DFS_REC_LINK:
        return str_ok(r->name) ? 0 : -ENAMETOOLONG;
    case DFS_REC_XATTR:
        if (!str_ok(r->name))
            return -ENAMETOOLONG;
        if (r->value_size > DFS_RECORD_VALUE_MAX)
            return -E2BIG;
        return r->value || !r->value_size ? 0 : -EINVAL;
    case DFS_REC_BASE:
        if (r->n_map > (UINT32_MAX - 8) / 16)
            return -E2BIG; /* the journal's length is a u32 */
        return r->map || r->map_encoded || !r->n_map ? 0 : -EINVAL;
    case DFS_REC_SETATTR:
    case DFS_REC_STAGE:
    case DFS_REC_COMMIT:
        return 0;
    }
    return -EINVAL;
}

void dfs_buf_free(struct dfs_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

int dfs_record_encode(const struct dfs_record *r, struct dfs_buf *out)
{
    struct wr w = {.p = NULL};
    int err = check(r);

    out->data = NULL;
    out->len = 0;
    if (err)
        return err;
    put_record(&w, r);
    w.p = malloc(w.len ? w.len : 1);
    if (!w.p)
        return -ENOMEM;
    out->len = w.len;
    w.len = 0;
    put_record(&w, r);
    out->data = w.p;
    return 0;
}

void dfs_record_base_pair(const struct dfs_record *r, uint64_t i, uint64_t pair[2])
{
    if (r->map) {
        pair[0] = r->map[i][0];
        pair[1] = r->map[i][1];
        return;
    }
    for (int k = 0; k < 2; k++) {
        const unsigned char *p = r->map_encoded + 16 * i + 8 * k;

        pair[k] = 0;
        for (int b = 0; b < 8; b++)
            pair[k] |= (uint64_t)p[b] << (8 * b);
    }
}

/* ---- reading ---- */

struct rd {
    const unsigned char *p;
    size_t len, off;
    int bad;
};

static size_t left(const struct rd *r)
{
    return r->bad ? 0 : r->len - r->off;
}

static uint64_t get_u64(struct rd *r)
{
    uint64_t v = 0;

    if (left(r) < 8) {
        r->bad = 1;
        return 0;
    }
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[r->off + i] << (8 * i);
    r->off += 8;
    return v;
}

/* N bytes of the payload (NULL once the cursor is bad) */
static const unsigned char *get_bytes(struct rd *r, uint64_t n)
{
    const unsigned char *p;

    if (left(r) < n)
        r->bad = 1;
    if (r->bad)
        return NULL;
    p = r->p + r->off;
    r->off += (size_t)n;
    return p;
}

/* a string, copied NUL-terminated into OUT (DFS_RECORD_STR_MAX + 1 bytes) */
static const char *get_str(struct rd *r, char *out)
{
    uint64_t n = get_u64(r);
    const unsigned char *p;

    out[0] = '\0';
    if (n > DFS_RECORD_STR_MAX) {
        r->bad = 1;
        return out;
    }
    p = get_bytes(r, n);
    if (!p || memchr(p, '\0', (size_t)n)) { /* cut short, or not the string written */
        r->bad = 1;
        return out;
    }
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    return out;
}

static void get_time(struct rd *r, struct timespec *ts)
{
    ts->tv_sec = (time_t)get_u64(r);
    ts->tv_nsec = (long)get_u64(r);
}

/* the optional last field of a change of names */
static void get_op_time(struct rd *r, struct dfs_record *rec)
{
    if (left(r) == 0)
        return; /* written before it existed, or a cursor gone bad already */
    get_time(r, &rec->op_time);
    rec->has_op_time = 1;
}

static void decode(struct rd *r, struct dfs_record *rec, struct dfs_record_strings *s)
{
    switch (rec->type) {
    case DFS_REC_MAKE:
        rec->dir = get_u64(r);
        rec->id = get_u64(r);
        rec->mode = get_u64(r);
        rec->rdev = get_u64(r);
        rec->uid = get_u64(r);
        rec->gid = get_u64(r);
        get_time(r, &rec->mtime);
        rec->cache_id = get_u64(r);
        rec->name = get_str(r, s->name);
        rec->name2 = get_str(r, s->name2);
        get_op_time(r, rec);
        break;
    case DFS_REC_UNLINK:
    case DFS_REC_RMDIR:
        rec->dir = get_u64(r);
        rec->name = get_str(r, s->name);
        get_op_time(r, rec);
        break;
    case DFS_REC_RENAME:
        rec->dir = get_u64(r);
        rec->name = get_str(r, s->name);
        rec->newdir = get_u64(r);
        rec->name2 = get_str(r, s->name2);
        rec->flags = get_u64(r);
        get_op_time(r, rec);
        break;
    case DFS_REC_SETATTR:
        rec->id = get_u64(r);
        rec->to_set = get_u64(r);
        rec->mode = get_u64(r);
        rec->uid = get_u64(r);
        rec->gid = get_u64(r);
        rec->size = get_u64(r);
        get_time(r, &rec->atime);
        get_time(r, &rec->mtime);
        get_time(r, &rec->ctime);
        break;
    case DFS_REC_STAGE:
        rec->id = get_u64(r);
        rec->cache_id = get_u64(r);
        break;
    case DFS_REC_LINK:
        rec->id = get_u64(r);
        rec->newdir = get_u64(r);
        rec->name = get_str(r, s->name);
        get_op_time(r, rec);
        break;
    case DFS_REC_XATTR:
        rec->id = get_u64(r);
        rec->remove = get_u64(r);
        rec->name = get_str(r, s->name);
        rec->value_size = get_u64(r);
        if (rec->value_size > DFS_RECORD_VALUE_MAX)
            r->bad = 1;
        rec->value = get_bytes(r, rec->value_size);
        break;
    case DFS_REC_BASE:
        rec->n_map = get_u64(r);
        if (rec->n_map > left(r) / 16)
            r->bad = 1;
        rec->map_encoded = get_bytes(r, 16 * rec->n_map);
        break;
    case DFS_REC_COMMIT:
        rec->start = get_u64(r);
        break;
    default:
        r->bad = 1;
    }
}

static int has_strings(uint16_t type)
{
    return type == DFS_REC_MAKE || type == DFS_REC_UNLINK || type == DFS_REC_RMDIR ||
           type == DFS_REC_RENAME || type == DFS_REC_LINK || type == DFS_REC_XATTR;
}

int dfs_record_decode(uint16_t type, const void *payload, uint32_t len, struct dfs_record *rec,
                      struct dfs_record_strings *s)
{
    static const unsigned char none[1];
    struct rd r = {.p = payload ? payload : none, .len = payload ? len : 0};

    memset(rec, 0, sizeof(*rec));
    rec->type = type;
    if (!s && has_strings(type))
        return -EINVAL;
    decode(&r, rec, s);
    return r.bad ? -EBADMSG : 0;
}

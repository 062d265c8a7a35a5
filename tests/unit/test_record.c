/* tests/unit/test_record.c - the journal's records as bytes (fs/record.h): golden
 * bytes of every type, round trips of edge values, every truncation of them, and
 * malformed payloads by hand.  Payloads are decoded from buffers of their exact
 * length, so that a sanitizer build catches any read past the end. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define U64_MAX UINT64_MAX
#define TIME_MIN ((time_t)INT64_MIN)
#define TIME_MAX ((time_t)INT64_MAX)

/* ---- helpers ---- */

static int has_op_time(uint16_t type)
{
    return type == DFS_REC_MAKE || type == DFS_REC_UNLINK || type == DFS_REC_RMDIR ||
           type == DFS_REC_RENAME || type == DFS_REC_LINK;
}

/* decode LEN bytes of P from a copy of exactly LEN bytes */
static int decode_copy(uint16_t type, const void *p, size_t len, struct dfs_record *r,
                       struct dfs_record_strings *s, void **copy)
{
    *copy = malloc(len ? len : 1);
    assert_non_null(*copy);
    if (len)
        memcpy(*copy, p, len);
    return dfs_record_decode(type, len ? *copy : NULL, (uint32_t)len, r, s);
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

#define SAME(field)                                                                                \
    do {                                                                                           \
        if (want->field != got->field)                                                             \
            fail_msg("%s: " #field " is %llu, not %llu", what, (unsigned long long)got->field,     \
                     (unsigned long long)want->field);                                             \
    } while (0)
#define SAME_TIME(field)                                                                           \
    do {                                                                                           \
        if (!same_time(want->field, got->field))                                                   \
            fail_msg("%s: " #field " is %lld.%09ld, not %lld.%09ld", what,                         \
                     (long long)got->field.tv_sec, got->field.tv_nsec,                             \
                     (long long)want->field.tv_sec, want->field.tv_nsec);                          \
    } while (0)
#define SAME_STR(field)                                                                            \
    do {                                                                                           \
        if (strcmp(str_or_empty(want->field), str_or_empty(got->field)))                           \
            fail_msg("%s: " #field " differs (%zu bytes, not %zu)", what,                          \
                     strlen(str_or_empty(got->field)), strlen(str_or_empty(want->field)));         \
    } while (0)

/* GOT, decoded, holds what WANT held (OP_TIME: GOT should have the op time) */
static void assert_same_record(const char *what, const struct dfs_record *want,
                               const struct dfs_record *got, int op_time)
{
    SAME(type);
    SAME(dir);
    SAME(id);
    SAME(newdir);
    SAME_STR(name);
    SAME_STR(name2);
    SAME(mode);
    SAME(rdev);
    SAME(uid);
    SAME(gid);
    SAME(size);
    SAME(to_set);
    SAME(flags);
    SAME(cache_id);
    SAME(remove);
    SAME(start);
    SAME_TIME(atime);
    SAME_TIME(ctime);
    SAME_TIME(mtime);
    if (got->has_op_time != op_time)
        fail_msg("%s: has_op_time is %d, not %d", what, got->has_op_time, op_time);
    if (op_time)
        SAME_TIME(op_time);
    SAME(value_size);
    if (want->value_size && memcmp(want->value, got->value, (size_t)want->value_size))
        fail_msg("%s: the value differs", what);
    SAME(n_map);
    for (uint64_t i = 0; i < want->n_map; i++) {
        uint64_t a[2], b[2];

        dfs_record_base_pair(want, i, a);
        dfs_record_base_pair(got, i, b);
        if (a[0] != b[0] || a[1] != b[1])
            fail_msg("%s: pair %llu differs", what, (unsigned long long)i);
    }
}

/* ---- golden bytes: the format of journal version 1, one vector per type ----
 * Written by hand, field by field, and checked against the encoder of the commit
 * before fs/record.c: a change here is a change of the format on disk. */

#define U64(b0, b1, b2, b3, b4, b5, b6, b7) b0, b1, b2, b3, b4, b5, b6, b7
#define SMALL(b) U64(b, 0, 0, 0, 0, 0, 0, 0)
#define ONES U64(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)

static const unsigned char golden_make[] = {
    SMALL(1),                                /* dir */
    U64(0x34, 0x12, 0, 0, 0, 0, 0, 0),       /* id 0x1234 */
    U64(0xff, 0xa1, 0, 0, 0, 0, 0, 0),       /* mode 0120777 */
    SMALL(0),                                /* rdev */
    U64(0xe8, 0x03, 0, 0, 0, 0, 0, 0),       /* uid 1000 */
    SMALL(100),                              /* gid */
    U64(0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0), /* mtime 1700000000 s */
    SMALL(5),                                /*       5 ns */
    SMALL(0),                                /* cache_id */
    SMALL(1),
    'l', /* name "l" */
    SMALL(4),
    '.',
    '.',
    '/',
    't',                                     /* link "../t" */
    ONES,                                    /* op time -1 s */
    U64(0xff, 0xc9, 0x9a, 0x3b, 0, 0, 0, 0), /*         999999999 ns */
};
static const unsigned char golden_unlink[] = {
    SMALL(2),                      /* dir */
    SMALL(3), 'a',      '\\', 'b', /* name "a\b" */
    SMALL(0), SMALL(0),            /* op time 0.0 */
};
static const unsigned char golden_rmdir[] = {
    SMALL(3), /* dir */
    SMALL(1),
    0xff,                                                /* name "\xff" */
    U64(0x80, 0xae, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff), /* op time -86400 s */
    SMALL(1),                                            /*         1 ns */
};
static const unsigned char golden_rename[] = {
    SMALL(1),           /* dir */
    SMALL(1), 'x',      /* name */
    SMALL(2),           /* newdir */
    SMALL(1), 'y',      /* newname */
    SMALL(2),           /* flags RENAME_EXCHANGE */
    SMALL(1), SMALL(2), /* op time */
};
static const unsigned char golden_setattr[] = {
    SMALL(5),                                /* id */
    SMALL(0x7f),                             /* to_set: all */
    U64(0xed, 0x81, 0, 0, 0, 0, 0, 0),       /* mode 0100755 */
    SMALL(0),                                /* uid */
    U64(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), /* gid 0xffffffff */
    U64(0, 0, 0, 0, 1, 0, 0, 0),             /* size 4 GiB */
    SMALL(1),
    SMALL(2), /* atime */
    SMALL(3),
    SMALL(4), /* mtime */
    SMALL(5),
    SMALL(6), /* ctime */
};
static const unsigned char golden_stage[] = {
    SMALL(9), /* id */
    ONES,     /* cache_id */
};
static const unsigned char golden_link[] = {
    SMALL(4),             /* id */
    SMALL(1),             /* newdir */
    SMALL(1),  'h',       /* newname */
    SMALL(10), SMALL(20), /* op time */
};
static const unsigned char golden_xattr_set[] = {
    SMALL(6),                               /* id */
    SMALL(0),                               /* remove */
    SMALL(6), 'u', 's', 'e', 'r', '.', 'k', /* name */
    SMALL(3), 'v', 0,   'w',                /* value "v\0w" */
};
static const unsigned char golden_xattr_remove[] = {
    SMALL(6),                               /* id */
    SMALL(1),                               /* remove */
    SMALL(6), 'u', 's', 'e', 'r', '.', 'k', /* name */
    SMALL(0),                               /* no value */
};
static const unsigned char golden_base[] = {
    SMALL(2),                              /* count */
    SMALL(1), SMALL(1),                    /* (1, 1) */
    SMALL(2), U64(8, 7, 6, 5, 4, 3, 2, 1), /* (2, 0x0102030405060708) */
};
static const unsigned char golden_commit[] = {
    U64(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), /* start DFS_NO_SESSION */
};
/* a record of the first layout of version 1, before the op time: still read */
static const unsigned char golden_unlink_old[] = {
    SMALL(2),                 /* dir */
    SMALL(3), 'a', '\\', 'b', /* name */
};

static const uint64_t golden_map[][2] = {{1, 1}, {2, 0x0102030405060708ull}};

struct golden {
    const char *what;
    struct dfs_record r;
    const unsigned char *bytes;
    size_t len;
    int old; /* decode only: the encoder writes the current layout */
};

#define BYTES(a) .bytes = a, .len = sizeof(a)

static const struct golden goldens[] = {
    {.what = "MAKE",
     .r = {.type = DFS_REC_MAKE,
           .dir = 1,
           .id = 0x1234,
           .mode = 0120777,
           .uid = 1000,
           .gid = 100,
           .mtime = {1700000000, 5},
           .name = "l",
           .name2 = "../t",
           .op_time = {-1, 999999999}},
     BYTES(golden_make)},
    {.what = "UNLINK",
     .r = {.type = DFS_REC_UNLINK, .dir = 2, .name = "a\\b", .op_time = {0, 0}},
     BYTES(golden_unlink)},
    {.what = "RMDIR",
     .r = {.type = DFS_REC_RMDIR, .dir = 3, .name = "\xff", .op_time = {-86400, 1}},
     BYTES(golden_rmdir)},
    {.what = "RENAME",
     .r = {.type = DFS_REC_RENAME,
           .dir = 1,
           .name = "x",
           .newdir = 2,
           .name2 = "y",
           .flags = 2,
           .op_time = {1, 2}},
     BYTES(golden_rename)},
    {.what = "SETATTR",
     .r = {.type = DFS_REC_SETATTR,
           .id = 5,
           .to_set = 0x7f,
           .mode = 0100755,
           .gid = 0xffffffff,
           .size = 1ull << 32,
           .atime = {1, 2},
           .mtime = {3, 4},
           .ctime = {5, 6}},
     BYTES(golden_setattr)},
    {.what = "STAGE",
     .r = {.type = DFS_REC_STAGE, .id = 9, .cache_id = U64_MAX},
     BYTES(golden_stage)},
    {.what = "LINK",
     .r = {.type = DFS_REC_LINK, .id = 4, .newdir = 1, .name = "h", .op_time = {10, 20}},
     BYTES(golden_link)},
    {.what = "XATTR set",
     .r = {.type = DFS_REC_XATTR, .id = 6, .name = "user.k", .value = "v\0w", .value_size = 3},
     BYTES(golden_xattr_set)},
    {.what = "XATTR remove",
     .r = {.type = DFS_REC_XATTR, .id = 6, .remove = 1, .name = "user.k"},
     BYTES(golden_xattr_remove)},
    {.what = "BASE",
     .r = {.type = DFS_REC_BASE, .n_map = 2, .map = golden_map},
     BYTES(golden_base)},
    {.what = "COMMIT", .r = {.type = DFS_REC_COMMIT, .start = 0xffffffff}, BYTES(golden_commit)},
    {.what = "UNLINK of the first layout",
     .r = {.type = DFS_REC_UNLINK, .dir = 2, .name = "a\\b"},
     BYTES(golden_unlink_old),
     .old = 1},
};

static void test_golden_bytes(void **state)
{
    int types = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
        const struct golden *g = &goldens[i];
        struct dfs_record_strings s;
        struct dfs_record r;
        struct dfs_buf b;
        void *copy;

        if (!g->old) {
            assert_int_equal(dfs_record_encode(&g->r, &b), 0);
            for (size_t k = 0; k < b.len || k < g->len; k++)
                if (k >= b.len || k >= g->len || b.data[k] != g->bytes[k])
                    fail_msg("%s: the encoder wrote other bytes from byte %zu on (%zu bytes, "
                             "not %zu)",
                             g->what, k, b.len, g->len);
            dfs_buf_free(&b);
            types |= 1 << g->r.type;
        }
        if (decode_copy(g->r.type, g->bytes, g->len, &r, &s, &copy))
            fail_msg("%s: the golden bytes do not decode", g->what);
        assert_same_record(g->what, &g->r, &r, has_op_time(g->r.type) && !g->old);
        free(copy);
    }
    assert_int_equal(types, 0x7fe); /* every type, 1 to 10 */
}

/* ---- round trips of edge values ---- */

#define N_MANY 1000

/* the table of records, built once */
struct table {
    char n255[256], n4095[4096], odd[8];
    unsigned char big[DFS_RECORD_VALUE_MAX];
    uint64_t many[N_MANY][2], one[1][2];
    struct {
        const char *what;
        struct dfs_record r;
    } c[64];
    size_t n;
};

static void add(struct table *t, const char *what, struct dfs_record r)
{
    assert_true(t->n < sizeof(t->c) / sizeof(t->c[0]));
    t->c[t->n].what = what;
    t->c[t->n++].r = r;
}

static int build_table(void **state)
{
    struct table *t = calloc(1, sizeof(*t));
    const struct timespec epoch = {0, 0}, before = {-2208988800, 999999999},
                          last = {TIME_MAX, 999999999}, first = {TIME_MIN, 0}, minus = {-1, 1};

    memset(t->n255, 'n', 255);
    memset(t->n4095, 'l', 4095);
    memcpy(t->odd, "a\n\\\xff\x01z", 7);
    for (size_t i = 0; i < sizeof(t->big); i++)
        t->big[i] = (unsigned char)(i * 7 + (i >> 8)); /* zeros and 0xff included */
    for (uint64_t i = 0; i < N_MANY; i++) {
        t->many[i][0] = i + 1;
        t->many[i][1] = i == N_MANY - 1 ? U64_MAX : (i * 0x9e3779b97f4a7c15ull) | 1;
    }
    t->one[0][0] = U64_MAX;
    t->one[0][1] = 0;

    /* MAKE */
    add(t, "make: a file, zeroes", (struct dfs_record){.type = DFS_REC_MAKE, .name = "f"});
    add(t, "make: u64 max everywhere, a 255-byte name, a 4095-byte link",
        (struct dfs_record){.type = DFS_REC_MAKE,
                            .dir = U64_MAX,
                            .id = U64_MAX,
                            .mode = U64_MAX,
                            .rdev = U64_MAX,
                            .uid = U64_MAX,
                            .gid = U64_MAX,
                            .mtime = last,
                            .cache_id = U64_MAX,
                            .name = t->n255,
                            .name2 = t->n4095,
                            .op_time = last});
    add(t, "make: a device, odd bytes in the name, times before 1970",
        (struct dfs_record){.type = DFS_REC_MAKE,
                            .dir = 1,
                            .id = 2,
                            .mode = 020644,
                            .rdev = 0x0801,
                            .mtime = before,
                            .name = t->odd,
                            .op_time = first});
    add(t, "make: a regular file with content, no link (NULL)",
        (struct dfs_record){.type = DFS_REC_MAKE,
                            .dir = 1,
                            .id = 3,
                            .mode = 0100600,
                            .uid = 65534,
                            .gid = 65534,
                            .mtime = minus,
                            .cache_id = 42,
                            .name = "\n",
                            .name2 = NULL,
                            .op_time = epoch});
    /* UNLINK, RMDIR */
    add(t, "unlink: an empty name",
        (struct dfs_record){.type = DFS_REC_UNLINK, .dir = 1, .name = "", .op_time = minus});
    add(t, "unlink: a 255-byte name, u64 max dir",
        (struct dfs_record){
            .type = DFS_REC_UNLINK, .dir = U64_MAX, .name = t->n255, .op_time = last});
    add(t, "unlink: the longest name",
        (struct dfs_record){.type = DFS_REC_UNLINK, .dir = 7, .name = t->n4095, .op_time = first});
    add(t, "rmdir: odd bytes",
        (struct dfs_record){.type = DFS_REC_RMDIR, .dir = 2, .name = t->odd, .op_time = before});
    add(t, "rmdir: a one-byte name",
        (struct dfs_record){.type = DFS_REC_RMDIR, .dir = 0, .name = "d", .op_time = epoch});
    /* RENAME */
    add(t, "rename: exchange, odd bytes to a 255-byte name",
        (struct dfs_record){.type = DFS_REC_RENAME,
                            .dir = 1,
                            .name = t->odd,
                            .newdir = U64_MAX,
                            .name2 = t->n255,
                            .flags = 2,
                            .op_time = before});
    add(t, "rename: u64 max flags, 4095-byte names",
        (struct dfs_record){.type = DFS_REC_RENAME,
                            .dir = U64_MAX,
                            .name = t->n4095,
                            .newdir = 0,
                            .name2 = t->n4095,
                            .flags = U64_MAX,
                            .op_time = last});
    add(t, "rename: empty names",
        (struct dfs_record){.type = DFS_REC_RENAME, .name = "", .name2 = "", .op_time = minus});
    /* SETATTR */
    add(t, "setattr: zeroes", (struct dfs_record){.type = DFS_REC_SETATTR});
    add(t, "setattr: u64 max, times at both ends",
        (struct dfs_record){.type = DFS_REC_SETATTR,
                            .id = U64_MAX,
                            .to_set = U64_MAX,
                            .mode = U64_MAX,
                            .uid = U64_MAX,
                            .gid = U64_MAX,
                            .size = U64_MAX,
                            .atime = first,
                            .mtime = last,
                            .ctime = before});
    add(t, "setattr: a size of 4 GiB + 1, times before 1970",
        (struct dfs_record){.type = DFS_REC_SETATTR,
                            .id = 12,
                            .to_set = 8 | 32,
                            .mode = 0100644,
                            .size = (1ull << 32) + 1,
                            .atime = minus,
                            .mtime = before,
                            .ctime = epoch});
    /* STAGE */
    add(t, "stage: zeroes", (struct dfs_record){.type = DFS_REC_STAGE});
    add(t, "stage: u64 max",
        (struct dfs_record){.type = DFS_REC_STAGE, .id = U64_MAX, .cache_id = U64_MAX});
    /* LINK */
    add(t, "link: a 255-byte name",
        (struct dfs_record){.type = DFS_REC_LINK,
                            .id = U64_MAX,
                            .newdir = U64_MAX,
                            .name = t->n255,
                            .op_time = last});
    add(t, "link: odd bytes, before 1970",
        (struct dfs_record){
            .type = DFS_REC_LINK, .id = 2, .newdir = 1, .name = t->odd, .op_time = before});
    /* XATTR */
    add(t, "xattr: the largest value",
        (struct dfs_record){.type = DFS_REC_XATTR,
                            .id = U64_MAX,
                            .name = "user.big",
                            .value = t->big,
                            .value_size = sizeof(t->big)});
    add(t, "xattr: an empty value",
        (struct dfs_record){
            .type = DFS_REC_XATTR, .id = 1, .name = "user.empty", .value = "", .value_size = 0});
    add(t, "xattr: a value with NUL and 0xff, a 255-byte name",
        (struct dfs_record){.type = DFS_REC_XATTR,
                            .id = 3,
                            .name = t->n255,
                            .value = "\0\xff\n\\",
                            .value_size = 4});
    add(t, "xattr: remove",
        (struct dfs_record){
            .type = DFS_REC_XATTR, .id = 4, .remove = 1, .name = "system.posix_acl_default"});
    add(t, "xattr: remove, u64 max flag",
        (struct dfs_record){.type = DFS_REC_XATTR, .id = 4, .remove = U64_MAX, .name = "user.x"});
    /* BASE */
    add(t, "base: no pairs", (struct dfs_record){.type = DFS_REC_BASE, .n_map = 0});
    add(t, "base: one pair",
        (struct dfs_record){.type = DFS_REC_BASE, .n_map = 1, .map = (const uint64_t(*)[2])t->one});
    add(t, "base: many pairs",
        (struct dfs_record){
            .type = DFS_REC_BASE, .n_map = N_MANY, .map = (const uint64_t(*)[2])t->many});
    /* COMMIT */
    add(t, "commit: block 0", (struct dfs_record){.type = DFS_REC_COMMIT, .start = 0});
    add(t, "commit: no session", (struct dfs_record){.type = DFS_REC_COMMIT, .start = 0xffffffff});
    add(t, "commit: u64 max", (struct dfs_record){.type = DFS_REC_COMMIT, .start = U64_MAX});
    *state = t;
    return 0;
}

static int free_table(void **state)
{
    free(*state);
    return 0;
}

static void test_round_trips(void **state)
{
    struct table *t = *state;
    struct dfs_record_strings *s = malloc(sizeof(*s));
    int types = 0;

    assert_non_null(s);
    for (size_t i = 0; i < t->n; i++) {
        const struct dfs_record *want = &t->c[i].r;
        struct dfs_record got;
        struct dfs_buf b, again;
        void *copy;

        if (dfs_record_encode(want, &b))
            fail_msg("%s: does not encode", t->c[i].what);
        if (decode_copy(want->type, b.data, b.len, &got, s, &copy))
            fail_msg("%s: does not decode", t->c[i].what);
        assert_same_record(t->c[i].what, want, &got, has_op_time(want->type));
        /* what was decoded encodes to the same bytes (a BASE map from the payload too) */
        assert_int_equal(dfs_record_encode(&got, &again), 0);
        assert_int_equal(again.len, b.len);
        assert_memory_equal(again.data, b.data, b.len);
        dfs_buf_free(&again);
        dfs_buf_free(&b);
        free(copy);
        types |= 1 << want->type;
    }
    assert_int_equal(types, 0x7fe);
    free(s);
}

/* Every payload of the table cut short at every point is refused, but for the
 * point right before the op time (the first layout).  Past 4 KiB, the points near
 * either end and every 509th. */
static void test_truncations(void **state)
{
    struct table *t = *state;
    struct dfs_record_strings *s = malloc(sizeof(*s));

    assert_non_null(s);
    for (size_t i = 0; i < t->n; i++) {
        const struct dfs_record *want = &t->c[i].r;
        struct dfs_buf b;

        assert_int_equal(dfs_record_encode(want, &b), 0);
        for (size_t cut = 0; cut < b.len; cut++) {
            struct dfs_record got;
            void *copy;
            int err;

            if (b.len > 4096 && cut > 4096 && cut < b.len - 4096 && cut % 509)
                continue;
            err = decode_copy(want->type, b.data, cut, &got, s, &copy);
            if (has_op_time(want->type) && cut == b.len - 16) {
                if (err)
                    fail_msg("%s: without its op time: %d", t->c[i].what, err);
                assert_same_record(t->c[i].what, want, &got, 0);
            } else if (err != -EBADMSG) {
                fail_msg("%s: cut to %zu of %zu bytes: %d, not -EBADMSG", t->c[i].what, cut, b.len,
                         err);
            }
            free(copy);
        }
        dfs_buf_free(&b);
    }
    free(s);
}

/* ---- malformed payloads, by hand ---- */

static const struct {
    const char *what;
    uint16_t type;
    const unsigned char *bytes;
    size_t len;
} malformed[] = {
#define CASE(what, type, ...)                                                                      \
    {                                                                                              \
        what, type, (const unsigned char[]){__VA_ARGS__},                                          \
            sizeof((const unsigned char[]){__VA_ARGS__})                                           \
    }
    CASE("type 0", 0, SMALL(1)),
    CASE("type 11", 11, SMALL(1)),
    CASE("type 0xffff", 0xffff, SMALL(1), SMALL(0), SMALL(0)),
    CASE("commit: 7 bytes", DFS_REC_COMMIT, 1, 0, 0, 0, 0, 0, 0),
    CASE("stage: no cache_id", DFS_REC_STAGE, SMALL(1)),
    CASE("unlink: a name longer than the payload", DFS_REC_UNLINK, SMALL(1), SMALL(5), 'a', 'b',
         'c'),
    CASE("unlink: a name of u64 max bytes", DFS_REC_UNLINK, SMALL(1), ONES, 'a'),
    CASE("unlink: a name of 4096 bytes (the length alone)", DFS_REC_UNLINK, SMALL(1),
         U64(0, 0x10, 0, 0, 0, 0, 0, 0)),
    CASE("unlink: a name with a NUL inside", DFS_REC_UNLINK, SMALL(1), SMALL(3), 'a', 0, 'b'),
    CASE("unlink: a name that is only a NUL", DFS_REC_UNLINK, SMALL(1), SMALL(1), 0),
    CASE("unlink: half an op time", DFS_REC_UNLINK, SMALL(1), SMALL(1), 'a', SMALL(0)),
    CASE("unlink: one byte of an op time", DFS_REC_UNLINK, SMALL(1), SMALL(1), 'a', 0),
    CASE("rmdir: an op time one byte short", DFS_REC_RMDIR, SMALL(1), SMALL(1), 'a', SMALL(0), 0, 0,
         0, 0, 0, 0, 0),
    CASE("link: no name", DFS_REC_LINK, SMALL(1), SMALL(2)),
    CASE("rename: no flags", DFS_REC_RENAME, SMALL(1), SMALL(1), 'a', SMALL(1), SMALL(1), 'b'),
    CASE("rename: a NUL in the new name", DFS_REC_RENAME, SMALL(1), SMALL(1), 'a', SMALL(1),
         SMALL(2), 'b', 0, SMALL(0)),
    CASE("make: no link", DFS_REC_MAKE, SMALL(1), SMALL(2), SMALL(0), SMALL(0), SMALL(0), SMALL(0),
         SMALL(0), SMALL(0), SMALL(0), SMALL(1), 'f'),
    CASE("setattr: a ctime cut short", DFS_REC_SETATTR, SMALL(1), SMALL(1), SMALL(0), SMALL(0),
         SMALL(0), SMALL(0), SMALL(0), SMALL(0), SMALL(0), SMALL(0), SMALL(0)),
    CASE("xattr: a value longer than the payload", DFS_REC_XATTR, SMALL(1), SMALL(0), SMALL(1), 'a',
         SMALL(2), 'v'),
    /* the bounds check before fs/record.c added this length to the offset (32) and
     * wrapped to 0: it passed a value of 2^64 - 32 bytes on to dfs_do_xattr() */
    CASE("xattr: a value length that wraps the offset", DFS_REC_XATTR, SMALL(1), SMALL(0), SMALL(0),
         U64(0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)),
    CASE("xattr: a value of u64 max bytes", DFS_REC_XATTR, SMALL(1), SMALL(0), SMALL(0), ONES, 'v'),
    CASE("xattr: no value length", DFS_REC_XATTR, SMALL(1), SMALL(0), SMALL(1), 'a'),
    CASE("base: more pairs than bytes", DFS_REC_BASE, SMALL(2), SMALL(1), SMALL(1)),
    CASE("base: half a pair", DFS_REC_BASE, SMALL(1), SMALL(1)),
    CASE("base: a count of u64 max", DFS_REC_BASE, ONES, SMALL(1), SMALL(1)),
    CASE("base: a count whose 16-fold wraps to 0", DFS_REC_BASE, U64(0, 0, 0, 0, 0, 0, 0, 0x10)),
    CASE("base: no count", DFS_REC_BASE, 0, 0, 0),
#undef CASE
};

static void test_malformed(void **state)
{
    struct dfs_record_strings s;

    (void)state;
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        struct dfs_record r;
        void *copy;
        int err =
            decode_copy(malformed[i].type, malformed[i].bytes, malformed[i].len, &r, &s, &copy);

        if (err != -EBADMSG)
            fail_msg("%s: %d, not -EBADMSG", malformed[i].what, err);
        free(copy);
    }
    /* every type, empty */
    for (uint16_t type = 0; type <= 12; type++) {
        struct dfs_record r;

        assert_int_equal(dfs_record_decode(type, NULL, 0, &r, &s), -EBADMSG);
    }
}

/* The limits, one byte over and at them: built, they are too long for the table. */
static void test_limits(void **state)
{
    size_t big = 8 + 8 + 8 + 8 + DFS_RECORD_VALUE_MAX + 1;
    unsigned char *p = calloc(1, big);
    struct dfs_record_strings s;
    struct dfs_record r, in;
    struct dfs_buf b;
    char *name = malloc(DFS_RECORD_STR_MAX + 2);

    (void)state;
    assert_non_null(p);
    assert_non_null(name);
    /* UNLINK dir 1, a name of 4096 bytes 'a' */
    p[0] = 1;
    p[8] = 0x00;
    p[9] = 0x10;
    memset(p + 16, 'a', 4096);
    assert_int_equal(dfs_record_decode(DFS_REC_UNLINK, p, 16 + 4096, &r, &s), -EBADMSG);
    p[8] = 0xff;
    p[9] = 0x0f; /* 4095 */
    assert_int_equal(dfs_record_decode(DFS_REC_UNLINK, p, 16 + 4095, &r, &s), 0);
    assert_int_equal(strlen(r.name), 4095);
    assert_int_equal(r.has_op_time, 0);
    /* XATTR id 1, set, name "", a value of 65537 bytes */
    memset(p, 0, big);
    p[0] = 1;
    p[24] = 0x01;
    p[26] = 0x01; /* 0x10001 */
    assert_int_equal(dfs_record_decode(DFS_REC_XATTR, p, (uint32_t)big, &r, &s), -EBADMSG);
    p[24] = 0x00; /* 0x10000 */
    assert_int_equal(dfs_record_decode(DFS_REC_XATTR, p, (uint32_t)big - 1, &r, &s), 0);
    assert_int_equal(r.value_size, DFS_RECORD_VALUE_MAX);

    /* the encoder refuses what the decoder would */
    memset(name, 'x', DFS_RECORD_STR_MAX + 1);
    name[DFS_RECORD_STR_MAX + 1] = '\0';
    in = (struct dfs_record){.type = DFS_REC_UNLINK, .name = name};
    assert_int_equal(dfs_record_encode(&in, &b), -ENAMETOOLONG);
    in = (struct dfs_record){.type = DFS_REC_RENAME, .name = "a", .name2 = name};
    assert_int_equal(dfs_record_encode(&in, &b), -ENAMETOOLONG);
    in = (struct dfs_record){.type = DFS_REC_MAKE, .name = "a", .name2 = name};
    assert_int_equal(dfs_record_encode(&in, &b), -ENAMETOOLONG);
    in = (struct dfs_record){.type = DFS_REC_XATTR, .name = name};
    assert_int_equal(dfs_record_encode(&in, &b), -ENAMETOOLONG);
    in = (struct dfs_record){.type = DFS_REC_XATTR,
                             .name = "user.a",
                             .value = p,
                             .value_size = DFS_RECORD_VALUE_MAX + 1};
    assert_int_equal(dfs_record_encode(&in, &b), -E2BIG);
    in = (struct dfs_record){.type = DFS_REC_XATTR, .name = "user.a", .value_size = 1};
    assert_int_equal(dfs_record_encode(&in, &b), -EINVAL);
    in = (struct dfs_record){.type = DFS_REC_BASE, .n_map = 1};
    assert_int_equal(dfs_record_encode(&in, &b), -EINVAL);
    in = (struct dfs_record){.type = DFS_REC_BASE, .n_map = U64_MAX / 2, .map = golden_map};
    assert_int_equal(dfs_record_encode(&in, &b), -E2BIG);
    in = (struct dfs_record){.type = 11};
    assert_int_equal(dfs_record_encode(&in, &b), -EINVAL);
    in = (struct dfs_record){.type = 0};
    assert_int_equal(dfs_record_encode(&in, &b), -EINVAL);
    /* a decoder without room for strings is refused the types that have them */
    assert_int_equal(
        dfs_record_decode(DFS_REC_UNLINK, golden_unlink, sizeof(golden_unlink), &r, NULL), -EINVAL);
    assert_int_equal(
        dfs_record_decode(DFS_REC_COMMIT, golden_commit, sizeof(golden_commit), &r, NULL), 0);
    free(name);
    free(p);
}

/* What the format of version 1 tolerates: bytes after the last field. */
static void test_trailing_bytes_are_ignored(void **state)
{
    static const struct {
        uint16_t type;
        size_t len; /* of the golden payload */
        const unsigned char *bytes;
    } cases[] = {
        {DFS_REC_SETATTR, sizeof(golden_setattr), golden_setattr},
        {DFS_REC_STAGE, sizeof(golden_stage), golden_stage},
        {DFS_REC_XATTR, sizeof(golden_xattr_set), golden_xattr_set},
        {DFS_REC_BASE, sizeof(golden_base), golden_base},
        {DFS_REC_COMMIT, sizeof(golden_commit), golden_commit},
        {DFS_REC_UNLINK, sizeof(golden_unlink), golden_unlink},
        {DFS_REC_MAKE, sizeof(golden_make), golden_make},
    };
    struct dfs_record_strings s, s2;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t extra = 1; extra <= 17; extra += 8) { /* 1, 9 and 17 bytes */
            unsigned char p[256];
            struct dfs_record plain, longer;

            memset(p, 0xa5, sizeof(p));
            memcpy(p, cases[i].bytes, cases[i].len);
            assert_int_equal(
                dfs_record_decode(cases[i].type, p, (uint32_t)cases[i].len, &plain, &s), 0);
            assert_int_equal(
                dfs_record_decode(cases[i].type, p, (uint32_t)(cases[i].len + extra), &longer, &s2),
                0);
            assert_same_record("trailing bytes", &plain, &longer, plain.has_op_time);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_bytes),
        cmocka_unit_test_setup_teardown(test_round_trips, build_table, free_table),
        cmocka_unit_test_setup_teardown(test_truncations, build_table, free_table),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_trailing_bytes_are_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* fs/record.h - the payloads of the stage journal's records: the table of contents
 * of the format, a record decoded, its encoder and its decoder
 *
 * The journal (cache/journal.h) keeps records whole, in order and checksummed, and
 * knows nothing of what they mean.  This is what they mean, in journal version 1.
 * fs/replay.c fills a struct dfs_record for every change and encodes it; a replay
 * decodes every record and applies it.  The encoder and the decoder are plain
 * functions of bytes (no view, no I/O), unit-tested in tests/unit/test_record.c
 * against golden bytes: a change of these bytes is a new journal version.
 *
 * Every integer is a u64, little-endian, whatever its type in C:
 *   str    u64 length n (at most DFS_RECORD_STR_MAX), then the n bytes, no NUL
 *   time   u64 seconds (two's complement: before 1970 is negative), u64 nanoseconds
 *
 *   type        payload
 *   1 MAKE      dir, id, mode, rdev, uid, gid, time mtime (also the atime and
 *               ctime), cache_id (regular files: the content file, else 0), str name,
 *               str link (symlinks: the target, else ""), [time op]
 *   2 UNLINK    dir, str name, [time op]
 *   3 RMDIR     dir, str name, [time op]
 *   4 RENAME    dir, str name, newdir, str newname, flags (RENAME_EXCHANGE), [time op]
 *   5 SETATTR   id, to_set (DFS_SET_*), mode, uid, gid, size, time atime, time mtime,
 *               time ctime
 *   6 STAGE     id, cache_id (the content file the inode uses from now on)
 *   7 LINK      id, newdir, str newname, [time op]
 *   8 XATTR     id, remove (nonzero: remove the attribute), str name, size n (at most
 *               DFS_RECORD_VALUE_MAX), then the n bytes of the value
 *   9 BASE      count k, then k pairs of (fresh id, id): the id a fresh walk of the
 *               session gives an inode, and the id the stage's records name it by
 *   10 COMMIT   start: the block where a commit began to write its session, or
 *               DFS_NO_SESSION (0xffffffff): the session it wrote lacks the changes
 *
 * dir, newdir and id are view ids (fs/view.h); a MAKE names the id its inode got,
 * so that the replay recreates it under that id.  [time op] is the time of a change
 * of names, which its directories get as their mtime; the records written before it
 * existed end without it (has_op_time 0), and the replay then takes the time of the
 * replay.
 *
 * The decoder reads tolerantly but never guesses: bytes after the last field are
 * ignored (that is how [time op] was added to version 1), and anything else that
 * does not fit is -EBADMSG: a payload cut short (a [time op] cut short included), a
 * string or a value longer than its limit or than the payload, a string holding a
 * NUL, a BASE count larger than the payload, an unknown type.  Nanoseconds and the
 * ranges of mode, uid, gid, size and flags are not checked: the encoder writes what
 * the view holds, the replay converts back as the view's types do.
 */
#ifndef DISCFS_FS_RECORD_H
#define DISCFS_FS_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum dfs_record_type {
    DFS_REC_MAKE = 1,
    DFS_REC_UNLINK = 2,
    DFS_REC_RMDIR = 3,
    DFS_REC_RENAME = 4,
    DFS_REC_SETATTR = 5,
    DFS_REC_STAGE = 6,
    DFS_REC_LINK = 7,
    DFS_REC_XATTR = 8,
    DFS_REC_BASE = 9,
    DFS_REC_COMMIT = 10,
};

#define DFS_RECORD_STR_MAX 4095    /* bytes of a name or a link target (PATH_MAX - 1) */
#define DFS_RECORD_VALUE_MAX 65536 /* bytes of an attribute's value (XATTR_SIZE_MAX) */

/* A record, one field per field of the table above; a type ignores the fields it
 * does not have (the decoder zeroes them).  Strings may be NULL to encode (""). */
struct dfs_record {
    uint16_t type;
    uint64_t dir;                  /* MAKE, UNLINK, RMDIR, RENAME: the directory of name */
    uint64_t id;                   /* MAKE: the new inode; SETATTR, STAGE, LINK, XATTR: the inode */
    uint64_t newdir;               /* RENAME, LINK */
    const char *name;              /* MAKE, UNLINK, RMDIR, RENAME: the name in dir; LINK: the new
                                    * name in newdir; XATTR: the attribute's name */
    const char *name2;             /* MAKE: link; RENAME: newname */
    uint64_t mode, rdev, uid, gid; /* MAKE; SETATTR but rdev */
    uint64_t size;                 /* SETATTR */
    uint64_t to_set;               /* SETATTR */
    uint64_t flags;                /* RENAME */
    uint64_t cache_id;             /* MAKE, STAGE */
    uint64_t remove;               /* XATTR */
    uint64_t start;                /* COMMIT */
    struct timespec atime, ctime;  /* SETATTR */
    struct timespec mtime;         /* MAKE, SETATTR */
    struct timespec op_time;       /* MAKE, UNLINK, RMDIR, RENAME, LINK */
    int has_op_time;               /* decoded: the record holds op_time (the encoder
                                    * always writes it) */
    const void *value;             /* XATTR: value_size bytes */
    uint64_t value_size;
    /* BASE: n_map pairs, read with dfs_record_base_pair(): to encode, from map (host
     * order); decoded, from the payload's bytes (map_encoded) */
    uint64_t n_map;
    const uint64_t (*map)[2];
    const unsigned char *map_encoded;
};

/* An encoded payload: LEN bytes at DATA, released with dfs_buf_free(). */
struct dfs_buf {
    unsigned char *data;
    size_t len;
};

void dfs_buf_free(struct dfs_buf *b);

/* The payload of R in *OUT (allocated): 0, or -EINVAL (an unknown type, a value or a
 * map missing), -ENAMETOOLONG (a string longer than DFS_RECORD_STR_MAX), -E2BIG (a
 * value longer than DFS_RECORD_VALUE_MAX, a map too large for a record), -ENOMEM. */
int dfs_record_encode(const struct dfs_record *r, struct dfs_buf *out);

/* Where the decoder copies a record's strings, NUL-terminated. */
struct dfs_record_strings {
    char name[DFS_RECORD_STR_MAX + 1];
    char name2[DFS_RECORD_STR_MAX + 1];
};

/* The record of TYPE whose payload is the LEN bytes at PAYLOAD, into *R: 0, or
 * -EBADMSG (above), in which case *R is unspecified.  R's strings point into *S, its
 * value and its map into PAYLOAD: both must outlive *R.  S may be NULL for the types
 * without strings (SETATTR, STAGE, BASE, COMMIT; else -EINVAL).  Never reads outside
 * the LEN bytes. */
int dfs_record_decode(uint16_t type, const void *payload, uint32_t len, struct dfs_record *r,
                      struct dfs_record_strings *s);

/* The pair I (< n_map) of a BASE record, encoded or decoded. */
void dfs_record_base_pair(const struct dfs_record *r, uint64_t i, uint64_t pair[2]);

#endif

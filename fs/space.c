/* fs/space.c - the space model: an upper bound of the blocks the next session
 * takes, kept up to date as names and attributes change, and the checks that
 * make a change fail with ENOSPC (or EFBIG) before it overdraws the disc.
 *
 * Every session rewrites the whole directory tree (DESIGN.md, Space), the way
 * libisofs lays it out (ecma119.c calc_dir_size, rockridge.c rrip_calc_len):
 *   - each name is a record in its directory's ISO 9660 extent: 33 bytes, the
 *     ISO name, and the System Use area: ES 5, PX 44, TF 26, NM 5 + name, PN 20
 *     for devices, SL for symlink targets, AL for xattrs and ACLs (AAIP), CE 28
 *     when the rest goes to a continuation area; records never straddle blocks;
 *   - what does not fit in a record (254 bytes) goes to the directory's
 *     continuation area as fields of at most 255 bytes; a field that would cross
 *     a block boundary goes to the next block, after a CE entry of 28 bytes;
 *   - each name again in the Joliet tree: 33 bytes and up to 103 UCS-2
 *     characters (burn/session.c), no System Use area;
 *   - each directory: "." and ".." in both trees ("." carries the directory's
 *     attributes again), its entries in four path tables, each of its extents
 *     rounded up to whole blocks;
 *   - an MD5 per file (the checksum array) and the fixed part.
 * Each term is an upper bound, so the sum is one: record bytes are counted as if
 * every block wasted a record's worth (2048/1794), the continuation area as if
 * every block wasted a field and a CE entry (2048/1765), every directory as if each of its
 * three areas ended in a block of its own.  The terms are additive: a name costs
 * what its bytes cost (dfs_dentry_add/remove), an inode what its attributes cost
 * times the records it has (dfs_space_refresh).  tests/mount/space-model.sh
 * compares the bound with the sessions libisofs writes. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <string.h>

/* the fixed part of a session: 16 blocks of system area, volume descriptors and
 * their terminator, the root's Rock Ridge and AAIP announcements, the MD5 tags
 * and the rounding of the four path tables; measured below 64 */
#define SESSION_FIXED_BLOCKS 64
#define REC_MAX 254   /* a directory record with its System Use area */
#define REC_ROOM 1794 /* bytes of a block records fill at least: 2048 - 254 */
#define SU_FIXED 98   /* ES, PX, TF, PN */
#define CE_ENTRY 28   /* the CE entry pointing at a continuation */
#define CE_ROOM 1765  /* bytes of a block continuation fields fill at least: 2048 - 255 - 28 */
#define FILE_MD5 32   /* the "isofs.cx" attribute of a file with an MD5 */
#define SECTION 0xFFFFF800ULL /* the largest extent of a file: one record each */
#define DIR_FIXED_REC (2 * (34 + SU_FIXED) + 2 * 34) /* "." and ".." in both trees */

static uint64_t nm_bytes(size_t len)
{
    return len + 5 * (len / 250 + 1);
}

/* The record bytes of a name in both trees, and its continuation bytes when a
 * long name does not leave room in the record (the attributes are counted with
 * the inode, dfs_space_refresh) */
static void name_cost(const char *name, uint64_t *rec, uint64_t *ce)
{
    size_t len = strlen(name);
    uint64_t iso = 34 + (len < 37 ? len : 37) + 1;
    uint64_t joliet = 34 + 2 * (len < 110 ? len : 110);
    uint64_t su = SU_FIXED + FILE_MD5 + nm_bytes(len);

    if (iso + su + CE_ENTRY <= REC_MAX) {
        *rec = iso + su + joliet;
        *ce = 0;
    } else {
        *rec = REC_MAX + joliet;
        *ce = (su);
    }
}

/* The AAIP bytes of an attribute: its name and value as components of at most
 * 255 bytes with 2 bytes each, in AL fields of 250 bytes with 5 each */
static uint64_t aaip_bytes(size_t name_len, size_t value_len)
{
    uint64_t raw = name_len + value_len + 2 * (name_len / 255 + 1) + 2 * (value_len / 255 + 1);
    return raw + 5 * (raw / 250 + 1);
}

/* The continuation bytes a record of INO carries for its attributes */
static uint64_t inode_cost(const struct dfs_inode *ino)
{
    uint64_t su = 0;

    for (size_t i = 0; i < ino->more->n_xattrs; i++)
        su += aaip_bytes(strlen(ino->more->xattrs[i].name), ino->more->xattrs[i].size);
    if (ino->more->link) { /* SL: components of 2 bytes each, in fields of 250 with 5 */
        size_t len = strlen(ino->more->link), comps = 1;
        for (const char *p = ino->more->link; *p; p++)
            comps += *p == '/';
        su += len + 2 * (comps + len / 255);
        su += 5 * (su / 250 + 1);
    }
    if (S_ISREG(ino->st.st_mode) && (uint64_t)ino->st.st_size > SECTION)
        /* a record per extent of 4 GiB, the name and attributes with each */
        su += ((uint64_t)ino->st.st_size / SECTION) * (REC_MAX + 256 + su);
    return su ? su + CE_ENTRY : 0; /* the CE entry in the record, if it comes to that */
}

/* The records of INO's attributes in the tree: one per name, and a directory's
 * own "." */
static uint64_t weight(const struct dfs_inode *ino)
{
    if (ino->id == DFS_ROOT_ID)
        return 1;
    return ino->n_names ? ino->n_names + (S_ISDIR(ino->st.st_mode) ? 1 : 0) : 0;
}

void dfs_space_refresh(struct dfs_view *v, struct dfs_inode *ino)
{
    uint64_t cost = inode_cost(ino), w = weight(ino);

    v->space_ce = v->space_ce - w * ino->tree_cost + w * cost;
    v->space_n_ce = v->space_n_ce - w * (ino->tree_cost > 0) + w * (cost > 0);
    ino->tree_cost = (uint32_t)cost;
}

/* a directory's "." and "..", and its entries in the four path tables */
static uint64_t dir_cost(const char *name)
{
    size_t len = strlen(name);
    return DIR_FIXED_REC + 2 * (8 + (len < 31 ? len : 31) + 1) +
           2 * (8 + 2 * (len < 110 ? len : 110));
}

void dfs_space_name(struct dfs_view *v, const char *name, struct dfs_inode *ino, int add)
{
    uint64_t rec, ce, w = weight(ino), w2;

    name_cost(name, &rec, &ce);
    if (S_ISDIR(ino->st.st_mode))
        rec += dir_cost(name);
    ino->n_names += add ? 1 : -1;
    w2 = weight(ino);
    if (add) {
        v->space_rec += rec;
        v->space_ce += ce + (w2 - w) * ino->tree_cost;
        v->space_n_ce += (ce > 0) + (w2 - w) * (ino->tree_cost > 0);
    } else {
        v->space_rec -= rec;
        v->space_ce -= ce + (w - w2) * ino->tree_cost;
        v->space_n_ce -= (ce > 0) + (w - w2) * (ino->tree_cost > 0);
    }
}

/* The blocks of the next session besides what the medium adds (burn/space.c),
 * with EXTRA_REC and EXTRA_CE more bytes of tree and EXTRA_BLOCKS of file data.
 * Lock held. */
static uint64_t payload(const struct dfs_view *v, uint64_t extra_rec, uint64_t extra_ce,
                        uint64_t extra_blocks)
{
    uint64_t dirs = v->n_dir_dentries + 1;
    uint64_t rec = v->space_rec + extra_rec, ce = v->space_ce + extra_ce;
    /* the continuation areas of directories: at most one per entry that has one */
    uint64_t ce_dirs =
        v->space_n_ce + (extra_ce > 0) < dirs ? v->space_n_ce + (extra_ce > 0) : dirs;

    return v->staged_blocks + extra_blocks + (rec + REC_ROOM - 1) / REC_ROOM +
           (ce + CE_ROOM - 1) / CE_ROOM + 2 * dirs + ce_dirs + (v->n_live * 16 + 2047) / 2048 +
           SESSION_FIXED_BLOCKS;
}

uint64_t dfs_view_next_session_blocks(struct dfs_view *v)
{
    return v->disc ? dfs_disc_session_blocks(v->disc, payload(v, 0, 0, 0)) : 0;
}

int dfs_view_statfs(struct dfs_view *v, struct statvfs *sv)
{
    uint64_t free_blocks = 0, capacity = 0, cost = 0;

    memset(sv, 0, sizeof(*sv));
    pthread_mutex_lock(&v->lock);
    if (v->disc) {
        capacity = dfs_disc_capacity(v->disc);
        free_blocks = v->readonly ? 0 : dfs_disc_free_blocks(v->disc);
        cost = dfs_disc_session_blocks(v->disc, payload(v, 0, 0, 0));
    }
    sv->f_bsize = 2048;
    sv->f_frsize = 2048;
    sv->f_blocks = capacity;
    sv->f_bfree = free_blocks > cost ? free_blocks - cost : 0;
    sv->f_bavail = sv->f_bfree;
    sv->f_files = v->n_live;
    sv->f_ffree = sv->f_bavail;
    sv->f_favail = sv->f_bavail;
    sv->f_namemax = NAME_MAX_ISO;
    sv->f_flag = v->readonly ? ST_RDONLY : 0;
    pthread_mutex_unlock(&v->lock);
    return 0;
}

/* -ENOSPC unless the next session still fits with that much more */
static int room_for(struct dfs_view *v, uint64_t rec, uint64_t ce, uint64_t blocks)
{
    if (!v->disc)
        return 0;
    return dfs_disc_session_blocks(v->disc, payload(v, rec, ce, blocks)) >
                   dfs_disc_free_blocks(v->disc)
               ? -ENOSPC
               : 0;
}

int dfs_view_check_name_space(struct dfs_view *v, const char *name, const struct dfs_inode *ino,
                              mode_t mode, const char *link)
{
    uint64_t rec, ce, attrs;

    name_cost(name, &rec, &ce);
    if (ino) { /* a further name of INO */
        attrs = ino->tree_cost;
    } else { /* a new inode: its symlink target, or its directory's default ACL */
        attrs = (link ? 2 * strlen(link) + 16 : 0) + 2 * aaip_bytes(32, 256);
        if (S_ISDIR(mode)) {
            rec += dir_cost(name) + 3 * 2048;
            attrs *= 2;
        }
    }
    return room_for(v, rec, ce + attrs, 0);
}

int dfs_view_check_rename_space(struct dfs_view *v, const char *name, const char *newname)
{
    uint64_t rec, ce, old_rec, old_ce;

    name_cost(newname, &rec, &ce);
    name_cost(name, &old_rec, &old_ce);
    if (rec <= old_rec && ce <= old_ce)
        return 0;
    return room_for(v, rec > old_rec ? rec - old_rec : 0, ce > old_ce ? ce - old_ce : 0, 0);
}

int dfs_view_check_xattr_space(struct dfs_view *v, const struct dfs_inode *ino, const char *name,
                               size_t size)
{
    return room_for(v, 0, weight(ino) * aaip_bytes(strlen(name), size), 0);
}

int dfs_view_check_space(struct dfs_view *v, const struct dfs_inode *ino, off_t new_size)
{
    uint64_t old_b = ino->more->cache_id ? ((uint64_t)ino->st.st_size + 2047) / 2048 : 0;
    uint64_t new_b = ((uint64_t)new_size + 2047) / 2048;

    if (!v->disc || new_b <= old_b)
        return 0;
    /* a file larger than the medium could ever hold is too large (EFBIG), not a
     * matter of free space */
    if (new_b > dfs_disc_max_file_blocks(v->disc))
        return -EFBIG;
    /* a file past 4 GiB has a record per extent (inode_cost) */
    return room_for(v, 0, weight(ino) * ((uint64_t)new_size / SECTION) * 2048, new_b - old_b);
}

/* fs/internal.h - what the files of fs/ share besides the API of view.h; the table
 * of contents of the view (every function here is called with v->lock held unless
 * it says otherwise):
 *   view.c     the view built from the disc (hard-link families), closed; statfs
 *   inode.c    inodes: ids, lookup counts, attributes, where the data lives
 *   dir.c      the names of a directory: its listing and its hash of them
 *   names.c    names: lookups, changes of names
 *   readdir.c  directory listings
 *   file.c     file data: open handles, reads, writes, copy-up
 *   xattr.c    extended attributes and ACLs
 *   replay.c   the view's changes as journal records, and their replay
 *   record.c   the records' payloads as bytes (record.h: the format)
 *   commit.c   the view as the next session
 *   recover.c  the stage of a disc found again after a crash
 */
#ifndef DISCFS_FS_INTERNAL_H
#define DISCFS_FS_INTERNAL_H

#include "view.h"

#include <errno.h>

#define NAME_MAX_ISO 255 /* Rock Ridge NM limit as libisofs writes it */

/* inode.c */
/* The directory part of every inode that is not a directory: no names, read only
 * (a write to it faults, where a NULL would let a missed type check through). */
extern const struct dfs_dir dfs_no_dir;
/* INO's names if it is a directory, else dfs_no_dir */
static inline struct dfs_dir *dfs_dp(const struct dfs_inode *ino)
{
    return S_ISDIR(ino->st.st_mode) ? (struct dfs_dir *)ino->more : (struct dfs_dir *)&dfs_no_dir;
}
/* The same for the rare part of an inode; dfs_inode_more() gives INO one of its own
 * before a change of it: 0 or -ENOMEM. */
extern const struct dfs_more dfs_no_more;
int dfs_inode_more(struct dfs_inode *ino);
/* Set INO's content file (0: none): 0, or -ENOMEM (then nothing changed) */
static inline int dfs_inode_set_cache_id(struct dfs_inode *ino, uint64_t id)
{
    if (id == 0 && ino->more == &dfs_no_more)
        return 0;
    if (dfs_inode_more(ino))
        return -ENOMEM;
    ino->more->cache_id = id;
    return 0;
}
/* Free an inode and all it holds (its references to disc nodes included). */
void dfs_inode_destroy(struct dfs_inode *ino);
/* A new inode of MODE with id ID (0: the next one; a replay gives the id its
 * record names), or NULL. */
struct dfs_inode *dfs_inode_new(struct dfs_view *v, mode_t mode, uint64_t id);
/* Free an inode that is no longer in the tree, once nobody refers to it. */
void dfs_inode_maybe_free(struct dfs_view *v, struct dfs_inode *ino);
/* INO's data is on the disc in the N runs EXT (malloc'd; INO takes it), or nowhere */
int dfs_inode_set_ext(struct dfs_inode *ino, struct dfs_extent *ext, int n);
void dfs_inode_drop_ext(struct dfs_inode *ino);

/* names.c */
uint64_t dfs_name_hash(uint64_t dir, const char *name);
/* dir.c */
struct dfs_dentry *dfs_dentry_find(struct dfs_view *v, struct dfs_inode *dir, const char *name);
int dfs_dentry_add(struct dfs_view *v, struct dfs_inode *dir, const char *name,
                   struct dfs_inode *ino);
void dfs_dentry_remove(struct dfs_view *v, struct dfs_inode *dir, struct dfs_dentry *e);
/* the first slot of DP's ents[] (a name or a hole) after the names up to offset OFF */
size_t dfs_dir_after(const struct dfs_dir *dp, uint64_t off);
/* free the names left in DP (the view is closed) */
void dfs_dir_free_names(struct dfs_dir *dp);
/* names.c */
/* ID is a directory: 0 and *DIR, or -ESTALE, -ENOTDIR */
int dfs_get_dir(struct dfs_view *v, uint64_t id, struct dfs_inode **dir);
/* A name of the disc as the view shows it: NAME, or one a session can hold (in BUF),
 * said on stderr if TELL (the mount's build; not a status or inspect walk) */
const char *dfs_writable_name(const char *name, char *buf, size_t len, int tell);

/* The changes of names themselves (STYLE.md 5; passthrough_ll lo_do_lookup): the
 * dfs_view_* operations check, record and call these; the replay of the journal
 * calls them directly with what the records say.  Lock held, checks done; the
 * directories touched get v->op_time.  On failure nothing changed. */
struct dfs_make {
    uint64_t id; /* 0: the next one */
    mode_t mode;
    dev_t rdev;
    uid_t uid;
    gid_t gid;
    const char *link;     /* symlinks */
    uint64_t cache_id;    /* regular files: their content file */
    struct timespec time; /* atime, mtime and ctime */
};
int dfs_do_make(struct dfs_view *v, struct dfs_inode *dir, const char *name,
                const struct dfs_make *a, struct dfs_inode **out);
/* remove the name E of DIR (unlink, rmdir) */
void dfs_do_remove(struct dfs_view *v, struct dfs_inode *dir, struct dfs_dentry *e);
/* a further name NAME in DIR of INO */
int dfs_do_link(struct dfs_view *v, struct dfs_inode *ino, struct dfs_inode *dir, const char *name);
/* rename or exchange (FLAGS: RENAME_EXCHANGE) the name E of DIR to NAME of NEWDIR;
 * TE is NEWDIR's entry NAME or NULL */
int dfs_do_rename(struct dfs_view *v, struct dfs_inode *dir, struct dfs_dentry *e,
                  struct dfs_inode *newdir, struct dfs_dentry *te, const char *name,
                  unsigned flags);
/* inode.c: the attributes TO_SET of IN (a size: the content file has it already) */
void dfs_do_setattr(struct dfs_view *v, struct dfs_inode *ino, const struct stat *in, int to_set);
/* file.c: INO's data changed: mtime and ctime now, its content file's mtime too */
void dfs_view_content_mtime(struct dfs_view *v, struct dfs_inode *ino);
/* xattr.c: a chmod makes the access ACL follow the mode (posix_acl_chmod) */
void dfs_view_acl_chmod(struct dfs_inode *ino);
/* xattr.c: set (VALUE) or remove (NULL) the attribute NAME of INO */
int dfs_do_xattr(struct dfs_view *v, struct dfs_inode *ino, const char *name, const void *value,
                 size_t size);

/* internal to fs/: view.c helpers used by file.c and commit.c (lock held) */
struct dfs_inode *dfs_view_inode(struct dfs_view *v, uint64_t id);
struct dfs_inode *dfs_view_child(struct dfs_view *v, struct dfs_inode *dir, const char *name);
/* Give the inodes of a view fresh from the disc the ids in MAP: (id now, new id)
 * pairs covering every inode (replay of BASE records; nothing was handed out yet). */
int dfs_view_renumber(struct dfs_view *v, const uint64_t (*map)[2], size_t n);
void dfs_view_stat(struct dfs_view *v, const struct dfs_inode *ino, struct stat *st);

/* INO goes to the kernel once more (a lookup, an entry of readdirplus) */
static inline void dfs_inode_hold(struct dfs_view *v, struct dfs_inode *ino)
{
    ino->nlookup++;
    v->kernel_refs++;
}
void dfs_view_set_staged_size(struct dfs_view *v, struct dfs_inode *ino, off_t size);
int dfs_view_copy_up(struct dfs_view *v, struct dfs_inode *ino);
/* the same, copying only the first LIMIT bytes (the inode's size becomes what
 * was copied): for a truncate */
int dfs_view_copy_up_to(struct dfs_view *v, struct dfs_inode *ino, off_t limit);
int dfs_view_use_content(struct dfs_inode *ino, uint64_t id);
/* space.c: room in the next session (-ENOSPC otherwise, -EFBIG for a size no file
 * can have), as statfs counts: for INO grown to NEW_SIZE; for the name NAME of INO,
 * or of a new inode of MODE (LINK: a symlink's target); for renaming NAME to
 * NEWNAME; for the attribute NAME of SIZE bytes on INO */
int dfs_view_check_space(struct dfs_view *v, const struct dfs_inode *ino, off_t new_size);
int dfs_view_check_name_space(struct dfs_view *v, const char *name, const struct dfs_inode *ino,
                              mode_t mode, const char *link);
int dfs_view_check_rename_space(struct dfs_view *v, const char *name, const char *newname);
int dfs_view_check_xattr_space(struct dfs_view *v, const struct dfs_inode *ino, const char *name,
                               size_t size);
/* space.c: INO's attributes (xattrs, ACLs, symlink target, size) changed: what
 * its records cost again; NAME of INO was added to or removed from the view */
void dfs_space_refresh(struct dfs_view *v, struct dfs_inode *ino);
void dfs_space_name(struct dfs_view *v, const char *name, struct dfs_inode *ino, int add);
void dfs_view_touch(struct dfs_inode *ino, int mtime);
/* a directory whose entries changed: mtime and ctime are the change's v->op_time */
/* inode.c: the content file ID gets the mtime of INO */
void dfs_view_store_mtime(struct dfs_view *v, struct dfs_inode *ino, uint64_t id);
void dfs_view_touch_dir(struct dfs_view *v, struct dfs_inode *dir);
/* replay.c: records of changes (lock held); 0 or -errno (the change must then fail) */
int dfs_view_log_ok(struct dfs_view *v);
int dfs_view_log_make(struct dfs_view *v, uint64_t dir, const char *name,
                      const struct dfs_inode *ino);
int dfs_view_log_remove(struct dfs_view *v, uint64_t dir, const char *name, int is_dir);
int dfs_view_log_rename(struct dfs_view *v, uint64_t dir, const char *name, uint64_t newdir,
                        const char *newname, unsigned flags);
int dfs_view_log_setattr(struct dfs_view *v, const struct dfs_inode *ino, int to_set);
int dfs_view_log_stage(struct dfs_view *v, const struct dfs_inode *ino);
/* a written file was released: record its size and mtime unless the journal has them */
int dfs_view_log_written(struct dfs_view *v, struct dfs_inode *ino);
/* the first records of a new stage: the ids a fresh walk of the session gives */
int dfs_view_log_base(struct dfs_view *v, const uint64_t (*map)[2], size_t n);
int dfs_view_log_link(struct dfs_view *v, uint64_t id, uint64_t newdir, const char *newname);
/* a commit begins to write a session at block START (the stage's intent), or
 * (DFS_NO_SESSION) the session it wrote does not hold the changes */
#define DFS_NO_SESSION UINT32_MAX
int dfs_view_log_commit(struct dfs_view *v, uint32_t start);
/* The block where the last commit of the stage in J began to write its session:
 * 1 and *START (*CHANGED_AFTER: changes were recorded after it), 0 no commit began,
 * or -errno (fs/recover.c). */
int dfs_stage_intent(struct dfs_journal *j, uint32_t *start, int *changed_after);
int dfs_view_log_xattr(struct dfs_view *v, uint64_t id, const char *name, const void *value,
                       size_t size, int remove);
/* view.c: the nodes of the disc an inode stands for */
int dfs_view_add_disc_node(struct dfs_inode *ino, void *node);
void dfs_view_drop_disc_nodes(struct dfs_inode *ino);
/* view.c: hard-link families met in a walk of the disc (dfs_disc_entry.family), so
 * that the view's build and commit's re-attach group names into inodes alike */
struct dfs_family {
    uint64_t family;
    struct dfs_inode *ino;
};
struct dfs_families {
    struct dfs_family *slots;
    size_t n_slots, used;
};
/* the inode of E's family met before (same number, type and data), or NULL */
struct dfs_inode *dfs_families_find(struct dfs_families *f, const struct dfs_disc_entry *e);
int dfs_families_add(struct dfs_families *f, const struct dfs_disc_entry *e, struct dfs_inode *ino);
/* xattr.c: a new inode in DIR gets DIR's default ACL (lock held) */
int dfs_view_inherit_acl(struct dfs_inode *dir, struct dfs_inode *ino, mode_t requested);
int dfs_view_writable(struct dfs_view *v);

#endif

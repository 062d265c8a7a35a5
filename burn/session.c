/* burn/session.c - the next session: its tree, and writing it after the old ones
 *
 * The imported image (d->image) is turned into the tree of the next session:
 * dfs_commit_begin() takes every child of the root out (keeping a reference), and
 * dfs_commit_add() builds the new tree from the caller's description.  Files kept
 * from the disc are the imported IsoFile nodes themselves, moved into place, so
 * libisofs records their old extents instead of writing their data again
 * (reference/libisofs.md §2: "old unchanged files are referenced by LBA").
 * Directories are always new: every session rewrites the whole tree anyway.
 *
 * Reference counting: a node taken from a parent is owned by whoever took it;
 * iso_dir_add_node() hands that ownership to the new parent.  A node the caller
 * keeps a reference on (dfs_disc_node_get) and that has no parent any more gets a
 * fresh reference before it is added.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CD_MIN_TRACK 300 /* libburn pads CD tracks to 300 blocks */
#define PAD "isofs.pad"  /* burn/xattr.c: a private attribute, never shown */
#define EMUL_ALIGN 32    /* libisoburn's session alignment on emulated media */

struct dfs_commit {
    struct dfs_disc *d;
    IsoNode **old; /* children of the old root, one reference each */
    size_t n_old;
    int new_data;            /* the session writes file data: libisofs gives it a checksum
                              * array and an MD5 tag (verify_session); so it does when the
                              * data is on the disc already (dedup.c): the checksum array
                              * holds the file's MD5 */
    struct dfs_dedup *dedup; /* staged files that may be on the disc (dedup.c) */
    int reloaded;            /* the written session was imported again: a fresh tree */
    int resolved;            /* ... looked up */
};

int dfs_commit_begin(struct dfs_disc *d, struct dfs_commit **out)
{
    struct dfs_commit *c;
    IsoDir *root;
    IsoDirIter *it;
    IsoNode *child;
    size_t cap = 0;

    if (d->info.state == DFS_MEDIA_CLOSED)
        return -EROFS;
    if (!d->image) { /* the last reload failed (session.c): try it again */
        int err = dfs_disc_load(d);
        if (err)
            return err;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->d = d;
    root = iso_image_get_root(d->image);
    if (iso_dir_get_children(root, &it) < 0) {
        free(c);
        return -ENOMEM;
    }
    while (iso_dir_iter_next(it, &child) == 1) {
        if (c->n_old == cap) {
            IsoNode **n;
            cap = cap ? 2 * cap : 64;
            n = realloc(c->old, cap * sizeof(*n));
            if (!n) {
                iso_dir_iter_free(it);
                dfs_commit_end(c);
                return -ENOMEM;
            }
            c->old = n;
        }
        c->old[c->n_old++] = child;
    }
    iso_dir_iter_free(it);
    for (size_t i = 0; i < c->n_old; i++)
        iso_node_take(c->old[i]); /* the root's reference is now ours */
    *out = c;
    return 0;
}

void dfs_commit_end(struct dfs_commit *c)
{
    if (!c)
        return;
    /* the root's children were the loaded session's: unless the write imported
     * the new session, the tree is the attempt's now (the next commit builds its
     * own from the view; a walk would not show the disc) */
    if (!c->reloaded)
        c->d->tree_built = 1;
    for (size_t i = 0; i < c->n_old; i++)
        iso_node_unref(c->old[i]);
    free(c->old);
    dfs_dedup_free(c->dedup);
    free(c);
}

void dfs_node_set_stat(IsoNode *n, const struct stat *st)
{
    iso_node_set_permissions(n, st->st_mode & 07777);
    iso_node_set_uid(n, st->st_uid);
    iso_node_set_gid(n, st->st_gid);
    iso_node_set_mtime(n, st->st_mtim.tv_sec);
    iso_node_set_atime(n, st->st_atim.tv_sec);
    iso_node_set_ctime(n, st->st_ctim.tv_sec);
}

static int iso_err(struct dfs_disc *d, int ret, const char *name)
{
    char what[512];
    int err = ret == (int)ISO_OUT_OF_MEM             ? -ENOMEM
              : ret == (int)ISO_NODE_NAME_NOT_UNIQUE ? -EEXIST
              : ret == (int)ISO_FILE_DOESNT_EXIST    ? -ENOENT
                                                     : -EIO;
    snprintf(what, sizeof(what), "cannot put '%s' into the new session", name);
    return dfs_lib_error(d, err, what);
}

int dfs_commit_root(struct dfs_commit *c, const struct stat *st, const struct dfs_xattr *x,
                    size_t n)
{
    IsoNode *root = (IsoNode *)iso_image_get_root(c->d->image);
    int err;

    /* The root is the only node of the new tree that carries an inode number of
     * the session it was loaded from (every other directory is new, and a node's
     * number goes with it).  libisofs 1.5.4 hands that number to every new
     * hard-link family that follows a single file in its sort order (it asks the
     * first node of all, not of the family, match_hardlinks()): two families and
     * the root then share one inode number, and a reader merges the families.
     * Without its old number the root is numbered afresh like the rest.  Its
     * attributes are set again right here. */
    iso_node_remove_all_xinfo(root, 0);
    err = dfs_node_set_xattrs(root, x, n, &st->st_mtim, NULL, 1);

    if (err)
        return iso_err(c->d, err == -ENOMEM ? (int)ISO_OUT_OF_MEM : -1, "/");
    dfs_node_set_stat(root, st);
    return 0;
}

int dfs_commit_add(struct dfs_commit *c, void *parent, const struct dfs_commit_node *n,
                   void **handle)
{
    IsoImage *img = c->d->image;
    IsoDir *dir = parent ? parent : iso_image_get_root(img);
    IsoNode *node = NULL;
    int ret;

    if (n->disc_node && n->clone) {
        /* a further name of a symlink or special file: the clone keeps the disc
         * inode number, so libisofs records one inode (hardlinks extension) */
        if (iso_node_get_type(n->disc_node) == LIBISO_FILE)
            return iso_err(c->d, ISO_WRONG_ARG_VALUE, n->name); /* see disc.h */
        ret = iso_image_tree_clone(img, n->disc_node, dir, (char *)n->name, &node, 0);
    } else if (n->disc_node) {
        node = n->disc_node;
        if (iso_node_get_parent(node))
            iso_node_take(node);
        else
            iso_node_ref(node);
        ret = iso_image_set_node_name(img, node, n->name, 0);
        if (ret >= 0)
            ret = iso_dir_add_node(dir, node, ISO_REPLACE_NEVER);
        if (ret < 0) {
            iso_node_unref(node);
            return iso_err(c->d, ret, n->name);
        }
    } else if (n->local_path) {
        ret = iso_tree_add_new_node(img, dir, n->name, n->local_path, &node);
        if (ret >= 0 && S_ISREG(n->st.st_mode) && n->st.st_size > 0) {
            c->new_data = 1;
            /* its data may be on the disc already (dedup.c); the names of a
             * hard-linked file are one local file: not for them */
            if (n->st.st_nlink < 2 &&
                dfs_dedup_note(&c->dedup, node, n->local_path, &n->st, n->xattrs, n->n_xattrs))
                return iso_err(c->d, ISO_OUT_OF_MEM, n->name);
        }
    } else if (S_ISDIR(n->st.st_mode)) {
        ret = iso_image_add_new_dir(img, dir, n->name, (IsoDir **)&node);
    } else if (S_ISLNK(n->st.st_mode)) {
        ret = iso_image_add_new_symlink(img, dir, n->name, n->link, (IsoSymlink **)&node);
    } else {
        ret = iso_image_add_new_special(img, dir, n->name, n->st.st_mode, n->st.st_rdev,
                                        (IsoSpecial **)&node);
    }
    if (ret < 0)
        return iso_err(c->d, ret, n->name);
    /* attributes and ACLs first: libisofs may touch the permission bits there */
    ret = dfs_node_set_xattrs(node, n->xattrs, n->n_xattrs, &n->st.st_mtim,
                              S_ISLNK(n->st.st_mode) ? n->link : NULL, 0);
    if (ret < 0)
        return iso_err(c->d, ret == -ENOMEM ? (int)ISO_OUT_OF_MEM : -1, n->name);
    dfs_node_set_stat(node, &n->st);
    if (handle)
        *handle = iso_node_get_type(node) == LIBISO_DIR ? (void *)node : NULL;
    return 0;
}

static struct isoburn_imgen_opts *gen_opts(void)
{
    struct isoburn_imgen_opts *o;

    if (isoburn_igopt_new(&o, 0) <= 0)
        return NULL;
    isoburn_igopt_set_level(o, 3); /* files of 4 GiB and more */
    isoburn_igopt_set_extensions(o, isoburn_igopt_rockridge | isoburn_igopt_joliet |
                                        isoburn_igopt_aaip | isoburn_igopt_hardlinks |
                                        isoburn_igopt_session_md5 | isoburn_igopt_file_md5);
    /* TAO for every session: libisoburn would pick SAO on a blank CD, which is
     * impossible on appendable ones; with TAO all CD sessions have one layout,
     * each track ending in 2 run-out blocks (reference/libburn.md §3.7).  DVD-R
     * and DVD+R/BD-R take TAO as Incremental / their only write type. */
    isoburn_igopt_set_write_type(o, 1);
    /* Joliet (what Windows reads): names up to 103 characters, no ";1" and no
     * forced dot, deep paths, and the files' own times (README, Joliet) */
    isoburn_igopt_set_relaxed(o,
                              isoburn_igopt_allow_deep_paths | isoburn_igopt_allow_longer_paths |
                                  isoburn_igopt_always_gmt | isoburn_igopt_dir_rec_mtime |
                                  isoburn_igopt_only_iso_versions | isoburn_igopt_no_j_force_dots |
                                  isoburn_igopt_joliet_longer_paths |
                                  isoburn_igopt_joliet_long_names | isoburn_igopt_joliet_rec_mtime);
    return o;
}

/* Pad the track: CD tracks to their minimum size, emulated sessions up to the
 * next aligned address (else stale volume descriptors of older sessions could be
 * found by a TOC scan).  Returns the padding in blocks. */
static int track_padding(struct dfs_disc *d, struct burn_disc *disc, struct burn_write_opts *bo,
                         int *img_sectors)
{
    struct burn_session **s;
    struct burn_track **t;
    int ns = 0, nt = 0, pad = 0, lba = 0, nwa = 0, profile = 0;
    char name[80];

    *img_sectors = burn_disc_get_sectors(disc);
    s = burn_disc_get_sessions(disc, &ns);
    if (!s || ns < 1)
        return -EIO;
    t = burn_session_get_tracks(s[0], &nt);
    if (!t || nt < 1)
        return -EIO;
    burn_disc_get_profile(d->drive, &profile, name);
    if ((profile == 0x09 || profile == 0x0a) && *img_sectors < CD_MIN_TRACK)
        pad = CD_MIN_TRACK - *img_sectors;
    if (isoburn_needs_emulation(d->drive) == 1) {
        if (isoburn_disc_track_lba_nwa(d->drive, bo, 0, &lba, &nwa) <= 0)
            nwa = 0;
        if ((nwa + *img_sectors + pad) % EMUL_ALIGN)
            pad += EMUL_ALIGN - (nwa + *img_sectors + pad) % EMUL_ALIGN;
    }
    burn_track_define_data(t[0], 0, pad * 2048, 0, BURN_MODE1);
    return pad;
}

void dfs_disc_set_progress(struct dfs_disc *d, dfs_progress_fn fn, void *ctx)
{
    d->progress = fn;
    d->progress_ctx = ctx;
}

static void tell(struct dfs_disc *d, enum dfs_phase phase, uint64_t done, uint64_t total)
{
    if (d->progress)
        d->progress(d->progress_ctx, phase, done, total);
}

/* Wait until the drive is idle again, telling how far the write of TOTAL blocks
 * got (libburn counts the sectors of the track it writes) and when the drive
 * turns to closing the track, the session or the disc. */
static void wait_written(struct dfs_disc *d, uint64_t total)
{
    enum burn_drive_status st;
    struct burn_progress p;
    int closing = 0;

    tell(d, DFS_PHASE_WRITING, 0, total * 2048); /* its size, also if it is over at once */
    while (burn_drive_get_status(d->drive, NULL) == BURN_DRIVE_SPAWNING)
        usleep(10000);
    while ((st = burn_drive_get_status(d->drive, &p)) != BURN_DRIVE_IDLE) {
        if (st == BURN_DRIVE_WRITING) {
            uint64_t done = p.sector > 0 ? (uint64_t)p.sector : 0;
            tell(d, DFS_PHASE_WRITING, (done < total ? done : total) * 2048, total * 2048);
        } else if (!closing &&
                   (st == BURN_DRIVE_CLOSING_TRACK || st == BURN_DRIVE_CLOSING_SESSION ||
                    st == BURN_DRIVE_WRITING_LEADOUT)) {
            closing = 1;
            tell(d, DFS_PHASE_CLOSING, 0, 0);
        }
        usleep(20000);
    }
    if (!closing)
        tell(d, DFS_PHASE_WRITING, total * 2048, total * 2048);
    if (getenv("DISCFS_TEST_WRITE_DELAY_MS")) /* tests: a slow drive */
        usleep((useconds_t)atoi(getenv("DISCFS_TEST_WRITE_DELAY_MS")) * 1000);
}

/* dfs_session_md5(), telling the verify's progress if REPORT */
static int session_md5(struct dfs_disc *d, uint32_t start, uint32_t *tag_start, uint32_t *end,
                       int report)
{
    enum { CHUNK = 32 };
    char want[16], got[16], *buf;
    void *ctx = NULL;
    int err = 0;

    *tag_start = *end = 0;
    if (!d->image || iso_image_get_session_md5(d->image, tag_start, end, want, 0) != 1 ||
        *tag_start > start)
        return 0;
    buf = malloc(CHUNK * 2048);
    if (!buf || iso_md5_start(&ctx) < 0) {
        free(buf);
        return -ENOMEM;
    }
    for (uint32_t lba = *tag_start; lba < *end && !err; lba += CHUNK) {
        int n = *end - lba < CHUNK ? (int)(*end - lba) : CHUNK;
        err = dfs_disc_read_blocks(d, lba, buf, n);
        if (!err)
            iso_md5_compute(ctx, buf, n * 2048);
        if (report && (lba - *tag_start) % 1024 == 0)
            tell(d, DFS_PHASE_VERIFYING, (uint64_t)(lba - *tag_start) * 2048,
                 (uint64_t)(*end - *tag_start) * 2048);
    }
    iso_md5_end(&ctx, got);
    free(buf);
    if (err)
        return err;
    if (report)
        tell(d, DFS_PHASE_VERIFYING, (uint64_t)(*end - *tag_start) * 2048,
             (uint64_t)(*end - *tag_start) * 2048);
    return memcmp(want, got, 16) == 0 ? 1 : 2;
}

int dfs_session_md5(struct dfs_disc *d, uint32_t start, uint32_t *tag_start, uint32_t *end)
{
    return session_md5(d, start, tag_start, end, 0);
}

int dfs_session_md5_told(struct dfs_disc *d, uint32_t start, uint32_t *tag_start, uint32_t *end)
{
    return session_md5(d, start, tag_start, end, 1);
}

/* DESIGN.md, Commit: verify as a reader would.  The medium was re-assessed and its
 * newest session loaded as a fresh mount loads it (dfs_disc_load: TOC, msc1,
 * volume descriptors, tree); that session must be the one written at START, carry
 * the MD5 tag libisofs wrote for it, and read back with that MD5 (d->read_lock
 * held).  -EBADE otherwise, the reason in last_error. */
static int verify_session(struct dfs_disc *d, uint32_t start, int expect_tag)
{
    const char *name = dfs_disc_name(d);
    uint32_t tag_start, end;
    int ok;

    if (d->info.msc1 != start) {
        snprintf(d->last_error, sizeof(d->last_error),
                 "the session written to '%s' at block %u is not the newest one a reader finds "
                 "(that starts at block %u): the medium may be bad",
                 name, start, d->info.msc1);
        goto out_mismatch;
    }
    ok = session_md5(d, start, &tag_start, &end, 1);
    /* 0: libisofs finds no tag to check, as for a session without file data (no
     * checksum array): the session is ours (msc1) and its tree is checked next.
     * A session that wrote file data has a tag: none found means the session is
     * not what was written (a tree longer than written shifts everything after it,
     * and a drive may pad the short track and report a good write) */
    if (ok == 0 && expect_tag) {
        snprintf(d->last_error, sizeof(d->last_error),
                 "the session written to '%s' at block %u does not read back as written (it "
                 "has no MD5 tag a reader finds)",
                 name, start);
        goto out_mismatch;
    }
    if (ok <= 1)
        return ok < 0 ? ok : 0;
    snprintf(d->last_error, sizeof(d->last_error),
             "the session written to '%s' at blocks %u to %u does not read back as "
             "written (MD5 mismatch): the medium may be bad",
             name, tag_start, end - 1);
out_mismatch:
    return -EBADE;
}

/* The options of gen_opts() as libisoburn hands them to libisofs
 * (isoburn_make_iso_write_opts): every one that shapes the directory tree. */
static IsoWriteOpts *tree_opts(int ms_block)
{
    IsoWriteOpts *w;

    if (iso_write_opts_new(&w, 0) < 0)
        return NULL;
    iso_write_opts_set_iso_level(w, 3);
    iso_write_opts_set_rockridge(w, 1);
    iso_write_opts_set_joliet(w, 1);
    iso_write_opts_set_hardlinks(w, 1);
    iso_write_opts_set_rrip_1_10_px_ino(w, 1);
    iso_write_opts_set_aaip(w, 1);
    iso_write_opts_set_allow_deep_paths(w, 1);
    iso_write_opts_set_allow_longer_paths(w, 1);
    iso_write_opts_set_relaxed_vol_atts(w, 1);
    iso_write_opts_set_always_gmt(w, 1);
    iso_write_opts_set_dir_rec_mtime(w, 1 | 2);
    iso_write_opts_set_omit_version_numbers(w, 2);
    iso_write_opts_set_no_force_dots(w, 2);
    iso_write_opts_set_joliet_longer_paths(w, 1);
    iso_write_opts_set_joliet_long_names(w, 1);
    iso_write_opts_set_record_md5(w, 1, 1);
    iso_write_opts_set_replace_mode(w, 0, 0, 0, 0);
    iso_write_opts_set_default_dir_mode(w, 0555);
    iso_write_opts_set_default_file_mode(w, 0444);
    iso_write_opts_set_ms_block(w, (uint32_t)ms_block);
    iso_write_opts_set_appendable(w, 1);
    return w;
}

/* Threads of this process now. */
static int count_threads(void)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;

    if (!dir)
        return -1;
    while ((e = readdir(dir)))
        n += e->d_name[0] != '.';
    closedir(dir);
    return n;
}

/* Wait (at most 2 s) until the threads that libisofs and libburn started for the
 * write have ended: libisofs does not wait for its writer thread when the burn
 * source is freed (isoburn_sync_after_write), and the drive is released and
 * grabbed again right after; libburn keeps one read/write buffer per drive, which
 * a thread that still runs would swap under the reader (core dumps of the soak:
 * burn_read_data() and burn_random_access_write() with that buffer gone NULL). */
static void wait_write_threads(int before)
{
    for (int i = 0; before > 0 && i < 400 && count_threads() > before; i++)
        usleep(5000);
}

/* -EUCLEAN if libisofs 1.5.4 miscounts the session's directory tree.  libisofs
 * finds that out only while it writes, and the tree comes first in the image: a
 * write would have put a broken session on the disc (on write-once media, blocks
 * lost for good) before failing.  So the tree is produced first, up to where the
 * data of the files begins, and dropped.  libisofs does not wait for the writer
 * thread of a burn source cancelled early, which would go on reading the disc
 * through the drive the commit then writes with: the rehearsal waits for it to
 * end (wait_write_threads).  (A rehearsal in a child process deadlocked on a lock
 * another thread held at the fork, under ASan in CI.) */
static int rehearse_tree(struct dfs_disc *d, const char *what)
{
    struct burn_source *src = NULL;
    IsoWriteOpts *w;
    uint32_t data_start = 0;
    int lba = 0, nwa = 0, ret, threads = count_threads();
    char *buf;
    off_t want, got = 0;

    if (isoburn_disc_track_lba_nwa(d->drive, NULL, 0, &lba, &nwa) <= 0)
        nwa = 0;
    w = tree_opts(nwa);
    buf = malloc(65536);
    if (!w || !buf) {
        free(buf);
        if (w)
            iso_write_opts_free(w);
        return -ENOMEM;
    }
    dfs_names_charset(1);
    ret = iso_image_create_burn_source(d->image, w, &src);
    dfs_names_charset(0);
    if (ret >= 0 && iso_write_opts_get_data_start(w, &data_start, 0) >= 0 &&
        data_start > (uint32_t)nwa) {
        want = (off_t)(data_start - (uint32_t)nwa) * 2048;
        while (got < want) {
            int n = (int)(want - got < 65536 ? want - got : 65536);
            n = src->read_xt ? src->read_xt(src, (unsigned char *)buf, n)
                             : src->read(src, (unsigned char *)buf, n);
            if (n <= 0)
                break;
            got += n;
        }
    }
    if (src) {
        src->cancel(src);
        burn_source_free(src);
    }
    wait_write_threads(threads);
    iso_write_opts_free(w);
    free(buf);
    /* the messages of the rehearsal (its cancellation too) are its own: dropped,
     * unless they tell of the miscount */
    if (dfs_lib_error_unless(d, 0, NULL, "ECMA-119 tree end differ") != -EUCLEAN)
        return 0;
    snprintf(d->last_error, sizeof(d->last_error),
             "%s: libisofs computes its directory tree longer than it writes it "
             "(Calculated and written ECMA-119 tree end differ)",
             what);
    return -EUCLEAN;
}

/* On emulated media (image files, DVD+RW, BD-RE) libisoburn makes a session the
 * newest by rewriting the first 64 KiB (the volume descriptors at block 16 point
 * at it).  A new session that does not read back would leave a medium no reader
 * can open; its old head, written back, shows the previous session again. */
#define HEAD_BYTES (32 * 2048)

static char *save_head(struct dfs_disc *d)
{
    char *head;

    if (!d->info.emulated || d->info.state == DFS_MEDIA_BLANK)
        return NULL;
    head = malloc(HEAD_BYTES);
    if (head && dfs_disc_read_blocks(d, 0, head, HEAD_BYTES / 2048) != 0) {
        free(head);
        head = NULL;
    }
    return head;
}

/* Write HEAD back at block 0 and load the disc again (d->read_lock held). */
static int restore_head(struct dfs_disc *d, const char *head)
{
    struct burn_drive_info *dinfo = NULL;
    const char *name = dfs_disc_name(d);
    char why[sizeof(d->last_error) / 2];
    int ret;

    dfs_disc_unload(d);
    if (burn_drive_scan_and_grab(&dinfo, d->adr, 1) <= 0)
        ret = 0;
    else {
        ret = burn_random_access_write(dinfo[0].drive, 0, (char *)head, HEAD_BYTES, 1);
        burn_drive_release(dinfo[0].drive, 0);
        burn_drive_info_free(dinfo);
    }
    if (ret <= 0) {
        char what[600];
        snprintf(what, sizeof(what),
                 "cannot put the previous session of '%s' back: no reader can open it now", name);
        return dfs_lib_error(d, -EIO, what);
    }
    dfs_lib_error(d, 0, NULL);
    snprintf(why, sizeof(why), "%.*s", (int)sizeof(why) - 1, d->last_error);
    ret = dfs_disc_load(d);
    if (ret == 0)
        snprintf(d->last_error, sizeof(d->last_error), "%s; '%s' shows its previous session again",
                 why, name);
    return ret;
}

int dfs_commit_write(struct dfs_commit *c, int (*intent)(void *ctx, uint32_t start), void *ctx)
{
    struct dfs_disc *d = c->d;
    struct isoburn_imgen_opts *o;
    struct burn_disc *disc = NULL;
    struct burn_write_opts *bo = NULL;
    char what[600], reasons[BURN_REASONS_LEN], *head = NULL;
    int ret, err, pad, sectors, burned = 0, lba = 0, start = 0, threads = -1;
    off_t space;

    snprintf(what, sizeof(what), "cannot write a session to '%s'", dfs_disc_name(d));
    /* From the identity check to the re-import the drive is ours: readers wait
     * (the drive cannot read while it writes, and d->drive is replaced below) */
    pthread_mutex_lock(&d->read_lock);
    d->quiet = 1; /* what goes wrong is told once, by the caller (last_error) */
    tell(d, DFS_PHASE_CHECKING, 0, 0);
    err = dfs_disc_check_identity(d);
    if (!err && !c->resolved) {
        /* staged files whose data is on the disc refer to it (once: the tree
         * stays as it is for the padded attempts) */
        err = dfs_dedup_resolve(d, c->dedup, c->old, c->n_old);
        if (err)
            err = dfs_lib_error(d, err, what);
        c->resolved = 1;
    }
    if (!err && !getenv("DISCFS_TEST_NO_REHEARSAL")) /* tests: the verify's turn */
        err = rehearse_tree(d, what);
    if (err)
        goto out_unlock;
    head = save_head(d);
    threads = count_threads();
    o = gen_opts();
    if (!o) {
        err = dfs_lib_error(d, -ENOMEM, what);
        goto out_unlock;
    }
    dfs_names_charset(1);
    ret = isoburn_prepare_disc(d->drive, &disc, o);
    dfs_names_charset(0);
    if (ret <= 0) {
        err = dfs_lib_error(d, -EIO, what);
        goto out_opts;
    }
    bo = burn_write_opts_new(d->drive);
    if (!bo) {
        err = dfs_lib_error(d, -ENOMEM, what);
        goto out_cancel;
    }
    burn_write_opts_set_perform_opc(bo, 0);
    burn_write_opts_set_underrun_proof(bo, 1);
    /* sequential media keep the disc open for the next session unless -o close
     * (then the session closes the disc: multi off); on emulated media (image
     * files, overwriteable discs) libisoburn does the sessions itself and libburn
     * refuses the multi flag */
    burn_write_opts_set_multi(bo, isoburn_needs_emulation(d->drive) != 1 && !d->close);
    pad = track_padding(d, disc, bo, &sectors);
    if (pad < 0) {
        err = dfs_lib_error(d, pad, what);
        goto out_cancel;
    }
    space = isoburn_disc_available_space(d->drive, bo) / 2048;
    if (space < sectors + pad) {
        snprintf(d->last_error, sizeof(d->last_error),
                 "%s: the session needs %d blocks, the disc has %lld free", what, sectors + pad,
                 (long long)space);
        dfs_tell(d);
        err = -ENOSPC;
        goto out_cancel;
    }
    if (burn_write_opts_auto_write_type(bo, disc, reasons, 0) == BURN_WRITE_NONE) {
        snprintf(d->last_error, sizeof(d->last_error), "%s: %s", what, reasons);
        dfs_tell(d);
        err = -EIO;
        goto out_cancel;
    }
    /* where the session goes: a reader must find it there (verify_session), and
     * the stage notes it before the first block is written (a crash from here on
     * leaves a session that the next mount must tell apart, fs/main.c) */
    if (isoburn_disc_track_lba_nwa(d->drive, bo, 0, &lba, &start) <= 0) {
        err = dfs_lib_error(d, -EIO, what);
        goto out_cancel;
    }
    err = intent ? intent(ctx, (uint32_t)start) : 0;
    if (err)
        goto out_cancel;
    dfs_crash_point("before-write");
    isoburn_disc_write(bo, disc);
    wait_written(d, (uint64_t)sectors + (uint64_t)pad);
    wait_write_threads(threads);
    if (!isoburn_drive_wrote_well(d->drive)) {
        /* -EUCLEAN: libisofs 1.5.4 miscounted a continuation area (dfs_commit_pad) */
        err = dfs_lib_error_unless(d, -EIO, what, "ECMA-119 tree end differ");
        isoburn_cancel_prepared_write(d->drive, NULL, 0);
        burned = 1;
        goto out_free;
    }
    if (isoburn_activate_session(d->drive) <= 0) {
        err = dfs_lib_error(d, -EIO, what);
        goto out_free;
    }
    burn_disc_free(disc);
    disc = NULL;
    isoburn_sync_after_write(d->drive, NULL, 0);
    burn_write_opts_free(bo);
    isoburn_igopt_destroy(&o, 0);
    dfs_lib_error(d, 0, NULL);
    dfs_crash_point("after-write");
    if (getenv("DISCFS_TEST_SPOIL_HEAD") && d->image_fd >= 0) {
        /* tests: the new head reaches the image file broken (its volume descriptors) */
        static const char zero[2048];
        if (pwrite(d->image_fd, zero, sizeof(zero), 16 * 2048) != (ssize_t)sizeof(zero))
            fprintf(stderr, "discfs: DISCFS_TEST_SPOIL_HEAD: %s\n", strerror(errno));
    }
    /* the new session becomes the base: import it again as a fresh mount would,
     * and read it back */
    tell(d, DFS_PHASE_VERIFYING, 0, 0);
    dfs_disc_unload(d);
    c->reloaded = 1;
    d->want_session = 0;
    err = dfs_disc_load(d);
    if (err) {
        char why[sizeof(d->last_error) / 2];
        snprintf(why, sizeof(why), "%.*s", (int)sizeof(why) - 1, d->last_error);
        snprintf(d->last_error, sizeof(d->last_error),
                 "the session was written to '%s' at block %d, but it cannot be read back (%s)",
                 dfs_disc_name(d), start, why);
        err = -EBADE;
    } else {
        err = verify_session(d, (uint32_t)start, c->new_data);
    }
    if (err == -EBADE && head)
        restore_head(d, head);
    d->quiet = 0;
    free(head);
    pthread_mutex_unlock(&d->read_lock);
    return err;

out_cancel:
    isoburn_cancel_prepared_write(d->drive, NULL, 0);
out_free:
    if (disc)
        burn_disc_free(disc);
    if (bo)
        burn_write_opts_free(bo);
    isoburn_sync_after_write(d->drive, NULL, 0);
    /* write-once media keep what a failed burn wrote (libburn closes the broken
     * track and session): adopt the disc as it is now, so that the retry
     * appends after it instead of calling it another disc */
    if (burned)
        dfs_disc_after_failed_write(d);
out_opts:
    isoburn_igopt_destroy(&o, 0);
out_unlock:
    d->quiet = 0;
    free(head);
    pthread_mutex_unlock(&d->read_lock);
    return err;
}

/* Every directory of the tree gets the private attribute isofs.pad, of a length
 * that differs from attempt to attempt (0 .. PAD_MAX - 1 bytes, spread), and every
 * other entry one of 0 .. PAD_ENTRY_MAX - 1 bytes (the names of one inode alike),
 * so that the continuation areas of the entries move and change size (a tree with
 * a few entries of 1-2 KiB of attributes failed every layout of padded directories
 * alone; the soak, seed 3115979627). */
#define PAD_MAX 2000
#define PAD_ENTRY_MAX 251
static int pad_dir(IsoDir *dir, char *value, size_t len, size_t entry_len)
{
    char *name = PAD;
    IsoDirIter *it;
    IsoNode *child;
    int err = 0;

    if (iso_node_set_attrs((IsoNode *)dir, 1, &name, &len, &value, 2 | 8) < 0)
        return -ENOMEM;
    if (iso_dir_get_children(dir, &it) < 0)
        return -ENOMEM;
    while (!err && iso_dir_iter_next(it, &child) == 1) {
        if (iso_node_get_type(child) == LIBISO_DIR)
            err = pad_dir((IsoDir *)child, value, len, entry_len);
        else if (iso_node_set_attrs(child, 1, &name, &entry_len, &value, 2 | 8) < 0)
            err = -ENOMEM;
    }
    iso_dir_iter_free(it);
    return err;
}

int dfs_commit_pad(struct dfs_commit *c, int attempt)
{
    char *value = malloc(PAD_MAX);
    int err;

    if (!value)
        return -ENOMEM;
    memset(value, 'p', PAD_MAX);
    err = pad_dir(iso_image_get_root(c->d->image), value, (size_t)attempt * 661 % PAD_MAX,
                  (size_t)attempt * 97 % PAD_ENTRY_MAX);
    free(value);
    return err;
}

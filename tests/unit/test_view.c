/* tests/unit/test_view.c - the merged view without a mount: names, errnos, readdir
 * offsets, data, and a commit round trip through the real libraries onto an image */
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
#include <unistd.h>

#include "internal.h" /* white-box: inodes by id */

struct fixture {
    char dir[64];
    struct dfs_store store;
    struct dfs_disc *disc;
    struct dfs_view *v;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char root[128];

    strcpy(f->dir, "/tmp/discfs-view.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(root, sizeof(root), "%s/cache", f->dir);
    assert_int_equal(dfs_store_open(&f->store, root, "k"), 0);
    assert_int_equal(dfs_view_open(&f->v, NULL, &f->store), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    dfs_view_close(f->v);
    dfs_disc_close(f->disc);
    dfs_store_close(&f->store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* id of a new object */
static uint64_t make(struct dfs_view *v, uint64_t dir, const char *name, mode_t mode)
{
    struct stat st;
    assert_int_equal(
        dfs_view_make(v, dir, name, mode, 0, S_ISLNK(mode) ? "target" : NULL, 0, 0, &st), 0);
    return st.st_dev;
}

static void test_errnos(void **state)
{
    struct dfs_view *v = ((struct fixture *)*state)->v;
    struct stat st;
    char longname[300];
    uint64_t d = make(v, DFS_ROOT_ID, "d", S_IFDIR | 0755);
    uint64_t f = make(v, d, "f", S_IFREG | 0644);
    struct {
        const char *what;
        int got, want;
    } cases[] = {
        {"lookup missing", dfs_view_lookup(v, DFS_ROOT_ID, "nope", &st), -ENOENT},
        {"mkdir existing", dfs_view_make(v, DFS_ROOT_ID, "d", S_IFDIR | 0755, 0, NULL, 0, 0, &st),
         -EEXIST},
        {"rmdir non-empty", dfs_view_rmdir(v, DFS_ROOT_ID, "d"), -ENOTEMPTY},
        {"rmdir a file", dfs_view_rmdir(v, d, "f"), -ENOTDIR},
        {"unlink a dir", dfs_view_unlink(v, DFS_ROOT_ID, "d"), -EISDIR},
        {"unlink missing", dfs_view_unlink(v, d, "nope"), -ENOENT},
        {"make in a file", dfs_view_make(v, f, "x", S_IFREG | 0644, 0, NULL, 0, 0, &st), -ENOTDIR},
        {"rename into itself", dfs_view_rename(v, DFS_ROOT_ID, "d", d, "in", 0), -EINVAL},
        {"rename missing", dfs_view_rename(v, DFS_ROOT_ID, "nope", d, "x", 0), -ENOENT},
        {"readlink of a file", dfs_view_readlink(v, f, longname, sizeof(longname)), -EINVAL},
        {"stale id", dfs_view_getattr(v, 999999, &st), -ESTALE},
    };
    memset(longname, 'n', 256);
    longname[256] = '\0';
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].got != cases[i].want)
            fail_msg("%s: %d, expected %d", cases[i].what, cases[i].got, cases[i].want);
    }
    assert_int_equal(dfs_view_make(v, DFS_ROOT_ID, longname, S_IFREG | 0644, 0, NULL, 0, 0, &st),
                     -ENAMETOOLONG);
    /* a directory over a file and a file over a directory */
    make(v, DFS_ROOT_ID, "e", S_IFDIR | 0755);
    make(v, DFS_ROOT_ID, "g", S_IFREG | 0644);
    assert_int_equal(dfs_view_rename(v, DFS_ROOT_ID, "e", DFS_ROOT_ID, "g", 0), -ENOTDIR);
    assert_int_equal(dfs_view_rename(v, DFS_ROOT_ID, "g", DFS_ROOT_ID, "e", 0), -EISDIR);
    assert_int_equal(dfs_view_rename(v, DFS_ROOT_ID, "g", DFS_ROOT_ID, "d", 1 /* NOREPLACE */),
                     -EEXIST);
}

static void test_rename_and_links(void **state)
{
    struct dfs_view *v = ((struct fixture *)*state)->v;
    struct stat st;
    uint64_t a = make(v, DFS_ROOT_ID, "a", S_IFDIR | 0755);
    uint64_t b = make(v, DFS_ROOT_ID, "b", S_IFDIR | 0755);
    uint64_t sub = make(v, a, "sub", S_IFDIR | 0700);
    uint64_t f = make(v, a, "f", S_IFREG | 0600);
    uint64_t victim = make(v, b, "g", S_IFREG | 0600);

    assert_int_equal(dfs_view_getattr(v, DFS_ROOT_ID, &st), 0);
    assert_int_equal(st.st_nlink, 4); /* ., .., a, b */
    assert_int_equal(dfs_view_getattr(v, a, &st), 0);
    assert_int_equal(st.st_nlink, 3);
    /* a directory moves with its subtree; link counts follow */
    assert_int_equal(dfs_view_rename(v, a, "sub", b, "moved", 0), 0);
    assert_int_equal(dfs_view_getattr(v, a, &st), 0);
    assert_int_equal(st.st_nlink, 2);
    assert_int_equal(dfs_view_getattr(v, b, &st), 0);
    assert_int_equal(st.st_nlink, 3);
    assert_int_equal(dfs_view_lookup(v, b, "moved", &st), 0);
    assert_int_equal(st.st_dev, sub);
    assert_int_equal(dfs_view_lookup(v, sub, "..", &st), 0);
    assert_int_equal(st.st_dev, b);
    /* a file onto an existing name: the old one goes, the inode stays the same */
    assert_int_equal(dfs_view_rename(v, a, "f", b, "g", 0), 0);
    assert_int_equal(dfs_view_lookup(v, b, "g", &st), 0);
    assert_int_equal(st.st_dev, f);
    assert_int_equal(st.st_nlink, 1);
    assert_int_equal(dfs_view_lookup(v, a, "f", &st), -ENOENT);
    /* the replaced file is still known to the kernel (one lookup): not freed yet */
    assert_int_equal(dfs_view_getattr(v, victim, &st), 0);
    assert_int_equal(st.st_nlink, 0);
    dfs_view_forget(v, victim, 1);
    assert_int_equal(dfs_view_getattr(v, victim, &st), -ESTALE);
    /* exchange */
    assert_int_equal(dfs_view_rename(v, b, "g", b, "moved", 2 /* EXCHANGE */), 0);
    assert_int_equal(dfs_view_lookup(v, b, "g", &st), 0);
    assert_int_equal(st.st_dev, sub);
    assert_int_equal(dfs_view_lookup(v, sub, "..", &st), 0);
    assert_int_equal(st.st_dev, b);
}

/* what the tree costs (space.c) comes back to where it was when what was added
 * goes again, whatever way it went: renames, exchanges, links, attributes */
static void test_space_sums_return(void **state)
{
    struct dfs_view *v = ((struct fixture *)*state)->v;
    struct stat st;
    char big[4000], longname[241];
    uint64_t rec0 = v->space_rec, ce0 = v->space_ce, nce0 = v->space_n_ce, ce1;
    uint64_t d = make(v, DFS_ROOT_ID, "d", S_IFDIR | 0755);
    uint64_t f = make(v, d, "f", S_IFREG | 0600);

    memset(big, 'x', sizeof(big));
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    assert_true(v->space_rec > rec0);
    make(v, d, longname, S_IFLNK | 0777);
    ce1 = v->space_ce;
    assert_int_equal(dfs_view_setxattr(v, f, "user.big", big, sizeof(big), 0), 0);
    assert_true(v->space_ce > ce1 + sizeof(big));
    assert_int_equal(dfs_view_link(v, f, DFS_ROOT_ID, "hard", &st), 0);
    assert_int_equal(dfs_view_setxattr(v, f, "user.big", big, 10, 0), 0);
    assert_int_equal(dfs_view_setxattr(v, d, "user.dir", big, 3000, 0), 0);
    assert_int_equal(dfs_view_rename(v, d, longname, DFS_ROOT_ID, "short", 0), 0);
    assert_int_equal(dfs_view_rename(v, DFS_ROOT_ID, "short", d, "f", 2 /* EXCHANGE */), 0);
    assert_int_equal(dfs_view_rename(v, DFS_ROOT_ID, "hard", d, longname, 0), 0);
    assert_int_equal(dfs_view_unlink(v, d, "f"), 0);
    assert_int_equal(dfs_view_unlink(v, d, longname), 0);
    assert_int_equal(dfs_view_unlink(v, DFS_ROOT_ID, "short"), 0);
    assert_int_equal(dfs_view_rmdir(v, DFS_ROOT_ID, "d"), 0);
    assert_int_equal(v->space_rec, rec0);
    assert_int_equal(v->space_ce, ce0);
    assert_int_equal(v->space_n_ce, nce0);
}

struct names {
    char seen[1024][32];
    off_t off[1024];
    int n, limit;
};

static int collect(void *ctx, const char *name, const struct stat *st, off_t next)
{
    struct names *n = ctx;
    (void)st;
    if (n->n == n->limit)
        return 1;
    snprintf(n->seen[n->n], sizeof(n->seen[0]), "%s", name);
    n->off[n->n++] = next;
    return 0;
}

static void test_readdir_offsets_stable(void **state)
{
    struct dfs_view *v = ((struct fixture *)*state)->v;
    struct names n = {.limit = 4};
    char name[8];

    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        make(v, DFS_ROOT_ID, name, S_IFREG | 0644);
    }
    assert_int_equal(dfs_view_readdir(v, DFS_ROOT_ID, 0, 0, collect, &n), 0);
    assert_int_equal(n.n, 4);
    assert_string_equal(n.seen[0], ".");
    assert_string_equal(n.seen[1], "..");
    assert_string_equal(n.seen[2], "f0");
    assert_string_equal(n.seen[3], "f1");
    /* entries before and after the position change: the rest still comes once */
    assert_int_equal(dfs_view_unlink(v, DFS_ROOT_ID, "f0"), 0);
    assert_int_equal(dfs_view_unlink(v, DFS_ROOT_ID, "f2"), 0);
    make(v, DFS_ROOT_ID, "new", S_IFREG | 0644);
    {
        struct names rest = {.limit = 16};
        assert_int_equal(dfs_view_readdir(v, DFS_ROOT_ID, n.off[3], 0, collect, &rest), 0);
        assert_int_equal(rest.n, 4);
        assert_string_equal(rest.seen[0], "f3");
        assert_string_equal(rest.seen[1], "f4");
        assert_string_equal(rest.seen[2], "f5");
        assert_string_equal(rest.seen[3], "new");
    }
}

/* The names of the root after offset OFF as WANT[FROM..N) says: STATE 0 listed
 * there, 1 removed (lookups fail), 2 listed elsewhere (skipped here) */
static void expect_after(struct dfs_view *v, off_t off, char (*want)[8], const int *state, int n,
                         int from)
{
    static struct names all;
    int k = 0;

    memset(&all, 0, sizeof(all));
    all.limit = 1024;
    assert_int_equal(dfs_view_readdir(v, DFS_ROOT_ID, off, 0, collect, &all), 0);
    if (off < 2)
        k = 2 - (int)off; /* "." and ".." first */
    for (int i = from; i < n; i++) {
        struct stat st;
        int err = dfs_view_lookup(v, DFS_ROOT_ID, want[i], &st);

        assert_int_equal(err, state[i] == 1 ? -ENOENT : 0);
        if (state[i] == 0) {
            assert_true(k < all.n);
            assert_string_equal(all.seen[k++], want[i]);
        }
    }
    assert_int_equal(k, all.n);
}

/* A directory's names as dir.c keeps them: the holes removed names leave and
 * their compaction keep the order, the offsets and the lookups */
static void test_readdir_through_holes(void **state)
{
    struct dfs_view *v = ((struct fixture *)*state)->v;
    static char want[700][8];
    static int st[700];
    static struct names n;

    n.limit = 102; /* ".", "..", then names 0..99 */
    for (int i = 0; i < 300; i++) {
        snprintf(want[i], sizeof(want[i]), "n%d", i);
        make(v, DFS_ROOT_ID, want[i], S_IFREG | 0644);
    }
    assert_int_equal(dfs_view_readdir(v, DFS_ROOT_ID, 0, 0, collect, &n), 0);
    assert_int_equal(n.n, 102);
    /* remove most names on both sides of the position, enough to compact */
    for (int i = 0; i < 300; i++) {
        if (i % 7 == 3 || i == 99 || i == 100)
            continue;
        assert_int_equal(dfs_view_unlink(v, DFS_ROOT_ID, want[i]), 0);
        st[i] = 1;
        if (i % 50 == 0) /* the rest comes once, in order, at every step */
            expect_after(v, n.off[101], want, st, 300, 100);
    }
    expect_after(v, n.off[101], want, st, 300, 100);
    expect_after(v, 0, want, st, 300, 0);
    /* new names after them, half of them removed names made again */
    for (int i = 300; i < 700; i++) {
        int old = i - 300;

        if (i % 2 || old >= 300) {
            snprintf(want[i], sizeof(want[i]), "m%d", i);
        } else {
            memcpy(want[i], want[old], sizeof(want[i]));
            if (st[old] == 0) { /* still there: not made again */
                st[i] = 2;
                continue;
            }
            st[old] = 2; /* listed at its new place */
        }
        make(v, DFS_ROOT_ID, want[i], S_IFREG | 0644);
    }
    expect_after(v, n.off[101], want, st, 700, 100);
    expect_after(v, 0, want, st, 700, 0);
    /* and all of them go */
    for (int i = 0; i < 700; i++) {
        if (st[i] == 0)
            assert_int_equal(dfs_view_unlink(v, DFS_ROOT_ID, want[i]), 0);
    }
    for (int i = 0; i < 700; i++)
        st[i] = 1;
    expect_after(v, 0, want, st, 700, 0);
}

static int accept_all(void *ctx, const char *name, const struct stat *st, off_t next)
{
    (void)ctx;
    (void)name;
    (void)st;
    (void)next;
    return 0;
}

/* The kernel's references (fuse_lowlevel.h): lookup, create and every readdirplus
 * entry but "." and ".." count one; forget gives them back; the last one of an
 * unlinked inode frees it. */
static void test_lookup_counts(void **state)
{
    struct dfs_view *v = ((struct fixture *)*state)->v;
    struct stat st;
    uint64_t d = make(v, DFS_ROOT_ID, "d", S_IFDIR | 0755); /* 1 */
    uint64_t f = make(v, d, "f", S_IFREG | 0644);           /* 1 */

    assert_int_equal(dfs_view_lookup(v, DFS_ROOT_ID, "d", &st), 0); /* 2 */
    assert_int_equal(dfs_view_readdir(v, d, 0, 1, accept_all, NULL), 0);
    assert_int_equal(dfs_view_inode(v, d)->nlookup, 2); /* "." of d is not counted */
    assert_int_equal(dfs_view_inode(v, f)->nlookup, 2);
    assert_int_equal(dfs_view_inode(v, DFS_ROOT_ID)->nlookup, 1); /* nor ".." */
    assert_int_equal(dfs_view_unlink(v, d, "f"), 0);
    dfs_view_forget(v, f, 1);
    assert_non_null(dfs_view_inode(v, f)); /* one reference left */
    dfs_view_forget(v, f, 1);
    assert_null(dfs_view_inode(v, f));
    assert_int_equal(dfs_view_rmdir(v, DFS_ROOT_ID, "d"), 0);
    dfs_view_forget(v, d, 2);
    assert_null(dfs_view_inode(v, d));
}

static void test_data_and_truncate(void **state)
{
    struct dfs_view *v = ((struct fixture *)*state)->v;
    struct dfs_file *fh;
    struct stat in = {0}, st;
    char buf[32];
    uint64_t f = make(v, DFS_ROOT_ID, "data", S_IFREG | 0644);

    assert_int_equal(dfs_view_open_file(v, f, O_RDWR, &fh), 0);
    assert_int_equal(dfs_view_write(v, fh, "hello world", 11, 0), 11);
    assert_int_equal(dfs_view_write(v, fh, "X", 1, 20), 1); /* a hole */
    assert_int_equal(dfs_view_getattr(v, f, &st), 0);
    assert_int_equal(st.st_size, 21);
    memset(buf, 'z', sizeof(buf));
    assert_int_equal(dfs_view_read(v, fh, buf, sizeof(buf), 6), 15);
    assert_memory_equal(buf, "world\0\0\0\0\0\0\0\0\0X", 15);
    in.st_size = 5;
    assert_int_equal(dfs_view_setattr(v, f, &in, DFS_SET_SIZE, &st), 0);
    assert_int_equal(st.st_size, 5);
    assert_int_equal(dfs_view_read(v, fh, buf, sizeof(buf), 0), 5);
    assert_int_equal(dfs_view_read(v, fh, buf, sizeof(buf), 100), 0);
    dfs_view_release(v, fh);
    /* read-only handles cannot write */
    assert_int_equal(dfs_view_open_file(v, f, O_RDONLY, &fh), 0);
    assert_int_equal(dfs_view_write(v, fh, "x", 1, 0), -EBADF);
    dfs_view_release(v, fh);
    /* O_TRUNC */
    assert_int_equal(dfs_view_open_file(v, f, O_WRONLY | O_TRUNC, &fh), 0);
    dfs_view_release(v, fh);
    assert_int_equal(dfs_view_getattr(v, f, &st), 0);
    assert_int_equal(st.st_size, 0);
}

/* With a journal that cannot be written, changes are refused before anything is
 * touched: O_TRUNC leaves the content as it was. */
static void test_broken_journal_refuses_changes(void **state)
{
    struct dfs_view *v = ((struct fixture *)*state)->v;
    struct dfs_file *fh;
    struct stat st;
    uint64_t f = make(v, DFS_ROOT_ID, "f", S_IFREG | 0644);

    assert_int_equal(dfs_view_open_file(v, f, O_WRONLY, &fh), 0);
    assert_int_equal(dfs_view_write(v, fh, "content", 7, 0), 7);
    dfs_view_release(v, fh);
    v->journal_broken = 1;
    assert_int_equal(dfs_view_open_file(v, f, O_WRONLY | O_TRUNC, &fh), -EIO);
    assert_int_equal(dfs_view_getattr(v, f, &st), 0);
    assert_int_equal(st.st_size, 7);
    assert_int_equal(dfs_view_unlink(v, DFS_ROOT_ID, "f"), -EIO);
    assert_int_equal(dfs_view_make(v, DFS_ROOT_ID, "g", S_IFREG | 0644, 0, NULL, 0, 0, &st), -EIO);
    assert_int_equal(dfs_view_open_file(v, f, O_RDONLY, &fh), 0); /* reading is fine */
    dfs_view_release(v, fh);
}

static void test_unlinked_open_file_lives_on(void **state)
{
    struct fixture *fx = *state;
    struct dfs_view *v = fx->v;
    struct dfs_file *fh;
    char buf[8];
    uint64_t f = make(v, DFS_ROOT_ID, "tmp", S_IFREG | 0600);

    assert_int_equal(dfs_view_open_file(v, f, O_RDWR, &fh), 0);
    assert_int_equal(dfs_view_write(v, fh, "abc", 3, 0), 3);
    assert_int_equal(dfs_view_unlink(v, DFS_ROOT_ID, "tmp"), 0);
    dfs_view_forget(v, f, 1);
    assert_int_equal(dfs_view_read(v, fh, buf, sizeof(buf), 0), 3);
    assert_int_equal(dfs_store_count(&fx->store), 1);
    dfs_view_release(v, fh); /* the last reference: its content file goes */
    assert_int_equal(dfs_store_count(&fx->store), 0);
}

/* A real round trip: a blank image, a commit, a fresh view of the new session. */
static void test_commit_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct dfs_view *v;
    struct dfs_file *fh;
    struct stat st;
    char img[128], buf[16];
    uint64_t d, f;

    snprintf(img, sizeof(img), "%s/disc.iso", fx->dir);
    assert_int_equal(dfs_libs_init(), 0);
    assert_int_equal(dfs_disc_open(img, &fx->disc), 0);
    assert_int_equal(dfs_disc_get_info(fx->disc)->state, DFS_MEDIA_BLANK);
    dfs_view_close(fx->v);
    assert_int_equal(dfs_view_open(&fx->v, fx->disc, &fx->store), 0);
    v = fx->v;
    assert_int_equal(dfs_view_commit(v), 1); /* nothing to commit */
    d = make(v, DFS_ROOT_ID, "dir", S_IFDIR | 0750);
    f = make(v, d, "file", S_IFREG | 0640);
    make(v, DFS_ROOT_ID, "link", S_IFLNK | 0777);
    assert_int_equal(dfs_view_open_file(v, f, O_WRONLY, &fh), 0);
    assert_int_equal(dfs_view_write(v, fh, "on the disc", 11, 0), 11);
    dfs_view_release(v, fh);
    assert_int_equal(dfs_store_count(&fx->store), 1);

    assert_int_equal(dfs_view_commit(v), 0);
    assert_int_equal(dfs_disc_get_info(fx->disc)->state, DFS_MEDIA_APPENDABLE);
    assert_int_equal(dfs_disc_get_info(fx->disc)->sessions, 1);
    assert_int_equal(dfs_store_count(&fx->store), 0); /* the stage is emptied */
    /* the same inode, now read from the disc */
    assert_int_equal(dfs_view_open_file(v, f, O_RDONLY, &fh), 0);
    assert_int_equal(dfs_view_read(v, fh, buf, sizeof(buf), 0), 11);
    assert_memory_equal(buf, "on the disc", 11);
    dfs_view_release(v, fh);
    assert_int_equal(dfs_view_commit(v), 1);

    /* a new view of the disc, as after a remount */
    dfs_view_close(fx->v);
    assert_int_equal(dfs_view_open(&fx->v, fx->disc, &fx->store), 0);
    v = fx->v;
    assert_int_equal(dfs_view_lookup(v, DFS_ROOT_ID, "dir", &st), 0);
    assert_int_equal(st.st_mode, S_IFDIR | 0750);
    d = st.st_dev;
    assert_int_equal(dfs_view_lookup(v, d, "file", &st), 0);
    assert_int_equal(st.st_mode, S_IFREG | 0640);
    assert_int_equal(st.st_size, 11);
    assert_int_equal(
        dfs_view_readlink(v, ((void)dfs_view_lookup(v, DFS_ROOT_ID, "link", &st), st.st_dev), buf,
                          sizeof(buf)),
        0);
    assert_string_equal(buf, "target");
    /* a copy-up of an on-disc file leaves the disc as it is until the next commit */
    f = ((void)dfs_view_lookup(v, d, "file", &st), st.st_dev);
    assert_int_equal(dfs_view_open_file(v, f, O_RDWR, &fh), 0);
    assert_int_equal(dfs_view_write(v, fh, "ON", 2, 0), 2);
    assert_int_equal(dfs_view_read(v, fh, buf, sizeof(buf), 0), 11);
    assert_memory_equal(buf, "ON the disc", 11);
    dfs_view_release(v, fh);
    assert_int_equal(dfs_disc_get_info(fx->disc)->sessions, 1);
    assert_int_equal(dfs_view_commit(v), 0);
    assert_int_equal(dfs_disc_get_info(fx->disc)->sessions, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_errnos, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_and_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_space_sums_return, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readdir_offsets_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readdir_through_holes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_and_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlinked_open_file_lives_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_journal_refuses_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

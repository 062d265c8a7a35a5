/* tests/unit/test_store.c - the stage directory's content files */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "store.h"

static int setup(void **state)
{
    char *dir = strdup("/tmp/discfs-unit.XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
    assert_int_equal(system(cmd), 0);
    free(*state);
    return 0;
}

static void test_create_write_remove(void **state)
{
    char root[256], path[512], buf[16];
    struct dfs_store s;
    struct stat st;
    uint64_t a, b;
    int fd;

    snprintf(root, sizeof(root), "%s/cache", (char *)*state);
    assert_int_equal(dfs_store_open(&s, root, "key1"), 0);
    /* private: the stage holds copies of the user's files */
    assert_int_equal(stat(s.dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(root, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    fd = dfs_store_create(&s, &a);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "hello", 5, 0), 5);
    close(fd);
    fd = dfs_store_create(&s, &b);
    assert_true(fd >= 0);
    close(fd);
    assert_int_not_equal(a, b);
    assert_int_equal(dfs_store_count(&s), 2);

    fd = dfs_store_open_file(&s, a, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, sizeof(buf), 0), 5);
    close(fd);
    assert_int_equal(dfs_store_path(&s, a, path, sizeof(path)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 5);
    assert_int_equal(dfs_store_path(&s, a, path, 8), -ENAMETOOLONG);

    assert_int_equal(dfs_store_remove(&s, a), 0);
    assert_int_equal(dfs_store_remove(&s, a), 0); /* already gone: fine */
    assert_int_equal(dfs_store_open_file(&s, a, O_RDONLY), -ENOENT);
    assert_int_equal(dfs_store_count(&s), 1);
    dfs_store_close(&s);
}

static void test_ids_continue_after_reopen(void **state)
{
    char root[256];
    struct dfs_store s;
    uint64_t first, again;
    int fd;

    snprintf(root, sizeof(root), "%s/c2", (char *)*state);
    assert_int_equal(dfs_store_open(&s, root, "k"), 0);
    for (int i = 0; i < 3; i++) {
        fd = dfs_store_create(&s, &first);
        assert_true(fd >= 0);
        close(fd);
    }
    dfs_store_close(&s);
    /* a new mount of the same disc keeps what is there and never reuses an id */
    assert_int_equal(dfs_store_open(&s, root, "k"), 0);
    assert_int_equal(dfs_store_count(&s), 3);
    fd = dfs_store_create(&s, &again);
    assert_true(fd >= 0);
    close(fd);
    assert_true(again > first);
    dfs_store_close(&s);
    /* another disc has its own stage */
    assert_int_equal(dfs_store_open(&s, root, "other"), 0);
    assert_int_equal(dfs_store_count(&s), 0);
    dfs_store_close(&s);
}

static void test_unwritable_root(void **state)
{
    struct dfs_store s;
    char root[256];

    snprintf(root, sizeof(root), "%s/file", (char *)*state);
    fclose(fopen(root, "w"));
    assert_int_equal(dfs_store_open(&s, root, "k"), -ENOTDIR);
}

/* the default cache follows the user who runs discfs, also where HOME names another
 * user's home: a `user` mount of fstab runs discfs with HOME=/root */
static void expect_root(const char *xdg, const char *home, const char *want)
{
    char *got;

    if (xdg)
        setenv("XDG_CACHE_HOME", xdg, 1);
    else
        unsetenv("XDG_CACHE_HOME");
    if (home)
        setenv("HOME", home, 1);
    else
        unsetenv("HOME");
    got = dfs_store_default_root();
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_default_root(void **state)
{
    char mine[256], missing[256], theirs[256], want[600], pw_want[600];
    struct passwd *pw = getpwuid(getuid());

    assert_non_null(pw);
    snprintf(pw_want, sizeof(pw_want), "%s/.cache/discfs", pw->pw_dir);
    snprintf(mine, sizeof(mine), "%s/mine", (char *)*state);
    snprintf(missing, sizeof(missing), "%s/missing", (char *)*state);
    assert_int_equal(mkdir(mine, 0700), 0);
    if (getuid() == 0) { /* a directory of another user */
        snprintf(theirs, sizeof(theirs), "%s/theirs", (char *)*state);
        assert_int_equal(mkdir(theirs, 0700), 0);
        assert_int_equal(chown(theirs, 65534, 65534), 0);
    } else {
        snprintf(theirs, sizeof(theirs), "/");
    }

    snprintf(want, sizeof(want), "%s/discfs", mine);
    expect_root(mine, theirs, want);
    snprintf(want, sizeof(want), "%s/discfs", missing);
    expect_root(missing, NULL, want); /* created when it is first used */
    snprintf(want, sizeof(want), "%s/.cache/discfs", mine);
    expect_root(NULL, mine, want);
    expect_root("relative", mine, want);
    expect_root(theirs, mine, want);
    snprintf(want, sizeof(want), "%s/.cache/discfs", missing);
    expect_root(NULL, missing, want);
    expect_root(NULL, theirs, pw_want);
    expect_root(theirs, theirs, pw_want);
    expect_root(NULL, NULL, pw_want);
    expect_root(NULL, "relative", pw_want);
}

static void test_origin_round_trip(void **state)
{
    struct dfs_stage_origin o = {.kind = "image",
                                 .device = "a.iso",
                                 .path = "/tmp/x/a.iso",
                                 .volid = "VOL ID",
                                 .profile = "stdio file",
                                 .session = 3,
                                 .mounted = 1764689000,
                                 .version = "0.1.0"},
                            r;
    char path[512];
    struct stat st;

    assert_int_equal(dfs_stage_read_origin(*state, &r), -ENOENT);
    assert_int_equal(dfs_stage_write_origin(*state, &o), 0);
    assert_int_equal(dfs_stage_read_origin(*state, &r), 0);
    assert_memory_equal(&o, &r, sizeof(o));
    snprintf(path, sizeof(path), "%s/origin", (char *)*state);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/origin.new", (char *)*state);
    assert_int_equal(access(path, F_OK), -1); /* renamed into place */
    /* a value a line cannot hold: nothing is written over the old origin */
    snprintf(o.device, sizeof(o.device), "two\nlines");
    assert_int_equal(dfs_stage_write_origin(*state, &o), -EINVAL);
    assert_int_equal(dfs_stage_read_origin(*state, &r), 0);
    assert_string_equal(r.device, "a.iso");
}

/* TEXT with its checksum line added */
static size_t with_crc(const char *text, char *buf, size_t size)
{
    return (size_t)snprintf(buf, size, "%scrc32c %08x\n", text,
                            (unsigned)dfs_crc32c(0, text, strlen(text)));
}

static void test_origin_is_read_tolerantly(void **state)
{
    struct dfs_stage_origin r;
    char buf[1024];
    size_t n;

    (void)state;
    /* an unknown name (a later version's) is skipped; a missing one stays empty */
    n = with_crc("discfs-stage-origin 1\nkind drive\nnew thing\npath /dev/sr0\nsession 2\n", buf,
                 sizeof(buf));
    assert_int_equal(dfs_stage_parse_origin(buf, n, &r), 0);
    assert_string_equal(r.kind, "drive");
    assert_string_equal(r.path, "/dev/sr0");
    assert_int_equal(r.session, 2);
    assert_string_equal(r.volid, "");
    /* another version is refused, never guessed */
    n = with_crc("discfs-stage-origin 2\nkind drive\n", buf, sizeof(buf));
    assert_int_equal(dfs_stage_parse_origin(buf, n, &r), -EPROTONOSUPPORT);
    /* a changed byte, a cut, no checksum, not an origin at all */
    n = with_crc("discfs-stage-origin 1\nkind drive\n", buf, sizeof(buf));
    buf[30] = 'X';
    assert_int_equal(dfs_stage_parse_origin(buf, n, &r), -EBADMSG);
    n = with_crc("discfs-stage-origin 1\nkind drive\n", buf, sizeof(buf));
    assert_int_equal(dfs_stage_parse_origin(buf, n - 1, &r), -EBADMSG);
    assert_int_equal(dfs_stage_parse_origin("discfs-stage-origin 1\n", 22, &r), -EBADMSG);
    assert_int_equal(dfs_stage_parse_origin("", 0, &r), -EBADMSG);
}

static void test_disk_use_counts_blocks(void **state)
{
    char root[256], path[512], block[8192];
    struct dfs_store s;
    struct stat st;
    uint64_t id;
    int64_t use, dirs;
    int fd;

    snprintf(root, sizeof(root), "%s/cache", (char *)*state);
    assert_int_equal(dfs_store_open(&s, root, "k"), 0);
    /* the stage and data/ (files that are not there yet: lock, journal) */
    assert_int_equal(stat(s.dir, &st), 0);
    dirs = (int64_t)st.st_blocks * 512;
    snprintf(path, sizeof(path), "%s/data", s.dir);
    assert_int_equal(stat(path, &st), 0);
    dirs += (int64_t)st.st_blocks * 512;
    assert_int_equal(dfs_stage_disk_use(s.dir), dirs);
    /* 8 KiB of data and a hole of 100 MiB */
    fd = dfs_store_create(&s, &id);
    memset(block, 'x', sizeof(block));
    assert_int_equal(pwrite(fd, block, sizeof(block), 0), (ssize_t)sizeof(block));
    assert_int_equal(ftruncate(fd, 100 << 20), 0);
    close(fd);
    assert_int_equal(dfs_store_path(&s, id, path, sizeof(path)), 0);
    assert_int_equal(stat(path, &st), 0);
    use = dfs_stage_disk_use(s.dir);
    assert_int_equal(use, dirs + (int64_t)st.st_blocks * 512);
    assert_true(use < 1 << 20);
    assert_int_equal(dfs_stage_disk_use("/nonexistent/stage"), -ENOENT);
    dfs_store_close(&s);
}

static void test_lock_and_remove(void **state)
{
    char root[256], dir[512];
    struct dfs_journal *j;
    struct dfs_store s;
    pid_t holder;
    int fd;

    snprintf(root, sizeof(root), "%s/cache", (char *)*state);
    assert_int_equal(dfs_store_open(&s, root, "k"), 0);
    snprintf(dir, sizeof(dir), "%s", s.dir);
    dfs_store_close(&s);
    assert_int_equal(dfs_stage_holder(dir), 0); /* never mounted: no lock file */
    assert_int_equal(dfs_journal_open(&j, dir, "k", NULL), 0);
    assert_int_equal(dfs_stage_holder(dir), getpid());
    assert_int_equal(dfs_stage_lock(dir, &holder), -EBUSY);
    assert_int_equal(holder, getpid());
    assert_int_equal(dfs_stage_holder(dir), getpid()); /* the mount still holds it */
    dfs_journal_close(j);
    assert_int_equal(dfs_stage_holder(dir), 0);
    fd = dfs_stage_lock(dir, &holder);
    assert_true(fd >= 0);
    /* a mount that starts now is locked out until the stage is gone */
    assert_int_equal(dfs_journal_open(&j, dir, "k", NULL), -EBUSY);
    dfs_journal_close(j);
    assert_int_equal(dfs_stage_remove(dir, fd), 0);
    assert_int_equal(access(dir, F_OK), -1);
    assert_int_equal(access(root, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_write_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_continue_after_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_origin_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_origin_is_read_tolerantly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_use_counts_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_and_remove, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

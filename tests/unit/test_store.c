/* tests/unit/test_store.c - the stage directory's content files */
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
#include <sys/stat.h>
#include <unistd.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_write_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_continue_after_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_root, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

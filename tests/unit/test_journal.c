/* tests/unit/test_journal.c - the stage journal: order, torn tails, versions, lock */
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

#include "journal.h"

static int setup(void **state)
{
    char *dir = strdup("/tmp/discfs-journal.XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
    assert_int_equal(system(cmd), 0);
    free(*state);
    return 0;
}

struct seen {
    int n;
    char text[16][32];
};

static int collect(void *ctx, uint16_t type, const void *p, uint32_t len)
{
    struct seen *s = ctx;
    snprintf(s->text[s->n++], 32, "%u:%.*s", type, (int)len, (const char *)p);
    return 0;
}

static struct dfs_journal *open_j(const char *dir, const char *fp, struct seen *s, int *torn)
{
    struct dfs_journal *j;
    assert_int_equal(dfs_journal_open(&j, dir, fp, NULL), 0);
    assert_true(dfs_journal_replay(j, collect, s, torn) >= 0);
    return j;
}

static void test_records_come_back_in_order(void **state)
{
    struct seen s = {0};
    int torn;
    struct dfs_journal *j = open_j(*state, "fp1", &s, &torn);

    assert_int_equal(s.n, 0);
    assert_int_equal(dfs_journal_append(j, 1, "one", 3), 0);
    assert_int_equal(dfs_journal_append(j, 2, "", 0), 0);
    assert_int_equal(dfs_journal_append(j, 3, "three", 5), 0);
    dfs_journal_close(j);
    j = open_j(*state, "fp1", &s, &torn);
    assert_int_equal(torn, 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.text[0], "1:one");
    assert_string_equal(s.text[1], "2:");
    assert_string_equal(s.text[2], "3:three");
    /* appends after a replay continue the sequence */
    assert_int_equal(dfs_journal_append(j, 4, "four", 4), 0);
    dfs_journal_close(j);
    memset(&s, 0, sizeof(s));
    j = open_j(*state, "fp1", &s, &torn);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.text[3], "4:four");
    dfs_journal_close(j);
}

/* the two-step sync (the mount's lock is let go of in between): nothing to sync
 * gives no descriptor; a failed sync counts the records as unsynced again */
static void test_sync_in_two_steps(void **state)
{
    struct seen s = {0};
    int torn, fd;
    struct dfs_journal *j = open_j(*state, "fp1", &s, &torn);

    dfs_journal_set_lazy(j, 1);
    assert_int_equal(dfs_journal_sync_begin(j), -1);
    assert_int_equal(dfs_journal_append(j, 1, "one", 3), 0);
    fd = dfs_journal_sync_begin(j);
    assert_true(fd >= 0);
    assert_int_equal(dfs_journal_sync_begin(j), -1); /* counted as synced meanwhile */
    assert_int_equal(dfs_journal_sync_end(j, fd, -EIO), -EIO);
    assert_true(strstr(dfs_journal_error(j), "cannot sync") != NULL);
    fd = dfs_journal_sync_begin(j); /* unsynced again */
    assert_true(fd >= 0);
    assert_int_equal(fdatasync(fd), 0);
    assert_int_equal(dfs_journal_sync_end(j, fd, 0), 0);
    assert_int_equal(dfs_journal_sync_begin(j), -1);
    dfs_journal_close(j);
}

static void test_torn_tail_is_dropped(void **state)
{
    struct seen s = {0};
    char path[256];
    int torn, fd;
    struct dfs_journal *j = open_j(*state, "fp", &s, &torn);

    assert_int_equal(dfs_journal_append(j, 1, "kept", 4), 0);
    assert_int_equal(dfs_journal_append(j, 1, "torn", 4), 0);
    dfs_journal_close(j);
    /* cut the last record short, as a crash in the middle of its write would */
    snprintf(path, sizeof(path), "%s/journal", (char *)*state);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, lseek(fd, 0, SEEK_END) - 3), 0);
    close(fd);
    j = open_j(*state, "fp", &s, &torn);
    assert_int_equal(torn, 1);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.text[0], "1:kept");
    /* a new record goes where the torn one was */
    assert_int_equal(dfs_journal_append(j, 1, "next", 4), 0);
    dfs_journal_close(j);
    memset(&s, 0, sizeof(s));
    j = open_j(*state, "fp", &s, &torn);
    assert_int_equal(torn, 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.text[1], "1:next");
    dfs_journal_close(j);

    /* a flipped bit in the last record: the checksum catches it */
    fd = open(path, O_RDWR);
    {
        char c;
        off_t end = lseek(fd, 0, SEEK_END);
        assert_int_equal(pread(fd, &c, 1, end - 6), 1);
        c ^= 0x10;
        assert_int_equal(pwrite(fd, &c, 1, end - 6), 1);
    }
    close(fd);
    memset(&s, 0, sizeof(s));
    j = open_j(*state, "fp", &s, &torn);
    assert_int_equal(torn, 1);
    assert_int_equal(s.n, 1);
    dfs_journal_close(j);
}

static void test_unknown_version_is_refused(void **state)
{
    struct seen s = {0};
    struct dfs_journal *j = open_j(*state, "fp", &s, NULL);
    char path[256];
    unsigned char v = 9;
    int fd;

    assert_int_equal(dfs_journal_append(j, 1, "x", 1), 0);
    dfs_journal_close(j);
    snprintf(path, sizeof(path), "%s/journal", (char *)*state);
    fd = open(path, O_RDWR);
    assert_int_equal(pwrite(fd, &v, 1, 8), 1); /* header version */
    close(fd);
    assert_int_equal(dfs_journal_open(&j, *state, "fp", NULL), -EBADMSG); /* header crc */
    assert_non_null(strstr(dfs_journal_error(j), "journal"));
    dfs_journal_close(j);
}

static void test_other_base_is_kept_aside(void **state)
{
    struct seen s = {0};
    char path[256];
    struct dfs_journal *j = open_j(*state, "old", &s, NULL);

    assert_int_equal(dfs_journal_append(j, 1, "x", 1), 0);
    dfs_journal_close(j);
    j = open_j(*state, "new", &s, NULL);
    assert_int_equal(s.n, 0); /* never replayed onto another state of the disc */
    dfs_journal_close(j);
    snprintf(path, sizeof(path), "%s/journal.stale-1", (char *)*state);
    assert_int_equal(access(path, F_OK), 0);
}

static void test_second_open_is_locked_out(void **state)
{
    struct dfs_journal *a, *b;

    assert_int_equal(dfs_journal_open(&a, *state, "fp", NULL), 0);
    assert_int_equal(dfs_journal_open(&b, *state, "fp", NULL), -EBUSY);
    assert_non_null(strstr(dfs_journal_error(b), "in use by another discfs mount"));
    dfs_journal_close(b);
    dfs_journal_close(a);
    assert_int_equal(dfs_journal_open(&b, *state, "fp", NULL), 0);
    dfs_journal_close(b);
}

static void test_peek_reads_and_writes_nothing(void **state)
{
    struct seen s = {0}, p = {0};
    struct dfs_journal *j = open_j(*state, "fp", &s, NULL);
    char path[256], base[33];
    struct stat before, after;
    int fd;

    assert_int_equal(dfs_journal_peek(*state, base, collect, &p), 0);
    assert_string_equal(base, "fp");
    assert_int_equal(dfs_journal_append(j, 1, "one", 3), 0);
    assert_int_equal(dfs_journal_append(j, 2, "two", 3), 0);
    /* also while the mount holds the journal */
    assert_int_equal(dfs_journal_peek(*state, base, collect, &p), 2);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.text[1], "2:two");
    dfs_journal_close(j);
    /* a torn tail is not counted, and left where it is */
    snprintf(path, sizeof(path), "%s/journal", (char *)*state);
    fd = open(path, O_RDWR);
    assert_int_equal(ftruncate(fd, lseek(fd, 0, SEEK_END) - 3), 0);
    close(fd);
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(dfs_journal_peek(*state, base, NULL, NULL), 1);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    /* no journal, and not a journal */
    assert_int_equal(dfs_journal_peek("/nonexistent", base, NULL, NULL), -ENOENT);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "garbage", 7), 7);
    close(fd);
    assert_int_equal(dfs_journal_peek(*state, base, NULL, NULL), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_records_come_back_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_in_two_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_version_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_base_is_kept_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_open_is_locked_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek_reads_and_writes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

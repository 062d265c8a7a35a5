/* tests/fuzz/import.c - the fuzz target: an image file as a mount imports it.
 *
 * One input is the bytes of an image file.  It is put in a memfd (never on a
 * disk) and opened as the disc "/proc/self/fd/N", as `discfs IMAGE MNT` opens a
 * path: libisoburn acquires it ("stdio:"), reads its table of contents (the
 * session chain of an emulated multi-session image), burn/tree.c walks the
 * directory records, libisofs imports the tree (volume descriptors, directory
 * records, Rock Ridge, AAIP, Joliet, zisofs ZF entries), dfs_identify() makes the
 * fingerprint.  Then, as a mount and its readers would:
 *   - the view is built from the session (fs/view.c: names, hard-link families);
 *   - the session is walked and the first and last bytes of every file are read
 *     (burn/read.c, burn/zisofs.c), ACLs go through the conversions a commit
 *     makes (burn/xattr.c);
 *   - the sessions are listed with their stage keys (fs/recover.c does that at
 *     every mount), the newest one is checked against its MD5 tag, and a few
 *     older ones are loaded and walked too.
 * Nothing is ever written to the image.
 *
 * Work per input is bounded (MAX_INPUT, MAX_ENTRIES, READ_BYTES, MAX_OLDER) so that
 * an input that takes seconds is a finding, not the harness's doing.
 *
 * Built twice (tests/fuzz/meson.build): with clang's libFuzzer as fuzz-import
 * (-Dfuzz=true), and with any compiler together with replay.c as fuzz-replay,
 * which runs every file of the regression corpus through the same function under
 * `meson test`.  README.md says how to run the fuzzer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "disc.h"
#include "view.h"

#define MAX_INPUT (4u << 20) /* larger inputs are skipped */
#define MAX_ENTRIES 20000    /* nodes walked per session */
#define READ_BYTES 65536     /* read from the start of each file, and 4 KiB at its end */
#define MAX_OLDER 3          /* older sessions loaded and walked */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
    struct dfs_disc *disc;
    char *buf;
    unsigned long entries, files, bytes, xattrs;
    unsigned long sum; /* what was read goes somewhere: a checksum */
};

static void touch(struct walk *w, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        w->sum += b[i];
}

static void read_file(struct walk *w, const struct dfs_disc_entry *e)
{
    uint64_t size = (uint64_t)e->st.st_size;
    size_t first = size < READ_BYTES ? (size_t)size : READ_BYTES;
    ssize_t n;

    w->files++;
    n = dfs_disc_read_file(w->disc, e->ext, e->n_ext, e->zisofs, size, w->buf, first, 0);
    if (n > (ssize_t)first)
        abort(); /* more than asked for */
    if (n > 0) {
        touch(w, w->buf, (size_t)n);
        w->bytes += (unsigned long)n;
    }
    if (size > READ_BYTES) { /* the last 4 KiB, which may be far into the file */
        n = dfs_disc_read_file(w->disc, e->ext, e->n_ext, e->zisofs, size, w->buf, 4096,
                               (off_t)(size - 4096));
        if (n > 4096)
            abort();
        if (n > 0) {
            touch(w, w->buf, (size_t)n);
            w->bytes += (unsigned long)n;
        }
    }
}

static int visit(void *ctx, void *parent, struct dfs_disc_entry *e, void **child_cookie)
{
    struct walk *w = ctx;

    (void)parent;
    *child_cookie = NULL;
    if (++w->entries > MAX_ENTRIES)
        return -E2BIG;
    if (e->name)
        touch(w, e->name, strlen(e->name));
    if (e->link)
        touch(w, e->link, strlen(e->link));
    for (size_t i = 0; i < e->n_xattrs; i++) {
        const struct dfs_xattr *x = &e->xattrs[i];

        w->xattrs++;
        touch(w, x->name, strlen(x->name));
        touch(w, x->value, x->size);
        if (!strncmp(x->name, "system.posix_acl_", 17)) {
            /* what a commit does with it: back to libisofs' text form */
            w->sum += (unsigned long)dfs_acl_valid(x->value, x->size);
            w->sum += (unsigned long)dfs_acl_is_minimal(x->value, x->size);
        }
    }
    if (S_ISREG(e->st.st_mode) && e->n_ext > 0)
        read_file(w, e);
    return 0;
}

/* DISCFS_FUZZ_VERBOSE=1: what each input did, on stderr */
static void walk(struct dfs_disc *d, char *buf, int verbose)
{
    struct walk w = {.disc = d, .buf = buf};
    int err = dfs_disc_walk(d, visit, &w, NULL);

    if (verbose)
        fprintf(stderr,
                "fuzz: session at block %u: walk %d, %lu entries, %lu xattrs, %lu files, %lu "
                "bytes read (sum %lu)\n",
                dfs_disc_get_info(d)->msc1, err, w.entries, w.xattrs, w.files, w.bytes, w.sum);
}

/* The memfd that holds the input, as a path libburn can open */
static int input_file(const uint8_t *data, size_t size, char *path, size_t path_size)
{
    int fd = memfd_create("discfs-fuzz", MFD_CLOEXEC);
    size_t done = 0;

    if (fd < 0)
        return -1;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    snprintf(path, path_size, "/proc/self/fd/%d", fd);
    return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (dfs_libs_init() != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dfs_disc *d = NULL;
    struct dfs_view *v = NULL;
    struct dfs_session_ref *s = NULL;
    char path[64], *buf;
    int fd, n, err, older = 0, verbose = getenv("DISCFS_FUZZ_VERBOSE") != NULL;

    if (size > MAX_INPUT)
        return -1; /* not added to the corpus */
    buf = malloc(READ_BYTES);
    fd = input_file(data, size, path, sizeof(path));
    if (!buf || fd < 0)
        abort();
    err = dfs_disc_open(path, &d);
    if (verbose)
        fprintf(stderr, "fuzz: open %d %s\n", err, dfs_disc_last_error(d));
    if (err)
        goto out;
    /* the mount: the view of the newest session */
    err = dfs_view_open(&v, d, NULL);
    if (err == 0)
        dfs_view_close(v);
    if (verbose)
        fprintf(stderr, "fuzz: view %d\n", err);
    walk(d, buf, verbose);
    /* fs/recover.c: the sessions and their keys, the newest one's MD5 tag */
    n = dfs_disc_sessions(d, &s);
    err = n > 0 ? dfs_disc_newest_verifies(d) : 0;
    if (verbose)
        fprintf(stderr, "fuzz: %d sessions, newest verifies %d\n", n - 1, err);
    /* older sessions (-o session=N), newest first; entry 0 is the blank disc */
    for (int i = n - 2; i >= 1 && older < MAX_OLDER; i--, older++) {
        err = dfs_disc_load_session(d, s[i].number);
        if (verbose)
            fprintf(stderr, "fuzz: load session %d: %d\n", s[i].number, err);
        if (err == 0)
            walk(d, buf, verbose);
    }
    free(s);
out:
    dfs_disc_close(d);
    close(fd);
    free(buf);
    return 0;
}

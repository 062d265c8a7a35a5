/* fs/cmd_verify.c - `discfs verify DEVICE`: every session of the disc read back
 * against the MD5 tag it recorded, and every file against its recorded MD5 (each
 * file's data once, in the first session that has it).  Bad sessions and files are
 * named; the exit status is 1 if any is bad. */
#define _GNU_SOURCE
#include "discfs.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs("usage: discfs verify DEVICE\n"
          "Read every session of the disc in DEVICE (a drive, or an ISO image file) back\n"
          "against the MD5 it recorded, and every file against its recorded MD5 (the data\n"
          "of a file that several sessions share is read once).  Names each bad session\n"
          "and file.  Exit status 0 when everything matches, 1 when something does not\n"
          "or cannot be read, 2 for a usage error.  The disc must not be mounted meanwhile.\n",
          out);
}

struct check {
    struct dfs_disc *d;
    int session;
    int tty;
    uint64_t *seen; /* first blocks of the files checked: open addressing, 0 free */
    size_t n_seen, cap_seen;
    char **paths; /* the walk's cookies, freed at the end */
    size_t n_paths, cap_paths;
    uint64_t files, bytes, bad, unreadable, unrecorded;
    int last_percent;
};

/* 1 if the data starting at block LBA was checked before, else noted now */
static int seen_before(struct check *c, uint32_t lba)
{
    uint64_t key = (uint64_t)lba + 1;
    size_t i;

    if (2 * (c->n_seen + 1) > c->cap_seen) {
        size_t cap = c->cap_seen ? 2 * c->cap_seen : 1024;
        uint64_t *n = calloc(cap, sizeof(*n));
        if (!n)
            return 0; /* checked again: slower, not wrong */
        for (size_t k = 0; k < c->cap_seen; k++)
            if (c->seen[k]) {
                for (i = (c->seen[k] * 0x9E3779B97F4A7C15ull) & (cap - 1); n[i];
                     i = (i + 1) & (cap - 1))
                    ;
                n[i] = c->seen[k];
            }
        free(c->seen);
        c->seen = n;
        c->cap_seen = cap;
    }
    for (i = (key * 0x9E3779B97F4A7C15ull) & (c->cap_seen - 1); c->seen[i];
         i = (i + 1) & (c->cap_seen - 1))
        if (c->seen[i] == key)
            return 1;
    c->seen[i] = key;
    c->n_seen++;
    return 0;
}

static char *keep_path(struct check *c, const char *parent, const char *name)
{
    char *p = NULL;

    if (c->n_paths == c->cap_paths) {
        size_t cap = c->cap_paths ? 2 * c->cap_paths : 1024;
        char **n = realloc(c->paths, cap * sizeof(*n));
        if (!n)
            return NULL;
        c->paths = n;
        c->cap_paths = cap;
    }
    if (asprintf(&p, "%s/%s", parent, name) < 0)
        return NULL;
    c->paths[c->n_paths++] = p;
    return p;
}

static int check_node(void *ctx, void *parent, struct dfs_disc_entry *e, void **child_cookie)
{
    struct check *c = ctx;
    const char *path;
    int r;

    if (!parent) {
        *child_cookie = "";
        return 0;
    }
    path = keep_path(c, parent, e->name);
    if (!path)
        return -ENOMEM;
    *child_cookie = (void *)path;
    if (!S_ISREG(e->st.st_mode) || e->n_ext == 0 || seen_before(c, e->ext[0].lba))
        return 0;
    r = dfs_disc_check_file(c->d, e);
    if (r == 0) {
        c->unrecorded++;
        return 0;
    }
    c->files++;
    c->bytes += (uint64_t)e->st.st_size;
    if (r == 2) {
        c->bad++;
        if (c->tty)
            printf("\n");
        fputs("BAD: '", stdout);
        dfs_print_name(stdout, path);
        printf("' (session %d): its data does not match the MD5 recorded for it\n", c->session);
    } else if (r < 0) {
        c->unreadable++;
        if (c->tty)
            printf("\n");
        fputs("BAD: '", stdout);
        dfs_print_name(stdout, path);
        printf("' (session %d): cannot be read: %s\n", c->session, strerror(-r));
    } else if (c->tty && c->files % 64 == 0) {
        printf("\rsession %d: %llu files checked", c->session, (unsigned long long)c->files);
        fflush(stdout);
    }
    return 0;
}

/* the session tag's progress: a redrawn line on a terminal, else every 10 % */
static void tag_progress(void *ctx, enum dfs_phase phase, uint64_t done, uint64_t total)
{
    struct check *c = ctx;
    int percent = total ? (int)(done * 100 / total) : 0;

    if (phase != DFS_PHASE_VERIFYING || !total)
        return;
    if (c->tty) {
        printf("\rsession %d: reading %3d%%", c->session, percent);
        fflush(stdout);
    } else if (percent / 10 > c->last_percent / 10) {
        c->last_percent = percent;
        printf("session %d: reading %d%%\n", c->session, percent);
        fflush(stdout);
    }
}

static int verify(const char *device, struct dfs_disc *d)
{
    struct check c = {.d = d, .tty = isatty(STDOUT_FILENO)};
    struct dfs_session_ref *s = NULL;
    int n = dfs_disc_sessions(d, &s), bad_sessions = 0, sessions = 0, err = 0;

    if (n < 0) {
        fprintf(stderr, "discfs: cannot read the sessions of '%s': %s\n", device, strerror(-n));
        return -1;
    }
    dfs_disc_set_progress(d, tag_progress, &c);
    for (int i = 0; i < n && !err; i++) {
        uint32_t blocks;
        int r;

        if (s[i].number < 1)
            continue; /* the blank disc before the first session */
        c.session = s[i].number;
        c.last_percent = 0;
        sessions++;
        err = dfs_disc_load_session(d, s[i].number);
        if (err) {
            printf("BAD: session %d cannot be loaded: %s\n", c.session,
                   dfs_disc_last_error(d)[0] ? dfs_disc_last_error(d) : strerror(-err));
            bad_sessions++;
            err = 0;
            continue;
        }
        r = dfs_disc_check_session(d, &blocks);
        if (c.tty)
            printf("\r");
        if (r == 1)
            printf("session %d: %u blocks match the session's MD5\n", c.session, blocks);
        else if (r == 0)
            printf("session %d: no MD5 recorded for the session (not written with MD5s)\n",
                   c.session);
        else
            bad_sessions++,
                printf("BAD: session %d: %s\n", c.session,
                       r == 2 ? "its blocks do not match the MD5 it recorded" : strerror(-r));
        err = dfs_disc_walk(d, check_node, &c, NULL);
        if (c.tty)
            printf("\r");
    }
    dfs_disc_set_progress(d, NULL, NULL);
    if (c.tty)
        printf("\n");
    if (err)
        fprintf(stderr, "discfs: cannot walk the sessions of '%s': %s\n", device, strerror(-err));
    else if (c.bad || c.unreadable || bad_sessions)
        printf("discfs: '%s': %d bad session%s of %d, %llu bad file%s of %llu\n", device,
               bad_sessions, bad_sessions == 1 ? "" : "s", sessions,
               (unsigned long long)(c.bad + c.unreadable), c.bad + c.unreadable == 1 ? "" : "s",
               (unsigned long long)c.files);
    else
        printf("discfs: '%s': %d session%s and %llu files (%llu bytes) match their MD5s%s\n",
               device, sessions, sessions == 1 ? "" : "s", (unsigned long long)c.files,
               (unsigned long long)c.bytes, c.unrecorded ? " (some files have none)" : "");
    for (size_t k = 0; k < c.n_paths; k++)
        free(c.paths[k]);
    free(c.paths);
    free(c.seen);
    free(s);
    return err || c.bad || c.unreadable || bad_sessions ? -1 : 0;
}

int dfs_cmd_verify(int argc, char *argv[])
{
    struct dfs_disc *disc = NULL;
    int err;

    if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 3 || argv[2][0] == '-') {
        if (argc < 3)
            fprintf(stderr, "discfs: verify takes one DEVICE, none was given; see discfs "
                            "verify --help\n");
        else
            fprintf(stderr, "discfs: verify takes one DEVICE, not '%s'; see discfs verify --help\n",
                    argv[argc > 3 ? 3 : 2]);
        return DFS_EXIT_USAGE;
    }
    err = dfs_cli_open_disc(argv[2], DFS_CLI_READONLY,
                            &disc); /* nothing written, no damaged track closed */
    if (err)
        return err;
    err = verify(argv[2], disc);
    dfs_cli_close_disc(disc);
    return err ? DFS_EXIT_FAILURE : 0;
}

/* fs/cmd_stages.c - `discfs stages`: the stages in the cache, what each takes and
 * whether a disc can still claim it; removal of the ones the user names
 *
 * A stage is claimed by the disc whose session its key names (DESIGN.md,
 * Identity; fs/recover.c): the newest session's stage is what a mount shows, a
 * stage of an older session is taken up by a mount only when it holds the intent
 * of a commit that did not complete.  Any other stage of an older session (its
 * disc got newer sessions elsewhere) and a stage whose disc has no such session
 * any more (the image was replaced or removed) is unclaimable.  The disc is only
 * looked at (dfs_disc_probe: read-only, nothing written, no session imported);
 * a disc that is not in its drive may come back, so a drive's stage is never
 * called unclaimable for that.  Nothing is removed unless the user names it. */
#define _GNU_SOURCE
#include "discfs.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "record.h"

enum state { MOUNTED, WAITING, UNCLAIMABLE, UNKNOWN };
static const char *const state_names[] = {"mounted now", "waiting for its disc", "unclaimable",
                                          "unknown"};

struct stage {
    char key[65];
    char dir[4096];
    int64_t use;  /* bytes, or -errno */
    long pending; /* changes in its journal, or -errno */
    int intent;   /* a commit of them was begun */
    int has_origin;
    int aside; /* ".removing-...": a removal that was cut short */
    struct dfs_stage_origin o;
    enum state state;
    char why[4800];
};

/* A disc looked at once for all its stages */
struct probe {
    char path[4096];
    int err; /* of dfs_disc_probe(), or of the image's stat() */
    char msg[512];
    struct dfs_session_ref *s;
    int n;
};

struct ctx {
    const char *root;
    struct stage *stages;
    size_t n_stages;
    struct probe *probes;
    size_t n_probes;
    int libs; /* dfs_libs_init() done */
};

static void usage(FILE *out)
{
    char *root = dfs_store_default_root();

    fprintf(out,
            "usage: discfs stages [--cache DIR]\n"
            "       discfs stages [--cache DIR] --remove KEY [--yes]\n"
            "       discfs stages [--cache DIR] --remove-unclaimable [--yes]\n"
            "List the stages in the cache (staged changes, one stage per disc session):\n"
            "key, disk use, pending records, state, when it was last mounted, and the\n"
            "device and volume id it came from.  States:\n"
            "  mounted now           a running mount holds it\n"
            "  waiting for its disc  a mount of its disc takes it up\n"
            "  unclaimable           no disc leads to it any more (committed elsewhere,\n"
            "                        the image replaced or removed): its changes can no\n"
            "                        longer be written as they were meant\n"
            "  unknown               it does not say where it comes from (an older\n"
            "                        discfs made it), or its disc cannot be read now\n"
            "--remove KEY removes one stage (KEY: a unique beginning of its key), also\n"
            "with pending changes, which are then lost; --remove-unclaimable removes all\n"
            "unclaimable ones.  Both ask first on a terminal; --yes does not ask, and\n"
            "without a terminal it is needed.  A mounted stage is never removed.\n"
            "    --cache DIR    the cache root, as -o cache=DIR of the mount (default %s)\n"
            "exit status: 0 success, 1 failure, 2 usage error\n",
            root ? root : "~/.cache/discfs");
    free(root);
}

/* ---- what a stage holds ---- */

struct count {
    long changes;
    int intent;
};

static int count_record(void *ctx_, uint16_t type, const void *payload, uint32_t len)
{
    struct count *c = ctx_;

    (void)payload;
    (void)len;
    if (type == DFS_REC_COMMIT)
        c->intent = 1;
    else if (type != DFS_REC_BASE)
        c->changes++;
    return 0;
}

static void read_stage(struct stage *st)
{
    struct count c = {0};
    char base[33];
    long n = dfs_journal_peek(st->dir, base, count_record, &c);

    st->use = dfs_stage_disk_use(st->dir);
    /* a journal of another base is set aside by the next mount, never replayed */
    st->pending = n == -ENOENT || (n >= 0 && strncmp(base, st->key, 32) != 0) ? 0
                  : n < 0                                                     ? n
                                                                              : c.changes;
    st->intent = n >= 0 && c.intent;
    st->has_origin = dfs_stage_read_origin(st->dir, &st->o) == 0;
}

static int is_key(const char *name)
{
    size_t n = strspn(name, "0123456789abcdef");

    return name[n] == '\0' && (n == 32 || n == 64);
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct stage *)a)->key, ((const struct stage *)b)->key);
}

/* The stages under c->root, read; 0 or -errno (no root: none) */
static int find_stages(struct ctx *c)
{
    DIR *d = opendir(c->root);
    struct dirent *de;
    struct stat sb;
    size_t cap = 0;

    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while ((de = readdir(d))) {
        struct stage *st;

        if (!is_key(de->d_name) && strncmp(de->d_name, ".removing-", 10) != 0)
            continue;
        if (c->n_stages == cap) {
            struct stage *m = realloc(c->stages, (cap = cap ? 2 * cap : 16) * sizeof(*m));
            if (!m) {
                closedir(d);
                return -ENOMEM;
            }
            c->stages = m;
        }
        st = &c->stages[c->n_stages];
        memset(st, 0, sizeof(*st));
        snprintf(st->key, sizeof(st->key), "%.64s", de->d_name);
        snprintf(st->dir, sizeof(st->dir), "%s/%s", c->root, de->d_name);
        if (lstat(st->dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
            continue;
        c->n_stages++;
        st->aside = de->d_name[0] == '.';
        read_stage(st);
    }
    closedir(d);
    if (c->n_stages)
        qsort(c->stages, c->n_stages, sizeof(*c->stages), by_key);
    return 0;
}

/* ---- whether a disc claims it ---- */

static struct probe *probe(struct ctx *c, const struct dfs_stage_origin *o)
{
    struct probe *p;
    struct dfs_disc *disc = NULL;
    char adr[4110];
    struct stat sb;

    for (size_t i = 0; i < c->n_probes; i++)
        if (strcmp(c->probes[i].path, o->path) == 0)
            return &c->probes[i];
    p = realloc(c->probes, (c->n_probes + 1) * sizeof(*p));
    if (!p)
        return NULL;
    c->probes = p;
    p = &c->probes[c->n_probes++];
    memset(p, 0, sizeof(*p));
    snprintf(p->path, sizeof(p->path), "%s", o->path);
    if (strcmp(o->kind, "image") == 0 && stat(o->path, &sb) < 0) {
        p->err = -errno; /* never made anew here, as a mount would */
        snprintf(p->msg, sizeof(p->msg), "%s", strerror(errno));
        return p;
    }
    if (!c->libs && dfs_libs_init() != 0) {
        p->err = -EIO;
        snprintf(p->msg, sizeof(p->msg), "the disc libraries cannot be started");
        return p;
    }
    c->libs = 1;
    snprintf(adr, sizeof(adr), "%s%s", strcmp(o->kind, "image") == 0 ? "stdio:" : "", o->path);
    p->err = dfs_disc_probe(adr, &disc);
    if (!p->err) {
        p->n = dfs_disc_sessions(disc, &p->s);
        p->err = p->n < 0 ? p->n : 0;
    }
    snprintf(p->msg, sizeof(p->msg), "%s",
             dfs_disc_last_error(disc)[0] ? dfs_disc_last_error(disc) : strerror(-p->err));
    dfs_disc_close(disc);
    return p;
}

#define SAY(st, ...) snprintf((st)->why, sizeof((st)->why), __VA_ARGS__)

static void classify(struct ctx *c, struct stage *st)
{
    pid_t holder = dfs_stage_holder(st->dir);
    int drive = strcmp(st->o.kind, "drive") == 0, i;
    struct probe *p;

    st->state = UNKNOWN;
    if (st->aside) {
        st->state = UNCLAIMABLE;
        SAY(st, "left by a removal that was cut short");
        return;
    }
    if (holder > 0) {
        st->state = MOUNTED;
        SAY(st, "held by the discfs mount with pid %ld", (long)holder);
        return;
    }
    if (!st->has_origin || !st->o.path[0]) {
        SAY(st, "it does not say which disc it belongs to (an older discfs made it)");
        return;
    }
    p = probe(c, &st->o);
    if (!p) {
        SAY(st, "out of memory");
        return;
    }
    if (p->err == -ENOENT && !drive) {
        /* a mount of a missing image makes a blank disc again, which takes the
         * stage of the blank image */
        st->state = st->o.session == 0 ? WAITING : UNCLAIMABLE;
        SAY(st, "the image '%s' is gone%s", st->o.path,
            st->o.session == 0 ? ": a mount of it makes it again as a blank disc" : "");
        return;
    }
    if (p->err == -EMEDIUMTYPE && !drive) { /* the image was replaced by another file */
        st->state = UNCLAIMABLE;
        SAY(st, "no session of '%s' leads to it any more: %s", st->o.path, p->msg);
        return;
    }
    if (p->err == -ENOMEDIUM && drive) {
        st->state = WAITING;
        SAY(st, "no disc in '%s' now", st->o.path);
        return;
    }
    if (p->err) {
        SAY(st, "its disc cannot be read: %s", p->msg);
        return;
    }
    for (i = p->n - 1; i >= 0 && strcmp(p->s[i].key, st->key) != 0; i--)
        ;
    if (i < 0) {
        st->state = drive ? WAITING : UNCLAIMABLE;
        SAY(st,
            drive ? "the disc in '%s' now is another one"
                  : "no session of '%s' leads to it any more (committed elsewhere, or "
                    "the image was replaced)",
            st->o.path);
    } else if (i == p->n - 1 || p->s[i].any_blank) {
        st->state = WAITING;
        SAY(st, "%s of '%s'", i == p->n - 1 ? "the newest session" : "any blank disc", st->o.path);
    } else if (st->intent) {
        st->state = WAITING; /* fs/recover.c settles it at the next mount */
        SAY(st,
            "a commit of it was cut short: the next mount of '%s' settles it (removes it if "
            "its session is on the disc, else shows its changes)",
            st->o.path);
    } else {
        char was[32] = "the blank disc";
        if (p->s[i].number > 0)
            snprintf(was, sizeof(was), "session %d", p->s[i].number);
        st->state = UNCLAIMABLE;
        SAY(st, "it is for %s of '%s', which has %d session%s now (committed elsewhere)", was,
            st->o.path, p->s[p->n - 1].number, p->s[p->n - 1].number == 1 ? "" : "s");
    }
}

/* ---- output ---- */

static const char *pending(const struct stage *st, char buf[32])
{
    if (st->pending < 0)
        return "unreadable";
    if (st->pending == 0)
        return "empty";
    snprintf(buf, 32, "%ld record%s", st->pending, st->pending == 1 ? "" : "s");
    return buf;
}

static void print_row(const struct stage *st)
{
    char use[32], pend[32], when[32] = "-";
    time_t t = (time_t)st->o.mounted;
    struct tm tm;

    if (st->has_origin && st->o.mounted && localtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
    printf("%-12.12s  %10s  %-11s  %-20s  %-16s  %s%s%s%s\n", st->key, dfs_size_str(st->use, use),
           pending(st, pend), state_names[st->state], when,
           st->has_origin && st->o.path[0] ? st->o.path : "-", st->o.volid[0] ? " (" : "",
           st->o.volid, st->o.volid[0] ? ")" : "");
}

static int list(struct ctx *c)
{
    int64_t total = 0, loose = 0;
    size_t n_loose = 0;
    char a[32], b[32];

    if (!c->n_stages) {
        printf("no stages in '%s'\n", c->root);
        return 0;
    }
    printf("%-12s  %10s  %-11s  %-20s  %-16s  %s\n", "stage", "disk use", "pending", "state",
           "last mounted", "device (volume id)");
    for (size_t i = 0; i < c->n_stages; i++)
        print_row(&c->stages[i]);
    printf("\n");
    for (size_t i = 0; i < c->n_stages; i++) {
        const struct stage *st = &c->stages[i];
        printf("%.12s: %s\n", st->key, st->why);
        total += st->use > 0 ? st->use : 0;
        if (st->state == UNCLAIMABLE) {
            n_loose++;
            loose += st->use > 0 ? st->use : 0;
        }
    }
    printf("%zu stage%s, %s in all", c->n_stages, c->n_stages == 1 ? "" : "s",
           dfs_size_str(total, a));
    if (n_loose)
        printf("; %zu unclaimable (%s): discfs stages --remove-unclaimable removes %s", n_loose,
               dfs_size_str(loose, b), n_loose == 1 ? "it" : "them");
    printf("\n");
    return 0;
}

/* ---- removal ---- */

/* Yes from the terminal, or --yes; 1 go on, 0 no, -1 no terminal to ask */
static int confirm(int yes, const char *question)
{
    char line[64];

    if (yes)
        return 1;
    if (!isatty(STDIN_FILENO))
        return -1;
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (!fgets(line, sizeof(line), stdin))
        return 0;
    return line[0] == 'y' || line[0] == 'Y';
}

static int refuse_mounted(const struct stage *st, pid_t holder)
{
    fprintf(stderr,
            "discfs: the stage '%.12s' is mounted now (discfs pid %ld): unmount that mount "
            "first; nothing removed\n",
            st->key, (long)holder);
    return DFS_EXIT_FAILURE;
}

/* Remove ST, locked against mounts; 0 or an exit status (said) */
static int remove_one(const struct stage *st)
{
    char use[32];
    pid_t holder;
    int fd = st->aside ? -1 : dfs_stage_lock(st->dir, &holder), err;

    if (fd == -EBUSY)
        return refuse_mounted(st, holder);
    err = st->aside ? dfs_store_destroy(st->dir) : fd < 0 ? fd : dfs_stage_remove(st->dir, fd);
    if (err) {
        fprintf(stderr, "discfs: cannot remove the stage '%s': %s\n", st->dir, strerror(-err));
        return DFS_EXIT_FAILURE;
    }
    printf("removed stage %.12s%s%s (%s freed)\n", st->key, st->has_origin ? " of " : "",
           st->has_origin ? st->o.path : "", dfs_size_str(st->use, use));
    return 0;
}

static int remove_key(struct ctx *c, const char *prefix, int yes)
{
    struct stage *hit = NULL;
    size_t hits = 0, len = strlen(prefix);
    char q[4200], use[32], pend[32];
    pid_t holder;
    int ok;

    for (size_t i = 0; i < c->n_stages; i++)
        if (len && !c->stages[i].aside && strncmp(c->stages[i].key, prefix, len) == 0 &&
            hits++ == 0)
            hit = &c->stages[i];
    if (hits > 1)
        fprintf(stderr,
                "discfs: '%s' begins %zu stage keys in '%s': give more of the key (see "
                "discfs stages)\n",
                prefix, hits, c->root);
    else if (!hits)
        fprintf(stderr, "discfs: no stage '%s' in '%s': see discfs stages for the keys\n", prefix,
                c->root);
    if (hits != 1)
        return DFS_EXIT_FAILURE;
    holder = dfs_stage_holder(hit->dir);
    if (holder > 0) /* said before asking; remove_one() checks again under the lock */
        return refuse_mounted(hit, holder);
    snprintf(q, sizeof(q), "remove the stage %.12s (%s, %s) of '%s'?", hit->key,
             dfs_size_str(hit->use, use), pending(hit, pend), hit->has_origin ? hit->o.path : "?");
    ok = confirm(yes, q);
    if (ok <= 0) {
        fprintf(stderr,
                ok < 0 ? "discfs: not removing the stage '%.12s' without asking, and there is "
                         "no terminal to ask: add --yes\n"
                       : "discfs: the stage '%.12s' is kept\n",
                hit->key);
        return ok < 0 ? DFS_EXIT_USAGE : DFS_EXIT_FAILURE;
    }
    return remove_one(hit);
}

static int remove_unclaimable(struct ctx *c, int yes)
{
    size_t n = 0;
    int64_t freed = 0;
    char q[128], a[32];
    int status = 0, ok;

    for (size_t i = 0; i < c->n_stages; i++)
        if (c->stages[i].state == UNCLAIMABLE) {
            if (!n++)
                printf("unclaimable:\n");
            printf("  ");
            print_row(&c->stages[i]);
        }
    if (!n) {
        printf("no unclaimable stage in '%s'\n", c->root);
        return 0;
    }
    snprintf(q, sizeof(q), "remove %s%zu unclaimable stage%s?", n == 1 ? "the " : "all ", n,
             n == 1 ? "" : "s");
    ok = confirm(yes, q);
    if (ok <= 0) {
        fprintf(stderr, ok < 0 ? "discfs: not removing stages without asking, and there is no "
                                 "terminal to ask: add --yes\n"
                               : "discfs: the stages are kept\n");
        return ok < 0 ? DFS_EXIT_USAGE : DFS_EXIT_FAILURE;
    }
    for (size_t i = 0; i < c->n_stages; i++) {
        if (c->stages[i].state != UNCLAIMABLE)
            continue;
        if (remove_one(&c->stages[i]) != 0)
            status = DFS_EXIT_FAILURE;
        else
            freed += c->stages[i].use > 0 ? c->stages[i].use : 0;
    }
    printf("%s freed\n", dfs_size_str(freed, a));
    return status;
}

/* ---- the command ---- */

int dfs_cmd_stages(int argc, char *argv[])
{
    struct ctx c = {0};
    const char *key = NULL, *cache = NULL;
    char *root = NULL;
    int yes = 0, unclaimable = 0, status, err;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "--cache") || !strcmp(a, "--remove")) && i + 1 < argc) {
            *(a[2] == 'c' ? &cache : &key) = argv[++i];
        } else if (!strncmp(a, "--cache=", 8) || !strncmp(a, "--remove=", 9)) {
            *(a[2] == 'c' ? &cache : &key) = strchr(a, '=') + 1;
        } else if (!strcmp(a, "--remove-unclaimable")) {
            unclaimable = 1;
        } else if (!strcmp(a, "--yes") || !strcmp(a, "-y")) {
            yes = 1;
        } else {
            fprintf(stderr, "discfs: %s '%s' for discfs stages; see discfs stages --help\n",
                    !strcmp(a, "--cache") || !strcmp(a, "--remove") ? "no value after"
                    : a[0] == '-'                                   ? "unknown option"
                                                                    : "unexpected argument",
                    a);
            return DFS_EXIT_USAGE;
        }
    }
    if ((key && unclaimable) || (yes && !key && !unclaimable) || (key && !key[0]) ||
        (cache && !cache[0])) {
        fprintf(stderr, "discfs: %s; see discfs stages --help\n",
                key && unclaimable ? "--remove KEY and --remove-unclaimable do not go together"
                : yes && !key && !unclaimable ? "--yes goes with --remove or --remove-unclaimable"
                                              : "an empty KEY or DIR names nothing");
        return DFS_EXIT_USAGE;
    }
    root = cache ? strdup(cache) : dfs_store_default_root();
    if (!root) {
        fprintf(stderr, "discfs: out of memory\n");
        return DFS_EXIT_FAILURE;
    }
    c.root = root;
    err = find_stages(&c);
    if (err) {
        fprintf(stderr, "discfs: cannot read the cache '%s': %s\n", root, strerror(-err));
        status = DFS_EXIT_FAILURE;
        goto out;
    }
    if (key) {
        status = remove_key(&c, key, yes);
        goto out;
    }
    for (size_t i = 0; i < c.n_stages; i++)
        classify(&c, &c.stages[i]);
    status = unclaimable ? remove_unclaimable(&c, yes) : list(&c);
out:
    for (size_t i = 0; i < c.n_probes; i++)
        free(c.probes[i].s);
    free(c.probes);
    free(c.stages);
    if (c.libs)
        dfs_libs_finish();
    free(root);
    return status;
}

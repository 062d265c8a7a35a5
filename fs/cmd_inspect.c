/* fs/cmd_inspect.c - `discfs inspect DEVICE|STAGE [--cache DIR] [--tree]`: the changes
 * staged for a disc, and its tree as a mount would show it, without mounting.
 * Nothing is written: the disc is opened read-only and unlocked, the stage's
 * journal is read without its lock (dfs_view_replay_peek), so it works while the
 * disc is mounted too (what is staged so far). */
#define _GNU_SOURCE
#include "discfs.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs("usage: discfs inspect DEVICE [--cache DIR] [--tree]\n"
          "       discfs inspect STAGE [--tree]\n"
          "Show, without mounting, the changes staged in the cache for the disc in DEVICE\n"
          "(a drive, or an ISO image file), or in the stage directory STAGE (for the disc\n"
          "its origin note names): each name added (+), changed (~: content or\n"
          "attributes) or removed (-), then a summary.  --tree lists every name as a\n"
          "mount would show it, with its type and size.  --cache DIR: the cache a mount\n"
          "used (-o cache=DIR).  Nothing is written; it works while the disc is mounted\n"
          "too.  Exit status 0, 1 when the disc or the stage cannot be read, 2 for a\n"
          "usage error.\n",
          out);
}

static void print_change(void *ctx, char kind, const char *path)
{
    (void)ctx;
    printf("%c ", kind);
    dfs_print_name(stdout, path);
    putchar('\n');
}

static char type_char(mode_t mode)
{
    return S_ISDIR(mode)    ? 'd'
           : S_ISLNK(mode)  ? 'l'
           : S_ISCHR(mode)  ? 'c'
           : S_ISBLK(mode)  ? 'b'
           : S_ISFIFO(mode) ? 'p'
           : S_ISSOCK(mode) ? 's'
                            : '-';
}

static int print_tree(struct dfs_inode *dir, const char *path)
{
    for (size_t i = 0; i < dfs_dp(dir)->n_slots; i++) {
        struct dfs_dentry *e = dfs_dp(dir)->ents[i];
        struct dfs_inode *ino;
        char *sub;
        int err = 0;

        if (!e)
            continue; /* a hole (dir.c) */
        ino = e->inode;
        if (asprintf(&sub, "%s/%s", path, e->name) < 0)
            return -ENOMEM;
        printf("%c%04o %12lld ", type_char(ino->st.st_mode), (unsigned)(ino->st.st_mode & 07777),
               (long long)ino->st.st_size);
        dfs_print_name(stdout, sub);
        if (ino->more->link) {
            fputs(" -> ", stdout);
            dfs_print_name(stdout, ino->more->link);
        }
        putchar('\n');
        if (S_ISDIR(ino->st.st_mode))
            err = print_tree(ino, sub);
        free(sub);
        if (err)
            return err;
    }
    return 0;
}

/* the stage of the disc's newest session in ROOT, opened for reading only: 1 and
 * *S, 0 there is none */
static int open_stage(const char *root, const char *key, struct dfs_store *s)
{
    char data[4096];

    s->data_fd = -1;
    s->next_id = 0;
    if (asprintf(&s->dir, "%s/%s", root, key) < 0) {
        s->dir = NULL;
        return -ENOMEM;
    }
    if (access(s->dir, F_OK) != 0)
        return 0;
    snprintf(data, sizeof(data), "%s/data", s->dir);
    s->data_fd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return 1;
}

/* inspect of a STAGE directory: the disc its origin note names, if that disc's
 * newest session is the one the stage is for (KEY, its name); else say why */
static int stage_device(const char *stage, char **device, char **root, char **key)
{
    struct dfs_stage_origin o;
    char *abs = realpath(stage, NULL), *slash;
    int err;

    if (!abs) {
        fprintf(stderr, "discfs: cannot use the stage '%s': %s\n", stage, strerror(errno));
        return -1;
    }
    err = dfs_stage_read_origin(abs, &o);
    if (err) {
        fprintf(stderr,
                "discfs: the stage '%s' does not say which disc it is for (%s); inspect the "
                "disc instead: discfs inspect DEVICE --cache DIR\n",
                stage, err == -ENOENT ? "no origin note: made by an older discfs" : strerror(-err));
        free(abs);
        return -1;
    }
    slash = strrchr(abs, '/');
    *key = strdup(slash + 1);
    *slash = '\0';
    *root = abs;
    *device = strdup(o.path[0] ? o.path : o.device);
    if (!*key || !*device)
        return -1;
    return 0;
}

static int inspect(const char *device, struct dfs_disc *disc, const char *root,
                   const char *want_key, int tree)
{
    struct dfs_store store = {.data_fd = -1};
    struct dfs_view *v = NULL;
    const struct dfs_disc_info *info;
    struct dfs_changes ch;
    char size[32];
    long n = 0;
    int err, has_stage;

    info = dfs_disc_get_info(disc);
    if (want_key && strcmp(want_key, info->stage_key) != 0) {
        fprintf(stderr,
                "discfs: the stage '%s/%s' is not for the newest session of '%s' any more "
                "(committed elsewhere, or another disc is there now): its changes cannot be "
                "shown against it; discfs stages lists it\n",
                root, want_key, device);
        err = -ESTALE;
        goto out;
    }
    has_stage = open_stage(root, info->stage_key, &store);
    err = has_stage < 0 ? has_stage : dfs_view_open(&v, disc, &store);
    if (err) {
        fprintf(stderr, "discfs: cannot build the tree of '%s': %s\n", device, strerror(-err));
        goto out;
    }
    if (has_stage) {
        n = dfs_view_replay_peek(v, store.dir, info->stage_key);
        if (n == -ENOENT)
            n = 0; /* a stage without a journal */
        if (n < 0) {
            fprintf(stderr, "discfs: cannot read the changes staged in '%s': %s\n", store.dir,
                    n == -ESTALE ? "its journal belongs to another session of the disc"
                                 : strerror((int)-n));
            err = (int)n;
            goto out;
        }
    }
    printf("disc   %s (%s), %d session%s, volume '%s'\n", device, info->profile, info->sessions,
           info->sessions == 1 ? "" : "s", info->volid);
    printf("stage  %s%s\n", store.dir, has_stage ? "" : " (none: nothing staged)");
    if (tree) {
        err = print_tree(v->inodes[DFS_ROOT_ID], "");
        if (err)
            goto out;
    }
    err = dfs_view_changes(v, &ch, tree ? NULL : print_change, NULL);
    if (err) {
        fprintf(stderr, "discfs: cannot compare the staged tree of '%s' with the disc: %s\n",
                device, strerror(-err));
        goto out;
    }
    if (!v->dirty)
        printf("no changes staged\n");
    else
        printf("%llu added, %llu changed, %llu removed; %s of file content staged\n",
               (unsigned long long)ch.added, (unsigned long long)ch.changed,
               (unsigned long long)ch.removed, dfs_size_str((int64_t)ch.staged_bytes, size));
out:
    dfs_view_close(v);
    if (store.dir)
        dfs_store_close(&store);
    return err ? -1 : 0;
}

/* a directory with a journal: a stage, not a disc */
static int is_stage_dir(const char *path)
{
    char journal[4096];
    struct stat st;

    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    snprintf(journal, sizeof(journal), "%s/journal", path);
    return access(journal, F_OK) == 0;
}

int dfs_cmd_inspect(int argc, char *argv[])
{
    const char *device = NULL, *cache = NULL;
    char *root = NULL, *key = NULL, *disc_dev = NULL;
    struct dfs_disc *disc;
    int tree = 0, err;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--tree")) {
            tree = 1;
        } else if (!strcmp(argv[i], "--cache")) {
            if (i + 1 == argc) {
                fprintf(stderr,
                        "discfs: --cache of inspect takes a DIR; see discfs inspect --help\n");
                return DFS_EXIT_USAGE;
            }
            cache = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "discfs: unknown option '%s' of inspect; see discfs inspect --help\n",
                    argv[i]);
            return DFS_EXIT_USAGE;
        } else if (device) {
            fprintf(stderr,
                    "discfs: inspect takes one DEVICE, '%s' is one too many; see discfs inspect "
                    "--help\n",
                    argv[i]);
            return DFS_EXIT_USAGE;
        } else {
            device = argv[i];
        }
    }
    if (!device) {
        fprintf(stderr, "discfs: inspect takes one DEVICE, none was given; see discfs inspect "
                        "--help\n");
        return DFS_EXIT_USAGE;
    }
    if (is_stage_dir(device)) { /* a stage: the disc it names */
        if (cache) {
            fprintf(stderr,
                    "discfs: inspect of a stage takes no --cache: the stage '%s' is in "
                    "its cache\n",
                    device);
            return DFS_EXIT_USAGE;
        }
        if (stage_device(device, &disc_dev, &root, &key) != 0) {
            err = DFS_EXIT_FAILURE;
            goto out;
        }
        device = disc_dev;
    } else {
        root = cache ? realpath(cache, NULL) : dfs_store_default_root();
        if (!root) {
            fprintf(stderr, "discfs: cannot use the cache '%s': %s\n", cache ? cache : "(default)",
                    strerror(errno));
            return DFS_EXIT_FAILURE;
        }
    }
    err = dfs_cli_open_disc(device, DFS_CLI_READONLY, &disc);
    if (err)
        goto out;
    err = inspect(device, disc, root, key, tree) ? DFS_EXIT_FAILURE : 0;
    dfs_cli_close_disc(disc);
out:
    free(root);
    free(key);
    free(disc_dev);
    return err;
}

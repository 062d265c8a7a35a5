/* fs/recover.c - the stage of a disc, found again in every crash window
 *
 * A stage is named by the key of the session it applies to (DESIGN.md, Identity),
 * normally the newest session of the disc.  A crash can leave it under the key of
 * an older session:
 *   - a commit wrote its session and the process died before the stage moved on
 *     to the new key (fs/commit.c rekey): the stage's intent record names the
 *     newest session and that session reads back with its MD5, so the changes are
 *     on the disc: the stage is removed;
 *   - a commit wrote a session that does not read back, or died while writing it
 *     (a track left damaged and closed at mount), and a reader now finds another
 *     session newest: the changes are not on the disc.  The mount shows the
 *     session the stage applies to, with the changes; the next commit appends
 *     after all sessions.
 * A stage of an older session that fits neither is reported with what to do,
 * never silently dropped or applied.  A stage with no records goes.  The stage of
 * a blank disc in a drive may belong to any blank disc: it is shown only when the
 * disc's one session does not read back, and never removed here.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

/* The records of the stage DIR (0: none, or no stage), and its commit intent. */
static long stage_records(const char *dir, const char *key, int *has_intent, uint32_t *start,
                          int *changed_after)
{
    struct dfs_journal *j = NULL;
    char path[4096];
    long n;

    *has_intent = *changed_after = 0;
    snprintf(path, sizeof(path), "%s/journal", dir);
    if (access(path, F_OK) != 0)
        return 0;
    n = dfs_journal_open(&j, dir, key, NULL);
    if (n == 0) {
        int ret = dfs_stage_intent(j, start, changed_after);
        n = ret < 0 ? ret : (long)dfs_journal_count(j);
        *has_intent = ret == 1;
    }
    if (n < 0)
        fprintf(stderr, "discfs: the stage '%s' cannot be read: %s\n", dir,
                dfs_journal_error(j)[0] ? dfs_journal_error(j) : strerror((int)-n));
    dfs_journal_close(j);
    return n;
}

int dfs_find_stage(struct dfs_disc *disc, const char *root)
{
    const struct dfs_disc_info *info = dfs_disc_get_info(disc);
    struct dfs_session_ref *s = NULL;
    char dir[4096], cur[65];
    int n, has_intent, changed_after, shown = 0;
    uint32_t start = 0;
    long recs;

    if (info->state == DFS_MEDIA_BLANK)
        return 0;
    n = dfs_disc_sessions(disc, &s);
    if (n <= 0) {
        free(s);
        return n;
    }
    snprintf(cur, sizeof(cur), "%s", info->stage_key);
    snprintf(dir, sizeof(dir), "%s/%s", root, cur);
    recs = stage_records(dir, cur, &has_intent, &start, &changed_after);
    if (recs < 0) {
        free(s);
        return (int)recs;
    }
    shown = recs > 0; /* the stage of the session shown has changes: it stays first */
    for (int i = n - 1; i >= 0; i--) {
        if (strcmp(s[i].key, cur) == 0)
            continue;
        snprintf(dir, sizeof(dir), "%s/%s", root, s[i].key);
        recs = stage_records(dir, s[i].key, &has_intent, &start, &changed_after);
        if (recs <= 0) {
            if (recs == 0 && access(dir, F_OK) == 0)
                dfs_store_destroy(dir); /* an empty stage */
            continue;
        }
        if (has_intent && !changed_after && start == s[n - 1].msc1 &&
            dfs_disc_newest_verifies(disc) == 1) {
            if (s[i].any_blank) { /* it may be another blank disc's: never removed here */
                fprintf(stderr,
                        "discfs: '%s' holds %ld changes staged for a blank disc; if this "
                        "disc's session %d was written from them, remove it; else mount that "
                        "blank disc to write them\n",
                        dir, recs, s[n - 1].number);
                continue;
            }
            fprintf(stderr,
                    "discfs: the changes staged in '%s' were written as session %d (the mount "
                    "that wrote it stopped before it cleared its stage): removed\n",
                    dir, s[n - 1].number);
            dfs_store_destroy(dir);
            continue;
        }
        if (shown || !has_intent) {
            /* changes for an older session, not from a commit of this disc that
             * went wrong: the disc got newer sessions elsewhere */
            fprintf(stderr,
                    "discfs: '%s' holds %ld changes for session %d of this disc, which has "
                    "newer sessions: they are not shown; to write them, mount the disc with "
                    "that stage moved to '%s/%s' (they then replace what the newer "
                    "sessions changed), or remove it to drop them\n",
                    dir, recs, s[i].number, root, cur);
            continue;
        }
        /* a commit of these changes did not reach the disc as it was meant */
        if (dfs_disc_load_session(disc, s[i].number) != 0) {
            fprintf(stderr,
                    "discfs: cannot show session %d of the disc, which the changes in "
                    "'%s' apply to: they are kept there\n",
                    s[i].number, dir);
            free(s);
            return -EIO;
        }
        fprintf(stderr,
                "discfs: the newest session of the disc does not hold the changes staged in "
                "'%s' (a commit that did not complete): showing %s%d with them; the next "
                "commit writes them after all sessions\n",
                dir, s[i].number < 0 ? "the empty disc, as before session " : "session ",
                s[i].number < 0 ? 1 : s[i].number);
        shown = 1;
        snprintf(cur, sizeof(cur), "%s", s[i].key);
    }
    free(s);
    return 0;
}

/* The number of the session of DISC whose stage key is KEY (0: the blank disc) */
static int session_of(struct dfs_disc *disc, const char *key)
{
    struct dfs_session_ref *s = NULL;
    int n = dfs_disc_sessions(disc, &s), number = dfs_disc_get_info(disc)->sessions;

    for (int i = 0; i < n; i++)
        if (strcmp(s[i].key, key) == 0)
            number = s[i].number < 0 ? 0 : s[i].number;
    free(s);
    return number;
}

void dfs_stage_note_origin(struct dfs_disc *disc, const char *stage_dir, const char *device,
                           const char *from_dir)
{
    const struct dfs_disc_info *info = dfs_disc_get_info(disc);
    const char *image = dfs_disc_image_path(disc);
    struct dfs_stage_origin o;
    char cwd[4096];
    int err;

    if (!device && dfs_stage_read_origin(from_dir, &o) == 0) {
        o.session = info->sessions; /* after a commit: its new session */
    } else {
        memset(&o, 0, sizeof(o));
        o.mounted = (int64_t)time(NULL);
        o.session = info->state == DFS_MEDIA_BLANK ? 0 : session_of(disc, info->stage_key);
        snprintf(o.kind, sizeof(o.kind), "%s", image ? "image" : "drive");
        snprintf(o.device, sizeof(o.device), "%s", device ? device : "");
        if (image)
            snprintf(o.path, sizeof(o.path), "%s", image);
        else if (device && strncmp(device, "mmc:", 4) == 0 && device[4] != '/' &&
                 getcwd(cwd, sizeof(cwd)))
            snprintf(o.path, sizeof(o.path), "mmc:%.*s/%s", 2000, cwd, device + 4);
        else
            snprintf(o.path, sizeof(o.path), "%s", device ? device : "");
    }
    snprintf(o.volid, sizeof(o.volid), "%s", o.session ? info->volid : "");
    snprintf(o.profile, sizeof(o.profile), "%s", info->profile);
    snprintf(o.version, sizeof(o.version), "%s", DISCFS_VERSION);
    err = dfs_stage_write_origin(stage_dir, &o);
    if (err)
        fprintf(stderr,
                "discfs: cannot note in '%s' which disc it belongs to (%s); `discfs stages` "
                "lists it as unknown\n",
                stage_dir, strerror(-err));
}

/* fs/cmd_sessions.c - `discfs sessions DEVICE`: the sessions of a disc or image
 * (number, start, size, date, volume id), each of which `-o session=N` mounts */
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
    fprintf(out, "usage: discfs sessions DEVICE\n"
                 "List the sessions of the disc in DEVICE (a drive, or an ISO image file):\n"
                 "number, first block, size in blocks of 2 KiB, date as recorded, volume id.\n"
                 "discfs DEVICE MOUNTPOINT -o session=N mounts session N read-only.\n"
                 "An image file is only read: it may be mounted meanwhile.\n");
}

int dfs_cmd_sessions(int argc, char *argv[])
{
    struct dfs_disc *disc = NULL;
    struct dfs_session_ref *s = NULL;
    int n, err, shown = 0;

    if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 3) {
        usage(stderr);
        return DFS_EXIT_USAGE;
    }
    err = dfs_cli_open_disc(argv[2], DFS_CLI_TOC, &disc);
    if (err)
        return err;
    n = dfs_disc_sessions(disc, &s);
    if (n < 0) {
        fprintf(stderr, "discfs: cannot read the sessions of '%s': %s\n", argv[2], strerror(-n));
    } else {
        for (int i = 0; i < n; i++) {
            if (s[i].number < 1)
                continue; /* the blank disc before the first session */
            if (!shown++)
                printf("%-7s  %10s  %10s  %-25s  %s\n", "session", "start", "blocks",
                       "date (as recorded)", "volume id");
            printf("%-7d  %10u  %10u  %-25s  %s\n", s[i].number, s[i].msc1, s[i].blocks,
                   s[i].date[0] ? s[i].date : "-", s[i].volid[0] ? s[i].volid : "-");
        }
        if (!shown)
            printf("'%s' has no session (a blank disc)\n", argv[2]);
    }
    free(s);
    dfs_cli_close_disc(disc);
    return n < 0 ? DFS_EXIT_FAILURE : 0;
}

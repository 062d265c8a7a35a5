/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vd-probe NODE: grab a drive with libburn and print what libburn believes
 * about the medium, one line; then, for every "reassess" line on stdin,
 * call burn_drive_re_assess() and print again. "quit" or EOF ends it.
 * This is how discfs checks a medium before a commit; t-swap.sh uses it.
 */
#include <libburn/libburn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(struct burn_drive *d)
{
    char profile[80] = "", disc_type[80] = "", bar[9] = "";
    char *product = NULL, *c1 = NULL, *c2 = NULL, *book = NULL;
    unsigned int disc_id = 0;
    int pno = 0, app = 0, valid = 0, msc1 = -1, lba = 0, nwa = -1, n = 0;
    enum burn_disc_status st = burn_disc_get_status(d);
    struct burn_write_opts *o;
    struct burn_disc *disc;

    burn_disc_get_profile(d, &pno, profile);
    burn_disc_get_cd_info(d, disc_type, &disc_id, bar, &app, &valid);
    if (burn_disc_get_media_id(d, &product, &c1, &c2, &book, 0) <= 0)
        product = NULL;
    if (st == BURN_DISC_APPENDABLE || st == BURN_DISC_FULL)
        if (burn_disc_get_msc1(d, &msc1) <= 0)
            msc1 = -1;
    o = burn_write_opts_new(d);
    burn_write_opts_set_write_type(o, BURN_WRITE_TAO, BURN_BLOCK_MODE1);
    burn_write_opts_set_multi(o, 1);
    if (st == BURN_DISC_BLANK || st == BURN_DISC_APPENDABLE)
        if (burn_disc_track_lba_nwa(d, o, 0, &lba, &nwa) <= 0)
            nwa = -1;
    burn_write_opts_free(o);
    disc = burn_drive_get_disc(d);
    if (disc) {
        burn_disc_get_sessions(disc, &n);
        burn_disc_free(disc);
    }
    printf("status %d profile 0x%04x sessions %d msc1 %d nwa %d "
           "disc_id %s0x%08x media_id %s\n",
           (int)st, pno, n, msc1, nwa, (valid & 2) ? "" : "invalid:", disc_id,
           product ? product : "-");
    fflush(stdout);
    free(product);
    free(c1);
    free(c2);
    free(book);
}

int main(int argc, char **argv)
{
    struct burn_drive_info *info = NULL;
    char line[64];

    if (argc != 2) {
        fprintf(stderr, "usage: vd-probe NODE\n");
        return 2;
    }
    if (!burn_initialize()) {
        fprintf(stderr, "vd-probe: cannot initialize libburn\n");
        return 1;
    }
    burn_msgs_set_severities("NEVER", "SORRY", "vd-probe: ");
    if (burn_drive_scan_and_grab(&info, argv[1], 1) <= 0) {
        fprintf(stderr, "vd-probe: cannot grab '%s'\n", argv[1]);
        burn_finish();
        return 1;
    }
    report(info[0].drive);
    while (fgets(line, sizeof(line), stdin)) {
        if (strncmp(line, "reassess", 8) == 0) {
            if (burn_drive_re_assess(info[0].drive, 0) <= 0)
                printf("re-assess failed\n");
            report(info[0].drive);
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        }
    }
    burn_drive_release(info[0].drive, 0);
    burn_finish();
    return 0;
}

/* burn/space.c - what the next session may use of the disc (DESIGN.md, Space)
 *
 * Appending a session of P blocks of ISO 9660 data takes from the disc's free
 * blocks (the drive's, NWA based):
 *
 *   track  = P, padded to the medium's minimum track (CD: 300 blocks), rounded up
 *            to its track alignment (DVD 16, BD and emulated sessions 32)
 *   runout = blocks after the track (CD TAO: 2)
 *   gap    = what closing the session costs before the next NWA
 *
 * CD gaps are the Red Book figures every drive reports: 11400 blocks after the
 * first session (lead-out 6750 + next lead-in 4500 + pre-gap 150), 6900 after each
 * later one (lead-out 2250).  DVD and BD gaps vary by medium and drive, so they
 * are learned from the disc's own session history where it has one (the largest
 * gap after its second and later sessions for a later session, or, while the
 * disc has only the gap after its first session, that one: on the safe side by
 * the difference when later gaps are smaller), else taken from the table below.  The table's DVD
 * figures follow libisoburn's remark of "about 38100 blocks after the first session" of a DVD-R,
 * rounded up to 38112; the later DVD-R gap and the DVD+R gaps are assumptions not yet measured on a
 * real drive (the same ones tests/vdrive models); BD-R in SRM has no gap.  Emulated media (image
 * files, DVD+RW, BD-RE) only align sessions to 32 blocks.
 */
#include "internal.h"

#include <string.h>

struct media_costs {
    int profile;
    uint32_t min_track, align, runout, gap_first, gap_next;
};

static const struct media_costs table[] = {
    {0x09, 300, 1, 2, 11400, 6900}, /* CD-R */
    {0x0a, 300, 1, 2, 11400, 6900}, /* CD-RW */
    {0x11, 0, 16, 0, 38112, 6144},  /* DVD-R sequential */
    {0x15, 0, 16, 0, 38112, 6144},  /* DVD-R DL sequential */
    {0x14, 0, 16, 0, 38112, 6144},  /* DVD-RW sequential */
    {0x1b, 0, 16, 0, 2048, 2048},   /* DVD+R */
    {0x2b, 0, 16, 0, 2048, 2048},   /* DVD+R DL */
    {0x41, 0, 32, 0, 0, 0},         /* BD-R SRM */
};
static const struct media_costs emulated = {0, 0, 32, 0, 0, 0};
static const struct media_costs unknown = {0, 300, 32, 2, 38112, 6900}; /* the worst of all */

/* Session starts and ends from the table of contents: the gap after session i
 * is the start of session i+1 minus the end of session i. */
static void learn_gaps(struct dfs_disc *d, struct media_costs *mc)
{
    struct isoburn_toc_disc *toc = isoburn_toc_drive_get_disc(d->drive);
    struct isoburn_toc_session **sess;
    uint32_t later = 0;
    int n = 0, learned = 0;

    if (!toc)
        return;
    sess = isoburn_toc_disc_get_sessions(toc, &n);
    for (int i = 0; sess && i + 1 < n; i++) {
        struct isoburn_toc_track **tr;
        struct burn_toc_entry end, next;
        int nt = 0;

        isoburn_toc_session_get_leadout_entry(sess[i], &end);
        tr = isoburn_toc_session_get_tracks(sess[i + 1], &nt);
        if (!tr || nt < 1)
            break;
        isoburn_toc_track_get_entry(tr[0], &next);
        if (!(end.extensions_valid & 1) || !(next.extensions_valid & 1) ||
            next.start_lba < end.start_lba)
            break;
        if (i == 0) {
            mc->gap_first = (uint32_t)(next.start_lba - end.start_lba) + mc->runout;
        } else if ((uint32_t)(next.start_lba - end.start_lba) + mc->runout > later) {
            later = (uint32_t)(next.start_lba - end.start_lba) + mc->runout;
            learned = 1;
        }
    }
    if (learned)
        mc->gap_next = later;
    else if (n >= 2 && mc->runout == 0) /* DVD/BD, only the first gap known: the best
                                         * guess there is (a CD's first gap holds a
                                         * lead-in the later ones do not) */
        mc->gap_next = mc->gap_first;
    isoburn_toc_disc_free(toc);
}

void dfs_space_load(struct dfs_disc *d)
{
    struct media_costs mc = unknown;
    int profile = 0;
    char name[80];

    if (d->image_path || d->info.emulated) {
        mc = emulated;
    } else {
        burn_disc_get_profile(d->drive, &profile, name);
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
            if (table[i].profile == profile)
                mc = table[i];
        if (d->info.sessions >= 2)
            learn_gaps(d, &mc);
    }
    d->space.min_track = mc.min_track;
    d->space.align = mc.align;
    d->space.runout = mc.runout;
    d->space.gap = d->info.state == DFS_MEDIA_BLANK ? mc.gap_first : mc.gap_next;
    d->space.capacity =
        d->info.state == DFS_MEDIA_CLOSED ? d->info.nwa : d->info.nwa + d->free_blocks;
}

uint64_t dfs_disc_session_blocks(struct dfs_disc *d, uint64_t payload)
{
    uint64_t track = payload, align = d->space.align ? d->space.align : 1;

    if (track < d->space.min_track)
        track = d->space.min_track;
    track = (track + align - 1) / align * align;
    return track + d->space.runout + d->space.gap;
}

uint64_t dfs_disc_max_file_blocks(struct dfs_disc *d)
{
    if (d->image_path || !d->space.capacity) /* unknown: no limit of its own */
        return (uint64_t)1 << 32;
    return d->space.capacity;
}

uint64_t dfs_disc_capacity(struct dfs_disc *d)
{
    if (d->image_path)
        return d->info.nwa + dfs_disc_free_blocks(d);
    return d->space.capacity;
}

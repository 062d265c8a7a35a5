/* burn/reimport.c - a session of the disc imported once more, for nodes of its
 * files (dedup.c): apart from d->image, with libisofs alone, its blocks read
 * through dfs_disc_read_blocks() (image files and drives alike) */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ds_open(IsoDataSource *src)
{
    (void)src;
    return ISO_SUCCESS;
}

static int ds_read_block(IsoDataSource *src, uint32_t lba, uint8_t *buffer)
{
    return dfs_disc_read_blocks(src->data, lba, buffer, 1) == 0 ? ISO_SUCCESS
                                                                : (int)ISO_DATA_SOURCE_FAILURE;
}

static void ds_free(IsoDataSource *src)
{
    (void)src; /* src->data is the disc, which outlives the image */
}

static IsoDataSource *data_source(struct dfs_disc *d)
{
    IsoDataSource *src = calloc(1, sizeof(*src));

    if (src) {
        src->refcount = 1;
        src->open = ds_open;
        src->close = ds_open;
        src->read_block = ds_read_block;
        src->free_data = ds_free;
        src->data = d;
    }
    return src;
}

/* Read options for the session at LBA, as the mount reads (AAIP: isofs.cx names a
 * file's MD5); MD5: with its checksum array, its tag not checked */
static IsoReadOpts *read_opts(uint32_t lba, int md5)
{
    IsoReadOpts *ro = NULL;

    if (iso_read_opts_new(&ro, 0) < 0)
        return NULL;
    iso_read_opts_set_start_block(ro, lba);
    iso_read_opts_set_no_aaip(ro, 0);
    iso_read_opts_set_no_md5(ro, md5 ? 2 : 1);
    iso_read_opts_set_new_inos(ro, 0);
    iso_read_opts_set_no_joliet(ro, 1);
    iso_read_opts_set_no_iso1999(ro, 1);
    return ro;
}

int dfs_import_session(struct dfs_disc *d, uint32_t lba, int md5, IsoImage **out)
{
    IsoDataSource *src = data_source(d);
    IsoReadOpts *ro = read_opts(lba, md5);
    int ret = src && ro ? iso_image_new("discfs", out) : (int)ISO_OUT_OF_MEM;

    if (ret >= 0)
        ret = iso_image_import(*out, src, ro, NULL);
    if (ro)
        iso_read_opts_free(ro);
    if (src)
        iso_data_source_unref(src);
    if (ret < 0) {
        if (*out)
            iso_image_unref(*out);
        *out = NULL;
        return ret == (int)ISO_OUT_OF_MEM ? -ENOMEM : -EIO;
    }
    return 0;
}

int dfs_session_has_file(struct dfs_disc *d, uint32_t lba, const char *const *paths,
                         const off_t *sizes, size_t n)
{
    IsoDataSource *src = data_source(d);
    IsoReadOpts *ro = read_opts(lba, 0);
    IsoImageFilesystem *fs = NULL;
    int has = 0;

    if (src && ro && iso_image_filesystem_new(src, ro, 0x1fffff, &fs) >= 0) {
        for (size_t i = 0; !has && i < n; i++) {
            IsoFileSource *f = NULL;
            struct stat st;

            if (paths[i] && fs->get_by_path(fs, paths[i], &f) >= 0 && f) {
                has = iso_file_source_lstat(f, &st) >= 0 && S_ISREG(st.st_mode) &&
                      st.st_size == sizes[i];
                iso_file_source_unref(f);
            }
        }
        fs->close(fs);
        iso_filesystem_unref(fs);
    }
    if (ro)
        iso_read_opts_free(ro);
    if (src)
        iso_data_source_unref(src);
    return has;
}

int dfs_session_sane(struct dfs_disc *d, uint32_t lba)
{
    int err;

    for (int i = 0; i < d->n_sane; i++)
        if (d->sane[i] == lba)
            return 0;
    err = dfs_check_tree_at(d, lba);
    if (!err && d->n_sane < (int)(sizeof(d->sane) / sizeof(*d->sane)))
        d->sane[d->n_sane++] = lba;
    return err;
}

int dfs_disc_open_snapshot(struct dfs_disc *d, int number, struct dfs_disc **out)
{
    struct dfs_session_ref *s = NULL;
    struct dfs_disc *c;
    int n, err = -ENOENT;

    *out = NULL;
    if (d->parent)
        return -EINVAL;
    n = dfs_disc_sessions(d, &s);
    if (n < 0)
        return n;
    c = dfs_disc_new();
    if (!c) {
        free(s);
        return -ENOMEM;
    }
    c->parent = d;
    for (int i = 0; i < n; i++) {
        if (s[i].number != number)
            continue;
        /* the drive's lock: a commit may be using the drive and the checked list */
        pthread_mutex_lock(&d->read_lock);
        /* never a session of another disc: the mounted one must be there now */
        err = dfs_disc_check_reads(d);
        if (err)
            snprintf(c->last_error, sizeof(c->last_error),
                     "'%s' is not the mounted disc now (said above)", dfs_disc_name(d));
        else if ((err = dfs_session_sane(d, s[i].msc1)) != 0)
            snprintf(c->last_error, sizeof(c->last_error), "%s",
                     err == -ENOMEM ? "out of memory" : d->last_error);
        else if ((err = dfs_import_session(d, s[i].msc1, 0, &c->image)) != 0 && err != -ENOMEM)
            /* unreadable blocks of the mounted disc: the session's own, for good */
            err = dfs_disc_check_reads(d) ? -EIO : -EUCLEAN;
        if (err == -EUCLEAN && !c->last_error[0])
            snprintf(c->last_error, sizeof(c->last_error),
                     "libisofs cannot import the directory tree of the session at block %u "
                     "(the other sessions can be read: copy what you need from one of them, "
                     "or with another reader)",
                     s[i].msc1);
        else if (err && !c->last_error[0])
            snprintf(c->last_error, sizeof(c->last_error), "%s",
                     err == -ENOMEM ? "out of memory"
                                    : "the disc could not be read (is it the mounted one?)");
        c->info = d->info;
        pthread_mutex_unlock(&d->read_lock);
        c->info.state = DFS_MEDIA_CLOSED; /* shown as written: nothing goes into it */
        c->info.sessions = number;
        c->info.msc1 = s[i].msc1;
        c->info.empty_tree = 0;
        memcpy(c->info.volid, s[i].volid, sizeof(c->info.volid));
        break;
    }
    free(s);
    if (err == -ENOENT)
        snprintf(c->last_error, sizeof(c->last_error), "no such session");
    *out = c; /* after a failure too: the caller may read last_error, then close */
    return err;
}

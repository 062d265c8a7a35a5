/* fs/readahead.c - how far the kernel reads ahead in the mount's files.  A FUSE
 * mount starts with 128 KiB whatever it reads from, so a file read through the mount
 * came off the image in steps of 128 KiB where `dd` of the image itself reads ahead
 * as far as the image's device does (8 MiB on the bench's virtio disk: a cold read
 * through the mount ran at about 70 % of the image's rate, BENCHMARKS.md).  The
 * mount reads ahead as far as the device that holds the disc's data, or as
 * -o readahead=KB says; the kernel's knob is /sys/class/bdi/MAJ:MIN/read_ahead_kb
 * of the mount (root only). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "discfs.h"

/* the number in the sysfs file PATH, or -1 */
static long read_number(const char *path)
{
    char buf[32];
    long v = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n > 0) {
        char *end;
        buf[n] = 0;
        v = strtol(buf, &end, 10);
        if (end == buf || v < 0)
            v = -1;
    }
    return v;
}

long dfs_readahead_of(const char *path)
{
    struct stat st;
    char sys[96];
    dev_t dev;
    long kb;

    if (stat(path, &st) < 0)
        return -1;
    dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
    /* a whole disk has its queue; a partition's is its disk's */
    snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/queue/read_ahead_kb", major(dev), minor(dev));
    kb = read_number(sys);
    if (kb < 0) {
        snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/../queue/read_ahead_kb", major(dev),
                 minor(dev));
        kb = read_number(sys);
    }
    return kb;
}

struct mount_dev {
    const char *point;
    char dev[32];
};

/* the last discfs mount on the point is ours (never another filesystem's device:
 * its readahead is everyone's) */
static int note_dev(const char *dev, const char *mnt, const char *type, const char *source,
                    void *arg)
{
    struct mount_dev *q = arg;

    (void)source;
    if (dfs_is_discfs_type(type) && strcmp(mnt, q->point) == 0)
        snprintf(q->dev, sizeof(q->dev), "%s", dev);
    return 0;
}

/* the readahead of the FUSE mount at MOUNTPOINT (a real path) set to KB: 0, or
 * -errno with the file that failed in FILE */
static int set_readahead(const char *mountpoint, unsigned long kb, char *file, size_t size)
{
    struct mount_dev q = {mountpoint, ""};
    int fd, err = 0;

    dfs_scan_mounts(note_dev, &q);
    if (!q.dev[0]) {
        snprintf(file, size, "/proc/self/mountinfo, which has no discfs mount on it");
        return -ENOENT;
    }
    snprintf(file, size, "/sys/class/bdi/%s/read_ahead_kb", q.dev);
    fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (dprintf(fd, "%lu\n", kb) < 0)
        err = -errno;
    if (close(fd) < 0 && !err)
        err = -errno;
    return err;
}

void dfs_readahead_apply(struct dfs_mount *m)
{
    char file[128];
    long kb;
    int err;

    /* every open asks: a load, the exchange only the once */
    if (__atomic_load_n(&m->readahead_kb, __ATOMIC_RELAXED) < 0)
        return;
    kb = __atomic_exchange_n(&m->readahead_kb, -1, __ATOMIC_RELAXED);
    if (kb < 0)
        return; /* another open took it meanwhile */
    err = set_readahead(m->opt.mountpoint, (unsigned long)kb, file, sizeof(file));
    if (err && m->opt.readahead)
        fprintf(stderr,
                "discfs: cannot set the readahead of '%s' to %ld KiB (%s: %s): it reads ahead "
                "as the kernel chose (root can set it)\n",
                m->opt.mountpoint, kb, file, strerror(-err));
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvdrive.so: LD_PRELOAD this to turn a regular file into an MMC burner.
 *
 * Only ioctl() is interposed. libburn opens the node file natively (it is
 * a regular file, so O_EXCL and fcntl locks just work) and then talks to it
 * with SG_IO; we recognise the fd by st_dev/st_ino of the node and answer in
 * user space. Every other fd and request goes to the real ioctl().
 *
 * Environment (read once, at the first ioctl):
 *   VDRIVE_DIR   the drive directory (see vdrive.h); unset: the shim is off
 *   VDRIVE_NODE  the node file (default: $VDRIVE_DIR/node)
 *   VDRIVE_LOG   the CDB log (default: $VDRIVE_DIR/cdb.log; empty: none)
 *   VDRIVE_SLEEP_MAX_US  cap every usleep() and sleep() of the process at
 *                this many microseconds (libburn sleeps 0.5 s after each
 *                START UNIT and polls slowly; a virtual drive needs no
 *                waiting). Unset: sleeps are untouched.
 */
#define _GNU_SOURCE
#include "vdrive.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/hdreg.h>
#include <pthread.h>
#include <scsi/scsi.h>
#include <scsi/scsi_ioctl.h>
#include <scsi/sg.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef int (*usleep_fn)(useconds_t);

/*
 * The one piece of file-scope state: an LD_PRELOAD shim has no caller that
 * could hand it a context. It is set up once (pthread_once) and every use
 * after that holds shim.lock, because libburn issues commands from its
 * worker threads.
 */
static struct {
    pthread_once_t once;
    pthread_mutex_t lock;
    ioctl_fn real_ioctl;
    usleep_fn real_usleep;
    unsigned long sleep_max_us; /* 0: no cap */
    int enabled;
    char node[VD_PATH_MAX];
    int log_fd;
    struct vd_ctx ctx;
} shim = {
    .once = PTHREAD_ONCE_INIT,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .log_fd = -1,
};

static void shim_init(void)
{
    const char *dir = getenv("VDRIVE_DIR");
    const char *node = getenv("VDRIVE_NODE");
    const char *log = getenv("VDRIVE_LOG");
    const char *cap = getenv("VDRIVE_SLEEP_MAX_US");
    char path[VD_PATH_MAX];

    shim.real_ioctl = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
    shim.real_usleep = (usleep_fn)dlsym(RTLD_NEXT, "usleep");
    if (cap && *cap)
        shim.sleep_max_us = strtoul(cap, NULL, 10);
    if (!dir || !*dir)
        return;
    vd_ctx_init(&shim.ctx, dir);
    if (node && *node)
        snprintf(shim.node, sizeof(shim.node), "%s", node);
    else
        vd_path(shim.node, sizeof(shim.node), dir, "node", "");
    if (!log) {
        vd_path(path, sizeof(path), dir, "cdb.log", "");
        log = path;
    }
    if (*log) {
        shim.log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (shim.log_fd < 0)
            fprintf(stderr, "vdrive: cannot open '%s': %s\n", log, strerror(errno));
    }
    shim.enabled = 1;
}

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_line(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    if (shim.log_fd < 0)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* one write() per line: O_APPEND keeps lines of processes apart */
    if (write(shim.log_fd, line, (size_t)n) < 0)
        return;
}

static int is_our_fd(int fd)
{
    struct stat a, b;

    if (!shim.enabled)
        return 0;
    if (fstat(fd, &a) < 0 || stat(shim.node, &b) < 0)
        return 0;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int do_sg_io(struct sg_io_hdr *h)
{
    struct vd_ctx *c = &shim.ctx;
    struct vd_req r;
    char hex[3 * 16 + 1];
    size_t hl = 0;

    if (h->interface_id != 'S' || h->iovec_count != 0 || h->cmd_len < 6 || h->cmd_len > 16) {
        errno = EINVAL;
        return -1;
    }
    memset(&r, 0, sizeof(r));
    r.cdb = h->cmdp;
    r.cdb_len = h->cmd_len;
    r.buf = h->dxferp;
    r.len = h->dxfer_len;
    switch (h->dxfer_direction) {
    case SG_DXFER_TO_DEV:
        r.dir = VD_DIR_TO_DEV;
        break;
    case SG_DXFER_FROM_DEV:
    case SG_DXFER_TO_FROM_DEV:
        r.dir = VD_DIR_FROM_DEV;
        break;
    default:
        r.dir = VD_DIR_NONE;
        r.len = 0;
        break;
    }

    pthread_mutex_lock(&shim.lock);
    c->error[0] = 0;
    vd_ctx_refresh(c);
    vd_exec(c, &r);
    for (int i = 0; i < h->cmd_len; i++)
        hl += (size_t)snprintf(hex + hl, sizeof(hex) - hl, "%s%02x", i ? " " : "", h->cmdp[i]);
    if (r.check)
        log_line("%ld %s -> CHECK %X/%02X/%02X%s%s", (long)getpid(), hex, r.key, r.asc, r.ascq,
                 r.note[0] ? " " : "", r.note);
    else
        log_line("%ld %s -> GOOD%s%s", (long)getpid(), hex, r.note[0] ? " " : "", r.note);
    pthread_mutex_unlock(&shim.lock);

    h->host_status = 0;
    h->msg_status = 0;
    h->duration = 1;
    h->info = 0;
    h->resid = (int)r.resid;
    if (r.check) {
        uint8_t s[18] = {0};
        int n = h->mx_sb_len < sizeof(s) ? h->mx_sb_len : (int)sizeof(s);

        s[0] = 0x70;
        s[2] = r.key;
        s[7] = 10;
        s[12] = r.asc;
        s[13] = r.ascq;
        if (h->sbp && n > 0)
            memcpy(h->sbp, s, (size_t)n);
        h->sb_len_wr = (unsigned char)(h->sbp ? n : 0);
        h->status = 0x02; /* CHECK CONDITION */
        h->masked_status = 0x01;
        h->driver_status = 0x08; /* DRIVER_SENSE */
        h->info = SG_INFO_CHECK;
    } else {
        h->sb_len_wr = 0;
        h->status = 0;
        h->masked_status = 0;
        h->driver_status = 0;
    }
    return 0;
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);
    pthread_once(&shim.once, shim_init);

    switch (request) {
    case SG_IO:
    case SG_GET_SCSI_ID:
    case SG_GET_VERSION_NUM:
    case SCSI_IOCTL_GET_BUS_NUMBER:
    case SCSI_IOCTL_GET_IDLUN:
    case HDIO_GET_IDENTITY:
        if (!is_our_fd(fd))
            break;
        switch (request) {
        case SG_IO:
            return do_sg_io(arg);
        case SG_GET_SCSI_ID: {
            struct sg_scsi_id *id = arg;
            memset(id, 0, sizeof(*id));
            id->host_no = 7;
            id->scsi_type = TYPE_ROM;
            id->h_cmd_per_lun = 1;
            id->d_queue_depth = 1;
            return 0;
        }
        case SG_GET_VERSION_NUM:
            *(int *)arg = 30536;
            return 0;
        case SCSI_IOCTL_GET_BUS_NUMBER:
            *(int *)arg = 7;
            return 0;
        case SCSI_IOCTL_GET_IDLUN: {
            int *idlun = arg;
            idlun[0] = 7 << 24; /* host 7, channel 0, lun 0, id 0 */
            idlun[1] = 7;
            return 0;
        }
        default: /* HDIO_GET_IDENTITY: not an ATA disk */
            errno = ENOTTY;
            return -1;
        }
    default:
        break;
    }
    if (!shim.real_ioctl) {
        errno = ENOSYS;
        return -1;
    }
    return shim.real_ioctl(fd, request, arg);
}

int usleep(useconds_t us)
{
    pthread_once(&shim.once, shim_init);
    if (shim.sleep_max_us && us > shim.sleep_max_us)
        us = (useconds_t)shim.sleep_max_us;
    if (!shim.real_usleep) {
        errno = ENOSYS;
        return -1;
    }
    return shim.real_usleep(us);
}

unsigned int sleep(unsigned int seconds)
{
    struct timespec ts;

    pthread_once(&shim.once, shim_init);
    if (shim.sleep_max_us && (unsigned long)seconds * 1000000 > shim.sleep_max_us) {
        if (shim.real_usleep)
            shim.real_usleep((useconds_t)shim.sleep_max_us);
        return 0;
    }
    ts.tv_sec = seconds;
    ts.tv_nsec = 0;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return 0;
}

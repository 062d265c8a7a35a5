/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vdrive: a virtual MMC burner for tests.
 *
 * A drive lives in one directory (VDRIVE_DIR):
 *
 *   node          the "device node": an empty regular file; programs open it
 *                 through libburn as "mmc:DIR/node"
 *   drive         drive state: which medium is in the tray, a generation
 *                 counter bumped by every load/eject/swap
 *   NAME.medium   a medium's state: type, sessions, tracks, next writable
 *                 address, identity (versioned text, see medium.c)
 *   NAME.data     the medium's 2048-byte blocks (sparse)
 *   faults        armed one-shot faults (write error, power loss, silent corruption)
 *   cdb.log       every CDB the shim answered, one line each
 *
 * This header is the table of contents of the implementation:
 * medium.c (state files), mmc.c (the MMC command set), shim.c (the
 * LD_PRELOAD ioctl() interposer) and vdrive-ctl.c (the command line tool).
 */
#ifndef VDRIVE_H
#define VDRIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define VD_MEDIUM_MAGIC "vdrive-medium"
#define VD_MEDIUM_VERSION 1
#define VD_DRIVE_MAGIC "vdrive-drive"
#define VD_DRIVE_VERSION 1
#define VD_FAULTS_MAGIC "vdrive-faults"
#define VD_FAULTS_VERSION 1

#define VD_BLOCK 2048
#define VD_MAX_TRACKS 256
#define VD_NAME_MAX 64
#define VD_PATH_MAX 4096

/* CD Red Book figures, in blocks (see README.md "Session gaps") */
#define VD_CD_LEADOUT_FIRST 6750
#define VD_CD_LEADOUT_NEXT 2250
#define VD_CD_LEADIN 4500
#define VD_CD_PREGAP 150
#define VD_CD_RUNOUT 2

/* vd_type.flags */
#define VD_CD 0x01
#define VD_DVD_MINUS 0x02
#define VD_DVD_PLUS 0x04
#define VD_BD 0x08
#define VD_ERASABLE 0x10  /* CD-RW: BLANK works */
#define VD_OVERWRITE 0x20 /* DVD+RW, BD-RE: random access writes */

struct vd_type {
    const char *name; /* "cdr", "cdrw", "dvd-r", ... */
    int profile;      /* MMC profile number */
    unsigned flags;
    uint32_t capacity;        /* user blocks (CD: last possible lead-out) */
    uint32_t gap_first;       /* NWA jump after closing the first session */
    uint32_t gap_next;        /* ... after closing any later session */
    uint32_t align;           /* closed tracks end on a multiple of this */
    const char *manufacturer; /* DVD/BD media id parts */
    const char *type_id;
    int revision;
    const char *desc;
};

enum vd_track_state {
    VD_TRACK_OPEN,    /* being written, NWA valid */
    VD_TRACK_DAMAGED, /* interrupted write: damage bit, no NWA */
    VD_TRACK_CLOSED,
};

struct vd_track {
    uint32_t session; /* 1-based */
    uint32_t start;
    uint32_t written; /* blocks recorded (readable) */
    uint32_t size;    /* closed: blocks occupied, incl. run-out/padding;
                         not closed: the reservation, 0 if open-ended */
    enum vd_track_state state;
};

struct vd_medium {
    const struct vd_type *type;
    uint32_t capacity;
    uint32_t gap_first, gap_next;
    uint32_t next_start; /* start of the next (invisible) track */
    uint32_t sessions;   /* closed sessions */
    int finalized;
    int disc_id_valid;
    uint32_t disc_id;
    int atip_m, atip_s, atip_f; /* CD ATIP lead-in start (manufacturer) */
    char manufacturer[16];
    char type_id[8];
    int revision;
    int ntracks;
    struct vd_track track[VD_MAX_TRACKS];
};

enum vd_status { VD_BLANK, VD_APPENDABLE, VD_FULL };

struct vd_drive_state {
    unsigned long generation;
    char medium[VD_NAME_MAX]; /* "" = no medium */
    int tray_open;
};

enum vd_fault_kind { VD_FAULT_WRITE_ERROR, VD_FAULT_POWER_LOSS, VD_FAULT_CORRUPT };
const char *vd_fault_name(enum vd_fault_kind kind);

#define VD_MAX_FAULTS 16
struct vd_faults {
    int n;
    struct {
        enum vd_fault_kind kind;
        uint32_t lba;
    } f[VD_MAX_FAULTS];
};

/* medium.c */
const struct vd_type *vd_type_find(const char *name);
const struct vd_type *vd_type_at(int i);
void vd_medium_init(struct vd_medium *m, const struct vd_type *t);
int vd_medium_load(const char *path, struct vd_medium *m, char *err, size_t errlen);
int vd_medium_save(const char *path, const struct vd_medium *m);
enum vd_status vd_medium_status(const struct vd_medium *m);
const char *vd_status_name(enum vd_status s);
struct vd_track *vd_medium_open_track(struct vd_medium *m);
int vd_medium_nwa(const struct vd_medium *m, uint32_t *nwa);
int vd_medium_open_session(const struct vd_medium *m);
int vd_medium_close_track(struct vd_medium *m);
int vd_medium_close_session(struct vd_medium *m, int finalize);
int vd_medium_readable(const struct vd_medium *m, uint32_t lba, uint32_t n);
uint32_t vd_medium_read_capacity(const struct vd_medium *m);
void vd_medium_blank(struct vd_medium *m);
int vd_medium_reserve(struct vd_medium *m, uint32_t blocks);
int vd_drive_state_load(const char *path, struct vd_drive_state *s, char *err, size_t errlen);
int vd_drive_state_save(const char *path, const struct vd_drive_state *s);
int vd_faults_load(const char *path, struct vd_faults *f);
int vd_faults_save(const char *path, const struct vd_faults *f);
int vd_path(char *buf, size_t len, const char *dir, const char *name, const char *suffix);
int vd_write_atomic(const char *path, const char *text, size_t len);
void vd_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void vd_copy(char *dst, size_t len, const char *src);

/* mmc.c */
struct vd_ctx;
typedef int (*vd_log_fn)(struct vd_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

enum vd_dir { VD_DIR_NONE, VD_DIR_TO_DEV, VD_DIR_FROM_DEV };

struct vd_req {
    const uint8_t *cdb;
    int cdb_len;
    uint8_t *buf; /* data transfer buffer */
    uint32_t len; /* its length */
    enum vd_dir dir;
    uint32_t resid; /* set by vd_exec: bytes not transferred */
    int check;      /* set: CHECK CONDITION with sense below */
    uint8_t key, asc, ascq;
    char note[160]; /* why, for the CDB log */
};

/* The state of one virtual drive as seen by one process. */
struct vd_ctx {
    char dir[VD_PATH_MAX];
    struct vd_drive_state drive;
    struct timespec drive_mtime;
    ino_t drive_ino;
    int have_drive_state;
    int have_medium;
    struct vd_medium m;
    char medium_path[VD_PATH_MAX];
    struct timespec medium_mtime;
    ino_t medium_ino;
    int data_fd;
    unsigned long seen_generation;
    int unit_attention;
    int prevent;
    /* MODE SELECT page 05 (write parameters) */
    uint8_t page05[52];
    /* faults */
    struct timespec faults_mtime;
    ino_t faults_ino;
    struct vd_faults faults;
    /* SAO: SEND CUE SHEET seen, writes may start in the pregap */
    int sao_armed;
    int32_t sao_start;
    char error[256]; /* the last state-file problem, for the log */
};

void vd_ctx_init(struct vd_ctx *c, const char *dir);
void vd_ctx_fini(struct vd_ctx *c);
int vd_ctx_refresh(struct vd_ctx *c);
void vd_exec(struct vd_ctx *c, struct vd_req *r);

#endif

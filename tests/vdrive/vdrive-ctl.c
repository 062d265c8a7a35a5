/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vdrive-ctl: create media and operate the virtual drive (README.md).
 */
#define _GNU_SOURCE
#include "vdrive.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <scsi/sg.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

struct ctl {
    const char *dir;
    char path[VD_PATH_MAX];
    char err[512];
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vdrive-ctl [-C DIR] COMMAND [ARGS]\n"
               "  DIR defaults to $VDRIVE_DIR\n"
               "commands:\n"
               "  init                      create DIR, its node and an empty drive\n"
               "  create NAME TYPE [--capacity N] [--gap-first N] [--gap-next N]\n"
               "         [--disc-id HEX|none] [--atip MM:SS:FF] [--manufacturer S]\n"
               "         [--type-id S] [--revision N] [--load] [--force]\n"
               "                            create a blank medium NAME.medium/.data\n"
               "  load NAME                 put NAME in the drive (swaps), close "
               "tray\n"
               "  eject                     take the medium out of the drive\n"
               "  tray open|close           open or close the tray, medium stays\n"
               "  status                    drive and medium summary, key value\n"
               "  show [NAME]               print a medium state file\n"
               "  fault write-error|power-loss|corrupt --lba N|--after N\n"
               "                            arm a one-shot fault (--after: blocks\n"
               "                            after the loaded medium's NWA)\n"
               "  fault clear               disarm all faults\n"
               "  sg tur|read LBA N|write LBA N\n"
               "                            send one raw SG_IO command to the node\n"
               "                            (run under the shim)\n"
               "  types                     list medium types\n");
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int die(const char *fmt, ...)
{
    va_list ap;

    fputs("vdrive-ctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

static const char *path(struct ctl *c, const char *name, const char *suffix)
{
    if (vd_path(c->path, sizeof(c->path), c->dir, name, suffix) < 0) {
        fprintf(stderr, "vdrive-ctl: path too long: '%s/%s%s'\n", c->dir, name, suffix);
        exit(2);
    }
    return c->path;
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= VD_NAME_MAX || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(name[i] == '-' || name[i] == '_' || name[i] == '.' || name[i] == '+' ||
              (name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= 'A' && name[i] <= 'Z')))
            return 0;
    return 1;
}

static int load_drive(struct ctl *c, struct vd_drive_state *s)
{
    int ret = vd_drive_state_load(path(c, "drive", ""), s, c->err, sizeof(c->err));
    if (ret == -ENOENT) {
        memset(s, 0, sizeof(*s));
        return 0;
    }
    if (ret < 0)
        return die("%s", c->err);
    return 0;
}

static int save_drive(struct ctl *c, const struct vd_drive_state *s)
{
    int ret = vd_drive_state_save(path(c, "drive", ""), s);

    if (ret < 0)
        return die("cannot write '%s': %s", c->path, strerror(-ret));
    return 0;
}

static int cmd_init(struct ctl *c)
{
    struct vd_drive_state s;
    struct stat st;
    int fd, ret;

    if (mkdir(c->dir, 0755) < 0 && errno != EEXIST)
        return die("cannot create '%s': %s", c->dir, strerror(errno));
    fd = open(path(c, "node", ""), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return die("cannot create '%s': %s", c->path, strerror(errno));
    close(fd);
    if (stat(path(c, "drive", ""), &st) == 0)
        return 0;
    memset(&s, 0, sizeof(s));
    ret = save_drive(c, &s);
    return ret;
}

static int set_medium(struct ctl *c, const char *name, int tray_open)
{
    struct vd_drive_state s;
    int ret;

    ret = cmd_init(c);
    if (ret)
        return ret;
    ret = load_drive(c, &s);
    if (ret)
        return ret;
    vd_copy(s.medium, sizeof(s.medium), name);
    s.tray_open = tray_open;
    s.generation++;
    return save_drive(c, &s);
}

static int get_u32(const char *s, uint32_t *v)
{
    char *end;
    unsigned long long x;

    errno = 0;
    x = strtoull(s, &end, 0);
    if (errno || end == s || *end || x > UINT32_MAX)
        return -1;
    *v = (uint32_t)x;
    return 0;
}

static int cmd_create(struct ctl *c, int argc, char **argv)
{
    const struct vd_type *t;
    struct vd_medium m;
    struct stat st;
    int load = 0, force = 0, fd, ret;
    const char *name;

    if (argc < 3)
        return die("create: NAME and TYPE expected");
    name = argv[1];
    if (!valid_name(name))
        return die("invalid medium name '%s'", name);
    t = vd_type_find(argv[2]);
    if (!t)
        return die("unknown medium type '%s' (see 'vdrive-ctl types')", argv[2]);
    vd_medium_init(&m, t);
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t x;

        if (strcmp(o, "--load") == 0) {
            load = 1;
            continue;
        }
        if (strcmp(o, "--force") == 0) {
            force = 1;
            continue;
        }
        if (!v)
            return die("option '%s' needs a value", o);
        i++;
        if (strcmp(o, "--disc-id") == 0) {
            m.disc_id_valid = strcmp(v, "none") != 0;
            if (m.disc_id_valid && get_u32(v, &m.disc_id) < 0)
                return die("bad disc id '%s'", v);
        } else if (strcmp(o, "--atip") == 0) {
            if (sscanf(v, "%d:%d:%d", &m.atip_m, &m.atip_s, &m.atip_f) != 3)
                return die("bad ATIP lead-in '%s' (MM:SS:FF)", v);
        } else if (strcmp(o, "--manufacturer") == 0) {
            vd_copy(m.manufacturer, sizeof(m.manufacturer), v);
        } else if (strcmp(o, "--type-id") == 0) {
            vd_copy(m.type_id, sizeof(m.type_id), v);
        } else if (get_u32(v, &x) < 0) {
            return die("bad number '%s' for '%s'", v, o);
        } else if (strcmp(o, "--capacity") == 0) {
            m.capacity = x;
        } else if (strcmp(o, "--gap-first") == 0) {
            m.gap_first = x;
        } else if (strcmp(o, "--gap-next") == 0) {
            m.gap_next = x;
        } else if (strcmp(o, "--revision") == 0) {
            m.revision = (int)x;
        } else {
            return die("unknown option '%s'", o);
        }
    }
    ret = cmd_init(c);
    if (ret)
        return ret;
    if (!force && stat(path(c, name, ".medium"), &st) == 0)
        return die("medium '%s' exists (use --force)", c->path);
    fd = open(path(c, name, ".data"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return die("cannot create '%s': %s", c->path, strerror(errno));
    close(fd);
    ret = vd_medium_save(path(c, name, ".medium"), &m);
    if (ret < 0)
        return die("cannot write '%s': %s", c->path, strerror(-ret));
    return load ? set_medium(c, name, 0) : 0;
}

static int cmd_load(struct ctl *c, int argc, char **argv)
{
    struct stat st;

    if (argc != 2)
        return die("load: NAME expected");
    if (!valid_name(argv[1]))
        return die("invalid medium name '%s'", argv[1]);
    if (stat(path(c, argv[1], ".medium"), &st) < 0)
        return die("cannot stat '%s': %s", c->path, strerror(errno));
    return set_medium(c, argv[1], 0);
}

static int cmd_tray(struct ctl *c, int argc, char **argv)
{
    struct vd_drive_state s;
    int ret, open_it;

    if (argc != 2 || (strcmp(argv[1], "open") && strcmp(argv[1], "close")))
        return die("tray: 'open' or 'close' expected");
    open_it = strcmp(argv[1], "open") == 0;
    ret = load_drive(c, &s);
    if (ret)
        return ret;
    if (s.tray_open == open_it)
        return 0;
    s.tray_open = open_it;
    s.generation++;
    return save_drive(c, &s);
}

static int load_loaded(struct ctl *c, struct vd_medium *m, char *name, size_t len)
{
    struct vd_drive_state s;
    int ret = load_drive(c, &s);

    if (ret)
        return ret;
    if (!s.medium[0])
        return die("no medium in the drive");
    vd_copy(name, len, s.medium);
    ret = vd_medium_load(path(c, s.medium, ".medium"), m, c->err, sizeof(c->err));
    if (ret < 0)
        return die("%s", c->err);
    return 0;
}

static int cmd_status(struct ctl *c)
{
    struct vd_drive_state s;
    struct vd_medium m;
    uint32_t nwa;
    int ret, valid;

    ret = load_drive(c, &s);
    if (ret)
        return ret;
    printf("generation %lu\n", s.generation);
    printf("tray %s\n", s.tray_open ? "open" : "closed");
    printf("medium %s\n", s.medium[0] ? s.medium : "-");
    if (!s.medium[0])
        return 0;
    ret = vd_medium_load(path(c, s.medium, ".medium"), &m, c->err, sizeof(c->err));
    if (ret < 0)
        return die("%s", c->err);
    valid = vd_medium_nwa(&m, &nwa);
    printf("type %s\n", m.type->name);
    printf("profile 0x%04x\n", m.type->profile);
    printf("status %s\n", vd_status_name(vd_medium_status(&m)));
    printf("capacity %" PRIu32 "\n", m.capacity);
    printf("sessions %" PRIu32 "\n", m.sessions);
    printf("open_session %d\n", vd_medium_open_session(&m));
    printf("tracks %d\n", m.ntracks);
    printf("damaged %d\n", m.ntracks > 0 && m.track[m.ntracks - 1].state == VD_TRACK_DAMAGED);
    if (valid)
        printf("nwa %" PRIu32 "\n", nwa);
    else
        printf("nwa -\n");
    printf("finalized %d\n", m.finalized);
    return 0;
}

static int cmd_show(struct ctl *c, int argc, char **argv)
{
    struct vd_drive_state s;
    char buf[4096];
    const char *name;
    FILE *f;
    size_t n;
    int ret;

    if (argc > 1) {
        name = argv[1];
    } else {
        ret = load_drive(c, &s);
        if (ret)
            return ret;
        if (!s.medium[0])
            return die("no medium in the drive");
        name = s.medium;
    }
    f = fopen(path(c, name, ".medium"), "re");
    if (!f)
        return die("cannot open '%s': %s", c->path, strerror(errno));
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}

static int cmd_fault(struct ctl *c, int argc, char **argv)
{
    struct vd_faults f;
    enum vd_fault_kind kind;
    uint32_t x, lba;
    int ret;

    if (argc == 2 && strcmp(argv[1], "clear") == 0) {
        if (unlink(path(c, "faults", "")) < 0 && errno != ENOENT)
            return die("cannot remove '%s': %s", c->path, strerror(errno));
        return 0;
    }
    if (argc != 4)
        return die("fault: KIND --lba N|--after N expected");
    if (strcmp(argv[1], "write-error") == 0)
        kind = VD_FAULT_WRITE_ERROR;
    else if (strcmp(argv[1], "power-loss") == 0)
        kind = VD_FAULT_POWER_LOSS;
    else if (strcmp(argv[1], "corrupt") == 0)
        kind = VD_FAULT_CORRUPT;
    else
        return die("unknown fault '%s'", argv[1]);
    if (get_u32(argv[3], &x) < 0)
        return die("bad number '%s'", argv[3]);
    if (strcmp(argv[2], "--lba") == 0) {
        lba = x;
    } else if (strcmp(argv[2], "--after") == 0) {
        struct vd_medium m;
        char name[VD_NAME_MAX];
        uint32_t nwa;

        ret = load_loaded(c, &m, name, sizeof(name));
        if (ret)
            return ret;
        if (!vd_medium_nwa(&m, &nwa))
            return die("medium '%s' has no next writable address", name);
        lba = nwa + x;
    } else {
        return die("fault: --lba or --after expected, not '%s'", argv[2]);
    }
    ret = vd_faults_load(path(c, "faults", ""), &f);
    if (ret < 0)
        return die("cannot read '%s': %s", c->path, strerror(-ret));
    if (f.n >= VD_MAX_FAULTS)
        return die("too many faults armed");
    f.f[f.n].kind = kind;
    f.f[f.n++].lba = lba;
    ret = vd_faults_save(path(c, "faults", ""), &f);
    if (ret < 0)
        return die("cannot write '%s': %s", c->path, strerror(-ret));
    printf("%s at lba %" PRIu32 "\n", argv[1], lba);
    return 0;
}

static int cmd_sg(struct ctl *c, int argc, char **argv)
{
    const char *node = getenv("VDRIVE_NODE");
    uint8_t cdb[10] = {0}, sb[32] = {0}, *buf = NULL;
    struct sg_io_hdr h;
    uint32_t lba = 0, n = 0;
    int fd, ret;

    if (argc < 2)
        return die("sg: tur|read|write expected");
    if (strcmp(argv[1], "tur") != 0) {
        if (argc != 4 || get_u32(argv[2], &lba) < 0 || get_u32(argv[3], &n) < 0 || n > 0xffff)
            return die("sg %s: LBA COUNT expected", argv[1]);
    }
    memset(&h, 0, sizeof(h));
    h.interface_id = 'S';
    h.dxfer_direction = SG_DXFER_NONE;
    if (strcmp(argv[1], "read") == 0 || strcmp(argv[1], "write") == 0) {
        int wr = argv[1][0] == 'w';

        cdb[0] = wr ? 0x2a : 0x28;
        cdb[2] = (uint8_t)(lba >> 24);
        cdb[3] = (uint8_t)(lba >> 16);
        cdb[4] = (uint8_t)(lba >> 8);
        cdb[5] = (uint8_t)lba;
        cdb[7] = (uint8_t)(n >> 8);
        cdb[8] = (uint8_t)n;
        buf = calloc(n ? n : 1, VD_BLOCK);
        if (!buf)
            return die("out of memory");
        if (wr)
            memset(buf, 0xa5, (size_t)n * VD_BLOCK);
        h.dxfer_direction = wr ? SG_DXFER_TO_DEV : SG_DXFER_FROM_DEV;
        h.dxfer_len = n * VD_BLOCK;
        h.dxferp = buf;
        h.cmd_len = 10;
    } else if (strcmp(argv[1], "tur") == 0) {
        h.cmd_len = 6;
    } else {
        return die("sg: unknown command '%s'", argv[1]);
    }
    h.cmdp = cdb;
    h.mx_sb_len = sizeof(sb);
    h.sbp = sb;
    h.timeout = 10000;
    if (!node)
        node = path(c, "node", "");
    fd = open(node, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        free(buf);
        return die("cannot open '%s': %s", node, strerror(errno));
    }
    ret = ioctl(fd, SG_IO, &h);
    close(fd);
    free(buf);
    if (ret < 0)
        return die("SG_IO on '%s' failed: %s (is libvdrive.so preloaded?)", node, strerror(errno));
    if (h.sb_len_wr > 0) {
        printf("CHECK %X/%02X/%02X\n", sb[2] & 0x0f, sb[12], sb[13]);
        return 1;
    }
    printf("GOOD\n");
    return 0;
}

int main(int argc, char **argv)
{
    struct ctl c = {0};
    const char *cmd;

    c.dir = getenv("VDRIVE_DIR");
    if (argc > 2 && strcmp(argv[1], "-C") == 0) {
        c.dir = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    cmd = argv[1];
    argc--;
    argv++;
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "types") == 0) {
        const struct vd_type *t;
        for (int i = 0; (t = vd_type_at(i)); i++)
            printf("%-7s profile 0x%04x capacity %" PRIu32 " gap_first %" PRIu32
                   " gap_next %" PRIu32 "  %s\n",
                   t->name, t->profile, t->capacity, t->gap_first, t->gap_next, t->desc);
        return 0;
    }
    if (!c.dir || !*c.dir)
        return die("no drive directory: use -C DIR or set VDRIVE_DIR");
    if (strcmp(cmd, "init") == 0)
        return cmd_init(&c);
    if (strcmp(cmd, "create") == 0)
        return cmd_create(&c, argc, argv);
    if (strcmp(cmd, "load") == 0 || strcmp(cmd, "swap") == 0)
        return cmd_load(&c, argc, argv);
    if (strcmp(cmd, "eject") == 0)
        return set_medium(&c, "", 0);
    if (strcmp(cmd, "tray") == 0)
        return cmd_tray(&c, argc, argv);
    if (strcmp(cmd, "status") == 0)
        return cmd_status(&c);
    if (strcmp(cmd, "show") == 0)
        return cmd_show(&c, argc, argv);
    if (strcmp(cmd, "fault") == 0)
        return cmd_fault(&c, argc, argv);
    if (strcmp(cmd, "sg") == 0)
        return cmd_sg(&c, argc, argv);
    usage(stderr);
    return 2;
}

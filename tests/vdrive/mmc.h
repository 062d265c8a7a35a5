/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tests/vdrive/mmc.h - what mmc.c (the dispatcher, the state files, the simple
 * commands), mmc_write.c (the commands that change the medium) and mmc_info.c
 * (the commands that describe it) share.  Private to the
 * virtual drive; like the rest of it, the names start with vd_.
 */
#ifndef VDRIVE_MMC_H
#define VDRIVE_MMC_H

#include <stddef.h>
#include <stdint.h>

#include "vdrive.h"

#define VD_VENDOR "VIRTUAL "
#define VD_PRODUCT "MMC BURNER      "
#define VD_REVISION "0.1 "
#define VD_SERIAL "VD000001"
#define VD_BUFFER_BYTES (2 * 1024 * 1024)

/* big-endian fields and CD addresses */
void vd_put16(uint8_t *p, uint32_t v);
void vd_put32(uint8_t *p, uint32_t v);
uint32_t vd_get16(const uint8_t *p);
uint32_t vd_get32(const uint8_t *p);
void vd_lba_to_msf(int32_t lba, uint8_t *msf);

/* answers: CHECK CONDITION with fixed-format sense, a note in the CDB log, data */
void vd_sense(struct vd_req *r, int key, int asc, int ascq, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void vd_note(struct vd_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vd_reply(struct vd_req *r, const uint8_t *data, uint32_t len, uint32_t alloc);

/* the loaded medium */
unsigned vd_mflags(const struct vd_ctx *c);
int vd_need_medium(struct vd_ctx *c, struct vd_req *r);
int vd_write_speed(const struct vd_ctx *c);
int vd_last_track_no(const struct vd_ctx *c);

/* the state files: the medium written back (0, or a CHECK CONDITION in R), the
 * fault list read again if it changed, fault I used up */
int vd_save_medium(struct vd_ctx *c, struct vd_req *r);
void vd_refresh_faults(struct vd_ctx *c);
void vd_consume_fault(struct vd_ctx *c, int i);

/* mmc_write.c */
void vd_cmd_write(struct vd_ctx *c, struct vd_req *r, int64_t lba, uint32_t n);
void vd_cmd_sync_cache(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_close(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_reserve_track(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_read_buffer_capacity(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_blank(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_format_unit(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_send_cue_sheet(struct vd_ctx *c, struct vd_req *r);

/* mmc_info.c */
void vd_cmd_get_configuration(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_mode_sense(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_mode_select(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_disc_info(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_track_info(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_read_toc(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_read_disc_structure(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_read_format_capacities(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_get_performance(struct vd_ctx *c, struct vd_req *r);
void vd_cmd_event_status(struct vd_ctx *c, struct vd_req *r);

#endif

/* cache/journal.h - the stage's transaction log
 *
 * One file, STAGE/journal, that records every metadata change of the merged view
 * since the disc's newest session, so that a daemon killed with SIGKILL, or a
 * machine that loses power, finds the stage again on the next mount of the same
 * disc and replays it exactly.  The journal knows nothing of what the records
 * mean (fs/record.h does); it keeps them whole, in order, and honest.
 *
 * On-disk format (all integers little-endian):
 *   header (64 bytes)   "DFSJOURN", u32 version (1), u32 header size (64),
 *                       char base[33]: the fingerprint of the disc the records apply
 *                       to (hex, NUL-terminated), padding, u32 crc32c of bytes 0..59
 *   record              u32 magic 0x52534644 ("DFSR"), u16 version (1), u16 type,
 *                       u32 payload length, u64 sequence number, payload,
 *                       u32 crc32c of the record header and payload
 * An unknown header or record version is refused with a clear message, never
 * guessed.  A record that is cut short or whose checksum fails ends the journal:
 * it is the torn tail of a write that never completed, and it is cut off on open
 * (the records before it are kept).
 *
 * Calling sequence:
 *   dfs_journal_open(&j, stage_dir, fingerprint)   take the stage lock, read the header
 *   dfs_journal_replay(j, fn, ctx)                 every intact record, in order
 *   dfs_journal_append(j, type, payload, len)      after replay; durable on return
 *   dfs_journal_close(j)                           release the lock
 *
 * Guarantees: dfs_journal_append() returns only after the record is written and
 * fdatasync'd, so a change acknowledged to the kernel survives SIGKILL and a power
 * cut (in lazy mode, below: SIGKILL, and a power cut but for the last second).  A new journal is
 * created complete (header written and synced under a temporary name, then renamed into place).
 * After a commit the mount opens a new stage under the new fingerprint and removes the old one
 * (fs/commit.c); a crash in between leaves the old stage behind, which is never replayed because
 * its fingerprint is no longer the disc's.  A journal whose base is not the disc's current
 * fingerprint is never replayed (it belongs to a session that was already written,
 * or to another disc): it is kept aside as journal.stale-N and reported.
 *
 * Locking: the stage directory is locked with flock(STAGE/lock) for as long as the
 * journal is open; a second mount of the same disc gets -EBUSY and the pid of the
 * holder in *holder.
 */
#ifndef DISCFS_CACHE_JOURNAL_H
#define DISCFS_CACHE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DFS_JOURNAL_VERSION 1

struct dfs_journal;

int dfs_journal_open(struct dfs_journal **out, const char *stage_dir, const char *fingerprint,
                     pid_t *holder);
void dfs_journal_close(struct dfs_journal *j);

/* Called for each intact record; a non-zero return stops the replay with it. */
typedef int (*dfs_journal_fn)(void *ctx, uint16_t type, const void *payload, uint32_t len);
/* Returns the number of records replayed, or -errno. *torn is set when a torn
 * tail was cut off. */
long dfs_journal_replay(struct dfs_journal *j, dfs_journal_fn fn, void *ctx, int *torn);

/* A look at the journal of STAGE_DIR for listings (`discfs stages`), also while a
 * mount holds it: no lock is taken and nothing is written (a torn tail is left
 * as it is, a journal of another base is not set aside).  BASE gets the
 * fingerprint in its header; FN (may be NULL) gets every intact record.  Returns
 * the number of intact records, or -errno: -ENOENT no journal, -EBADMSG not a
 * journal, -EPROTONOSUPPORT a version this discfs does not read. */
long dfs_journal_peek(const char *stage_dir, char base[33], dfs_journal_fn fn, void *ctx);

int dfs_journal_append(struct dfs_journal *j, uint16_t type, const void *payload, uint32_t len);
/* Records in the journal now. */
/* Lazy mode (-o journal=async): records are written at once (they survive the
 * death of the process) but synced only by dfs_journal_sync(), which the mount
 * calls once a second, on fsync and on commit: a power cut may lose the records of
 * the last second. */
void dfs_journal_set_lazy(struct dfs_journal *j, int lazy);
int dfs_journal_sync(struct dfs_journal *j);
/* The same in two steps, so that the caller's lock need not be held across the
 * sync: dfs_journal_sync_begin() returns a descriptor to fdatasync() (-1: nothing
 * to sync) and counts the records so far as synced; dfs_journal_sync_end() closes
 * it and, if the sync failed (ERR < 0), counts them as unsynced again and returns
 * the error with the message set. */
int dfs_journal_sync_begin(struct dfs_journal *j);
int dfs_journal_sync_end(struct dfs_journal *j, int fd, int err);
uint64_t dfs_journal_count(const struct dfs_journal *j);
/* The message behind the last failure, or "". */
const char *dfs_journal_error(const struct dfs_journal *j);

uint32_t dfs_crc32c(uint32_t crc, const void *buf, size_t len);

#endif

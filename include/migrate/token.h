/* The back channel of a live migration: the 8-byte tokens the two sides
 * exchange besides the stream (docs/migration-format.md, "The
 * conversation"), and the read receipts a source asks for ("Read
 * receipts"). */
#ifndef ROAM_MIGRATE_TOKEN_H
#define ROAM_MIGRATE_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "migrate/channel.h"

/* Every token is 8 ASCII bytes. */
#define TOKEN_LEN 8
#define TOKEN_CONFIG_OK "ROAMCFOK"
#define TOKEN_FAIL "ROAMFAIL"
#define TOKEN_LOADED "ROAMLOAD"
#define TOKEN_GO "ROAMGO!!"
#define TOKEN_RUNNING "ROAMRUN!"
/* Read receipts: a source that asks for them in its config (field 9) gets
 * "ROAMCFRC" instead of "ROAMCFOK" from a destination that gives them; it
 * may then put SYNC sections in the stream, each answered by "ROAMRCPT"
 * and the u64 count of stream bytes read up to the end of that section. */
#define TOKEN_CONFIG_RECEIPTS "ROAMCFRC"
#define TOKEN_RECEIPT "ROAMRCPT"
#define HANDSHAKE_TIMEOUT_MS 60000

MUST_CHECK int token_send(struct channel *ch, const char *tok);
/* "ROAMFAIL", u32 length, message (best effort: the caller is failing). */
int token_send_fail(struct channel *ch, const char *msg);
/* "ROAMRCPT" and pos (u64, little-endian): the destination has read the
 * stream up to byte pos. */
MUST_CHECK int token_send_receipt(struct channel *ch, uint64_t pos);
/* Reads exactly len bytes, waiting at most timeout_ms in total. */
MUST_CHECK int token_read_timeout(struct channel *ch, void *buf, size_t len, int timeout_ms);
/* Waits for the token want, or want2 where that is not NULL, and returns
 * which came (0 or 1). A FAIL token gives the peer's message as the
 * error. The peer is the source when from_source is set, else the
 * destination; a read receipt from the destination that comes after the
 * source stopped waiting for it is passed over. */
MUST_CHECK int token_expect2(struct channel *ch, const char *want, const char *want2,
                             int timeout_ms, bool from_source);
MUST_CHECK int token_expect(struct channel *ch, const char *want, int timeout_ms,
                            bool from_source);

/* Read receipts (TOKEN_RECEIPT) tell the source how far the destination
 * has read on a channel that cannot count that itself (TCP, whose count
 * ends at the peer's kernel). One SYNC is out at a time. */
struct receipts {
    bool on;          /* the destination gives them */
    bool out;         /* a SYNC went out; its receipt is not in yet */
    uint32_t seq;     /* SYNC sections sent */
    uint64_t sync_at; /* the stream position at the end of the SYNC that is out */
    uint64_t read_to; /* the destination has read this far */
    char tok[TOKEN_LEN];
    unsigned have; /* bytes of a receipt's token read so far */
};

/* Reads the receipt that is due (rc->out), waiting up to wait_ms for its
 * first bytes; 0 whether or not it came (rc->out says), or the error: a
 * FAIL from the destination, anything else than a receipt, or a receipt
 * for another position than rc->sync_at. */
MUST_CHECK int receipt_poll(struct channel *ch, struct receipts *rc, int wait_ms);

#endif

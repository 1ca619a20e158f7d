/* The back channel of a live migration (migrate/token.h). */
#include "migrate/token.h"

#include <string.h>

#include "core/bytes.h"
#include "core/log.h"
#include "host/host.h"

int token_send(struct channel *ch, const char *tok)
{
    return ch->write(ch->opaque, tok, TOKEN_LEN);
}

int token_send_fail(struct channel *ch, const char *msg)
{
    uint8_t len[4];
    uint32_t n = (uint32_t)strlen(msg);
    int rc;

    le32_put(len, n);
    if ((rc = ch->write(ch->opaque, TOKEN_FAIL, TOKEN_LEN)) < 0 ||
        (rc = ch->write(ch->opaque, len, 4)) < 0 || (rc = ch->write(ch->opaque, msg, n)) < 0)
        return rc;
    return 0;
}

int token_read_timeout(struct channel *ch, void *buf, size_t len, int timeout_ms)
{
    uint8_t *p = buf;
    uint64_t deadline = host_time_ns() + (uint64_t)timeout_ms * 1000000u;

    if (!ch->read_some)
        return ch->read(ch->opaque, buf, len);
    while (len) {
        uint64_t now = host_time_ns();
        if (now >= deadline)
            return err_set(-ETIMEDOUT, "%s: no answer from the peer in %d s", ch->name,
                           timeout_ms / 1000);
        int n = ch->read_some(ch->opaque, p, len, (int)((deadline - now) / 1000000u) + 1);
        if (n < 0)
            return n;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A FAIL token's message (after its 8 bytes), as the error to return. */
static int token_fail(struct channel *ch, bool from_source)
{
    const char *peer = from_source ? "the source" : "the destination";
    uint8_t len[4];
    char msg[512];

    if (token_read_timeout(ch, len, 4, 5000) < 0)
        return err_set(-EPROTO, "%s failed (no reason given)", peer);
    uint32_t n = le32_get(len);
    if (n >= sizeof(msg))
        n = sizeof(msg) - 1;
    if (token_read_timeout(ch, msg, n, 5000) < 0)
        n = 0;
    msg[n] = 0;
    for (uint32_t i = 0; i < n; i++)
        if ((uint8_t)msg[i] < 0x20 || (uint8_t)msg[i] > 0x7e)
            msg[i] = '?';
    return err_set(-EPROTO, "%s %s: %s", peer, from_source ? "gave up" : "refused",
                   n ? msg : "no reason given");
}

static int token_unexpected(char *tok, const char *want, bool from_source)
{
    for (int i = 0; i < TOKEN_LEN; i++)
        if ((uint8_t)tok[i] < 0x20 || (uint8_t)tok[i] > 0x7e)
            tok[i] = '?';
    return err_set(-EPROTO, "unexpected answer from %s (%.8s, expected %.8s)",
                   from_source ? "the source" : "the destination", tok, want);
}

int token_expect2(struct channel *ch, const char *want, const char *want2, int timeout_ms,
                  bool from_source)
{
    char tok[TOKEN_LEN];
    int rc;

    for (;;) {
        if ((rc = token_read_timeout(ch, tok, TOKEN_LEN, timeout_ms)) < 0)
            return rc;
        if (memcmp(tok, TOKEN_FAIL, TOKEN_LEN) == 0)
            return token_fail(ch, from_source);
        if (memcmp(tok, want, TOKEN_LEN) == 0)
            return 0;
        if (want2 && memcmp(tok, want2, TOKEN_LEN) == 0)
            return 1;
        if (from_source || memcmp(tok, TOKEN_RECEIPT, TOKEN_LEN) != 0)
            return token_unexpected(tok, want, from_source);
        uint8_t pos[8];
        if ((rc = token_read_timeout(ch, pos, sizeof(pos), 5000)) < 0)
            return rc;
    }
}

int token_expect(struct channel *ch, const char *want, int timeout_ms, bool from_source)
{
    int rc = token_expect2(ch, want, NULL, timeout_ms, from_source);
    return rc < 0 ? rc : 0;
}

int token_send_receipt(struct channel *ch, uint64_t pos)
{
    uint8_t msg[TOKEN_LEN + 8];

    memcpy(msg, TOKEN_RECEIPT, TOKEN_LEN);
    le64_put(msg + TOKEN_LEN, pos);
    return ch->write(ch->opaque, msg, sizeof(msg));
}

int receipt_poll(struct channel *ch, struct receipts *rc, int wait_ms)
{
    while (rc->out) {
        if (rc->have < TOKEN_LEN) {
            int n = ch->read_some(ch->opaque, rc->tok + rc->have, TOKEN_LEN - rc->have, wait_ms);
            if (n <= 0)
                return n;
            rc->have += (unsigned)n;
            continue;
        }
        if (memcmp(rc->tok, TOKEN_FAIL, TOKEN_LEN) == 0)
            return token_fail(ch, false);
        if (memcmp(rc->tok, TOKEN_RECEIPT, TOKEN_LEN) != 0)
            return token_unexpected(rc->tok, TOKEN_RECEIPT, false);
        uint8_t b[8];
        int r = token_read_timeout(ch, b, sizeof(b), 5000);
        if (r < 0)
            return r;
        uint64_t pos = le64_get(b);
        if (pos != rc->sync_at)
            return err_set(-EPROTO, "the destination's read receipt is for byte %llu of the "
                           "stream, but the SYNC it answers ended at byte %llu",
                           (unsigned long long)pos, (unsigned long long)rc->sync_at);
        rc->read_to = pos;
        rc->out = false;
        rc->have = 0;
        log_info("migrate", "read receipt %u: the destination has read %llu bytes", rc->seq,
                 (unsigned long long)pos);
    }
    return 0;
}

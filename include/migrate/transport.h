/* Migration transports: turn a URI into a channel.
 *   tcp:HOST:PORT   TCP (HOST may be a name, an IPv4 address or [IPv6])
 *   unix:PATH       a unix-domain stream socket
 *   file:PATH       a file (snapshots): written when sending, read when receiving
 *   fd:N            an inherited, already-connected file descriptor */
#ifndef ROAM_MIGRATE_TRANSPORT_H
#define ROAM_MIGRATE_TRANSPORT_H

#include "core/err.h"
#include "migrate/channel.h"

struct transport_listener;

/* Opens the sending side (connects, or creates/truncates the file). */
MUST_CHECK int transport_connect(const char *uri, struct channel *out);
/* Opens the receiving side: listens on tcp:/unix: (accept later), or opens
 * file:/fd: for reading (accept then returns it at once). */
MUST_CHECK int transport_listen(const char *uri, struct transport_listener **out);
/* Waits for one peer (timeout_ms -1: forever); -ETIMEDOUT on timeout. */
MUST_CHECK int transport_accept(struct transport_listener *l, struct channel *out,
                                int timeout_ms);
void transport_listener_close(struct transport_listener *l);
/* The URI a listener is reachable at: for tcp: with port 0, the port the
 * system picked ("tcp:127.0.0.1:40123"); otherwise the URI it was given. */
const char *transport_listener_uri(const struct transport_listener *l);
/* Makes a read or write blocked on ch in another thread return with an
 * error (-ECANCELED), and the peer see the end of the stream: for tcp:,
 * unix: and fd: socket channels. A no-op for files, pipes and other
 * channels. Safe to call from any thread while ch is open; ch must still
 * be closed by its owner. */
void transport_shutdown(const struct channel *ch);
/* Checks a URI's syntax without opening anything. */
MUST_CHECK int transport_check_uri(const char *uri);

#endif

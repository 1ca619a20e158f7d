/* The control socket: line-delimited JSON modelled on QMP
 * (docs/control.md). A request is one line
 *   {"execute": "NAME", "arguments": {...}, "id": ANY}
 * and the answer is one line, {"return": ...} or
 * {"error": {"class": "...", "desc": "..."}} (with the request's id).
 * Commands: query-status, stop, cont, quit, migrate, migrate-cancel,
 * query-migrate, migrate-set-parameters, snapshot-save. */
#ifndef ROAM_CORE_CONTROL_H
#define ROAM_CORE_CONTROL_H

#include "core/err.h"
#include "core/vm.h"

struct control;

/* Listens on spec (unix:PATH or tcp:HOST:PORT) and serves clients, one at a
 * time, from its own thread until control_stop(). */
MUST_CHECK int control_start(struct vm *vm, const char *spec, struct control **out);
/* Stops serving: a connected client gets the MIGRATION (if a migration
 * ran) and SHUTDOWN events, then the connection closes. Call it after
 * vm_wait() and before migrate_cleanup()/vm_destroy(). */
void control_stop(struct control *c);

/* Client side, for the roam CLI. */
struct control_client;
/* Connects and reads the greeting (5 s at most). */
MUST_CHECK int control_client_connect(const char *spec, struct control_client **out);
/* Sends one request line and reads the next line (malloc'ed, no newline):
 * the answer, or an event ({"event": ...}) when the server is stopping.
 * Waits as long as the command takes. */
MUST_CHECK int control_client_call(struct control_client *c, const char *request, char **answer);
void control_client_close(struct control_client *c);

#endif

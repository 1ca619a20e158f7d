/* The console's escape keys, after QEMU's character-device multiplexer
 * (-nographic): Ctrl-A and then a key is a command to roam, not input for
 * the guest. A pure state machine that tests drive directly: host input
 * goes in, bytes for the guest (queued until its UART has room) and
 * actions for the caller come out.
 *
 *   Ctrl-A h (or ?)         print the list of keys
 *   Ctrl-A x                quit roam
 *   Ctrl-A a (or Ctrl-A)    send one Ctrl-A to the guest
 *   Ctrl-A, any other key   ignored (as QEMU) */
#ifndef ROAM_CORE_CONSOLE_H
#define ROAM_CORE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESCAPE_KEY 0x01 /* Ctrl-A */
/* Input typed ahead of the guest: the host reads stdin while this has
 * room, so escape keys still work when the guest's UART is full. */
#define CONSOLE_QUEUE_SIZE 4096

/* Actions for the caller, as bits of console_input()'s result. */
enum console_action {
    CONSOLE_HELP = 1u << 0, /* print console_help_text() */
    CONSOLE_QUIT = 1u << 1, /* stop the VM and roam */
};

struct console {
    bool escape; /* Ctrl-A seen: the next byte is a command */
    size_t len;  /* bytes queued for the guest */
    uint8_t queue[CONSOLE_QUEUE_SIZE];
};

void console_init(struct console *c);
/* How many more input bytes console_input() takes (each yields at most
 * one byte for the guest). */
size_t console_room(const struct console *c);
/* Takes len bytes of host input (at most console_room(c); more is
 * dropped): queues the guest's bytes and returns the console_action bits
 * the input asked for. Input after a quit is dropped. */
unsigned console_input(struct console *c, const uint8_t *in, size_t len);
/* The queued bytes for the guest, oldest first; console_take() removes
 * the first n once the guest has them. */
const uint8_t *console_queued(const struct console *c, size_t *len);
void console_take(struct console *c, size_t n);
/* The list of keys, with CR LF line ends (the terminal is in raw mode). */
const char *console_help_text(void);

#endif

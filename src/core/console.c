/* The console's escape keys; see core/console.h. Modelled on QEMU's
 * chardev/char-mux.c (mux_proc_byte): an unknown key after the escape is
 * dropped together with the escape. */
#include "core/console.h"

#include <string.h>

void console_init(struct console *c)
{
    memset(c, 0, sizeof(*c));
}

size_t console_room(const struct console *c)
{
    return CONSOLE_QUEUE_SIZE - c->len;
}

static void console_queue_byte(struct console *c, uint8_t b)
{
    if (c->len < CONSOLE_QUEUE_SIZE)
        c->queue[c->len++] = b;
}

unsigned console_input(struct console *c, const uint8_t *in, size_t len)
{
    unsigned actions = 0;

    for (size_t i = 0; i < len && !(actions & CONSOLE_QUIT); i++) {
        uint8_t b = in[i];
        if (!c->escape) {
            if (b == CONSOLE_ESCAPE_KEY)
                c->escape = true;
            else
                console_queue_byte(c, b);
            continue;
        }
        c->escape = false;
        switch (b) {
        case 'h':
        case '?':
            actions |= CONSOLE_HELP;
            break;
        case 'x':
            actions |= CONSOLE_QUIT;
            break;
        case 'a':
        case CONSOLE_ESCAPE_KEY:
            console_queue_byte(c, CONSOLE_ESCAPE_KEY);
            break;
        default:
            break;
        }
    }
    return actions;
}

const uint8_t *console_queued(const struct console *c, size_t *len)
{
    *len = c->len;
    return c->queue;
}

void console_take(struct console *c, size_t n)
{
    if (n >= c->len) {
        c->len = 0;
        return;
    }
    memmove(c->queue, c->queue + n, c->len - n);
    c->len -= n;
}

const char *console_help_text(void)
{
    return "\r\n"
           "roam console keys:\r\n"
           "  Ctrl-A h    print this help\r\n"
           "  Ctrl-A x    quit roam (the VM stops)\r\n"
           "  Ctrl-A a    send Ctrl-A to the guest (so does Ctrl-A Ctrl-A)\r\n";
}

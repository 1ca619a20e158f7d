/* Console on COM1 (a 16550A UART: the transmitter holding register is
 * written when LSR bit 5, THRE, is set) and the verdict through QEMU's
 * isa-debug-exit convention (the VMM exits with status (value << 1) | 1).
 * At CPL3 the same functions work through kcall (SYS_WRITE,
 * SYS_DEBUG_EXIT): port I/O at CPL3 through IOPL 3 is not an option, as
 * KVM's PVM hypervisor runs CPL3 with IOPL 0 whatever the guest asked. */
#include "guest.h"

void serial_init(void)
{
    outb(COM1 + 1, 0x00); /* no interrupts */
    outb(COM1 + 3, 0x80); /* DLAB */
    outb(COM1 + 0, 0x01); /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0x07); /* FIFO on, cleared */
    outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void putchar_(char c)
{
    /* A bounded wait: a UART that never reports THRE must not hang us. */
    for (unsigned i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        pause();
    outb(COM1, (uint8_t)c);
}

void puts_(const char *s)
{
    console_write(s, strlen(s));
}

static int at_cpl3(void)
{
    return (read_cs() & 3) != 0;
}

void console_write(const char *s, size_t n)
{
    if (at_cpl3()) {
        kcall(SYS_WRITE, (uintptr_t)s, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        putchar_(s[i]);
}

struct out {
    char *buf; /* NULL: to the console, through chunk */
    size_t size, len;
    char chunk[128];
    size_t nchunk;
};

static void out_flush(struct out *o)
{
    console_write(o->chunk, o->nchunk);
    o->nchunk = 0;
}

static void out_c(struct out *o, char c)
{
    if (!o->buf) {
        o->chunk[o->nchunk++] = c;
        if (o->nchunk == sizeof(o->chunk))
            out_flush(o);
    } else if (o->len + 1 < o->size) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void out_num(struct out *o, uint64_t v, unsigned base, int neg, int width, char pad,
                    int upper)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (neg)
        width--;
    if (neg && pad == '0')
        out_c(o, '-');
    for (int i = n; i < width; i++)
        out_c(o, pad);
    if (neg && pad != '0')
        out_c(o, '-');
    while (n)
        out_c(o, tmp[--n]);
}

static int format(struct out *o, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        int width = 0, lng = 0;
        char pad = ' ';
        if (*fmt != '%') {
            out_c(o, *fmt);
            continue;
        }
        fmt++;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            lng++;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            out_num(o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad, 0);
            break;
        }
        case 'u':
            out_num(o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, 0, width, pad, 0);
            break;
        case 'x':
        case 'X':
            out_num(o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, 0, width, pad,
                    *fmt == 'X');
            break;
        case 'p':
            out_c(o, '0');
            out_c(o, 'x');
            out_num(o, (uintptr_t)va_arg(ap, void *), 16, 0, width, pad, 0);
            break;
        case 'c':
            out_c(o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int n = 0;
            if (!s)
                s = "(null)";
            for (const char *t = s; *t; t++)
                n++;
            for (; n < width; n++)
                out_c(o, ' ');
            while (*s)
                out_c(o, *s++);
            break;
        }
        case '%':
            out_c(o, '%');
            break;
        case 0:
            return (int)o->len;
        default:
            out_c(o, '%');
            out_c(o, *fmt);
            break;
        }
    }
    return (int)o->len;
}

int vprintf(const char *fmt, va_list ap)
{
    struct out o;
    int n;
    o.buf = 0;
    o.size = o.len = o.nchunk = 0;
    n = format(&o, fmt, ap);
    out_flush(&o);
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    struct out o;
    va_list ap;
    o.buf = buf;
    o.size = size;
    o.len = o.nchunk = 0;
    va_start(ap, fmt);
    format(&o, fmt, ap);
    va_end(ap);
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

void debug_exit(uint32_t code)
{
    if (at_cpl3())
        kcall(SYS_DEBUG_EXIT, code, 0);
    outl(DEBUG_EXIT_PORT, code);
    /* No debug-exit device: stop here. */
    for (;;)
        __asm__ volatile("cli; hlt");
}

void pass(void)
{
    printf("PASS: %s\n", guest_name);
    debug_exit(0);
}

void fail(const char *fmt, ...)
{
    va_list ap;
    printf("FAIL: %s: ", guest_name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    debug_exit(1);
}

/* One line per check, the PVM probe and a larger GDT for the architecture
 * guests; see check.h. */
#include "check.h"

unsigned check_passed, check_failed, check_skipped;

static void line(const char *verdict, const char *name, const char *fmt, va_list ap)
{
    printf("%s: %s/%s", verdict, guest_name, name);
    if (fmt && *fmt) {
        printf(": ");
        vprintf(fmt, ap);
    }
    printf("\n");
}

void check_pass(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line("PASS", name, fmt, ap);
    va_end(ap);
    check_passed++;
}

void check_ok(const char *name)
{
    printf("PASS: %s/%s\n", guest_name, name);
    check_passed++;
}

void check_fail(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line("FAIL", name, fmt, ap);
    va_end(ap);
    check_failed++;
}

void check_skip(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line("SKIP", name, fmt, ap);
    va_end(ap);
    check_skipped++;
}

int check(int ok, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (ok) {
        check_ok(name);
    } else {
        line("FAIL", name, fmt, ap);
        check_failed++;
    }
    va_end(ap);
    return ok;
}

int check_eq(const char *name, uint64_t got, uint64_t want)
{
    return check(got == want, name, "got 0x%lx, expected 0x%lx", got, want);
}

void check_finish(void)
{
    printf("checks: %u passed, %u failed, %u skipped\n", check_passed, check_failed,
           check_skipped);
    if (check_failed)
        fail("%u of %u checks failed", check_failed, check_passed + check_failed);
}

/* only=a,b,c */
int check_group(const char *group)
{
    char list[128];
    size_t gl = strlen(group);
    int run = 1;
    if (cmdline_str("only", list, sizeof(list))) {
        const char *s = list;
        run = 0;
        while (*s) {
            size_t n = 0;
            while (s[n] && s[n] != ',')
                n++;
            if (n == gl && strncmp(s, group, n) == 0)
                run = 1;
            s += n;
            if (*s == ',')
                s++;
        }
    }
    if (run) {
        printf("group: %s\n", group);
        hold_point(group); /* the groups before it done */
    }
    return run;
}

static uint64_t pvm_probe_user(uint64_t arg)
{
    uint64_t nr = SYS_INFO;
    (void)arg;
    __asm__ volatile(FAULT_BEGIN "int $0x80" FAULT_END : "+a"(nr) : "D"(0ull), "S"(0ull)
                     : "r11", "memory");
    return nr;
}

int pvm(void)
{
    static int known = -1;
    if (known < 0) {
        int mode = cmdline_mode("pvm");
        if (mode == MODE_AUTO) {
            uint64_t c = last_fault.count;
            user_run(pvm_probe_user, 0, 0);
            known = last_fault.count != c && last_fault.vector == 6;
            printf("pvm: %s (int 0x80 at CPL3 %s)\n", known ? "yes" : "no",
                   known ? "raised #UD" : "reached its gate");
        } else {
            known = mode == MODE_ON;
            printf("pvm: %s (pvm= option)\n", known ? "yes" : "no");
        }
    }
    return known;
}

int tcgbugs(void)
{
    static int v = -1;
    if (v < 0)
        v = cmdline_u64("tcgbugs", 0) != 0;
    return v;
}

int check_tcgbug(int cond, const char *name, const char *reason)
{
    if (!cond || !tcgbugs())
        return 0;
    check_skip(name, "QEMU 7.2 TCG bug (tcgbugs=1): %s", reason);
    return 1;
}

int check_fault(const char *name, uint64_t count0, const struct fault_expect *e)
{
    if (last_fault.count == count0) {
        check_fail(name, "no exception, expected %s", exception_name(e->vector));
        return 0;
    }
    if (last_fault.count != count0 + 1) {
        check_fail(name, "%lu exceptions, expected one", last_fault.count - count0);
        return 0;
    }
    if (last_fault.vector != e->vector) {
        check_fail(name, "%s (vector %lu, error 0x%lx, rip 0x%lx), expected %s",
                   exception_name((unsigned)last_fault.vector), last_fault.vector,
                   last_fault.error, last_fault.rip, exception_name(e->vector));
        return 0;
    }
    if (e->has_error && last_fault.error != e->error) {
        check_fail(name, "%s error code 0x%lx, expected 0x%lx", exception_name(e->vector),
                   last_fault.error, e->error);
        return 0;
    }
    if (e->rip && last_fault.rip != e->rip) {
        check_fail(name, "%s at rip 0x%lx, expected 0x%lx", exception_name(e->vector),
                   last_fault.rip, e->rip);
        return 0;
    }
    if (e->has_cr2 && last_fault.cr2 != e->cr2) {
        check_fail(name, "%s with CR2 0x%lx, expected 0x%lx", exception_name(e->vector),
                   last_fault.cr2, e->cr2);
        return 0;
    }
    if (e->has_error && e->has_cr2)
        check_pass(name, "%s error 0x%lx cr2 0x%lx", exception_name(e->vector), e->error,
                   e->cr2);
    else if (e->has_error)
        check_pass(name, "%s error 0x%lx", exception_name(e->vector), e->error);
    else
        check_pass(name, "%s", exception_name(e->vector));
    return 1;
}

int check_no_fault(const char *name, uint64_t count0)
{
    if (last_fault.count != count0) {
        check_fail(name, "unexpected %s (vector %lu, error 0x%lx, rip 0x%lx, cr2 0x%lx)",
                   exception_name((unsigned)last_fault.vector), last_fault.vector,
                   last_fault.error, last_fault.rip, last_fault.cr2);
        return 0;
    }
    return 1;
}

/* ---- the larger GDT ---- */
extern uint64_t gdt[], gdt_end[];
uint64_t gdt_big[GDT_ENTRIES] __attribute__((aligned(16)));

void gdt_extend(void)
{
    static int done;
    struct {
        uint16_t pad[3];
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed, aligned(8))) d;
    if (done)
        return;
    memcpy(gdt_big, gdt, (size_t)((char *)gdt_end - (char *)gdt));
    d.limit = sizeof(gdt_big) - 1;
    d.base = (uintptr_t)gdt_big;
    __asm__ volatile("lgdt %0" : : "m"(d.limit) : "memory");
    done = 1;
}

uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (uint64_t)(limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
           ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

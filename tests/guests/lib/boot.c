/* Guest start-up after entry.S: reads the multiboot information (The
 * Multiboot Specification 0.6.96, 3.3), sets up the console, descriptors
 * and a masked PIC, then runs the guest. */
#include "guest.h"

#define MB_MAGIC 0x2BADB002u

static char cmdline_buf[CMDLINE_MAX];
uint32_t mb_flags, mb_mem_upper_kib, mb_mods_count, mb_mod0_start, mb_mod0_end;
char mb_mod0_string[64];
char mb_loader_name[32];
static uint64_t mb_highest; /* highest address + 1 of what the loader passed */

static void copy_str(char *dst, size_t n, uint32_t addr)
{
    const char *s = (const char *)(uintptr_t)addr;
    size_t i = 0;
    for (; i + 1 < n && s[i]; i++)
        dst[i] = s[i];
    dst[i] = 0;
    if (addr + i + 1 > mb_highest)
        mb_highest = addr + i + 1;
}

static void read_multiboot(void)
{
    const uint32_t *mbi = (const uint32_t *)(uintptr_t)boot_info;
    if (boot_magic != MB_MAGIC)
        fail("entered with EAX = 0x%lx, not the multiboot magic 0x%x", boot_magic, MB_MAGIC);
    if (boot_info >= 0x100000000ul)
        fail("multiboot info at 0x%lx is not below 4 GiB", boot_info);
    mb_flags = mbi[0];
    if (mb_flags & 1)
        mb_mem_upper_kib = mbi[2];
    if ((mb_flags & 4) && mbi[4])
        copy_str(cmdline_buf, sizeof(cmdline_buf), mbi[4]);
    if ((mb_flags & (1u << 9)) && mbi[16])
        copy_str(mb_loader_name, sizeof(mb_loader_name), mbi[16]);
    if (mb_flags & 8) {
        const uint32_t *mod = (const uint32_t *)(uintptr_t)mbi[6];
        mb_mods_count = mbi[5];
        if (mb_mods_count) {
            mb_mod0_start = mod[0];
            mb_mod0_end = mod[1];
            if (mod[2])
                copy_str(mb_mod0_string, sizeof(mb_mod0_string), mod[2]);
        }
        for (uint32_t i = 0; i < mbi[5]; i++, mod += 4)
            if (mod[1] > mb_highest)
                mb_highest = mod[1];
    }
}

const char *cmdline(void)
{
    return cmdline_buf;
}

/* Finds "key=" at the start of a space-separated token. */
static const char *find_key(const char *key)
{
    size_t kl = strlen(key);
    const char *s = cmdline_buf;
    while (*s) {
        while (*s == ' ')
            s++;
        if (strncmp(s, key, kl) == 0 && s[kl] == '=')
            return s + kl + 1;
        while (*s && *s != ' ')
            s++;
    }
    return 0;
}

int cmdline_str(const char *key, char *buf, size_t n)
{
    const char *v = find_key(key);
    size_t i = 0;
    if (!v)
        return 0;
    for (; i + 1 < n && v[i] && v[i] != ' '; i++)
        buf[i] = v[i];
    if (n)
        buf[i] = 0;
    return 1;
}

uint64_t cmdline_u64(const char *key, uint64_t def)
{
    const char *v = find_key(key);
    uint64_t x = 0;
    unsigned base = 10;
    if (!v)
        return def;
    if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        base = 16;
        v += 2;
    }
    for (;; v++) {
        unsigned d;
        if (*v >= '0' && *v <= '9')
            d = (unsigned)(*v - '0');
        else if (base == 16 && *v >= 'a' && *v <= 'f')
            d = (unsigned)(*v - 'a' + 10);
        else if (base == 16 && *v >= 'A' && *v <= 'F')
            d = (unsigned)(*v - 'A' + 10);
        else
            break;
        x = x * base + d;
    }
    switch (*v) {
    case 'k':
    case 'K':
        x <<= 10;
        break;
    case 'm':
    case 'M':
        x <<= 20;
        break;
    case 'g':
    case 'G':
        x <<= 30;
        break;
    }
    return x;
}

void hold_point(const char *name)
{
    char hold[32];
    size_t n = strlen(name);
    if (cmdline_str("hold", hold, sizeof(hold)) && strlen(hold) == n &&
        strncmp(hold, name, n) == 0) {
        printf("hold: %s\n", name);
        delay_us(cmdline_u64("hold_ms", 1500) * 1000);
    }
}

int cmdline_mode(const char *key)
{
    char opt[8];
    if (!cmdline_str(key, opt, sizeof(opt)))
        return MODE_AUTO;
    if (strncmp(opt, "on", 3) == 0 || strncmp(opt, "1", 2) == 0)
        return MODE_ON;
    if (strncmp(opt, "off", 4) == 0 || strncmp(opt, "0", 2) == 0)
        return MODE_OFF;
    if (strncmp(opt, "auto", 5) != 0)
        fail("%s=%s: expected on, off or auto", key, opt);
    return MODE_AUTO;
}

uint64_t ram_top(void)
{
    return 0x100000ul + ((uint64_t)mb_mem_upper_kib << 10);
}

uint64_t free_mem_start(void)
{
    uint64_t end = (uintptr_t)__image_end;
    if (mb_highest > end)
        end = mb_highest;
    return (end + 0x1fffff) & ~0x1ffffful;
}

void guest_start(void);

void guest_start(void)
{
    serial_init();
    desc_init();
    syscall_init();
    /* Whatever firmware ran before may have left the PIC unmasked on
     * vectors 8-15: move it out of the exception range and mask it. */
    pic_init(0x20, 0xffff);
    read_multiboot();
    guest_main();
    pass();
}

/* The AP entry from entry.S; the smp guest defines the real one. */
void ap_main(unsigned index) __attribute__((weak));
void ap_main(unsigned index)
{
    (void)index;
}

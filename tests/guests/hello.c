/* hello: the smallest guest. Prints a greeting, what the boot loader
 * passed (command line, loader name, memory, the first module), and
 * passes. */
#include "lib/guest.h"

const char guest_name[] = "hello";

void guest_main(void)
{
    printf("hello from the roam test guest\n");
    printf("cmdline: %s\n", cmdline());
    hold_point("cmdline");
    printf("loader: %s, flags 0x%x, upper memory %u KiB\n",
           mb_loader_name[0] ? mb_loader_name : "(unnamed)", mb_flags, mb_mem_upper_kib);
    if (mb_mods_count) {
        const uint8_t *m = (const uint8_t *)(uintptr_t)mb_mod0_start;
        uint32_t sum = 0;
        for (uint32_t a = mb_mod0_start; a < mb_mod0_end; a++)
            sum = sum * 31 + m[a - mb_mod0_start];
        printf("modules: %u; the first: %u bytes at 0x%x, \"%s\", hash 0x%x\n", mb_mods_count,
               mb_mod0_end - mb_mod0_start, mb_mod0_start, mb_mod0_string, sum);
    }
}

/* hello: the smallest guest. Prints a greeting, what the boot loader
 * passed (command line, loader name, memory), and passes. */
#include "lib/guest.h"

const char guest_name[] = "hello";

void guest_main(void)
{
    printf("hello from the roam test guest\n");
    printf("cmdline: %s\n", cmdline());
    printf("loader: %s, flags 0x%x, upper memory %u KiB\n",
           mb_loader_name[0] ? mb_loader_name : "(unnamed)", mb_flags, mb_mem_upper_kib);
}

/* The registry of engines built into this binary. */
#include "engine/engine.h"

#include <string.h>

#ifdef ROAM_HAVE_KVM
extern const struct engine_ops kvm_engine_ops;
#endif
extern const struct engine_ops emu_engine_ops;

const struct engine_ops *const engine_list[] = {
#ifdef ROAM_HAVE_KVM
    &kvm_engine_ops,
#endif
    &emu_engine_ops, /* last: auto prefers hardware virtualization */
    NULL,
};

const struct engine_ops *engine_find(const char *name)
{
    for (unsigned i = 0; engine_list[i]; i++)
        if (strcmp(engine_list[i]->name, name) == 0)
            return engine_list[i];
    return NULL;
}

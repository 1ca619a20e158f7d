/* The migratable form of a vCPU's canonical state (core/cpu_state.h) for
 * migrate/vmstate.h: one STREAM_SEC_CPU section per vCPU, instance = the
 * vCPU index. Every field of struct x86_cpu_state is a named field (the
 * segments flattened as "cs_base", "cs_limit", ...; the FXSAVE image split
 * into fcw, fsw, ..., st0-st7, xmm0-xmm15), except the FXSAVE image's
 * reserved bytes (reserved1, reserved2), which are not saved.
 *
 * vmstate_load's state and opaque are both the struct x86_cpu_state being
 * loaded; post_load checks the segment descriptor fields and the event
 * state for values no CPU can hold. */
#ifndef ROAM_CORE_CPU_STATE_VMS_H
#define ROAM_CORE_CPU_STATE_VMS_H

struct vms_desc;
extern const struct vms_desc x86_cpu_vms;

#endif

/* RCPSS/RSQRTSS approximations (SDM Vol. 2 RCPPS, RSQRTPS): placeholder. */
#include "softfp.h"

uint32_t softfp_rcp32(uint32_t mxcsr, uint32_t a)
{
    (void)mxcsr;
    return a;
}

uint32_t softfp_rsqrt32(uint32_t mxcsr, uint32_t a)
{
    (void)mxcsr;
    return a;
}

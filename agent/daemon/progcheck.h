/* What `hostflowd -t` asks the kernel about sampling: which capture the
 * daemon would open, and whether it takes the programs the sampler would
 * install for the interfaces present (on the table the daemon would serve),
 * for packet sockets each tried on a throwaway socket. The kernel then
 * always takes what -t accepts. */
#ifndef HF_PROGCHECK_H
#define HF_PROGCHECK_H

#include <stddef.h>

#include "config/config.h"
#include "config/ifmap.h"
#include "sflow/sampler.h"

/* SAMPLER_CHECK_OK; REFUSED with "FILE:LINE: ..." in err (a configuration
 * error); UNTRIED with the reason in err when the kernel's interfaces could
 * not be read or no socket could be had to try on (a note, not a refusal).
 * kind: the capture checked for (sampler_check_programs), "" when none was. */
enum sampler_check progcheck_now(const struct config *cfg, const struct hf_ifmap *map,
				 char *kind, size_t kindlen, char *err, size_t errlen);

#endif

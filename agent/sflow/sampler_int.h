/* The sampler's two files share its state: sampler.c, the thread and the
 * mailbox; sampler_table.c, the table handed to the core and what the
 * sampler says about it (log lines, the status text). Not for other rooms:
 * they use sampler.h. */
#ifndef HF_SAMPLER_INT_H
#define HF_SAMPLER_INT_H

#include <pthread.h>
#include <stdint.h>

#include "config/config.h"
#include "base/hf_types.h"
#include "sflow/capture.h"
#include "sflow/core/bpfprog.h"
#include "sflow/core/sflow_agent.h"
#include "table/snapshot.h"

#define STATUS_MAX        1024  /* the status text, for STATUS= and SIGUSR1 */

struct sampler {
	/* Shared with the agent thread, under lock. */
	pthread_mutex_t lock;
	struct config *pending;
	int stop;
	int registered;
	char status[STATUS_MAX];
	char exit_reason[256];
	int efd;                  /* wakes the thread */
	int exit_efd;             /* readable once the thread ended on its own */
	struct iftable *table;
	pthread_t thread;

	/* Owned by the sampler thread once it runs. */
	struct config *cfg;
	struct sflow_agent *core;
	struct capture *cap;
	struct collectors *coll;
	struct link_stats *nls;
	struct route_watch *rw;
	uint64_t generation;
	int synced, answerable;
	struct hf_addr agent;
	int64_t agent_check_ms;
	int64_t quiet_until_ms;   /* see COALESCE_MS (sampler.c) */
	int64_t emptied_us;       /* when a drain last found the ring empty */
	unsigned cycle_frames;    /* frames drained since */
	uint64_t held_dropped_logged;
	char refused[256];        /* the last failed install logged */
	char kernel_said[512];    /* the last refusals logged (names and why) */
	struct sampler_refusal *refusals; /* interfaces the kernel would not take */
	size_t n_refusals, cap_refusals;
	char waiting[256];        /* sample patterns matching no interface now */
	int64_t status_ms;        /* when the status text was last written */
	uint64_t status_dgrams;   /* datagrams sent as of that text */
	struct bpfprog_self self[BPFPROG_SELF_MAX]; /* our own datagrams' flows */
	size_t nself;
	int fault_exit;           /* HOSTFLOWD_FAULT=sampler-exit: the tests' way to end the thread */
	uint32_t salt;            /* what else the kernel program depends on */
};


/* An interface the last install could not sample, and why. */
struct sampler_refusal {
	int kindex;
	enum capture_refusal why;
};

/* FNV-1a, 31 bits, from seed h: a change of filter text, snap length or
 * collectors must re-install the program; the core only compares these. */
#define SAMPLER_HASH_SEED 2166136261u
uint32_t sampler_hash(const char *text, uint32_t h);
uint32_t sampler_hash_bytes(const void *p, size_t len, uint32_t h);

/* The core's install callback: the rules of the ports with a rate (each
 * with the `sample` line that decides for it) put in force by the capture;
 * the ports it refuses are marked, remembered with their reason, and
 * logged once per change. */
int sampler_install(struct sampler *s, const struct sfa_port *ports, size_t n,
		    uint8_t *refused, char *why, size_t whylen);

/* Hands the table to the core when it changed (or force), and says what
 * changed. Returns -1 with err when the capture could not be changed at all
 * (the sampling in force stays, and it is tried again at the next change). */
int sampler_sync_table(struct sampler *s, int force, int64_t now, char *err, size_t errlen);
/* The `capture` directive as capture_open() takes it. */
enum capture_backend sampler_capture_backend(const struct config *cfg);
/* What the capture refused after the install returned (capture_take_refused):
 * the core stops sampling it, the log and the status name it. */
void sampler_take_late_refusals(struct sampler *s, int64_t now);
/* Rewrites the status text (for STATUS= and SIGUSR1) from the core's figures. */
void sampler_publish_status(struct sampler *s);
/* The counts in the status text follow the datagrams sent, at most once a
 * second; an idle sampler has nothing to refresh and is not woken for it.
 * Returns the next wake-up, moved earlier while a refresh is pending. */
int64_t sampler_refresh_status(struct sampler *s, int64_t now, int64_t next);

#endif

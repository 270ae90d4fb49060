/* linkUp/linkDown decisions, pure (no net-snmp, no clock, no I/O): which
 * served rows changed state, the limit per interface against flapping, and
 * what waits while snmpd is away. The shell (notify.c) feeds it the rows of
 * each new snapshot that notify and the time, and sends what it emits.
 *
 * The state notified is ifOperStatus up(1) or not: linkUp when the served
 * ifOperStatus becomes up(1), linkDown when it leaves up(1) (for down(2),
 * lowerLayerDown(7), dormant(5), ...), as net-snmp's own IF-MIB decides.
 * A row's first state (at start, a new interface, a reload that enables it)
 * is taken as already notified: nothing is sent for it. A notification goes
 * only while registered and only when the state served differs from the
 * last one sent, so two in a row never say the same thing, and a change that
 * comes back before it could go is never sent.
 *
 * The limit is a token bucket per interface: NOTIFY_BURST at once, then one
 * every NOTIFY_REFILL_MS. 20 changes in a second give at most 4 notifications
 * (3 at once, then the final state after NOTIFY_REFILL_MS), and the state at
 * the end of any flap goes within NOTIFY_REFILL_MS of its last change
 * (while registered). */
#ifndef HF_NOTIFY_CORE_H
#define HF_NOTIFY_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Three at once: a down and up of a peer's reboot and one more go at once;
 * the fourth is the final state of a flap, which must still fit in 4. */
#define NOTIFY_BURST 3
/* One more every 5 s: the final state of a flap goes within 5 s of its last
 * change, a third of the 15 s promised, and a link flapping for hours costs
 * its managers one notification per 5 s. */
#define NOTIFY_REFILL_MS 5000

/* One served row whose ifLinkUpDownTrapEnable is enabled(1). */
struct notify_row {
	uint32_t ifindex;   /* served */
	int kindex;         /* kernel ifindex: another one is another interface */
	uint8_t admin;      /* ifAdminStatus served */
	uint8_t oper;       /* ifOperStatus served */
};

enum notify_event {
	NOTIFY_LINK_DOWN,   /* send linkDown */
	NOTIFY_LINK_UP,     /* send linkUp */
	NOTIFY_LIMITED,     /* a change waits for the limit (once until one is sent) */
};

/* What to do for one interface; admin and oper are the values served now. */
struct notify_msg {
	enum notify_event event;
	uint32_t ifindex;
	uint8_t admin, oper;
	int64_t until_ms;   /* NOTIFY_LIMITED: when it may go */
};

typedef void notify_emit_fn(void *ctx, const struct notify_msg *m);

struct notify_core;

/* NULL: out of memory. notify_core_free(NULL) is a no-op. */
struct notify_core *notify_core_new(void);
void notify_core_free(struct notify_core *c);

/* A new served table: the rows that notify, sorted by ifindex, unique.
 * Rows not seen before start at their current state; rows gone are
 * forgotten. Returns 0, or -1 on allocation failure (the old state stays). */
int notify_core_observe(struct notify_core *c, const struct notify_row *rows, size_t n);

/* Emits, in ifindex order, what is due at now_ms: while registered, each
 * interface whose state differs from the last one sent and that has a token
 * (LINK_UP or LINK_DOWN), or NOTIFY_LIMITED once when it has none. Nothing
 * while not registered: changes wait, and the state at registration goes. */
void notify_core_take(struct notify_core *c, int registered, int64_t now_ms,
		      notify_emit_fn *emit, void *ctx);

/* When notify_core_take has something to send that waits only for the
 * limit (0: nothing). As of the last notify_core_take. */
int64_t notify_core_next_ms(const struct notify_core *c);

#endif

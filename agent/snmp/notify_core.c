/* linkUp/linkDown decisions; see notify_core.h. */
#include "snmp/notify_core.h"

#include <stdlib.h>
#include <string.h>

#define OPER_UP 1   /* ifOperStatus up(1) */

/* One interface that notifies. */
struct nc_link {
	uint32_t ifindex;
	int kindex;
	uint8_t admin, oper;    /* served now */
	uint8_t sent_up;        /* the state last sent (or the first one seen) */
	uint8_t limited;        /* NOTIFY_LIMITED said since the last one sent */
	unsigned tokens;        /* 0..NOTIFY_BURST */
	int64_t refill_ms;      /* when the next token comes; 0 while full */
};

struct notify_core {
	struct nc_link *link;   /* sorted by ifindex */
	size_t n;
	int64_t next_ms;
};

struct notify_core *notify_core_new(void)
{
	return calloc(1, sizeof(struct notify_core));
}

void notify_core_free(struct notify_core *c)
{
	if (!c)
		return;
	free(c->link);
	free(c);
}

static int is_up(uint8_t oper)
{
	return oper == OPER_UP;
}

static void link_start(struct nc_link *l, const struct notify_row *r)
{
	memset(l, 0, sizeof *l);
	l->ifindex = r->ifindex;
	l->kindex = r->kindex;
	l->admin = r->admin;
	l->oper = r->oper;
	l->sent_up = (uint8_t)is_up(r->oper);
	l->tokens = NOTIFY_BURST;
}

int notify_core_observe(struct notify_core *c, const struct notify_row *rows, size_t n)
{
	struct nc_link *nl = NULL;
	size_t i, j = 0;

	if (n && !(nl = malloc(n * sizeof *nl)))
		return -1;
	/* Both sorted by ifindex: one merge. */
	for (i = 0; i < n; i++) {
		const struct notify_row *r = &rows[i];

		while (j < c->n && c->link[j].ifindex < r->ifindex)
			j++;
		if (j < c->n && c->link[j].ifindex == r->ifindex &&
		    c->link[j].kindex == r->kindex) {
			nl[i] = c->link[j];
			nl[i].admin = r->admin;
			nl[i].oper = r->oper;
		} else {
			link_start(&nl[i], r);
		}
	}
	free(c->link);
	c->link = nl;
	c->n = n;
	return 0;
}

/* Tokens that came since the last look. */
static void refill(struct nc_link *l, int64_t now_ms)
{
	while (l->refill_ms && now_ms >= l->refill_ms) {
		l->tokens++;
		l->refill_ms = l->tokens < NOTIFY_BURST ? l->refill_ms + NOTIFY_REFILL_MS : 0;
	}
}

void notify_core_take(struct notify_core *c, int registered, int64_t now_ms,
		      notify_emit_fn *emit, void *ctx)
{
	c->next_ms = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct nc_link *l = &c->link[i];
		struct notify_msg m = { .ifindex = l->ifindex, .admin = l->admin,
					.oper = l->oper };
		int up = is_up(l->oper);

		refill(l, now_ms);
		if (up == l->sent_up)
			continue;
		if (!registered)
			continue;
		if (!l->tokens) {
			if (!c->next_ms || l->refill_ms < c->next_ms)
				c->next_ms = l->refill_ms;
			if (!l->limited) {
				l->limited = 1;
				m.event = NOTIFY_LIMITED;
				m.until_ms = l->refill_ms;
				emit(ctx, &m);
			}
			continue;
		}
		if (!l->refill_ms)
			l->refill_ms = now_ms + NOTIFY_REFILL_MS;
		l->tokens--;
		l->sent_up = (uint8_t)up;
		l->limited = 0;
		m.event = up ? NOTIFY_LINK_UP : NOTIFY_LINK_DOWN;
		emit(ctx, &m);
	}
}

int64_t notify_core_next_ms(const struct notify_core *c)
{
	return c->next_ms;
}

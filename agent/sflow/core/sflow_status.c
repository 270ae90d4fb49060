/* The sampler's status text; see sflow_status.h. */
#include "sflow/core/sflow_status.h"

#include <stdarg.h>
#include <stdio.h>

struct out {
	char *buf;
	size_t len, pos;    /* pos may pass len: the text is then truncated */
	int open;           /* " (" written, ")" owed */
	int first;          /* no item yet in the current list */
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL,
		      o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/* Starts a list inside the parentheses: " (" for the first, "; " after. */
static void list_begin(struct out *o, const char *head)
{
	put(o, "%s%s", o->open ? "; " : " (", head);
	o->open = 1;
	o->first = 1;
}

static void list_sep(struct out *o)
{
	if (!o->first)
		put(o, ", ");
	o->first = 0;
}

size_t sflow_status_format(const struct sflow_status *in, char *buf, size_t len)
{
	struct out o = { buf, len, 0, 0, 1 };
	size_t shown = in->nshown < SFLOW_STATUS_SHOWN ? in->nshown : SFLOW_STATUS_SHOWN;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (shown > in->sampled)
		shown = in->sampled;
	put(&o, "sampling %zu", in->sampled);
	if (in->sampled) {
		list_begin(&o, "");
		for (size_t i = 0; i < shown; i++) {
			list_sep(&o);
			put(&o, "%s 1:%u", in->shown[i].name, in->shown[i].rate);
		}
		if (in->sampled > shown) {
			list_sep(&o);
			put(&o, "%zu more", in->sampled - shown);
		}
	}
	if (in->waiting && in->waiting[0]) {
		list_begin(&o, "waiting for ");
		put(&o, "%s", in->waiting);
	}
	if (o.open)
		put(&o, ")");
	if (in->collectors && in->collectors[0])
		put(&o, "; %s", in->collectors);
	if (in->holding)
		put(&o, "; holding samples");
	return o.pos < len ? o.pos : len - 1;
}

size_t sflow_status_of(const struct sflow_agent *a, const char *waiting,
		       const char *collectors, int holding, char *buf, size_t len)
{
	struct sfa_port sp[SFLOW_STATUS_SHOWN];
	struct sfa_stats st;
	struct sflow_status in = { 0 };

	sfa_get_stats(a, &st);
	in.sampled = st.sampled;
	in.shown = sp;
	in.nshown = sfa_sampled(a, sp, SFLOW_STATUS_SHOWN);
	in.waiting = waiting;
	in.collectors = collectors;
	in.holding = holding;
	return sflow_status_format(&in, buf, len);
}

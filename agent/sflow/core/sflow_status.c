/* The sampler's status text; see sflow_status.h. */
#include "sflow/core/sflow_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

static int same_why(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* "not sampled: v6, v7 (optmem_max), v9 (filter), 3 more". */
static void unsampled_list(struct out *o, const struct sflow_status *in)
{
	size_t shown = in->n_unsampled_shown < SFLOW_STATUS_SHOWN ? in->n_unsampled_shown
								  : SFLOW_STATUS_SHOWN;

	if (shown > in->unsampled)
		shown = in->unsampled;
	list_begin(o, "not sampled: ");
	for (size_t i = 0; i < shown; i++) {
		const struct sflow_unsampled *u = &in->unsampled_shown[i];

		list_sep(o);
		put(o, "%s", u->name);
		if (u->why && (i + 1 == shown || !same_why(u->why, u[1].why)))
			put(o, " (%s)", u->why);
	}
	if (in->unsampled > shown) {
		list_sep(o);
		put(o, "%zu more", in->unsampled - shown);
	}
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
	if (in->unsampled)
		unsampled_list(&o, in);
	if (o.open)
		put(&o, ")");
	if (in->capture && in->capture[0])
		put(&o, " by %s", in->capture);
	if (in->collectors && in->collectors[0])
		put(&o, "; %s", in->collectors);
	if (in->holding)
		put(&o, "; holding samples");
	return o.pos < len ? o.pos : len - 1;
}

size_t sflow_status_of(const struct sflow_agent *a, const struct sflow_status_shell *sh,
		       char *buf, size_t len)
{
	struct sfa_port sp[SFLOW_STATUS_SHOWN], up[SFLOW_STATUS_SHOWN];
	struct sflow_unsampled un[SFLOW_STATUS_SHOWN];
	struct sfa_stats st;
	struct sflow_status in = { 0 };

	sfa_get_stats(a, &st);
	in.sampled = st.sampled;
	in.shown = sp;
	in.nshown = sfa_sampled(a, sp, SFLOW_STATUS_SHOWN);
	in.unsampled = sfa_unsampled(a, up, SFLOW_STATUS_SHOWN);
	in.n_unsampled_shown = in.unsampled < SFLOW_STATUS_SHOWN ? in.unsampled
								 : SFLOW_STATUS_SHOWN;
	for (size_t i = 0; i < in.n_unsampled_shown; i++)
		un[i] = (struct sflow_unsampled){
			up[i].name,
			sh->unsampled_why ? sh->unsampled_why(sh->ctx, up[i].kindex) : NULL };
	in.unsampled_shown = un;
	in.waiting = sh->waiting;
	in.capture = sh->capture;
	in.collectors = sh->collectors;
	in.holding = sh->holding;
	return sflow_status_format(&in, buf, len);
}

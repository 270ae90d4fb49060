/* The STATUS= text and its rate limit; see status.h. */
#include "daemon/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

/* Appends to buf[0..len) at *pos, snprintf-style; *pos may pass len (the
 * text is then truncated) but the buffer always stays terminated. */
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(*pos < len ? buf + *pos : NULL, *pos < len ? len - *pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

static void when(time_t t, time_t now, char *out, size_t len)
{
	struct tm tm, tn;

	if (!t || !localtime_r(&t, &tm) || !localtime_r(&now, &tn)) {
		hf_strlcpy(out, "start", len);
		return;
	}
	/* The day matters once it is not today. */
	if (tm.tm_year == tn.tm_year && tm.tm_yday == tn.tm_yday)
		strftime(out, len, "%H:%M:%S", &tm);
	else
		strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void status_format(const struct status_info *in, time_t now, char *buf, size_t len)
{
	char since[32];
	size_t pos = 0;

	if (!len)
		return;
	buf[0] = '\0';
	when(in->since, now, since, sizeof since);
	switch (in->reg) {
	case SNMP_REG_OK:
		put(buf, len, &pos, "registered with %s since %s", in->agentx, since);
		break;
	case SNMP_REG_REFUSED:
		put(buf, len, &pos, "IF-MIB refused: snmpd serves its own ifTable/ifXTable "
		    "(master %s, since %s)", in->agentx, since);
		break;
	default:
		put(buf, len, &pos, "not registered: AgentX master %s not reachable since %s",
		    in->agentx, since);
		break;
	}
	put(buf, len, &pos, "; %zu row%s", in->rows, in->rows == 1 ? "" : "s");
	if (in->sampler && in->sampler[0])
		put(buf, len, &pos, "; %s", in->sampler);
}

static int word_before(const char *text, const char *p, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(p - text) >= n && !strncmp(p - n, word, n);
}

void status_key(const char *text, char *key, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	for (const char *p = text; *p && o + 1 < len;) {
		if (*p >= '0' && *p <= '9' &&
		    (word_before(text, p, "sent ") || word_before(text, p, "err "))) {
			while (*p >= '0' && *p <= '9')
				p++;
			key[o++] = '#';
			continue;
		}
		key[o++] = *p++;
	}
	key[o] = '\0';
}

int status_limiter_offer(struct status_limiter *l, const char *text, int64_t now,
			 int64_t *next_ms)
{
	char key[STATUS_TEXT_MAX];
	int64_t gap;

	*next_ms = now + STATUS_POLL_MS;
	if (l->sent_any && !strcmp(text, l->last))
		return 0;
	status_key(text, key, sizeof key);
	gap = !l->sent_any || strcmp(key, l->last_key) ? STATUS_STATE_GAP_MS
						       : STATUS_COUNTER_GAP_MS;
	if (l->sent_any && now - l->last_ms < gap) {
		/* Held counters must not hide a change of state that comes
		 * meanwhile (the sampler's part changes without waking us): look
		 * again at the usual pace. */
		*next_ms = l->last_ms + gap;
		if (*next_ms > now + STATUS_POLL_MS)
			*next_ms = now + STATUS_POLL_MS;
		return 0;
	}
	hf_strlcpy(l->last, text, sizeof l->last);
	hf_strlcpy(l->last_key, key, sizeof l->last_key);
	l->last_ms = now;
	l->sent_any = 1;
	return 1;
}

#include "daemon/statusline.h"

#include <stdio.h>
#include <time.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "base/util.h"

static void status_text(struct iftable *t, struct sampler *s, const struct snmpagent *a,
			const char *agentx, char *buf, size_t len)
{
	char smp[STATUS_TEXT_MAX] = "";
	struct if_snapshot *snap = iftable_acquire(t);
	struct status_info in = { .agentx = agentx, .sampler = smp };

	in.reg = snmpagent_state(a, &in.since);
	in.rows = snap ? snap->n : 0;
	if (snap)
		iftable_release(t, snap);
	if (s)
		sampler_status(s, smp, sizeof smp);
	status_format(&in, time(NULL), buf, len);
}

void statusline_report(struct statusline *sl, struct iftable *t, struct sampler *s,
		       const struct snmpagent *a, const char *agentx, int prio)
{
	char text[STATUS_TEXT_MAX], msg[STATUS_TEXT_MAX + 8];
	int64_t now = monotonic_ms();

	status_text(t, s, a, agentx, text, sizeof text);
	if (status_limiter_offer(&sl->limit, text, now, &sl->next_ms)) {
		snprintf(msg, sizeof msg, "STATUS=%s", text);
		daemon_notify(msg);
	}
	if (prio >= 0)
		log_msg(prio, "status", "%s", text);
	if (now >= sl->log_ms) {
		sl->log_ms = now + STATUSLINE_LOG_MS;
		if (prio < 0)
			log_debug("status", "%s", text);
	}
}

/* Collectors: one connected, non-blocking UDP socket each.
 *
 * connect() matters twice: the kernel then reports ICMP errors for the
 * collector on our next send (ECONNREFUSED instead of silent loss), and it
 * keeps a route, hence a path MTU, for the socket. With IP_PMTUDISC_DO the
 * kernel never fragments our datagrams; a datagram above the path MTU fails
 * with EMSGSIZE, and collectors_max_payload() then reads the lower MTU. */
#include "sflow/collector.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "sflow/core/sflow_encode.h"
#include "base/sockaddr.h"
#include "base/util.h"

#define IPV4_UDP_OVERHEAD (20 + 8)
#define IPV6_UDP_OVERHEAD (40 + 8)

/* A send that succeeds proves little about a dead collector: its ICMP
 * error fails the send after, and the kernel rate-limits those errors to
 * about one a second per host. So a collector counts as working again only
 * after two sends in a row succeed and the last error is this old;
 * otherwise every other datagram would log "works again". */
#define RECOVER_SENDS   2
#define RECOVER_QUIET_MS 3000

struct collector {
	int fd;
	int family;
	int connected;           /* connect() succeeded at least once */
	int failing;             /* an error was logged; quiet until it works again */
	unsigned ok_run;         /* sends that succeeded since the last error */
	int64_t last_err_ms;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[INET6_ADDRSTRLEN + 16];  /* "1.2.3.4:6343" or "[::1]:6343" */
	uint64_t sent, errors;
	uint64_t lost;           /* datagrams never sent */
};

struct collectors {
	size_t n;
	struct collector c[];
};

static void collector_name(struct collector *c)
{
	hf_sockaddr_format(&c->addr, c->name, sizeof c->name);
}

/* Forbids fragmentation: a fragmented datagram is lost whole when one
 * fragment is, and some paths (tunnels) drop fragments altogether. */
static int set_pmtu_do(int fd, int family)
{
	int v;

	if (family == AF_INET) {
		v = IP_PMTUDISC_DO;
		return setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	}
	v = IPV6_PMTUDISC_DO;
	return setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
}

/* A collector whose connect() fails (no route yet at boot) keeps its socket
 * and is connected again on the next send. */
static int collector_connect(struct collector *c)
{
	if (connect(c->fd, (const struct sockaddr *)&c->addr, c->addrlen) < 0)
		return -1;
	c->connected = 1;
	return 0;
}

static void collector_fail(struct collector *c, int err, const char *what)
{
	c->errors++;
	c->ok_run = 0;
	c->last_err_ms = monotonic_ms();
	if (c->failing)
		return;
	c->failing = 1;
	log_warn("sampler", "collector %s: %s%s; further errors not logged until it works again",
		 c->name, what, strerror(err));
}

/* Binds the socket to a port of its own (any address): the port is then
 * known before connect() and the first send. */
static int bind_any_port(int fd, int family)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };

	return bind(fd, (const struct sockaddr *)&ss, family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

static int collector_init(struct collector *c, const struct cfg_collector *cfg,
			  char *err, size_t errlen)
{
	int family = cfg->addr.ss_family;
	const char *step = "socket";

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if ((family != AF_INET && family != AF_INET6) ||
	    cfg->addrlen == 0 || cfg->addrlen > sizeof(c->addr)) {
		snprintf(err, errlen, "collector %s (line %d): no address", cfg->host, cfg->line);
		return -1;
	}
	c->family = family;
	memcpy(&c->addr, &cfg->addr, cfg->addrlen);
	c->addrlen = cfg->addrlen;
	collector_name(c);
	c->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	step = "path MTU discovery";
	if (set_pmtu_do(c->fd, family) < 0)
		goto fail;
	step = "bind";
	if (bind_any_port(c->fd, family) < 0)
		goto fail;
	if (collector_connect(c) < 0)
		collector_fail(c, errno, "connect: ");
	return 0;
fail:
	snprintf(err, errlen, "collector %s: %s: %s", c->name, step, strerror(errno));
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	return -1;
}

struct collectors *collectors_open(const struct cfg_collector *c, size_t n,
				   char *err, size_t errlen)
{
	struct collectors *cs = calloc(1, sizeof(*cs) + n * sizeof(cs->c[0]));
	size_t i;

	if (!cs) {
		snprintf(err, errlen, "collectors: out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (collector_init(&cs->c[cs->n], &c[i], err, errlen) < 0) {
			collectors_close(cs);
			return NULL;
		}
		cs->n++;
	}
	return cs;
}

void collectors_close(struct collectors *cs)
{
	size_t i;

	if (!cs)
		return;
	for (i = 0; i < cs->n; i++)
		close(cs->c[i].fd);
	free(cs);
}

/* Path MTU of a connected socket minus the IP and UDP headers; 0 unknown. */
static size_t collector_payload(const struct collector *c)
{
	int mtu = 0;
	socklen_t len = sizeof(mtu);
	int r;

	if (!c->connected)
		return 0;
	if (c->family == AF_INET)
		r = getsockopt(c->fd, IPPROTO_IP, IP_MTU, &mtu, &len);
	else
		r = getsockopt(c->fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &len);
	if (r < 0 || mtu <= 0)
		return 0;
	if (c->family == AF_INET)
		return mtu > IPV4_UDP_OVERHEAD ? (size_t)mtu - IPV4_UDP_OVERHEAD : 1;
	return mtu > IPV6_UDP_OVERHEAD ? (size_t)mtu - IPV6_UDP_OVERHEAD : 1;
}

size_t collectors_max_payload(struct collectors *cs)
{
	size_t best = COLLECTOR_MAX_DATAGRAM, i;

	for (i = 0; cs && i < cs->n; i++) {
		size_t p = collector_payload(&cs->c[i]);

		if (p && p < best)
			best = p;
	}
	/* Below this not even one sample fits; such a path fragments instead. */
	return best < SFLOW_MIN_DATAGRAM ? SFLOW_MIN_DATAGRAM : best;
}

/* An error a connected UDP socket reports on send() may belong to an earlier
 * datagram: the ICMP it provoked (nothing listening, no route to the host)
 * is queued on the socket and handed to the next send, which then fails
 * without sending. Such a send is tried again at once. */
static int async_icmp_error(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
	       e == EHOSTDOWN;
}

static void collector_send(struct collector *c, const void *buf, size_t len)
{
	int tries = 0, err = 0;

	if (!c->connected && collector_connect(c) < 0) {
		collector_fail(c, errno, "connect: ");
		c->lost++;
		return;
	}
	while (tries++ < COLLECTOR_SEND_TRIES) {
		if (send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
			err = 0;
			break;
		}
		err = errno;
		collector_fail(c, err, "");
		if (!async_icmp_error(err))
			break;
	}
	if (err) {
		/* Never sent: the collector sees a gap in the datagram sequence,
		 * and the log says how many (once per failing period). */
		c->lost++;
		return;
	}
	c->sent++;
	if (!c->failing)
		return;
	if (++c->ok_run >= RECOVER_SENDS &&
	    monotonic_ms() - c->last_err_ms >= RECOVER_QUIET_MS) {
		c->failing = 0;
		log_info("sampler", "collector %s: sending works again (%llu errors so far, "
			 "%llu datagrams lost)", c->name, (unsigned long long)c->errors,
			 (unsigned long long)c->lost);
	}
}

void collectors_send(struct collectors *cs, const void *buf, size_t len)
{
	size_t i;

	for (i = 0; cs && i < cs->n; i++)
		collector_send(&cs->c[i], buf, len);
}

struct collector_totals {
	uint64_t sent, errors, lost;
};

/* Every counter summed over the collectors: one loop for the three totals. */
static struct collector_totals collectors_totals(const struct collectors *cs)
{
	struct collector_totals t = { 0, 0, 0 };

	for (size_t i = 0; cs && i < cs->n; i++) {
		t.sent += cs->c[i].sent;
		t.errors += cs->c[i].errors;
		t.lost += cs->c[i].lost;
	}
	return t;
}

uint64_t collectors_sent(const struct collectors *cs)
{
	return collectors_totals(cs).sent;
}

uint64_t collectors_errors(const struct collectors *cs)
{
	return collectors_totals(cs).errors;
}

uint64_t collectors_lost(const struct collectors *cs)
{
	return collectors_totals(cs).lost;
}

/* The local port of a socket (bound at open), 0 when it has none. */
static unsigned local_port(const struct collector *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/* The flow to addr from local port sport. */
static void self_of(const struct sockaddr_storage *addr, unsigned sport,
		    struct bpfprog_self *out)
{
	memset(out, 0, sizeof *out);
	out->family = addr->ss_family;
	out->sport = (uint16_t)sport;
	if (addr->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;

		memcpy(out->addr, &sin->sin_addr, 4);
		out->dport = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;

		memcpy(out->addr, &sin6->sin6_addr, 16);
		out->dport = ntohs(sin6->sin6_port);
	}
}

size_t collectors_self(const struct collectors *cs, struct bpfprog_self *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; cs && i < cs->n && k < max; i++)
		self_of(&cs->c[i].addr, local_port(&cs->c[i]), &out[k++]);
	return k;
}

size_t collectors_planned_self(const struct cfg_collector *c, size_t n,
			       struct bpfprog_self *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < max; i++)
		if (c[i].addrlen && (c[i].addr.ss_family == AF_INET ||
				     c[i].addr.ss_family == AF_INET6))
			self_of(&c[i].addr, 0, &out[k++]);
	return k;
}

size_t collectors_describe(const struct collectors *cs, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (!cs || !cs->n) {
		hf_strlcpy(buf, "no collector", len);
		return strlen(buf);
	}
	for (size_t i = 0; i < cs->n && used < len; i++) {
		const struct collector *c = &cs->c[i];
		int w = snprintf(buf + used, len - used, "%s%s sent %llu err %llu",
				 i ? ", " : "", c->name, (unsigned long long)c->sent,
				 (unsigned long long)c->errors);

		if (w >= 0 && c->lost && (size_t)w < len - used)
			w += snprintf(buf + used + w, len - used - (size_t)w, " lost %llu",
				      (unsigned long long)c->lost);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return used < len ? used : len - 1;
}

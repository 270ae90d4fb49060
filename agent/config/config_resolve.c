/* Collector names to addresses: config_resolve(), run by the resolver's
 * worker (getaddrinfo may block for the resolver's whole timeout), never by
 * the agent thread. */
#include "config/config.h"
#include "base/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

/* The parser catches the same address twice (::ffff:127.0.0.1 is
 * 127.0.0.1 by then); only resolution shows that "localhost" is 127.0.0.1,
 * and two entries for one socket address would send every datagram twice. */
static int check_resolved_twins(const struct config *cfg, char *err, size_t errlen)
{
	size_t i, j;
	char where[INET6_ADDRSTRLEN + 16];

	for (i = 1; i < cfg->n_collectors; i++) {
		const struct cfg_collector *c = &cfg->collectors[i];

		for (j = 0; j < i; j++) {
			const struct cfg_collector *o = &cfg->collectors[j];

			if (!c->addrlen || !o->addrlen || !hf_sockaddr_same(&c->addr, &o->addr))
				continue;
			hf_sockaddr_format(&c->addr, where, sizeof where);
			snprintf(err, errlen, "%s:%d: collector %s resolves to %s, the same "
				 "as line %d", cfg->path, c->line, c->host, where, o->line);
			return -1;
		}
	}
	return 0;
}

int config_resolve(struct config *cfg, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char serv[8];
	size_t i;
	int r;

	for (i = 0; i < cfg->n_collectors; i++) {
		struct cfg_collector *c = &cfg->collectors[i];

		if (c->addrlen)
			continue;
		snprintf(serv, sizeof serv, "%u", c->port);
		r = getaddrinfo(c->host, serv, &hints, &res);
		if (r) {
			snprintf(err, errlen, "%s:%d: collector %s: cannot resolve: %s",
				 cfg->path, c->line, c->host,
				 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
			return -1;
		}
		memcpy(&c->addr, res->ai_addr, res->ai_addrlen);
		c->addrlen = res->ai_addrlen;
		freeaddrinfo(res);
		hf_sockaddr_unmap(&c->addr, &c->addrlen);
	}
	return check_resolved_twins(cfg, err, errlen);
}

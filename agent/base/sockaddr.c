#include "base/sockaddr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

int hf_sockaddr_numeric(const char *host, uint16_t port, struct sockaddr_storage *ss,
			socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_family = AF_INET6, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res;
	char serv[8];

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof *sin;
		return 1;
	}
	if (!strchr(host, ':'))
		return 0;
	snprintf(serv, sizeof serv, "%u", port);
	if (getaddrinfo(host, serv, &hints, &res))
		return 0;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	hf_sockaddr_unmap(ss, len);
	return 1;
}

void hf_sockaddr_unmap(struct sockaddr_storage *ss, socklen_t *len)
{
	const struct sockaddr_in6 *s6 = (const void *)ss;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	sin.sin_port = s6->sin6_port;
	memcpy(&sin.sin_addr, s6->sin6_addr.s6_addr + 12, 4);
	memset(ss, 0, sizeof *ss);
	memcpy(ss, &sin, sizeof sin);
	*len = sizeof sin;
}

int hf_dnsname_valid(const char *s)
{
	size_t len = strlen(s), lab = 0, i;
	int alldigits = 1;

	if (len > 1 && s[len - 1] == '.')
		len--;
	if (len < 1 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			alldigits = 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if ((lab == 0 && c == '-') || ++lab > 63)
			return 0;
		if (c < '0' || c > '9')
			alldigits = 0;
	}
	return lab > 0 && s[len - 1] != '-' && !alldigits;
}

void hf_sockaddr_format(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		snprintf(out, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		snprintf(out, len, "%s:%u", a, ntohs(s4->sin_port));
	}
}

int hf_sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr);
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	return 0;
}

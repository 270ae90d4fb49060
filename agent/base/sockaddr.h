/* Socket addresses as the config writes them and the logs show them: the
 * rules for a numeric host and a DNS name, one text form. Pure: no I/O (a
 * numeric getaddrinfo does not resolve). */
#ifndef HF_SOCKADDR_H
#define HF_SOCKADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A numeric host (IPv4 strictly dotted-quad, or IPv6) and port into *ss;
 * 1 when it is one, 0 when it is not (a name, or garbage). An IPv4-mapped
 * IPv6 address (::ffff:192.0.2.1) comes back as the IPv4 address it is. */
int hf_sockaddr_numeric(const char *host, uint16_t port, struct sockaddr_storage *ss,
			socklen_t *len);
/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) into the AF_INET address it
 * stands for (same port), so that one host has one spelling; anything else
 * is left as it is. */
void hf_sockaddr_unmap(struct sockaddr_storage *ss, socklen_t *len);
/* RFC 1123 host name, one trailing dot allowed; a last label of digits only
 * (999.1.1.1) is refused as a mistyped IPv4 address. */
int hf_dnsname_valid(const char *s);
/* "ADDR:PORT", IPv6 as "[ADDR]:PORT". */
void hf_sockaddr_format(const struct sockaddr_storage *ss, char *out, size_t len);
/* Same family, address and port (and IPv6 scope); padding and flow labels aside. */
int hf_sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

#endif

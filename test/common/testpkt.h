/* Packets as the captures see them, for the tests of the judge both
 * captures share (check_bpfprog, check_tcsample): UDP datagrams between
 * 198.18.0.1 and .2 (fd7a:115c:a1e0::1 and ::2 for IPv6), the ICMP errors
 * that quote them, a filter compiled. Tests only. */
#ifndef HF_TESTPKT_H
#define HF_TESTPKT_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 UDP packet 198.18.0.1 -> 198.18.0.2 with a 4-byte payload, an
 * Ethernet header in front when eth; b has room for 64 bytes. Its length. */
size_t testpkt_udp4(uint8_t *b, int eth, uint16_t sport, uint16_t dport);
/* The same over IPv6, fd7a:115c:a1e0::1 -> ::2; b has room for 128 bytes. */
size_t testpkt_udp6(uint8_t *b, int eth, uint16_t sport, uint16_t dport);
/* The ICMP (v6: ICMPv6) error of type that a datagram provoked, sent back
 * to its source and quoting inner (inner_len bytes without link header,
 * as testpkt_udp4/6 built it with eth 0); b has room for 256 bytes. */
size_t testpkt_icmp_error(uint8_t *b, int eth, int v6, uint8_t type, const uint8_t *inner,
			  size_t inner_len);
/* expr compiled by pfilter for dlt (n instructions in *len); a filter that
 * does not compile aborts the test, saying why on stderr (no check here:
 * the fuzzers link test/common/ too). */
struct sock_filter *testpkt_compile(const char *expr, int dlt, size_t *len);

#endif

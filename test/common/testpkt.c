/* Packets for the judge's tests (testpkt.h). */
#include "testpkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sflow/core/pfilter.h"

#define TESTPKT_ETH_LEN 14
#define TESTPKT_UDP_PAYLOAD 4   /* a UDP header and 4 bytes: 12 past the IP header */

/* The Ethernet header (when eth) from 02:00:00:00:00:02 to ...:01, or back
 * the other way; the offset of the IP header. */
static size_t testpkt_eth(uint8_t *b, int eth, int v6, int back)
{
	static const uint8_t mac1[6] = { 2, 0, 0, 0, 0, 1 }, mac2[6] = { 2, 0, 0, 0, 0, 2 };

	if (!eth)
		return 0;
	memcpy(b, back ? mac2 : mac1, 6);
	memcpy(b + 6, back ? mac1 : mac2, 6);
	b[12] = v6 ? 0x86 : 0x08;
	b[13] = v6 ? 0xdd : 0x00;
	return TESTPKT_ETH_LEN;
}

/* One builder for both families: the headers differ, the UDP part does not. */
static size_t testpkt_udp(uint8_t *b, int eth, int v6, uint16_t sport, uint16_t dport)
{
	size_t o, h = v6 ? 40 : 20;

	memset(b, 0, v6 ? 128 : 64);
	o = testpkt_eth(b, eth, v6, 0);
	if (v6) {
		b[o] = 0x60;
		b[o + 5] = 8 + TESTPKT_UDP_PAYLOAD;     /* payload length */
		b[o + 6] = 17;
		b[o + 7] = 64;
		memcpy(b + o + 8, "\xfd\x7a\x11\x5c\xa1\xe0\0\0\0\0\0\0\0\0\0\x01", 16);
		memcpy(b + o + 24, "\xfd\x7a\x11\x5c\xa1\xe0\0\0\0\0\0\0\0\0\0\x02", 16);
	} else {
		b[o] = 0x45;
		b[o + 3] = 20 + 8 + TESTPKT_UDP_PAYLOAD; /* total length */
		b[o + 8] = 64;
		b[o + 9] = 17;
		memcpy(b + o + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);  /* 198.18.0.1 -> .2 */
	}
	b[o + h] = (uint8_t)(sport >> 8);
	b[o + h + 1] = (uint8_t)sport;
	b[o + h + 2] = (uint8_t)(dport >> 8);
	b[o + h + 3] = (uint8_t)dport;
	b[o + h + 5] = 8 + TESTPKT_UDP_PAYLOAD;         /* UDP length */
	return o + h + 8 + TESTPKT_UDP_PAYLOAD;
}

size_t testpkt_udp4(uint8_t *b, int eth, uint16_t sport, uint16_t dport)
{
	return testpkt_udp(b, eth, 0, sport, dport);
}

size_t testpkt_udp6(uint8_t *b, int eth, uint16_t sport, uint16_t dport)
{
	return testpkt_udp(b, eth, 1, sport, dport);
}

size_t testpkt_icmp_error(uint8_t *b, int eth, int v6, uint8_t type, const uint8_t *inner,
			  size_t inner_len)
{
	size_t o, h = v6 ? 40 : 20;

	memset(b, 0, 256);
	o = testpkt_eth(b, eth, v6, 1);
	if (v6) {
		b[o] = 0x60;
		b[o + 6] = 58;
		memcpy(b + o + 8, inner + 24, 16);      /* back to the quoted source */
		memcpy(b + o + 24, inner + 8, 16);
	} else {
		b[o] = 0x45;
		b[o + 9] = 1;
		memcpy(b + o + 12, inner + 16, 4);
		memcpy(b + o + 16, inner + 12, 4);
	}
	b[o + h] = type;
	memcpy(b + o + h + 8, inner, inner_len);
	return o + h + 8 + inner_len;
}

struct sock_filter *testpkt_compile(const char *expr, int dlt, size_t *len)
{
	struct sock_filter *p = NULL;
	char err[256];

	if (pfilter_compile(expr, dlt, &p, len, err, sizeof err) != 0) {
		fprintf(stderr, "testpkt: %s: %s\n", expr, err);
		abort();
	}
	return p;
}

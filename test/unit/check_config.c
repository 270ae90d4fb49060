/* hostflowd.conf parser: every directive good and bad, defaults, FILE:LINE. */
#include <check.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "sflow/core/pfilter.h"
#include "hf_check.h"

static struct config *parse_ok(const char *text)
{
	struct config *cfg = NULL;
	char err[512] = "";

	ck_assert_msg(config_parse("t.conf", text, strlen(text), &cfg, err, sizeof err) == 0,
		      "unexpected error: %s", err);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

/* Parses text of len bytes and expects an error containing want, from the
 * parser or, as the daemon loads a config, from compiling its filters. */
static void parse_bad_len(const char *text, size_t len, const char *want)
{
	struct config *cfg = (struct config *)1;
	char err[512] = "";

	if (config_parse("t.conf", text, len, &cfg, err, sizeof err) == 0) {
		ck_assert_int_eq(pfilter_check_config(cfg, err, sizeof err), -1);
		config_free(cfg);
	} else {
		ck_assert_msg(cfg == (struct config *)1, "out written on error");
	}
	ck_assert_msg(strstr(err, want), "error '%s' lacks '%s'", err, want);
}

static void parse_bad(const char *text, const char *want)
{
	parse_bad_len(text, strlen(text), want);
}

START_TEST(t_defaults)
{
	struct config *cfg = parse_ok("");

	ck_assert_str_eq(cfg->agentx_socket, CFG_DEFAULT_AGENTX);
	ck_assert_uint_eq(cfg->agentx_retry, 30);
	ck_assert_str_eq(cfg->ifindex_map, "");
	ck_assert_str_eq(cfg->user, "");
	ck_assert_str_eq(cfg->agent_interface, "");
	ck_assert_int_eq(cfg->agent_address.family, 0);
	ck_assert_uint_eq(cfg->sub_agent_id, 0);
	ck_assert_uint_eq(cfg->sampling_rate, 400);
	ck_assert_uint_eq(cfg->polling_interval, 20);
	ck_assert_uint_eq(cfg->header_bytes, 128);
	ck_assert_uint_eq(cfg->n_ifaces + cfg->n_collectors + cfg->n_samples, 0);
	ck_assert_uint_eq(cfg->n_link_notify, 0);
	ck_assert_int_eq(config_link_notify(cfg, "eth0"), 0);
	ck_assert_str_eq(cfg->path, "t.conf");
	config_free(cfg);
}
END_TEST

START_TEST(t_all_directives)
{
	struct config *cfg = parse_ok(
		"# a comment\n"
		"\n"
		"   \t\n"
		"agentx_socket unix:/run/agentx/master  # trailing comment\n"
		"agentx_retry 3600\n"
		"ifindex_map /etc/hostflow/interfaces.map\n"
		"sub_agent_id 4294967295\r\n"
		"sampling_rate 4294967295\n"
		"polling_interval 0\n"
		"header_bytes 256\n"
		"user hostflow\n"
		"agent_address 100.64.0.1\n");

	ck_assert_str_eq(cfg->agentx_socket, "unix:/run/agentx/master");
	ck_assert_str_eq(cfg->ifindex_map, "/etc/hostflow/interfaces.map");
	ck_assert_int_eq(cfg->ifindex_map_line, 6);
	ck_assert_uint_eq(cfg->agentx_retry, 3600);
	ck_assert_uint_eq(cfg->sub_agent_id, 4294967295u);
	ck_assert_uint_eq(cfg->sampling_rate, 4294967295u);
	ck_assert_uint_eq(cfg->polling_interval, 0);
	ck_assert_uint_eq(cfg->header_bytes, 256);
	ck_assert_str_eq(cfg->user, "hostflow");
	ck_assert_int_eq(cfg->agent_address.family, AF_INET);
	ck_assert_mem_eq(cfg->agent_address.a, "\x64\x40\x00\x01", 4);
	config_free(cfg);
}
END_TEST

START_TEST(t_agent_v6_and_interface)
{
	struct config *cfg = parse_ok("agent_address fd7a:115c:a1e0::1\n");

	ck_assert_int_eq(cfg->agent_address.family, AF_INET6);
	ck_assert_uint_eq(cfg->agent_address.a[0], 0xfd);
	ck_assert_uint_eq(cfg->agent_address.a[15], 1);
	config_free(cfg);
	cfg = parse_ok("agent_interface tailscale0\n");
	ck_assert_str_eq(cfg->agent_interface, "tailscale0");
	config_free(cfg);
}
END_TEST

START_TEST(t_agentx_forms)
{
	static const char *const good[] = { "/var/agentx/master", "unix:/run/x",
		"tcp:localhost:705", "tcp:127.0.0.1:705", "tcp:[::1]:705",
		"tcp:agentx.example.com:65535" };
	char text[128];
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct config *cfg;

		snprintf(text, sizeof text, "agentx_socket %s\n", good[i]);
		cfg = parse_ok(text);
		ck_assert_str_eq(cfg->agentx_socket, good[i]);
		config_free(cfg);
	}
}
END_TEST

/* agentx_retry's low end: 1 s is accepted (test_status.sh runs on 3). */
START_TEST(t_agentx_retry)
{
	struct config *cfg = parse_ok("agentx_retry 1  # seconds\n");

	ck_assert_uint_eq(cfg->agentx_retry, 1);
	config_free(cfg);
	cfg = parse_ok("agentx_retry 3\n");
	ck_assert_uint_eq(cfg->agentx_retry, 3);
	config_free(cfg);
}
END_TEST

START_TEST(t_interface)
{
	struct config *cfg = parse_ok(
		"interface eth0 speed 10G alias \"Transit: \\\"ISP\\\" # \\\\ x\"\n"
		"interface tailscale0 alias \"\" # no speed\n"
		"interface veth-a speed 100M\n"
		"interface b speed 1k\n"
		"interface c speed 18446744073709551615\n");
	const struct cfg_iface *f;

	ck_assert_uint_eq(cfg->n_ifaces, 5);
	f = config_iface(cfg, "eth0");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->line, 1);
	ck_assert_int_eq(f->has_alias, 1);
	ck_assert_str_eq(f->alias, "Transit: \"ISP\" # \\ x");
	ck_assert_int_eq(f->has_speed, 1);
	ck_assert_uint_eq(f->speed_bps, 10000000000ull);
	f = config_iface(cfg, "tailscale0");
	ck_assert_int_eq(f->has_alias, 1);
	ck_assert_str_eq(f->alias, "");
	ck_assert_int_eq(f->has_speed, 0);
	ck_assert_uint_eq(config_iface(cfg, "veth-a")->speed_bps, 100000000u);
	ck_assert_uint_eq(config_iface(cfg, "b")->speed_bps, 1000);
	ck_assert_uint_eq(config_iface(cfg, "c")->speed_bps, 18446744073709551615ull);
	ck_assert_ptr_null(config_iface(cfg, "eth1"));
	config_free(cfg);
}
END_TEST

START_TEST(t_alias_64)
{
	char text[256];
	struct config *cfg;

	snprintf(text, sizeof text, "interface e alias \"%064d\"\n", 0);
	cfg = parse_ok(text);
	ck_assert_uint_eq(strlen(cfg->ifaces[0].alias), 64);
	config_free(cfg);
	snprintf(text, sizeof text, "\ninterface e alias \"%065d\"\n", 0);
	parse_bad(text, "t.conf:2: interface e: alias is longer than 64 bytes");
}
END_TEST

START_TEST(t_collectors)
{
	struct config *cfg = parse_ok(
		"collector 192.0.2.1\n"
		"collector 192.0.2.1 6344\n"
		"collector [2001:db8::1] 9999\n"
		"collector ::1\n"
		"collector sflow.example.com\n"
		"collector localhost.\n");
	const struct sockaddr_in *sin = (const void *)&cfg->collectors[0].addr;
	const struct sockaddr_in6 *sin6 = (const void *)&cfg->collectors[2].addr;

	ck_assert_uint_eq(cfg->n_collectors, 6);
	ck_assert_uint_eq(cfg->collectors[0].port, 6343);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 6343);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xc0000201);
	ck_assert_uint_eq(cfg->collectors[0].addrlen, sizeof *sin);
	ck_assert_uint_eq(cfg->collectors[1].port, 6344);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 9999);
	ck_assert_str_eq(cfg->collectors[2].host, "2001:db8::1");
	ck_assert_uint_eq(cfg->collectors[3].port, 6343);
	ck_assert_uint_eq(cfg->collectors[3].addrlen, sizeof *sin6);
	ck_assert_str_eq(cfg->collectors[4].host, "sflow.example.com");
	ck_assert_uint_eq(cfg->collectors[4].addrlen, 0);
	ck_assert_int_eq(cfg->collectors[5].line, 6);
	config_free(cfg);
}
END_TEST

START_TEST(t_collector_max)
{
	char text[2048] = "";
	struct config *cfg;
	int i;

	for (i = 1; i <= 16; i++)
		sprintf(text + strlen(text), "collector 192.0.2.%d\n", i);
	cfg = parse_ok(text);
	ck_assert_uint_eq(cfg->n_collectors, 16);
	config_free(cfg);
	strcat(text, "collector 192.0.2.99\n");
	parse_bad(text, "t.conf:17: collector: too many collectors (at most 16)");
}
END_TEST

/* Holding samples until SNMP answers: on by default, 4 MiB, bounded. */
START_TEST(t_hold)
{
	struct config *cfg = parse_ok("");

	ck_assert_int_eq(cfg->hold_samples, 1);
	ck_assert_uint_eq(cfg->hold_bytes, 4u << 20);
	config_free(cfg);
	cfg = parse_ok("hold_samples off\nhold_bytes 65536\n");
	ck_assert_int_eq(cfg->hold_samples, 0);
	ck_assert_uint_eq(cfg->hold_bytes, 65536);
	config_free(cfg);
	cfg = parse_ok("hold_samples on\n");
	ck_assert_int_eq(cfg->hold_samples, 1);
	config_free(cfg);
	parse_bad("hold_samples maybe\n", "t.conf:1: hold_samples: 'maybe' is neither on nor off");
	parse_bad("hold_samples on\nhold_samples off\n", "t.conf:2: hold_samples: already set on line 1");
	parse_bad("hold_bytes 65535\n", "t.conf:1: hold_bytes");
	parse_bad("hold_bytes 268435457\n", "t.conf:1: hold_bytes");
}
END_TEST

/* `capture auto|packet|ebpf`: which hook takes the samples, auto unless said. */
START_TEST(t_capture)
{
	/* The capture asked for, and the line -t names (0: not set). */
	static const struct {
		const char *text;
		enum cfg_capture capture;
		int line;
	} ok[] = {
		{ "", CFG_CAPTURE_AUTO, 0 },
		{ "capture packet\n", CFG_CAPTURE_PACKET, 1 },
		{ "# the line -t names\ncapture ebpf\n", CFG_CAPTURE_EBPF, 2 },
		{ "capture auto\n", CFG_CAPTURE_AUTO, 1 },
	};

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct config *cfg = parse_ok(ok[i].text);

		ck_assert_msg(cfg->capture == ok[i].capture, "%s: capture %d", ok[i].text,
			      (int)cfg->capture);
		ck_assert_msg(cfg->capture_line == ok[i].line, "%s: line %d", ok[i].text,
			      cfg->capture_line);
		config_free(cfg);
	}
	parse_bad("capture tcx\n", "t.conf:1: capture: 'tcx' is none of auto, packet, ebpf");
	parse_bad("capture ebpf\ncapture packet\n", "t.conf:2: capture: already set on line 1");
	parse_bad("capture\n", "t.conf:1: capture: missing argument");
}
END_TEST

/* Shared between threads by reference: the last holder frees. */
START_TEST(t_refs)
{
	struct config *cfg = parse_ok("sample eth0\n");

	ck_assert_ptr_eq(config_ref(cfg), cfg);
	config_free(cfg);
	ck_assert_str_eq(cfg->samples[0].name, "eth0");  /* still held */
	config_free(cfg);
}
END_TEST

START_TEST(t_samples)
{
	struct config *cfg = parse_ok("sampling_rate 1000\nsample tailscale0\n"
				      "sample eth0 rate 10\n");
	const struct cfg_sample *s = &cfg->samples[0];

	/* File order, not sorted: the first match decides. */
	ck_assert_uint_eq(cfg->n_samples, 2);
	ck_assert_str_eq(s->name, "tailscale0");
	ck_assert_int_eq(s->line, 2);
	ck_assert_uint_eq(s->rate, 0);
	ck_assert_int_eq(s->off, 0);
	ck_assert_str_eq(s->filter, "");
	ck_assert_uint_eq(config_sample_rate(cfg, s, 0), 1000);
	ck_assert_uint_eq(config_sample_rate(cfg, s, 1000000000), 1000);
	s++;
	ck_assert_str_eq(s->name, "eth0");
	ck_assert_uint_eq(config_sample_rate(cfg, s, 0), 10);
	ck_assert_ptr_eq(config_sample_match(cfg, "eth0"), s);
	ck_assert_ptr_eq(config_sample_match(cfg, "tailscale0"), &cfg->samples[0]);
	ck_assert_ptr_null(config_sample_match(cfg, "eth1"));
	config_free(cfg);
}
END_TEST

/* The rate rule: the sample line's rate, else the speed table's entry for
 * the served speed, else sampling_rate N, else 400. */
START_TEST(t_rate_by_speed)
{
	struct config *cfg = parse_ok(
		"sampling_rate 10G 20\n"            /* line 1 */
		"sampling_rate 1G 5\n"
		"sampling_rate 100000000 3\n"       /* 100M as plain bit/s */
		"sampling_rate 50\n"
		"sample lo off\n"                   /* line 5 */
		"sample eth9 rate 7\n"
		"sample *\n");
	struct cfg_rate r;

	/* Sorted by speed; the lines kept. */
	ck_assert_uint_eq(cfg->n_speed_rates, 3);
	ck_assert_uint_eq(cfg->speed_rates[0].speed_bps, 100000000u);
	ck_assert_int_eq(cfg->speed_rates[0].line, 3);
	ck_assert_uint_eq(cfg->speed_rates[2].speed_bps, 10000000000ull);
	ck_assert_uint_eq(cfg->speed_rates[2].rate, 20);
	ck_assert_int_eq(cfg->sampling_rate_line, 4);

	config_rate(cfg, "eth0", 1000000000, &r);
	ck_assert_int_eq(r.by, CFG_RATE_SPEED);
	ck_assert_uint_eq(r.rate, 5);
	ck_assert_int_eq(r.line, 2);
	ck_assert_ptr_eq(r.sample, &cfg->samples[2]);
	ck_assert_ptr_eq(r.speed, config_speed_rate(cfg, 1000000000));
	config_rate(cfg, "eth0", 10000000000ull, &r);
	ck_assert_uint_eq(r.rate, 20);
	config_rate(cfg, "eth0", 100000000, &r);
	ck_assert_uint_eq(r.rate, 3);
	/* Equal speeds only: no rounding, no "nearest" entry. */
	config_rate(cfg, "eth0", 999999999, &r);
	ck_assert_int_eq(r.by, CFG_RATE_GLOBAL);
	ck_assert_uint_eq(r.rate, 50);
	ck_assert_int_eq(r.line, 4);
	config_rate(cfg, "eth0", 25000000000ull, &r);
	ck_assert_uint_eq(r.rate, 50);
	/* Unknown speed (0) is never in the table. */
	config_rate(cfg, "eth0", 0, &r);
	ck_assert_int_eq(r.by, CFG_RATE_GLOBAL);
	ck_assert_uint_eq(r.rate, 50);
	/* A sample line's rate always wins, whatever the speed. */
	config_rate(cfg, "eth9", 1000000000, &r);
	ck_assert_int_eq(r.by, CFG_RATE_SAMPLE);
	ck_assert_uint_eq(r.rate, 7);
	ck_assert_int_eq(r.line, 6);
	ck_assert_uint_eq(config_sample_rate(cfg, &cfg->samples[1], 1000000000), 7);
	/* off and no line: not sampled, and said why. */
	config_rate(cfg, "lo", 1000000000, &r);
	ck_assert_int_eq(r.by, CFG_RATE_OFF);
	ck_assert_uint_eq(r.rate, 0);
	ck_assert_int_eq(r.line, 5);
	ck_assert_uint_eq(config_sample_rate(cfg, &cfg->samples[2], 10000000000ull), 20);
	ck_assert_uint_eq(config_sample_rate(cfg, &cfg->samples[2], 1), 50);
	config_free(cfg);

	/* Without a plain sampling_rate: the default 400, line 0. */
	cfg = parse_ok("sampling_rate 1G 5\nsample x*\n");
	config_rate(cfg, "x1", 10000000000ull, &r);
	ck_assert_int_eq(r.by, CFG_RATE_GLOBAL);
	ck_assert_uint_eq(r.rate, 400);
	ck_assert_int_eq(r.line, 0);
	config_rate(cfg, "y1", 1000000000, &r);
	ck_assert_int_eq(r.by, CFG_RATE_NONE);
	ck_assert_uint_eq(r.rate, 0);
	ck_assert_ptr_null(r.sample);
	config_free(cfg);

	/* The k suffix and a plain speed equal to a suffixed one. */
	cfg = parse_ok("sampling_rate 2500M 9\nsampling_rate 1k 2\nsample *\n");
	ck_assert_uint_eq(config_sample_rate(cfg, &cfg->samples[0], 2500000000ull), 9);
	ck_assert_uint_eq(config_sample_rate(cfg, &cfg->samples[0], 1000), 2);
	config_free(cfg);
}
END_TEST

START_TEST(t_speed_text)
{
	static const struct { uint64_t bps; const char *text; } cases[] = {
		{ 0, "unknown" }, { 1, "1" }, { 999, "999" }, { 1000, "1k" },
		{ 100000000, "100M" }, { 1000000000, "1G" }, { 10000000000ull, "10G" },
		{ 2500000000ull, "2500M" }, { 1500, "1500" }, { 12345000, "12345k" },
		{ 18446744073709551615ull, "18446744073709551615" },
	};
	char buf[CFG_SPEED_TEXT];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		config_speed_text(cases[i].bps, buf, sizeof buf);
		ck_assert_str_eq(buf, cases[i].text);
	}
}
END_TEST

/* What -t prints for each interface: the rate and the line that decided. */
START_TEST(t_rate_describe)
{
	struct config *cfg = parse_ok(
		"sampling_rate 1G 5\n"
		"sampling_rate 10G 20\n"
		"sampling_rate 50\n"
		"sample lo off\n"
		"sample eth9 rate 7\n"
		"sample eth*\n");
	char buf[256];

	config_rate_describe(cfg, "eth0", 1000000000, buf, sizeof buf);
	ck_assert_str_eq(buf, "eth0: 1 in 5 (sampling_rate 1G 5, line 1; speed 1G; "
			 "sample eth*, line 6)");
	config_rate_describe(cfg, "eth1", 1000000, buf, sizeof buf);
	ck_assert_str_eq(buf, "eth1: 1 in 50 (sampling_rate 50, line 3; speed 1M, not in "
			 "the speed table; sample eth*, line 6)");
	config_rate_describe(cfg, "eth2", 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "eth2: 1 in 50 (sampling_rate 50, line 3; speed unknown, not "
			 "in the speed table; sample eth*, line 6)");
	config_rate_describe(cfg, "eth9", 1000000000, buf, sizeof buf);
	ck_assert_str_eq(buf, "eth9: 1 in 7 (sample eth9 rate 7, line 5)");
	config_rate_describe(cfg, "lo", 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "lo: not sampled (sample lo off, line 4)");
	config_rate_describe(cfg, "tun0", 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "tun0: not sampled (no sample line matches)");
	/* Truncated, terminated. */
	config_rate_describe(cfg, "eth0", 1000000000, buf, 8);
	ck_assert_str_eq(buf, "eth0: 1");
	config_free(cfg);
	/* No speed table: the speed is not mentioned; the default named so. */
	cfg = parse_ok("sample *\n");
	config_rate_describe(cfg, "eth0", 1000000000, buf, sizeof buf);
	ck_assert_str_eq(buf, "eth0: 1 in 400 (the default sampling_rate 400; sample *, line 1)");
	config_free(cfg);
}
END_TEST

START_TEST(t_sample_patterns)
{
	struct config *cfg = parse_ok(
		"sample lo off\n"
		"sample tailscale0 rate 50\n"
		"sample eth0 filter \"not udp port 41641\" rate 100\n"
		"sample veth[0-9]* rate 20\n"
		"sample veth*\n"
		"sample * rate 400 filter \"\"\n");
	const struct cfg_sample *s;

	ck_assert_uint_eq(cfg->n_samples, 6);
	ck_assert_int_eq(cfg->samples[0].off, 1);
	ck_assert_ptr_null(config_sample_match(cfg, "lo"));     /* off decides */
	s = config_sample_match(cfg, "eth0");
	ck_assert_ptr_eq(s, &cfg->samples[2]);
	ck_assert_str_eq(s->filter, "not udp port 41641");
	ck_assert_uint_eq(s->rate, 100);
	ck_assert_ptr_eq(config_sample_match(cfg, "veth12ab"), &cfg->samples[3]);
	ck_assert_ptr_eq(config_sample_match(cfg, "vethx"), &cfg->samples[4]);
	s = config_sample_match(cfg, "ens3");
	ck_assert_ptr_eq(s, &cfg->samples[5]);
	ck_assert_str_eq(s->filter, "");
	ck_assert_ptr_eq(config_sample_match(cfg, "eth0.100"), s);
	config_free(cfg);
	/* `off` first excludes; an `off` that never comes first does nothing. */
	cfg = parse_ok("sample * rate 7\nsample lo off\n");
	ck_assert_ptr_eq(config_sample_match(cfg, "lo"), &cfg->samples[0]);
	config_free(cfg);
	/* Escapes and brackets: a literal '*' in a class, a ']' first in one. */
	cfg = parse_ok("sample a\\*b\nsample [*]x\nsample []]y\nsample [!a]z\n");
	ck_assert_ptr_eq(config_sample_match(cfg, "a*b"), &cfg->samples[0]);
	ck_assert_ptr_null(config_sample_match(cfg, "aqb"));
	ck_assert_ptr_eq(config_sample_match(cfg, "*x"), &cfg->samples[1]);
	ck_assert_ptr_eq(config_sample_match(cfg, "]y"), &cfg->samples[2]);
	ck_assert_ptr_eq(config_sample_match(cfg, "bz"), &cfg->samples[3]);
	ck_assert_ptr_null(config_sample_match(cfg, "az"));
	config_free(cfg);
}
END_TEST

/* Repeatable, several patterns a line, any one matching; a repeated
 * pattern is harmless (a set, not a first-match list). */
START_TEST(t_link_notify)
{
	struct config *cfg = parse_ok("link_notifications eth0 ens[0-9]*\n"
				      "sample *\n"
				      "link_notifications tailscale0 eth0 wg\\*\n");

	ck_assert_uint_eq(cfg->n_link_notify, 5);
	ck_assert_str_eq(cfg->link_notify[1].name, "ens[0-9]*");
	ck_assert_int_eq(cfg->link_notify[1].line, 1);
	ck_assert_str_eq(cfg->link_notify[4].name, "wg\\*");
	ck_assert_int_eq(cfg->link_notify[4].line, 3);
	ck_assert_int_eq(config_link_notify(cfg, "eth0"), 1);
	ck_assert_int_eq(config_link_notify(cfg, "ens3"), 1);
	ck_assert_int_eq(config_link_notify(cfg, "tailscale0"), 1);
	ck_assert_int_eq(config_link_notify(cfg, "wg*"), 1);
	ck_assert_int_eq(config_link_notify(cfg, "wg0"), 0);
	ck_assert_int_eq(config_link_notify(cfg, "ensx"), 0);
	ck_assert_int_eq(config_link_notify(cfg, "veth1"), 0);
	ck_assert_int_eq(config_link_notify(NULL, "eth0"), 0);
	config_free(cfg);
	cfg = parse_ok("link_notifications *\n");
	ck_assert_int_eq(config_link_notify(cfg, "anything"), 1);
	config_free(cfg);
}
END_TEST

START_TEST(t_sample_notes)
{
	struct config *cfg = parse_ok("sample lo off\nsample veth*\nsample eth0\n"
				      "sample * rate 9\n");
	const char *names[] = { "lo", "eth0", "tailscale0" };
	char buf[512];

	ck_assert_uint_eq(config_sample_notes(cfg, names, 3, buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "t.conf:2: note: sample veth* matches no interface now\n");
	ck_assert_uint_eq(config_sample_notes(cfg, names, 0, buf, sizeof buf), 4);
	ck_assert_msg(strstr(buf, "t.conf:1: note: sample lo matches") &&
		      strstr(buf, "t.conf:4: note: sample * matches"), "%s", buf);
	/* Truncated, never overrun; the count stays right. */
	ck_assert_uint_eq(config_sample_notes(cfg, names, 0, buf, 10), 4);
	ck_assert_uint_eq(strlen(buf), 9);
	config_free(cfg);
}
END_TEST

START_TEST(t_comment_bytes)
{
	/* Any byte but NUL is fine inside a comment; a 4095-byte line is fine. */
	char text[4200];
	struct config *cfg;

	cfg = parse_ok("# caf\xc3\xa9 \x01\xff\nuser x # \"unterminated\n");
	ck_assert_str_eq(cfg->user, "x");
	config_free(cfg);
	memset(text, ' ', 4095);
	memcpy(text, "user y #", 8);
	strcpy(text + 4095, "\n");
	cfg = parse_ok(text);
	ck_assert_str_eq(cfg->user, "y");
	config_free(cfg);
}
END_TEST

START_TEST(t_no_newline_at_end)
{
	struct config *cfg = parse_ok("sampling_rate 7");

	ck_assert_uint_eq(cfg->sampling_rate, 7);
	config_free(cfg);
}
END_TEST

static const struct {
	const char *text;
	const char *err;
} bad_cases[] = {
	{ "bogus 1\n", "t.conf:1: unknown directive 'bogus'" },
	{ "\"user\" x\n", "t.conf:1: unknown directive 'user'" },
	{ "\n\nsampling_rate\n", "t.conf:3: sampling_rate: missing argument" },
	{ "sampling_rate 1 2 3\n", "t.conf:1: sampling_rate: extra argument '3' (usage: sampling_rate N | sampling_rate SPEED N" },
	{ "sampling_rate 1G\n", "t.conf:1: sampling_rate: '1G' is not a number" },
	{ "sampling_rate 0 5\n", "t.conf:1: sampling_rate: speed '0' must not be 0; expected N, Nk, NM or NG bit/s" },
	{ "sampling_rate 1T 5\n", "t.conf:1: sampling_rate: speed '1T' is not a number" },
	{ "sampling_rate -1G 5\n", "t.conf:1: sampling_rate: speed '-1G' is negative" },
	{ "sampling_rate 18446744073709551615k 5\n", "t.conf:1: sampling_rate: speed '18446744073709551615k' is too large" },
	{ "sampling_rate 1G 0\n", "t.conf:1: sampling_rate rate: '0' is out of range; allowed 1..4294967295" },
	{ "sampling_rate 1G x\n", "t.conf:1: sampling_rate rate: 'x' is not a number" },
	{ "sampling_rate 1G 4294967296\n", "sampling_rate rate: '4294967296' is out of range" },
	{ "sampling_rate 1G 5\nsampling_rate 10G 5\nsampling_rate 1000M 7\n", "t.conf:3: sampling_rate 1G: already defined on line 1" },
	{ "sampling_rate 10G 1\nsampling_rate 1G 5\nsampling_rate 10000M 7\nsampling_rate 1000000000 2\n", "t.conf:3: sampling_rate 10G: already defined on line 1" },
	{ "sampling_rate 1G 5\nsampling_rate 1G 5\nsample a\nsample a\n", "t.conf:2: sampling_rate 1G: already defined on line 1" },
	{ "sample a\nsample a\nsampling_rate 1G 5\nsampling_rate 1G 5\n", "t.conf:2: sample a: already defined on line 1" },
	{ "sampling_rate \"1G\" 5\n", "t.conf:1: sampling_rate: quotes are only allowed" },
	{ "sampling_rate 0\n", "t.conf:1: sampling_rate: '0' is out of range; allowed 1..4294967295" },
	{ "sampling_rate -1\n", "t.conf:1: sampling_rate: '-1' is out of range (negative)" },
	{ "sampling_rate 4294967296\n", "t.conf:1: sampling_rate: '4294967296' is out of range" },
	{ "sampling_rate 18446744073709551616\n", "t.conf:1: sampling_rate: '18446744073709551616' is out of range (too large)" },
	{ "sampling_rate 99999999999999999999999\n", "out of range (too large)" },
	{ "sampling_rate +5\n", "t.conf:1: sampling_rate: '+5' is not a number" },
	{ "sampling_rate 5x\n", "'5x' is not a number" },
	{ "sampling_rate 0x10\n", "'0x10' is not a number" },
	{ "sampling_rate 1\n#\nsampling_rate 2\n", "t.conf:3: sampling_rate: already set on line 1" },
	{ "sub_agent_id 4294967296\n", "t.conf:1: sub_agent_id: '4294967296' is out of range; allowed 0..4294967295" },
	{ "sub_agent_id -0\n", "sub_agent_id: '-0' is out of range (negative)" },
	{ "sub_agent_id 1\nsub_agent_id 1\n", "t.conf:2: sub_agent_id: already set on line 1" },
	{ "polling_interval 86401\n", "t.conf:1: polling_interval: '86401' is out of range; allowed 0..86400" },
	{ "polling_interval 5\npolling_interval 5\n", "t.conf:2: polling_interval: already set on line 1" },
	{ "header_bytes 0\n", "t.conf:1: header_bytes: '0' is out of range; allowed 1..256" },
	{ "header_bytes 257\n", "header_bytes: '257' is out of range" },
	{ "header_bytes 64\nheader_bytes 64\n", "t.conf:2: header_bytes: already set on line 1" },
	{ "agentx_retry 0\n", "t.conf:1: agentx_retry: '0' is out of range; allowed 1..3600" },
	{ "agentx_retry 3601\n", "t.conf:1: agentx_retry: '3601' is out of range; allowed 1..3600" },
	{ "agentx_retry 4294967296\n", "t.conf:1: agentx_retry: '4294967296' is out of range; allowed 1..3600" },
	{ "agentx_retry -1\n", "t.conf:1: agentx_retry: '-1' is out of range (negative); allowed 1..3600" },
	{ "agentx_retry 30s\n", "t.conf:1: agentx_retry: '30s' is not a number (decimal digits only); allowed 1..3600" },
	{ "agentx_retry\n", "t.conf:1: agentx_retry: missing argument (usage: agentx_retry SECONDS (1..3600))" },
	{ "agentx_retry 30 60\n", "t.conf:1: agentx_retry: extra argument '60' (usage: agentx_retry SECONDS" },
	{ "agentx_retry \"30\"\n", "t.conf:1: agentx_retry: quotes are only allowed" },
	{ "agentx_retry 30\n\nagentx_retry 30\n", "t.conf:3: agentx_retry: already set on line 1" },
	{ "agentx_retries 30\n", "t.conf:1: unknown directive 'agentx_retries' (known: agentx_socket, agentx_retry," },
	{ "agentx_socket\n", "t.conf:1: agentx_socket: missing argument" },
	{ "agentx_socket relative/path\n", "t.conf:1: agentx_socket: 'relative/path' is not an absolute path" },
	{ "agentx_socket unix:relative\n", "agentx_socket: 'unix:relative' is not an absolute path" },
	{ "agentx_socket udp:1.2.3.4:705\n", "is not an absolute path, unix:/PATH, tcp:HOST:PORT" },
	{ "agentx_socket tcp:localhost\n", "t.conf:1: agentx_socket: 'tcp:localhost' needs a port" },
	{ "agentx_socket tcp:localhost:0\n", "needs a port 1..65535" },
	{ "agentx_socket tcp:localhost:65536\n", "needs a port 1..65535" },
	{ "agentx_socket tcp:[zz]:705\n", "t.conf:1: agentx_socket: bad host '[zz]'" },
	{ "agentx_socket tcp:bad_host:705\n", "agentx_socket: bad host 'bad_host'" },
	{ "agentx_socket /a\nagentx_socket /b\n", "t.conf:2: agentx_socket: already set on line 1" },
	{ "ifindex_map /a\nifindex_map /b\n", "t.conf:2: ifindex_map: already set on line 1" },
	{ "ifindex_map\n", "t.conf:1: ifindex_map: missing argument" },
	{ "interface\n", "t.conf:1: interface: missing argument" },
	{ "interface abcdefghijklmnop\n", "t.conf:1: interface: 'abcdefghijklmnop' is not a valid interface name" },
	{ "interface a/b\n", "'a/b' is not a valid interface name" },
	{ "interface .\n", "'.' is not a valid interface name" },
	{ "interface ..\n", "'..' is not a valid interface name" },
	{ "interface eth0:1\n", "'eth0:1' is not a valid interface name" },
	{ "interface \"eth0\"\n", "t.conf:1: interface: quotes are only allowed around an alias" },
	{ "interface e alias x\n", "t.conf:1: interface e: alias must be double-quoted" },
	{ "interface e alias \"a\" alias \"b\"\n", "interface e: option 'alias' given twice" },
	{ "interface e speed 1 speed 2\n", "interface e: option 'speed' given twice" },
	{ "interface e speed\n", "interface e: option 'speed' needs a value" },
	{ "interface e mtu 9000\n", "interface e: unknown option 'mtu'" },
	{ "interface e speed 0\n", "t.conf:1: interface e: speed '0' must not be 0" },
	{ "interface e speed 0G\n", "speed '0G' must not be 0" },
	{ "interface e speed -1\n", "speed '-1' is negative" },
	{ "interface e speed 10g\n", "speed '10g' is not a number; expected N, Nk, NM or NG" },
	{ "interface e speed G\n", "speed 'G' is not a number" },
	{ "interface e speed 18446744073709551616\n", "speed '18446744073709551616' is too large" },
	{ "interface e speed 18446744073709552G\n", "speed '18446744073709552G' is too large" },
	{ "interface e alias \"a\" speed 1 alias\n", "t.conf:1: interface: extra argument 'alias'" },
	{ "interface e alias \"unterminated\n", "t.conf:1: unterminated quoted text" },
	{ "interface e alias \"a\\nb\"\n", "t.conf:1: unknown escape '\\n'" },
	{ "interface e alias \"a\"b\n", "t.conf:1: text right after a closing quote" },
	{ "interface e alias a\"b\"\n", "t.conf:1: unexpected '\"' inside a word" },
	{ "interface e alias \"a\tb\"\n", "t.conf:1: byte 0x09 is not allowed" },
	{ "interface e alias \"caf\xc3\xa9\"\n", "t.conf:1: byte 0xc3 is not allowed outside comments" },
	{ "interface e\ninterface f\ninterface e speed 1\n", "t.conf:3: interface e: already defined on line 1" },
	{ "interface e\ninterface e\ninterface e\n", "t.conf:2: interface e: already defined on line 1" },
	/* A repeated name is reported before a later syntax error... */
	{ "interface e\nsample x\ninterface e\nbogus\n", "t.conf:3: interface e: already defined on line 1" },
	/* ...and a syntax error before a later repeated name. */
	{ "interface e\nbogus\ninterface e\n", "t.conf:2: unknown directive" },
	{ "collector\n", "t.conf:1: collector: missing argument" },
	{ "collector 192.0.2.1 1 2\n", "t.conf:1: collector: extra argument '2'" },
	{ "collector 192.0.2.1 0\n", "t.conf:1: collector port: '0' is out of range; allowed 1..65535" },
	{ "collector 192.0.2.1 65536\n", "collector port: '65536' is out of range" },
	{ "collector 192.0.2.1 http\n", "collector port: 'http' is not a number" },
	{ "collector 192.0.2.256\n", "t.conf:1: collector: bad address '192.0.2.256'" },
	{ "collector 127.1\n", "collector: bad address '127.1'" },
	{ "collector host:6343\n", "t.conf:1: collector: bad address 'host:6343' (give the port as a separate argument" },
	{ "collector [192.0.2.1]\n", "collector: bad address '[192.0.2.1]'" },
	{ "collector [::1\n", "collector: bad address '[::1'" },
	{ "collector 1::2::3\n", "collector: bad address '1::2::3'" },
	{ "collector -bad.example\n", "collector: bad address '-bad.example'" },
	{ "collector under_score.example\n", "bad address 'under_score.example'" },
	{ "collector a..b\n", "bad address 'a..b'" },
	{ "collector 192.0.2.1\n\ncollector 192.0.2.1 6343\n", "t.conf:3: collector 192.0.2.1 port 6343: already defined on line 1" },
	{ "collector ::1\ncollector [0:0::1]\n", "t.conf:2: collector [0:0::1] port 6343: already defined on line 1" },
	{ "collector Sflow.Example\ncollector sflow.example\n", "t.conf:2: collector sflow.example port 6343: already defined on line 1" },
	/* An IPv4-mapped IPv6 address is the IPv4 address: one collector. */
	{ "collector 127.0.0.1\ncollector ::ffff:127.0.0.1\n", "t.conf:2: collector ::ffff:127.0.0.1 port 6343: already defined on line 1" },
	{ "collector [::ffff:7f00:1] 7\ncollector 127.0.0.1 7\n", "t.conf:2: collector 127.0.0.1 port 7: already defined on line 1" },
	{ "agent_address\n", "t.conf:1: agent_address: missing argument" },
	{ "agent_address localhost\n", "t.conf:1: agent_address: 'localhost' is not an IPv4 or IPv6 address" },
	{ "agent_address 10.0.0.1/8\n", "'10.0.0.1/8' is not an IPv4 or IPv6 address" },
	{ "agent_address 10.0.0.1\nagent_address 10.0.0.2\n", "t.conf:2: agent_address: already set on line 1" },
	{ "agent_address 10.0.0.1\nagent_interface eth0\n", "t.conf:2: agent_interface: cannot be combined with agent_address (line 1)" },
	{ "agent_interface eth0\nagent_address 10.0.0.1\n", "t.conf:2: agent_address: cannot be combined with agent_interface (line 1)" },
	{ "agent_interface a/b\n", "t.conf:1: agent_interface: 'a/b' is not a valid interface name" },
	{ "agent_interface e\nagent_interface e\n", "t.conf:2: agent_interface: already set on line 1" },
	{ "sample\n", "t.conf:1: sample: missing argument" },
	{ "sample eth0 rate 0\n", "t.conf:1: sample rate: '0' is out of range; allowed 1..4294967295" },
	{ "sample eth0 rate\n", "t.conf:1: sample eth0: rate needs a value" },
	{ "sample eth0 speed 5\n", "t.conf:1: sample eth0: unknown option 'speed'" },
	{ "sample eth0 rate 1 2\n", "t.conf:1: sample eth0: unknown option '2'" },
	{ "sample eth0 rate 1 filter \"tcp\" 3\n", "t.conf:1: sample: extra argument '3'" },
	{ "sample e\nsample e rate 5\n", "t.conf:2: sample e: already defined on line 1" },
	/* Patterns are compared as written: the same pattern twice is an error. */
	{ "sample veth*\nsample lo off\nsample veth* rate 5\n", "t.conf:3: sample veth*: already defined on line 1" },
	{ "sample e\nsample f\nsample e off\nsample f\n", "t.conf:3: sample e: already defined on line 1" },
	{ "sample eth0 off rate 5\n", "t.conf:1: sample eth0: 'off' takes no other option" },
	{ "sample eth0 rate 5 off\n", "t.conf:1: sample eth0: unknown option 'off'" },
	{ "sample eth0 rate 5 rate 6\n", "t.conf:1: sample eth0: option 'rate' given twice" },
	{ "sample eth0 filter \"tcp\" filter \"udp\"\n", "sample eth0: option 'filter' given twice" },
	{ "sample eth0 filter\n", "t.conf:1: sample eth0: filter needs a value" },
	{ "sample eth0 filter tcp\n", "t.conf:1: sample eth0: filter must be double-quoted" },
	{ "sample eth0 filter \"udp port\"\n", "t.conf:1: filter \"udp port\": can't parse filter expression: syntax error" },
	{ "sample eth0 filter \"not udp port 99999\"\n", "t.conf:1: filter \"not udp port 99999\": illegal port number 99999 > 65535" },
	{ "sample eth0 filter \"tcp and\"\n", "t.conf:1: filter \"tcp and\": " },
	{ "sample \"eth0\"\n", "t.conf:1: sample: quotes are only allowed around an alias or a filter" },
	{ "sample eth0 \"rate\" 5\n", "t.conf:1: sample: quotes are only allowed" },
	{ "sample veth[0-9\n", "t.conf:1: sample: 'veth[0-9' is not a valid pattern (a '[' is not closed by ']'" },
	{ "sample veth[a/b]\n", "t.conf:1: sample: 'veth[a/b]' is not a valid pattern" },
	{ "sample eth*:1\n", "sample: 'eth*:1' is not a valid pattern ('/' and ':' never occur" },
	{ "sample a/*\n", "sample: 'a/*' is not a valid pattern" },
	{ "sample ..\n", "sample: '..' is not a valid pattern" },
	{ "sample eth\\\n", "sample: 'eth\\' is not a valid pattern (it ends in a lone '\\'" },
	{ "sample 0123456789012345678901234567890123456789012345678901234567890123\n", "t.conf:1: sample: pattern '0123456789012345678901234567890123456789012345678901234567890123' is longer than 63 bytes" },
	{ "link_notifications\n", "t.conf:1: link_notifications: missing argument" },
	{ "link_notifications eth0 veth[0-9\n", "t.conf:1: link_notifications: 'veth[0-9' is not a valid pattern (a '[' is not closed by ']'" },
	{ "\nlink_notifications eth:*\n", "t.conf:2: link_notifications: 'eth:*' is not a valid pattern" },
	{ "link_notifications 0123456789012345678901234567890123456789012345678901234567890123\n", "t.conf:1: link_notifications: pattern '0123456789012345678901234567890123456789012345678901234567890123' is longer than 63 bytes" },
	{ "link_notifications \"eth0\"\n", "t.conf:1: link_notifications: quotes are only allowed" },
	{ "link_notify eth0\n", "t.conf:1: unknown directive 'link_notify' (known: agentx_socket" },
	{ "user\n", "t.conf:1: user: missing argument" },
	{ "user 1abc\n", "t.conf:1: user: '1abc' is not a valid user name" },
	{ "user a b\n", "t.conf:1: user: extra argument 'b'" },
	{ "user \"a\"\n", "t.conf:1: user: quotes are only allowed around an alias" },
	{ "user a\nuser a\n", "t.conf:2: user: already set on line 1" },
	{ "a b c d e f g h i j k l m n o p q\n", "t.conf:1: too many words on one line" },
	{ "user a\x7f\n", "t.conf:1: byte 0x7f is not allowed" },
};

START_TEST(t_bad)
{
	parse_bad(bad_cases[_i].text, bad_cases[_i].err);
}
END_TEST

/* A filter of exactly CFG_FILTER_MAX bytes is accepted; one more is not. */
START_TEST(t_filter_long)
{
	char expr[CFG_FILTER_MAX + 2], text[CFG_FILTER_MAX + 64];
	struct config *cfg;
	size_t n = 0;

	/* "tcp or tcp or ... tcp" padded with spaces to the length. */
	while (n + 7 < CFG_FILTER_MAX - 3) {
		memcpy(expr + n, "tcp or ", 7);
		n += 7;
	}
	memcpy(expr + n, "tcp", 3);
	n += 3;
	memset(expr + n, ' ', CFG_FILTER_MAX - n);
	expr[CFG_FILTER_MAX] = '\0';
	snprintf(text, sizeof text, "sample eth0 filter \"%s\"\n", expr);
	cfg = parse_ok(text);
	ck_assert_uint_eq(strlen(cfg->samples[0].filter), CFG_FILTER_MAX);
	config_free(cfg);
	strcat(expr, " ");
	snprintf(text, sizeof text, "sample eth0 filter \"%s\"\n", expr);
	parse_bad(text, "t.conf:1: sample eth0: filter is longer than 1024 bytes");
}
END_TEST

START_TEST(t_nul)
{
	static const char text[] = "user a\nuser\0b # NUL\n";

	parse_bad_len(text, sizeof text - 1, "t.conf:2: NUL byte in line");
	parse_bad_len("# \0\n", 4, "t.conf:1: NUL byte in line");
}
END_TEST

START_TEST(t_long_line)
{
	char *text = malloc(5000);

	ck_assert_ptr_nonnull(text);
	strcpy(text, "user a\n#");
	memset(text + 8, 'x', 4095);
	strcpy(text + 8 + 4095, "\n");
	parse_bad(text, "t.conf:2: line is longer than 4095 bytes");
	free(text);
}
END_TEST

static char tmpdir[] = "/tmp/check_config.XXXXXX";

static char *write_tmp(const char *name, const char *text, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static void tmp_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX");
}

START_TEST(t_load_ok)
{
	const char *path = write_tmp("a.conf", "sampling_rate 9\nbogus\n", 22);
	struct config *cfg = NULL;
	char err[512], want[300];

	ck_assert_int_eq(config_load(path, &cfg, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:2: unknown directive 'bogus'", path);
	ck_assert_msg(strstr(err, want), "%s", err);
	path = write_tmp("b.conf", "sampling_rate 9\n", 16);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof err), 0);
	ck_assert_uint_eq(cfg->sampling_rate, 9);
	ck_assert_str_eq(cfg->path, path);
	config_free(cfg);
}
END_TEST

START_TEST(t_load_errors)
{
	struct config *cfg = NULL;
	char err[512], path[300], want[400];
	char *big;
	size_t n = 1024 * 1024 + 1;

	snprintf(path, sizeof path, "%s/missing.conf", tmpdir);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
	ck_assert_str_eq(err, want);
	/* Root reads mode-000 files: a directory and a path below a file fail. */
	ck_assert_int_eq(config_load(tmpdir, &cfg, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: not a regular file", tmpdir);
	ck_assert_str_eq(err, want);
	write_tmp("file", "", 0);
	snprintf(path, sizeof path, "%s/file/x.conf", tmpdir);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof err), -1);
	ck_assert_msg(strstr(err, ": cannot read: Not a directory"), "%s", err);
	big = malloc(n);
	ck_assert_ptr_nonnull(big);
	memset(big, '\n', n);
	ck_assert_int_eq(config_load(write_tmp("big.conf", big, n), &cfg, err,
				     sizeof err), -1);
	ck_assert_msg(strstr(err, "big.conf: file is larger than 1048576 bytes"), "%s", err);
	ck_assert_int_eq(config_load(write_tmp("max.conf", big, n - 1), &cfg, err,
				     sizeof err), 0);
	config_free(cfg);
	free(big);
}
END_TEST

/* A FIFO would block open() until a writer comes; a device never ends. Both
 * are refused at once (a hang here is a test timeout, a failure). */
START_TEST(t_load_not_regular)
{
	struct config *cfg = NULL;
	char err[512], path[300], want[400];

	snprintf(path, sizeof path, "%s/fifo.conf", tmpdir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: not a regular file", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(config_load("/dev/null", &cfg, err, sizeof err), -1);
	ck_assert_str_eq(err, "/dev/null: not a regular file");
	ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(t_resolve_localhost)
{
	struct config *cfg = parse_ok("collector 192.0.2.1\ncollector localhost 7000\n");
	char err[512];
	const struct sockaddr_in *sin;

	ck_assert_int_eq(config_resolve(cfg, err, sizeof err), 0);
	ck_assert_uint_gt(cfg->collectors[1].addrlen, 0);
	sin = (const void *)&cfg->collectors[1].addr;
	ck_assert_uint_eq(ntohs(sin->sin_port), 7000);
	config_free(cfg);
}
END_TEST

/* The parser cannot see that localhost is 127.0.0.1; resolution can. Both
 * orders, and a different port is not a twin. */
START_TEST(t_resolve_twins)
{
	struct config *cfg = parse_ok("collector 127.0.0.1\n# x\ncollector localhost\n");
	char err[512] = "";

	ck_assert_int_eq(config_resolve(cfg, err, sizeof err), -1);
	ck_assert_str_eq(err, "t.conf:3: collector localhost resolves to 127.0.0.1:6343, "
			 "the same as line 1");
	config_free(cfg);
	cfg = parse_ok("collector localhost 7000\ncollector 127.0.0.1 7000\n");
	ck_assert_int_eq(config_resolve(cfg, err, sizeof err), -1);
	ck_assert_str_eq(err, "t.conf:2: collector 127.0.0.1 resolves to 127.0.0.1:7000, "
			 "the same as line 1");
	config_free(cfg);
	cfg = parse_ok("collector ::ffff:127.0.0.1\ncollector localhost\n");
	ck_assert_int_eq(config_resolve(cfg, err, sizeof err), -1);
	ck_assert_str_eq(err, "t.conf:2: collector localhost resolves to 127.0.0.1:6343, "
			 "the same as line 1");
	config_free(cfg);
	cfg = parse_ok("collector 127.0.0.1\ncollector localhost 7000\n");
	ck_assert_msg(config_resolve(cfg, err, sizeof err) == 0, "%s", err);
	config_free(cfg);
	/* A lone mapped address is sent to as IPv4. */
	cfg = parse_ok("collector ::ffff:192.0.2.1 7000\n");
	ck_assert_int_eq(cfg->collectors[0].addr.ss_family, AF_INET);
	ck_assert_uint_eq(cfg->collectors[0].addrlen, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&cfg->collectors[0].addr)->sin_port), 7000);
	config_free(cfg);
}
END_TEST

/* In a fresh network namespace no query leaves this machine and none answers. */
START_TEST(t_resolve_fails)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct config *cfg;
		char err[512] = "";

		if (unshare(CLONE_NEWNET))
			_exit(77);
		if (config_parse("t.conf", "\ncollector no-such-host.invalid\n", 32,
				 &cfg, err, sizeof err))
			_exit(2);
		if (config_resolve(cfg, err, sizeof err) != -1)
			_exit(3);
		config_free(cfg);
		_exit(strncmp(err, "t.conf:2: collector no-such-host.invalid: cannot "
			      "resolve: ", 58) ? 4 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		/* no CAP_SYS_ADMIN: cannot isolate, so do not query */
		hf_skip(__func__, "needs CLONE_NEWNET to resolve in isolation");
		return;
	}
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");
	TCase *tf = tcase_create("files");

	tcase_add_test(tc, t_defaults);
	tcase_add_test(tc, t_all_directives);
	tcase_add_test(tc, t_agent_v6_and_interface);
	tcase_add_test(tc, t_agentx_forms);
	tcase_add_test(tc, t_agentx_retry);
	tcase_add_test(tc, t_interface);
	tcase_add_test(tc, t_alias_64);
	tcase_add_test(tc, t_collectors);
	tcase_add_test(tc, t_collector_max);
	tcase_add_test(tc, t_samples);
	tcase_add_test(tc, t_rate_by_speed);
	tcase_add_test(tc, t_speed_text);
	tcase_add_test(tc, t_rate_describe);
	tcase_add_test(tc, t_hold);
	tcase_add_test(tc, t_capture);
	tcase_add_test(tc, t_refs);
	tcase_add_test(tc, t_sample_patterns);
	tcase_add_test(tc, t_link_notify);
	tcase_add_test(tc, t_sample_notes);
	tcase_add_test(tc, t_filter_long);
	tcase_add_test(tc, t_comment_bytes);
	tcase_add_test(tc, t_no_newline_at_end);
	tcase_add_loop_test(tc, t_bad, 0, sizeof bad_cases / sizeof bad_cases[0]);
	tcase_add_test(tc, t_nul);
	tcase_add_test(tc, t_long_line);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tf, tmp_setup, tmp_teardown);
	tcase_add_test(tf, t_load_ok);
	tcase_add_test(tf, t_load_errors);
	tcase_add_test(tf, t_load_not_regular);
	tcase_add_test(tf, t_resolve_localhost);
	tcase_add_test(tf, t_resolve_twins);
	tcase_add_test(tf, t_resolve_fails);
	suite_add_tcase(s, tf);
	return s;
}

int main(void)
{
	return hf_run(config_suite(), CK_FORK_GETENV);
}

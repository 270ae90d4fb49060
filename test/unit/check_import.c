/* hostflowd --import: the recipe's hsflowd.conf and pmacctd.conf as
 * published in issue 17, examples from the projects' own documentation
 * (hsflowd's shipped hsflowd.conf and its comments, Akvorado's pmacctd
 * recipe, pmacct users' sfprobe configs), hsflowd's and pmacctd's rules
 * (last one wins, case, speeds as hsflowd names them, plugin scopes), and
 * every error with its FILE:LINE. The lines that are not comments are
 * compared whole: they are what hostflowd runs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/import.h"
#include "daemon/importcmd.h"
#include "hf_check.h"

/* The files a source names, for read_file. */
struct files {
	const char *path[4];
	const char *text[4];
	int reads;
};

static int fake_read(void *ctx, const char *path, char **text, size_t *len,
		     char *err, size_t errlen)
{
	struct files *f = ctx;

	for (int i = 0; i < 4 && f && f->path[i]; i++)
		if (!strcmp(f->path[i], path)) {
			f->reads++;
			*len = strlen(f->text[i]);
			*text = malloc(*len + 1);
			memcpy(*text, f->text[i], *len + 1);
			return 0;
		}
	snprintf(err, errlen, "%s: cannot read: No such file or directory", path);
	return -1;
}

/* libpcap stand-in: "inbound" is refused, as for Ethernet framing. */
static int fake_filter(void *ctx, const char *expr, char *err, size_t errlen)
{
	(void)ctx;
	if (strstr(expr, "inbound")) {
		snprintf(err, errlen, "inbound/outbound not supported on Ethernet");
		return -1;
	}
	return 0;
}

typedef int (*import_fn)(const char *, const char *, size_t, const struct import_io *,
			 char **, char *, size_t);

static char *import_ok(import_fn fn, const char *text, struct files *f)
{
	struct import_io io = { f, fake_read, fake_filter };
	struct config *cfg = NULL;
	char err[1024] = "", *out = NULL;

	ck_assert_msg(fn("src.conf", text, strlen(text), &io, &out, err, sizeof err) == 0,
		      "unexpected error: %s", err);
	ck_assert_ptr_nonnull(out);
	/* What -t reads first takes it. */
	ck_assert_msg(config_parse("out.conf", out, strlen(out), &cfg, err, sizeof err) == 0,
		      "config_parse refuses the result: %s\n%s", err, out);
	config_free(cfg);
	return out;
}

static void import_bad(import_fn fn, const char *text, struct files *f, const char *want)
{
	struct import_io io = { f, fake_read, fake_filter };
	char err[1024] = "", *out = (char *)1;

	ck_assert_int_eq(fn("src.conf", text, strlen(text), &io, &out, err, sizeof err), -1);
	ck_assert_msg(out == (char *)1, "out written on error");
	ck_assert_msg(strstr(err, want), "error '%s' lacks '%s'", err, want);
}

/* The lines hostflowd runs: neither blank nor comments, '\n' after each. */
static char *directives(const char *out)
{
	char *d = calloc(1, strlen(out) + 1);
	size_t n = 0;

	while (*out) {
		const char *nl = strchr(out, '\n');
		size_t l = nl ? (size_t)(nl - out) : strlen(out);

		if (l && out[0] != '#') {
			memcpy(d + n, out, l);
			n += l;
			d[n++] = '\n';
		}
		out += l + (nl ? 1 : 0);
	}
	return d;
}

static void expect(const char *out, const char *want)
{
	char *d = directives(out);

	ck_assert_msg(!strcmp(d, want), "directives:\n%s\nwanted:\n%s\nin:\n%s", d, want, out);
	free(d);
}

/* A note (comment text) with its line breaks and '#' prefixes taken out. */
static void has_note(const char *out, const char *want)
{
	char *flat = calloc(1, strlen(out) + 1), *o = flat;
	const char *s = out;

	while (*s) {
		if (*s == '\n') {
			s++;
			while (*s == '#' || *s == ' ')
				s++;
			*o++ = ' ';
			continue;
		}
		*o++ = *s++;
	}
	ck_assert_msg(strstr(flat, want), "no note '%s' in:\n%s", want, out);
	free(flat);
}

/* hsflowd's rate for the usual speeds without a sampling.<speed>: speed /
 * 10^6, at least 100, with the recipe's 1G, 10G and 40G set. */
#define HS_DERIVED_BUT_1G_10G_40G \
	"sampling_rate 10M 100\n" "sampling_rate 100M 100\n" "sampling_rate 2500M 2500\n" \
	"sampling_rate 5G 5000\n" "sampling_rate 20G 20000\n" "sampling_rate 25G 25000\n" \
	"sampling_rate 50G 50000\n" "sampling_rate 100G 100000\n" \
	"sampling_rate 200G 200000\n" "sampling_rate 400G 400000\n" \
	"sampling_rate 800G 800000\n"
#define HS_DERIVED_ALL \
	"sampling_rate 10M 100\n" "sampling_rate 100M 100\n" "sampling_rate 1G 1000\n" \
	"sampling_rate 2500M 2500\n" "sampling_rate 5G 5000\n" "sampling_rate 10G 10000\n" \
	"sampling_rate 20G 20000\n" "sampling_rate 25G 25000\n" \
	"sampling_rate 40G 40000\n" "sampling_rate 50G 50000\n" \
	"sampling_rate 100G 100000\n" "sampling_rate 200G 200000\n" \
	"sampling_rate 400G 400000\n" "sampling_rate 800G 800000\n"

/* ---- hsflowd ---- */

/* The recipe's hsflowd.conf, exactly as published in issue 17. */
static const char recipe_hsflowd[] =
	"sflow {\n"
	"     agent = tailscale0\n"
	"     polling = 10\n"
	"     sampling.1G = 100\n"
	"     sampling.10G = 1024\n"
	"     sampling.40G = 1024\n"
	"     collector { ip=100.68.194.88 udpport=6343 }\n"
	"     # collector {ip=fd7a:115c:a1e0::e601:c258 udpport=6343 }\n"
	"     #pcap { dev = ens3 }\n"
	"     nflog { group = 5  probability = 0.0025 }\n"
	"}\n";

START_TEST(t_hs_recipe)
{
	char *out = import_ok(import_hsflowd, recipe_hsflowd, NULL);

	expect(out, "agent_interface tailscale0\n"
	       "polling_interval 10\n"
	       "sampling_rate 1G 100\n"
	       "sampling_rate 10G 1024\n"
	       "sampling_rate 40G 1024\n"
	       "collector 100.68.194.88 6343\n"
	       HS_DERIVED_BUT_1G_10G_40G);
	ck_assert_ptr_nonnull(strstr(out, "# src.conf:2: agent = tailscale0\n"));
	ck_assert_ptr_nonnull(strstr(out, "# src.conf:7: collector { ip=100.68.194.88 "
				     "udpport=6343 }\n"));
	ck_assert_ptr_nonnull(strstr(out, "# src.conf:10: nflog { group = 5  "
				     "probability = 0.0025 }\n"));
	has_note(out, "no equivalent: nflog samples the packets an iptables rule sends "
		 "to group 5");
	has_note(out, "1 in 400: sample NAME rate 400");
	has_note(out, "no sample line is written and hostflowd samples nothing");
	free(out);
}
END_TEST

/* hsflowd's own shipped hsflowd.conf (src/Linux/scripts/hsflowd.conf):
 * comments and one collector. */
START_TEST(t_hs_shipped)
{
	char *out = import_ok(import_hsflowd,
		"# hsflowd configuration file\n"
		"# http://sflow.net/host-sflow-linux-config.php\n"
		"\n"
		"sflow {\n"
		"  # ======  Agent IP selection ======\n"
		"  #   agent.cidr = 192.168.0.0/16\n"
		"  #     sampling.1G = 1000\n"
		"  collector { ip=127.0.0.1 udpport=6343 }\n"
		"  #   add additional collectors here\n"
		"  #     pcap { dev = docker0 }\n"
		"}\n", NULL);

	expect(out, "collector 127.0.0.1 6343\n" HS_DERIVED_ALL);
	has_note(out, "first global address of an up interface");
	free(out);
}
END_TEST

/* The settings its comments and documentation show, one each. */
START_TEST(t_hs_documented)
{
	char *out = import_ok(import_hsflowd,
		"sflow {\n"
		"  agent.cidr = 192.168.0.0/16\n"
		"  agent = eth0\n"
		"  DNS-SD { domain=.mycompany.com }\n"
		"  polling = 30\n"
		"  sampling = 400\n"
		"  sampling.100M = 100\n"
		"  sampling.1G = 1000\n"
		"  sampling.10G = 10000\n"
		"  sampling.40G = 40000\n"
		"  sampling.http = 50\n"
		"  sampling.app.myapp = 100\n"
		"  collector { ip=127.0.0.1 udpport=6343 }\n"
		"  json { UDPport = 36343 }\n"
		"  pcap { dev = docker0 }\n"
		"  pcap { dev = eth0 }\n"
		"  pcap { speed=1G-1T }\n"
		"  nflog { group = 5  probability = 0.0025 }\n"
		"  ulog { group = 1  probability = 0.0025 }\n"
		"  psample { group = 1 }\n"
		"  dent { sw=on switchport=enp.* egress=on }\n"
		"  dropmon { group=1 start=on limit=50 }\n"
		"  nvml { }\n  xen { }\n  ovs { }\n  kvm { }\n  docker { }\n  tcp { }\n"
		"  systemd { }\n  dbus { }\n  eapi { }\n"
		"  headerBytes = 256\n"
		"  datagramBytes = 1400\n"
		"}\n", NULL);

	expect(out, "agent_interface eth0\n"
	       "polling_interval 30\n"
	       "sampling_rate 400\n"
	       "sampling_rate 100M 100\n"
	       "sampling_rate 1G 1000\n"
	       "sampling_rate 10G 10000\n"
	       "sampling_rate 40G 40000\n"
	       "collector 127.0.0.1 6343\n"
	       "sample docker0\n"
	       "sample eth0\n"
	       "header_bytes 256\n"
	       "sampling_rate 10M 100\n" "sampling_rate 2500M 2500\n"
	       "sampling_rate 5G 5000\n" "sampling_rate 20G 20000\n"
	       "sampling_rate 25G 25000\n" "sampling_rate 50G 50000\n"
	       "sampling_rate 100G 100000\n" "sampling_rate 200G 200000\n"
	       "sampling_rate 400G 400000\n" "sampling_rate 800G 800000\n");
	has_note(out, "does not choose the agent address by prefix");
	has_note(out, "not from DNS-SD");
	has_note(out, "sampling by application");
	has_note(out, "every interface whose speed is in 1G-1T");
	has_note(out, "no equivalent: psample");
	has_note(out, "no equivalent: hostflowd sends no dropped-packet notifications");
	has_note(out, "no equivalent: hostflowd sizes each datagram to the path MTU");
	has_note(out, "docker0 is sampled at the rate of its speed, as in hsflowd");
	free(out);
}
END_TEST

/* hsflowd keeps the last of a setting; names are case-insensitive; agentIP
 * comes before agent; IPv6 collectors; quoted words. */
START_TEST(t_hs_rules)
{
	char *out = import_ok(import_hsflowd,
		"SFLOW {\n"
		"  Polling = 20 ; polling = 5\n"
		"  sampling.1G = 10\n"
		"  sampling.1G = 20\n"
		"  agent = eth0\n"
		"  agentIP = 100.64.0.7\n"
		"  COLLECTOR { IP = fd7a:115c:a1e0::10 UDPPort = 6344 }\n"
		"  collector { ip = \"collector.example.net\" }\n"
		"  collector { ip = fd7a:115c:a1e0:0::10 udpport = 6344 }\n"
		"  pcap { dev = eth0 sampling = 7 promisc = on }\n"
		"  pcap { dev = eth0 }\n"
		"  subAgentId = 3\n"
		"}\n", NULL);

	expect(out, "polling_interval 5\n"
	       "sampling_rate 1G 20\n"
	       "agent_address 100.64.0.7\n"
	       "collector fd7a:115c:a1e0::10 6344\n"
	       "collector collector.example.net 6343\n"
	       "sample eth0 rate 7\n"
	       "sub_agent_id 3\n"
	       "sampling_rate 10M 100\n" "sampling_rate 100M 100\n"
	       "sampling_rate 2500M 2500\n" "sampling_rate 5G 5000\n"
	       "sampling_rate 10G 10000\n" "sampling_rate 20G 20000\n"
	       "sampling_rate 25G 25000\n" "sampling_rate 40G 40000\n"
	       "sampling_rate 50G 50000\n" "sampling_rate 100G 100000\n"
	       "sampling_rate 200G 200000\n" "sampling_rate 400G 400000\n"
	       "sampling_rate 800G 800000\n");
	has_note(out, "replaced by line 4 (hsflowd keeps the last)");
	has_note(out, "hsflowd uses agentIP (line 6) first");
	has_note(out, "fd7a:115c:a1e0:0::10 port 6344 is a collector already");
	has_note(out, "eth0 is sampled already");
	has_note(out, "never puts an interface in promiscuous mode");
	free(out);
}
END_TEST

/* Speeds as hsflowd names them (printSpeed): 2.5G is "2G"; 1000M, 1g and
 * 01G name nothing it ever writes; sampling.bps_ratio divides. */
START_TEST(t_hs_speeds)
{
	char *out = import_ok(import_hsflowd,
		"sflow {\n"
		"  collector { ip = 192.0.2.1 }\n"
		"  sampling.2G = 50\n"
		"  sampling.1000M = 60\n"
		"  sampling.1g = 70\n"
		"  sampling.100 = 3\n"
		"  sampling.10G = 0\n"
		"  sampling.bps_ratio = 2000000\n"
		"}\n", NULL);

	expect(out, "collector 192.0.2.1 6343\n"
	       "sampling_rate 2G 50\n"
	       "sampling_rate 2500M 50\n"
	       "sampling_rate 100 3\n"
	       "sampling_rate 10M 5\n" "sampling_rate 100M 50\n" "sampling_rate 1G 500\n"
	       "sampling_rate 5G 2500\n" "sampling_rate 20G 10000\n"
	       "sampling_rate 25G 12500\n" "sampling_rate 40G 20000\n"
	       "sampling_rate 50G 25000\n" "sampling_rate 100G 50000\n"
	       "sampling_rate 200G 100000\n" "sampling_rate 400G 200000\n"
	       "sampling_rate 800G 400000\n");
	has_note(out, "never matched a link with sampling.1000M");
	has_note(out, "never matched a link with sampling.1g");
	has_note(out, "hsflowd also took it for 2500M links (it names their speed 2G)");
	has_note(out, "cannot turn sampling off by speed");
	free(out);
	/* bps_ratio 0: the global rate for every speed without an entry. */
	out = import_ok(import_hsflowd, "sflow { collector { ip = 192.0.2.1 } "
			"sampling = 300 sampling.bps_ratio = 0 }", NULL);
	expect(out, "collector 192.0.2.1 6343\nsampling_rate 300\n");
	free(out);
}
END_TEST

/* What hostflowd cannot write becomes a note, never a refused file. */
START_TEST(t_hs_not_writable)
{
	char *out = import_ok(import_hsflowd,
		"sflow {\n"
		"  collector { ip = not_a_host! dev = eth1 namespace = blue }\n"
		"  agentIP = collector.example.net\n"
		"  agent = averyveryverylongname0\n"
		"  pcap { dev = a/b }\n"
		"  headerBytes = 0\n"
		"  polling = 90000\n"
		"}\n", NULL);

	expect(out, HS_DERIVED_ALL);
	has_note(out, "'not_a_host!' is neither an IP address nor a DNS name");
	has_note(out, "hsflowd resolved 'collector.example.net' when it started");
	has_note(out, "'averyveryverylongname0' is not an interface name");
	has_note(out, "'a/b' is not an interface name");
	has_note(out, "dev eth1: hostflowd sends through the routing table");
	has_note(out, "namespace blue: hostflowd sends from its own network namespace");
	has_note(out, "hostflowd sends 1 to 256 bytes of each header");
	has_note(out, "hostflowd polls at most every 86400 s");
	has_note(out, "No collector was taken");
	free(out);
}
END_TEST

/* More than 16 collectors: the rest are notes. */
START_TEST(t_hs_many_collectors)
{
	char text[4096] = "sflow {\n", *out, *d;
	int n = 0;

	for (int i = 1; i <= 18; i++) {
		char line[80];

		snprintf(line, sizeof line, "collector { ip = 192.0.2.%d }\n", i);
		strcat(text, line);
	}
	strcat(text, "}\n");
	out = import_ok(import_hsflowd, text, NULL);
	d = directives(out);
	for (char *c = strstr(d, "collector "); c; c = strstr(c + 1, "collector "))
		n++;
	ck_assert_int_eq(n, IMPORT_MAX_COLLECTORS);
	has_note(out, "hostflowd sends to at most 16 collectors collector 192.0.2.17 6343");
	free(d);
	free(out);
}
END_TEST

static const struct {
	const char *text;
	const char *err;
} hs_bad[] = {
	{ "", "src.conf:1: no sflow { ... } in the file" },
	{ "# only a comment\n", "src.conf:1: no sflow" },
	{ "polling = 10\n", "src.conf:1: expected 'sflow {', found 'polling'" },
	{ "sflow {\n polling = 10\n", "src.conf:1: the '{' of sflow is not closed" },
	{ "sflow { }\nsflow { }\n", "src.conf:2: 'sflow' after the end of sflow { }" },
	{ "sflow {\n\n frobnicate = 1\n}\n", "src.conf:3: 'frobnicate' is not an hsflowd "
	  "setting this import knows" },
	{ "sflow {\n polling = }\n", "src.conf:2: polling: missing value" },
	{ "sflow {\n polling = ten\n}\n", "src.conf:2: polling: 'ten' is not a whole number" },
	{ "sflow {\n polling = 010\n}\n", "src.conf:2: polling: '010' starts with 0" },
	{ "sflow {\n sampling = 5000000000\n}\n", "src.conf:2: sampling: '5000000000' is "
	  "out of range" },
	{ "sflow {\n sampling = 5G\n}\n", "src.conf:2: sampling: '5G' is out of range" },
	{ "sflow {\n collector { udpport = 6343 }\n}\n", "src.conf:2: collector { } without ip" },
	{ "sflow {\n collector { ip = 192.0.2.1 udpport = 0 }\n}\n", "src.conf:2: udpport: 0 "
	  "is not a port" },
	{ "sflow {\n collector { ip = 192.0.2.1 port = 1 }\n}\n", "src.conf:2: collector { }: "
	  "'port' is not one of" },
	{ "sflow {\n collector ip = 192.0.2.1\n}\n", "src.conf:2: collector: expected '{'" },
	{ "sflow {\n collector { ip = 192.0.2.1\n", "src.conf:2: the '{' of collector is not "
	  "closed" },
	{ "sflow {\n pcap { dev = eth0 mode = x }\n}\n", "src.conf:2: pcap { }: 'mode' is not "
	  "one of" },
	{ "sflow {\n agent.cidr = 10.0.0.0\n}\n", "src.conf:2: agent.cidr: '10.0.0.0' is not "
	  "an address/prefix length" },
	{ "sflow {\n agent = \"eth0\n}\n", "src.conf:2: unterminated quoted text" },
	{ "sflow {\n os10 { port { dev { x } } }\n}\n", "src.conf:2: more than 3 levels of '{'" },
	{ "sflow {\n kvm {\n", "src.conf:2: the '{' of kvm is not closed" },
	{ "sflow {\n { }\n}\n", "src.conf:2: unexpected '{'" },
};

START_TEST(t_hs_errors)
{
	import_bad(import_hsflowd, hs_bad[_i].text, NULL, hs_bad[_i].err);
}
END_TEST

START_TEST(t_hs_bytes)
{
	char text[3000];
	struct import_io io = { NULL, NULL, NULL };
	char err[512], *out = NULL;

	ck_assert_int_eq(import_hsflowd("src.conf", "sflow {\n\0}\n", 10, &io, &out, err,
					sizeof err), -1);
	ck_assert_str_eq(err, "src.conf:2: NUL byte in line");
	memset(text, 'a', sizeof text);
	ck_assert_int_eq(import_hsflowd("src.conf", text, sizeof text, &io, &out, err,
					sizeof err), -1);
	ck_assert_str_eq(err, "src.conf:1: line longer than 2047 bytes (hsflowd cuts it)");
	/* Bytes outside printable ASCII are quoted as \xNN in the comments. */
	out = import_ok(import_hsflowd, "sflow {\n collector { ip = 192.0.2.1 } "
			"# caf\xc3\xa9\n uuid = \xff\x01\n}\n", NULL);
	ck_assert_ptr_nonnull(strstr(out, "# src.conf:3: uuid = \\xff\\x01\n"));
	free(out);
}
END_TEST

/* ---- pmacctd ---- */

/* The recipe's pmacctd.conf, exactly as published in issue 17, and its
 * interfaces.map: lo and ens3, in and out. */
static const char recipe_pmacctd[] =
	"daemonize: true\n"
	"pidfile: /var/run/pmacctd.pid\n"
	"syslog: daemon\n"
	"  plugins: sfprobe[any]\n"
	"  sfprobe_receiver: 100.68.194.88:6343\n"
	"  sfprobe_agentip: 100.65.156.88\n"
	"  #sfprobe_receiver: [fd7a:115c:a1e0::e601:c258]:6343\n"
	"  #sfprobe_agentip: fd7a:115c:a1e0::5501:9c58\n"
	"  aggregate: src_host,dst_host,in_iface,out_iface,src_port,dst_port,proto\n"
	"  pcap_ifindex: map\n"
	"  pcap_interfaces_map: /etc/pmacct/interfaces.map\n"
	"  pcap_interface_wait: true\n"
	"  sfprobe_agentsubid: 1402\n"
	"  sampling_rate: 100\n"
	"  snaplen: 128\n";

static const char recipe_map[] =
	"  ifindex=1 ifname=lo direction=in\n"
	"  ifindex=1 ifname=lo direction=out\n"
	"  ifindex=3 ifname=ens3 direction=in\n"
	"  ifindex=3 ifname=ens3 direction=out\n";

START_TEST(t_pm_recipe)
{
	struct files f = { { "/etc/pmacct/interfaces.map" }, { recipe_map }, 0 };
	char *out = import_ok(import_pmacctd, recipe_pmacctd, &f);

	ck_assert_int_eq(f.reads, 1);
	expect(out, "collector 100.68.194.88 6343\n"
	       "agent_address 100.65.156.88\n"
	       "ifindex_map /etc/pmacct/interfaces.map\n"
	       "sample lo\n"
	       "sample ens3\n"
	       "sub_agent_id 1402\n"
	       "sampling_rate 100\n"
	       "header_bytes 128\n");
	ck_assert_ptr_nonnull(strstr(out, "# src.conf:4: plugins: sfprobe[any]\n"));
	has_note(out, "lo, ens3, listed twice (in and out), had every packet counted twice "
		 "and none reported leaving");
	has_note(out, "samples each listed interface once, in both directions");
	has_note(out, "the map's numbers are served by IF-MIB as well");
	has_note(out, "no equivalent: hostflowd writes no pid file");
	has_note(out, "no equivalent: pmacctd's own plugins add up traffic by these");
	free(out);
}
END_TEST

/* Akvorado's documentation (docs: exporters, GNU/Linux, pmacctd). */
START_TEST(t_pm_akvorado_doc)
{
	struct files f = { { "/etc/pmacctd/interfaces.map" }, {
		"ifindex=1 ifname=lo direction=in\n"
		"ifindex=1 ifname=lo direction=out\n"
		"ifindex=3 ifname=eth0 direction=in\n"
		"ifindex=3 ifname=eth0 direction=out\n"
		"ifindex=4 ifname=eth1 direction=in\n"
		"ifindex=4 ifname=eth1 direction=out\n" }, 0 };
	char *out = import_ok(import_pmacctd,
		"daemonize: false\n"
		"plugins: sfprobe[any]\n"
		"sfprobe_receiver: akvorado-inlet-receiver:6343\n"
		"aggregate: src_host,dst_host,in_iface,out_iface,src_port,dst_port,proto\n"
		"pcap_ifindex: map\n"
		"pcap_interfaces_map: /etc/pmacctd/interfaces.map\n"
		"pcap_interface_wait: true\n"
		"sfprobe_agentsubid: 1402\n"
		"sfprobe_agentip: 10.25.0.1\n"
		"sampling_rate: 1000\n"
		"snaplen: 128\n", &f);

	expect(out, "collector akvorado-inlet-receiver 6343\n"
	       "ifindex_map /etc/pmacctd/interfaces.map\n"
	       "sample lo\nsample eth0\nsample eth1\n"
	       "sub_agent_id 1402\n"
	       "agent_address 10.25.0.1\n"
	       "sampling_rate 1000\n"
	       "header_bytes 128\n");
	free(out);
}
END_TEST

/* sfprobe configs as pmacct's users publish them: an anonymous plugin,
 * `[IPv4]:port`, pcap_interface, '!' comments; no sampling_rate (every
 * packet, as pmacctd 1.7.7 measured); `interface` of older versions beside
 * a memory plugin and a mistyped key. */
START_TEST(t_pm_user_configs)
{
	char *out = import_ok(import_pmacctd,
		"! pmacctd configuration\n"
		"daemonize: true\n"
		"pidfile: /var/run/pmacctd.pid\n"
		"syslog: daemon\n"
		"! use sFlow plugin\n"
		"plugins: sfprobe\n"
		"! interface to listen on\n"
		"pcap_interface: eth0\n"
		"! sample every 5th packet\n"
		"sampling_rate: 5\n"
		"sfprobe_agentsubid: 1402\n"
		"! destination for sFlow data\n"
		"sfprobe_receiver: [127.0.0.1]:5678\n", NULL);

	expect(out, "sample eth0\nsampling_rate 5\nsub_agent_id 1402\n"
	       "collector 127.0.0.1 5678\n");
	has_note(out, "without pcap_ifindex pmacctd's sfprobe reported one fixed ifIndex");
	has_note(out, "pmacctd's sfprobe sent 127.0.0.1 without sfprobe_agentip");
	free(out);

	out = import_ok(import_pmacctd,
		"pcap_interface: eth0\n"
		"plugins: sfprobe\n"
		"sfprobe_receiver: 192.0.2.10:6343\n"
		"sfprobe_agentip: 192.0.2.254\n", NULL);
	expect(out, "sample eth0\ncollector 192.0.2.10 6343\nagent_address 192.0.2.254\n"
	       "sampling_rate 1\n");
	has_note(out, "sent every packet (1 in 1, as measured with pmacctd 1.7.7)");
	free(out);

	out = import_ok(import_pmacctd,
		"daemonize: false\n"
		"interface: em1\n"
		"plugins: sfprobe, memory[a]\n"
		"! networks_file: /tmp/networks.lst\n"
		"aggregate[a]: src_host,dst_host,dst_port,proto\n"
		"imt_path[a]: /tmp/a\n"
		"plugin_pipe_size': 100000\n"
		"plugin_buffer_size: 20000\n", NULL);
	expect(out, "sample em1\nsampling_rate 1\ncollector 127.0.0.1 6343\n");
	has_note(out, "memory[a]: no equivalent: hostflowd is an sFlow agent only");
	has_note(out, "sfprobe[default_sfprobe] had no sfprobe_receiver: it sent to "
		 "127.0.0.1:6343");
	has_note(out, "for pmacctd's memory plugin");
	free(out);
}
END_TEST

/* Plugin scopes: two sfprobes, one rate; keys bound to a name; the last
 * line pmacctd takes wins, a value it cannot read is skipped. */
START_TEST(t_pm_scopes)
{
	char *out = import_ok(import_pmacctd,
		"plugins: sfprobe[a], sfprobe[b], print[p]\n"
		"sfprobe_receiver[a]: 192.0.2.1:6343\n"
		"sfprobe_receiver[b]: [2001:db8::1]:6344\n"
		"sfprobe_receiver[c]: 192.0.2.3:6343\n"
		"sampling_rate: 200\n"
		"sampling_rate[b]: 300\n"
		"sampling_rate[a]: zero\n"
		"Pcap_Interface : eth0\n"
		"pcap_filter: not udp port 41641\n"
		"snaplen: 40\n"
		"snaplen: 256\n"
		"print_output[p]: csv\n"
		"plugins: memory\n", NULL);

	expect(out, "collector 192.0.2.1 6343\n"
	       "collector 2001:db8::1 6344\n"
	       "sampling_rate 200\n"
	       "sample eth0 filter \"not udp port 41641\"\n"
	       "header_bytes 256\n");
	has_note(out, "for plugin c, which is no sfprobe plugin");
	has_note(out, "sfprobe[b]'s rate (1 in 300) is not taken");
	has_note(out, "pmacctd ignores it: 'zero' is not a value it takes");
	has_note(out, "pmacctd ignores it: '40' is not a value it takes");
	has_note(out, "pmacctd reads the first plugins line only");
	has_note(out, "for pmacctd's print plugin");
	free(out);
}
END_TEST

/* A map line without direction, a filter libpcap refuses for Ethernet,
 * pcap_ifindex sys and hash, and a path hostflowd.conf cannot hold. */
START_TEST(t_pm_map_cases)
{
	struct files f = { { "/m", "/m 2" }, { "ifindex=5 ifname=eth0\n",
					       "ifindex=5 ifname=eth0 direction=in\n" }, 0 };
	char *out = import_ok(import_pmacctd,
		"plugins: sfprobe\nsfprobe_receiver: 192.0.2.1:6343\nsampling_rate: 10\n"
		"pcap_interfaces_map: /m\npcap_ifindex: sys\n"
		"pcap_filter: inbound\n", &f);

	expect(out, "collector 192.0.2.1 6343\nsampling_rate 10\nsample eth0\n");
	has_note(out, "a line without direction= loses its ifindex");
	has_note(out, "its numbers are not used (pcap_ifindex is not map)");
	has_note(out, "not taken: inbound/outbound not supported on Ethernet; the "
		 "interfaces are sampled without it");
	free(out);
	out = import_ok(import_pmacctd, "plugins: sfprobe\npcap_ifindex: map\n"
			"pcap_interfaces_map: /m 2\n", &f);
	expect(out, "sample eth0\nsampling_rate 1\ncollector 127.0.0.1 6343\n");
	has_note(out, "cannot hold this path as one word");
	free(out);
	out = import_ok(import_pmacctd, "pcap_ifindex: hash\npcap_interface: any\n"
			"plugins: sfprobe\n", NULL);
	expect(out, "sample *\nsampling_rate 1\ncollector 127.0.0.1 6343\n");
	has_note(out, "no equivalent: pmacctd hashed the name");
	free(out);
}
END_TEST

static const struct {
	const char *text;
	const char *err;
} pm_bad[] = {
	{ "plugins: sfprobe\nno colon here\n", "src.conf:2: missing ':'" },
	{ ": value\n", "src.conf:1: missing key before ':'" },
	{ "key[a: v\n", "src.conf:1: '[' without ']' in the key" },
	{ "key]a: v\n", "src.conf:1: ']' without '['" },
	{ "key[a][b]: v\n", "src.conf:1: nested or repeated [ ]" },
	{ "[a]: v\n", "src.conf:1: [ ] not after a key" },
	{ "key[]: v\n", "src.conf:1: empty plugin name" },
	{ "plugins: sfprobe\nsfprobe_receiver: 192.0.2.1:0\n", "src.conf:2: sfprobe_receiver: "
	  "'192.0.2.1:0': the port is not a number 1..65535" },
	{ "plugins: sfprobe\nsfprobe_receiver: 2001:db8::1:6343\n", "src.conf:2: "
	  "sfprobe_receiver: '2001:db8::1:6343': an IPv6 address needs brackets" },
	{ "plugins: sfprobe\nsfprobe_receiver: [2001:db8::1\n", "'[' without ']'" },
	{ "pcap_interface: eth0\npcap_interfaces_map: /m\n", "src.conf:2: pcap_interface "
	  "(line 1) and pcap_interfaces_map (line 2) cannot be combined" },
	{ "pcap_interfaces_map: /nonexistent\n", "src.conf:1: pcap_interfaces_map: "
	  "/nonexistent: cannot read" },
	{ "pcap_interfaces_map: /m\n", "/m:2: ifindex 'x' is not a number" },
};

START_TEST(t_pm_errors)
{
	struct files f = { { "/m" }, { "ifindex=1 ifname=lo\nifindex=x ifname=eth0\n" }, 0 };

	import_bad(import_pmacctd, pm_bad[_i].text, &f, pm_bad[_i].err);
}
END_TEST

/* ---- the command ---- */

START_TEST(t_command)
{
	char path[] = "/tmp/check_import_XXXXXX", *buf = NULL;
	size_t len = 0;
	FILE *out, *err = fopen("/dev/null", "w");
	int fd = mkstemp(path);
	char *args[] = { "hsflowd", path }, *bad[] = { "snmpd", path };

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, recipe_hsflowd, strlen(recipe_hsflowd)),
			 (ssize_t)strlen(recipe_hsflowd));
	close(fd);
	out = open_memstream(&buf, &len);
	ck_assert_int_eq(importcmd_main(2, args, out, err), 0);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(buf, "agent_interface tailscale0\n"));
	free(buf);
	ck_assert_int_eq(importcmd_main(2, bad, stdout, err), 1);
	ck_assert_int_eq(importcmd_main(1, args, stdout, err), 1);
	args[0] = "pmacctd";   /* an hsflowd file is no pmacctd file */
	ck_assert_int_eq(importcmd_main(2, args, stdout, err), 1);
	unlink(path);
	args[0] = "hsflowd";
	ck_assert_int_eq(importcmd_main(2, args, stdout, err), 1);
	fclose(err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("import");
	TCase *hs = tcase_create("hsflowd"), *pm = tcase_create("pmacctd");

	tcase_add_test(hs, t_hs_recipe);
	tcase_add_test(hs, t_hs_shipped);
	tcase_add_test(hs, t_hs_documented);
	tcase_add_test(hs, t_hs_rules);
	tcase_add_test(hs, t_hs_speeds);
	tcase_add_test(hs, t_hs_not_writable);
	tcase_add_test(hs, t_hs_many_collectors);
	tcase_add_loop_test(hs, t_hs_errors, 0, sizeof hs_bad / sizeof hs_bad[0]);
	tcase_add_test(hs, t_hs_bytes);
	tcase_add_test(pm, t_pm_recipe);
	tcase_add_test(pm, t_pm_akvorado_doc);
	tcase_add_test(pm, t_pm_user_configs);
	tcase_add_test(pm, t_pm_scopes);
	tcase_add_test(pm, t_pm_map_cases);
	tcase_add_loop_test(pm, t_pm_errors, 0, sizeof pm_bad / sizeof pm_bad[0]);
	tcase_add_test(pm, t_command);
	suite_add_tcase(s, hs);
	suite_add_tcase(s, pm);
	return hf_run(s, CK_FORK_GETENV);
}

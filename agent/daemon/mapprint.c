#include "daemon/mapprint.h"

#include <arpa/inet.h>

#include "sflow/agentaddr.h"
#include "config/ifmap.h"
#include "base/log.h"

void mapprint_pmacct(FILE *f, const struct if_snapshot *s)
{
	fprintf(f, "# hostflowd ifindex map: pmacct interfaces.map format, "
		"one line per interface\n");
	for (size_t i = 0; i < s->n; i++)
		ifmap_print_line(f, s->rows[i].ifindex, s->rows[i].name);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void mapprint_akvorado(FILE *f, const struct config *cfg, const char *hostname,
		       const struct if_snapshot *s)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	struct hf_addr a;

	switch (agentaddr_choose(&cfg->agent_address, cfg->agent_interface, &a)) {
	case AGENTADDR_LOOPBACK:
		log_warn("map", "no global address: exportersubnet is 127.0.0.1/32; "
			 "set agent_address or agent_interface");
		break;
	case AGENTADDR_OTHER:
		log_warn("map", "agent_interface %s has no global address: exportersubnet "
			 "is another interface's", cfg->agent_interface);
		break;
	case AGENTADDR_CHOSEN:
		break;
	}
	inet_ntop(a.family, a.a, ip, sizeof ip);
	fprintf(f, "{\"exporters\":[{\"exportersubnet\":\"%s/%d\",\"name\":", ip,
		a.family == AF_INET ? 32 : 128);
	json_str(f, hostname);
	fputs(",\"interfaces\":[", f);
	for (size_t i = 0; i < s->n; i++) {
		const struct if_row *r = &s->rows[i];

		fprintf(f, "%s\n{\"ifindex\":%u,\"name\":", i ? "," : "", r->ifindex);
		json_str(f, r->name);
		fputs(",\"description\":", f);
		json_str(f, r->alias[0] ? r->alias : r->name);
		fprintf(f, ",\"speed\":%llu}", (unsigned long long)(r->speed_bps / 1000000));
	}
	fputs("]}]}\n", f);
}

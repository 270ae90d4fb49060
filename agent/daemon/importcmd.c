#include "daemon/importcmd.h"

#include <stdlib.h>
#include <string.h>

#include "base/textfile.h"
#include "config/import.h"
#include "sflow/core/pfilter.h"

enum { IMPORT_OK = 0, IMPORT_BAD = 1, IMPORT_WRITE = 2 };

static int read_file(void *ctx, const char *path, char **text, size_t *len,
		     char *err, size_t errlen)
{
	(void)ctx;
	return textfile_read(path, text, len, err, errlen);
}

/* As -t checks a filter: compiled for Ethernet framing. */
static int check_filter(void *ctx, const char *expr, char *err, size_t errlen)
{
	struct sock_filter *prog = NULL;
	size_t n;

	(void)ctx;
	if (pfilter_compile(expr, PFILTER_DLT_EN10MB, &prog, &n, err, errlen) < 0)
		return -1;
	free(prog);
	return 0;
}

int importcmd_main(int argc, char **args, FILE *out, FILE *errf)
{
	const struct import_io io = { NULL, read_file, check_filter };
	char err[1024], *text = NULL, *conf = NULL;
	size_t len = 0;
	int rc;

	if (argc != 2 || (strcmp(args[0], "hsflowd") && strcmp(args[0], "pmacctd"))) {
		fprintf(errf, "usage: hostflowd --import hsflowd|pmacctd FILE\n");
		return IMPORT_BAD;
	}
	if (textfile_read(args[1], &text, &len, err, sizeof err) < 0) {
		fprintf(errf, "%s\n", err);
		return IMPORT_BAD;
	}
	rc = !strcmp(args[0], "hsflowd") ?
		import_hsflowd(args[1], text, len, &io, &conf, err, sizeof err) :
		import_pmacctd(args[1], text, len, &io, &conf, err, sizeof err);
	free(text);
	if (rc < 0) {
		fprintf(errf, "%s\n", err);
		return IMPORT_BAD;
	}
	rc = fputs(conf, out) < 0 || fflush(out) ? IMPORT_WRITE : IMPORT_OK;
	if (rc)
		fprintf(errf, "hostflowd: --import: cannot write the result\n");
	free(conf);
	return rc;
}

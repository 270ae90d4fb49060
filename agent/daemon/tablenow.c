#include "daemon/tablenow.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"
#include "table/netlink.h"

int tablenow_read(const struct config *cfg, const struct hf_ifmap *map,
		  struct tablenow *tn, char *err, size_t errlen)
{
	struct netlink *nl = netlink_open(err, errlen);
	struct kernel_link *links = NULL;
	size_t n = 0;
	int rc = -1;

	tn->s = NULL;
	tn->t = iftable_new();
	if (!nl)
		goto out;
	if (!tn->t || netlink_dump(nl, &links, &n) < 0 ||
	    iftable_update(tn->t, links, n, cfg, map, monotonic_ms()) < 0 ||
	    !(tn->s = iftable_acquire(tn->t))) {
		snprintf(err, errlen, "cannot read the kernel's interfaces");
		goto out;
	}
	rc = 0;
out:
	free(links);
	netlink_close(nl);
	if (rc < 0)
		tablenow_free(tn);
	return rc;
}

void tablenow_free(struct tablenow *tn)
{
	if (tn->s)
		iftable_release(tn->t, tn->s);
	iftable_free(tn->t);
	tn->s = NULL;
	tn->t = NULL;
}

/* The questions asked of the mirror (see fib.h): a packet arriving
 * (ip_route_input_slow: martians, forwarding, fib_validate_source) or sent
 * by the host (ip_route_output), answered from the route fib_lookup finds. */
#include "sflow/core/fib_int.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <string.h>

/* IN_DEV_ORCONF of the kernel: "all" or the device. which: 0 accept_local,
 * 1 route_localnet. */
static int conf_or(const struct fib *f, const struct fib_link *l, int which)
{
	int a = which ? f->all.route_localnet : f->all.accept_local;
	int d = l ? (which ? l->route_localnet : l->accept_local) : 0;

	return a || d;
}

/* IN_DEV_MAXCONF of rp_filter: the larger of "all" and the device. */
static int rp_filter(const struct fib *f, const struct fib_link *l)
{
	int d = l && l->rp_filter > 0 ? l->rp_filter : 0;
	int a = f->all.rp_filter > 0 ? f->all.rp_filter : 0;

	return a > d ? a : d;
}

/* The answer the kernel gives from the route found, as type. */
static void answer(const struct fib_res *res, uint8_t type, struct fib_answer *a)
{
	const struct fib_entry *e = res->e;

	memset(a, 0, sizeof *a);
	a->type = type;
	a->dst_len = e->dst_len;
	if (!e->npaths)
		return;
	if (res->path >= 0) {
		a->oif = e->paths[res->path].oif;
		a->gw = e->paths[res->path].gw;
		a->gw_known = 1;
		return;
	}
	/* Several live paths: the kernel hashes the flow to one. */
	a->multipath = 1;
	a->oif = e->paths[0].oif;
	a->gw = e->paths[0].gw;
	a->gw_known = 1;
	for (int i = 1; i < e->npaths; i++) {
		if (e->paths[i].oif != a->oif)
			a->oif = 0;
		if (e->paths[i].gw.family != a->gw.family ||
		    memcmp(e->paths[i].gw.a, a->gw.a, 16))
			a->gw_known = 0;
	}
	if (!a->gw_known)
		memset(&a->gw, 0, sizeof a->gw);
}

/* fib_info_nh_uses_dev */
static int uses_dev(const struct fib_entry *e, int kindex)
{
	for (int i = 0; i < e->npaths; i++)
		if (e->paths[i].oif == kindex)
			return 1;
	return 0;
}

/* fib_validate_source with __fib_validate_source: 0 the source is fine,
 * or a negative errno (martian, or the reverse path refused). */
static int validate4(const struct fib *f, const uint8_t *src, const uint8_t *dst, int oif,
		     int iif)
{
	const struct fib_link *dev = fib_link_find(f, iif);
	int rpf = rp_filter(f, dev);
	struct fib_flow fl = { 0 };
	struct fib_res res;
	int err;

	/* The kernel sends redirects by default (send_redirects): a packet
	 * leaving by the interface it came in on takes the full check. */
	if (!rpf && iif != oif) {
		int custom = !fib_default_rules4(&f->fam[0]);

		if (conf_or(f, dev, 0))
			return 0;
		/* fib_has_custom_local_routes is taken as any local route
		 * not of the kernel's own making. */
		if (!custom && !f->fam[0].custom_local)
			return fib_is_local4(f, fib_v4(src)) ? -EINVAL : 0;
	}
	fl.dst = src;
	fl.src = dst;
	fl.has_src = 1;
	fl.iif = oif ? oif : LOOPBACK_KINDEX;
	err = fib_lookup(f, AF_INET, &fl, &res);
	if (err)
		return rpf ? -EXDEV : 0;
	if (res.e->type != RTN_UNICAST &&
	    (res.e->type != RTN_LOCAL || !conf_or(f, dev, 0)))
		return -EINVAL;
	if (uses_dev(res.e, iif) || (res.e->type == RTN_LOCAL && iif == LOOPBACK_KINDEX))
		return 0;
	if (!dev || !dev->v4addrs)
		return rpf ? -EXDEV : 0;
	if (rpf == 1)
		return -EXDEV;
	return 0;		/* loose: any route back will do */
}

static int v4_multicast(const uint8_t *a) { return (a[0] & 0xf0) == 0xe0; }
static int v4_lbcast(const uint8_t *a) { return fib_v4(a) == 0xffffffffu; }
/* ipv4_is_zeronet: 0.0.0.0 only since Linux 5.3 (0/8 became unicast). */
static int v4_zeronet(const uint8_t *a) { return fib_v4(a) == 0; }
static int v4_loopback(const uint8_t *a) { return a[0] == 127; }

/* rt6_need_strict: multicast, link-local, loopback. */
static int v6_strict(const uint8_t *a)
{
	static const uint8_t lo[16] = { [15] = 1 };

	return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || !memcmp(a, lo, 16);
}

static enum fib_verdict input4(const struct fib *f, const uint8_t *dst, const uint8_t *src,
			       int iif, int64_t now, struct fib_answer *a)
{
	const struct fib_link *dev = fib_link_find(f, iif);
	struct fib_flow fl = { dst, src, 1, iif, 0, 0, 0, now };
	struct fib_res res;
	int oif;

	/* ip_route_input_slow's martians */
	if (v4_multicast(src) || v4_lbcast(src))
		return FIB_NOROUTE;
	if (v4_lbcast(dst) || (fib_is_zero(src, 4) && fib_is_zero(dst, 4)))
		return FIB_NOROUTE;	/* a broadcast: the answer has no route entry */
	if (v4_zeronet(src) || v4_zeronet(dst))
		return FIB_NOROUTE;
	if ((v4_loopback(dst) || v4_loopback(src)) && !conf_or(f, dev, 1))
		return FIB_NOROUTE;
	if (fib_lookup(f, AF_INET, &fl, &res))
		return FIB_NOROUTE;
	if (res.e->type == RTN_BROADCAST) {
		static const uint8_t any[16];

		/* brd_input validates against destination 0 */
		if (!v4_zeronet(src) && validate4(f, src, any, 0, iif) < 0)
			return FIB_NOROUTE;
		answer(&res, RTN_BROADCAST, a);
		return FIB_FOUND;
	}
	if (res.e->type == RTN_LOCAL) {
		if (validate4(f, src, dst, 0, iif) < 0)
			return FIB_NOROUTE;
		answer(&res, RTN_LOCAL, a);
		return FIB_FOUND;
	}
	if (!dev || dev->forwarding <= 0)
		return FIB_NOROUTE;	/* not a router on this interface */
	if (res.e->type != RTN_UNICAST)
		return FIB_NOROUTE;
	oif = res.e->npaths ? res.e->paths[res.path >= 0 ? res.path : 0].oif : 0;
	if (validate4(f, src, dst, oif, iif) < 0)
		return FIB_NOROUTE;
	answer(&res, RTN_UNICAST, a);
	return FIB_FOUND;
}

static enum fib_verdict output4(const struct fib *f, const uint8_t *dst, int64_t now,
				struct fib_answer *a)
{
	static const uint8_t none[16];
	struct fib_flow fl = { dst, none, 0, LOOPBACK_KINDEX, 0, 0, 0, now };
	struct fib_res res;

	if (fib_is_zero(dst, 4))
		return FIB_NOROUTE;	/* the kernel answers with lo, no route entry */
	if (fib_lookup(f, AF_INET, &fl, &res))
		return FIB_NOROUTE;
	if (res.e->type == RTN_LOCAL) {
		answer(&res, RTN_LOCAL, a);
		return FIB_FOUND;
	}
	/* __mkroute_output */
	if (v4_zeronet(dst))
		return FIB_NOROUTE;
	answer(&res, v4_lbcast(dst) ? RTN_BROADCAST : v4_multicast(dst) ? RTN_MULTICAST :
		     res.e->type, a);
	return FIB_FOUND;
}

static enum fib_verdict answer6(const struct fib *f, struct fib_flow *fl, struct fib_answer *a)
{
	struct fib_res res;

	if (v6_strict(fl->dst))
		fl->strict |= STRICT_IFACE;
	if (fib_lookup(f, AF_INET6, fl, &res))
		return FIB_NOROUTE;
	answer(&res, res.e->type, a);
	return FIB_FOUND;
}

/* Whether family's questions go unanswered: 1 with *v (FIB_NOROUTE, a
 * family the mirror does not keep; FIB_UNKNOWN, one past its bounds or a
 * mirror that is not whole), or 0. */
static int unanswered(const struct fib *f, int family, enum fib_verdict *v)
{
	const struct fib_family *fa = fib_cfam(f, family);

	*v = !fa ? FIB_NOROUTE : FIB_UNKNOWN;
	return !fa || fa->route_overflow || fa->rule_overflow || f->incomplete;
}

enum fib_verdict fib_input(const struct fib *f, int family, const uint8_t *dst,
			   const uint8_t *src, int iif, int64_t now, struct fib_answer *a)
{
	enum fib_verdict v;

	memset(a, 0, sizeof *a);
	if (unanswered(f, family, &v))
		return v;
	if (family == AF_INET)
		return input4(f, dst, src, iif, now, a);
	{
		/* ip6_pol_route_input scores paths against the input interface. */
		struct fib_flow fl = { dst, src, !fib_is_zero(src, 16), iif, iif, 0, 0, now };

		return answer6(f, &fl, a);
	}
}

enum fib_verdict fib_output(const struct fib *f, int family, const uint8_t *dst,
			    int64_t now, struct fib_answer *a)
{
	static const uint8_t none[16];
	enum fib_verdict v;

	memset(a, 0, sizeof *a);
	if (unanswered(f, family, &v))
		return v;
	if (family == AF_INET)
		return output4(f, dst, now, a);
	{
		struct fib_flow fl = { dst, none, 0, LOOPBACK_KINDEX, 0, 0, 0, now };

		return answer6(f, &fl, a);
	}
}

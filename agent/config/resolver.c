/* A detached worker per resolution. The caller and the worker share one
 * struct; whoever is last (the caller in resolver_finish, or the worker
 * after resolver_abandon) frees it. */
#include "config/resolver.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct resolver {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, abandoned;    /* under mu */
	int efd;
	struct config *cfg;
	int rc;
	char err[1024];
};

static void resolver_free(struct resolver *r)
{
	config_free(r->cfg);
	close(r->efd);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static void *resolver_main(void *arg)
{
	struct resolver *r = arg;
	uint64_t one = 1;
	ssize_t w = 0;
	int gone;

	r->rc = config_resolve(r->cfg, r->err, sizeof r->err);
	pthread_mutex_lock(&r->mu);
	r->done = 1;
	gone = r->abandoned;
	/* Under the lock: once we unlock, the caller may free r at once. A
	 * counter of 1 cannot overflow, so the write cannot fail. */
	if (!gone)
		w = write(r->efd, &one, sizeof one);
	(void)w;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (gone)
		resolver_free(r);
	return NULL;
}

struct resolver *resolver_start(struct config *cfg, char *err, size_t errlen)
{
	struct resolver *r = calloc(1, sizeof *r);
	pthread_attr_t attr;
	pthread_t tid;
	int e;

	if (!r) {
		config_free(cfg);
		snprintf(err, errlen, "resolver: out of memory");
		return NULL;
	}
	r->cfg = cfg;
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		snprintf(err, errlen, "resolver: eventfd: %s", strerror(errno));
		config_free(cfg);
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* getaddrinfo needs little stack; the default 8 MB is only address space. */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	e = pthread_create(&tid, &attr, resolver_main, r);
	pthread_attr_destroy(&attr);
	if (e) {
		snprintf(err, errlen, "resolver: cannot start a thread: %s", strerror(e));
		resolver_free(r);
		return NULL;
	}
	return r;
}

int resolver_fd(const struct resolver *r)
{
	return r->efd;
}

int resolver_finish(struct resolver *r, struct config **cfg, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&r->mu);
	while (!r->done)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	rc = r->rc;
	if (rc == 0) {
		*cfg = r->cfg;
		r->cfg = NULL;
	} else {
		snprintf(err, errlen, "%s", r->err);
	}
	resolver_free(r);
	return rc;
}

void resolver_abandon(struct resolver *r)
{
	int done;

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	done = r->done;
	r->abandoned = 1;
	pthread_mutex_unlock(&r->mu);
	if (done)
		resolver_free(r);
}

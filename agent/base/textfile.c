#include "base/textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads the whole fd; -EFBIG past TEXTFILE_MAX_BYTES, else 0 or -errno. */
static int read_all(int fd, char **text, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;

	for (;;) {
		if (n == cap) {
			if (cap > TEXTFILE_MAX_BYTES)
				break;
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		n += r;
	}
	if (n > TEXTFILE_MAX_BYTES) {
		free(buf);
		return -EFBIG;
	}
	*text = buf;
	*len = n;
	return 0;
}

int textfile_read(const char *path, char **text, size_t *len,
		  char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer
	 * forever; whatever is not a regular file is refused before a read. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	r = read_all(fd, text, len);
	close(fd);
	if (r == -EFBIG)
		snprintf(err, errlen, "%s: file is larger than %d bytes", path,
			 TEXTFILE_MAX_BYTES);
	else if (r)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-r));
	return r ? -1 : 0;
}

int textfile_verr(char *err, size_t errlen, const char *file, int line,
		  const char *fmt, va_list ap)
{
	int n = snprintf(err, errlen, "%s:%d: ", file, line);

	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	return -1;
}

int textfile_ifname_valid(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len >= IFNAMSIZ || (s[0] == '.' && (len == 1 ||
	    (len == 2 && s[1] == '.'))))
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~' ||
		    s[i] == '/' || s[i] == ':')
			return 0;
	return 1;
}

/* What hostflowd.conf and interfaces.map share: how a file is read whole
 * (bounded size, FILE: message errors) and what an interface name may be. */
#ifndef HF_TEXTFILE_H
#define HF_TEXTFILE_H

#include <stdarg.h>
#include <stddef.h>

#define TEXTFILE_MAX_BYTES (1024 * 1024)
#define TEXTFILE_LINE_MAX  4095

/* Reads PATH whole into a malloc'd *text (not NUL-terminated) of *len bytes.
 * Anything but a regular file (FIFO, directory, device, socket) is refused
 * with "PATH: not a regular file" without blocking. On error writes
 * "PATH: cannot read: reason" (or that, or the size limit) into err and
 * returns -1. */
int textfile_read(const char *path, char **text, size_t *len,
		  char *err, size_t errlen);

/* Writes "FILE:LINE: " and the formatted message into err; returns -1, so
 * that a parser can `return perr(...)`. */
int textfile_verr(char *err, size_t errlen, const char *file, int line,
		  const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Linux's dev_valid_name() restricted to printable ASCII: 1..15 bytes, no
 * '/', ':' or space, not "." or "..". */
int textfile_ifname_valid(const char *s, size_t len);

#endif

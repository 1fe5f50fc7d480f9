/*
 * libFuzzer target: the configuration parser. The input is a configuration
 * file; one starting with 'E' instead sets the rest as KEYWORK_DATABASE_URL,
 * to reach the environment path and the connection-string masking.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static FILE	*devnull;

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct config	 c;
	char		 err[256], path[64], *s;
	int		 fd;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	snprintf(path, sizeof(path), "/tmp/keywork-fuzz-config-%d", (int)getpid());
	if (n > 0 && d[0] == 'E') {
		if ((s = malloc(n)) == NULL)
			abort();
		memcpy(s, d + 1, n - 1);
		s[n - 1] = '\0';
		setenv("KEYWORK_DATABASE_URL", s, 1);
		free(s);
	} else {
		unsetenv("KEYWORK_DATABASE_URL");
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	if (write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
	if (config_load(&c, path, err, sizeof(err)) == 0) {
		config_dump(&c, devnull);
		(void)!config_write_kore(&c, devnull);
	} else if (err[0] == '\0') {
		__builtin_trap();	/* every refusal says why */
	}
	config_cleanup(&c);
	return 0;
}

/*
 * slowflush.c - a preload library for the benchmark only: every fsync and
 * fdatasync of the process returns YB_BENCH_FLUSH_MS milliseconds later
 * than the disk answered. It stands in for a disk whose flush is slow (a
 * spinning disk, a network or cloud volume) on a machine that has none, so
 * that bench/run.sh can show how yuebaod's group commit and the plain
 * SQLite loop compare when the flush, not the CPU, is the limit. The delay
 * comes after the real flush, so durability is never weakened.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static struct timespec delay;

__attribute__((constructor)) static void slowflush_init(void)
{
	const char *v = getenv("YB_BENCH_FLUSH_MS");
	long ms = v != NULL ? strtol(v, NULL, 10) : 0;

	if (ms < 0 || ms > 10000)
		ms = 0;
	delay.tv_sec = ms / 1000;
	delay.tv_nsec = (ms % 1000) * 1000000L;
	real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
}

/* Sleeps the whole delay (resuming after signals), keeping the caller's errno. */
static void slowflush_wait(void)
{
	struct timespec left = delay;
	int saved = errno;

	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	errno = saved;
}

int fsync(int fd)
{
	int rc = real_fsync(fd);

	slowflush_wait();
	return rc;
}

int fdatasync(int fd)
{
	int rc = real_fdatasync(fd);

	slowflush_wait();
	return rc;
}

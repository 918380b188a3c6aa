/*
 * reaper.c - shuts down accepted TCP connections that never become pipes
 * (see reaper.h for why).
 *
 * Pipes are known by their remote address, from nng's notifications. A scan
 * maps the daemon's socket descriptors to inodes (/proc/self/fd) and the
 * kernel's table of TCP connections (/proc/net/tcp, tcp6) maps inodes on the
 * listening port to remote addresses; a connection whose address is not a
 * pipe's is a candidate, and a candidate older than the limit is shut down.
 * The descriptor's inode is read again right before the shutdown, so a
 * descriptor closed and reused meanwhile is never touched.
 */
#include "reaper.h"

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "rpc.h"

/* Bounds on what is tracked; beyond them a scan skips, never grows. */
#define MAX_PIPES 16384
#define MAX_SOCKETS 65536
#define MAX_CANDIDATES 16384
#define SCAN_INTERVAL_MS 2000

/* A remote end: IPv4 addresses as ::ffff:a.b.c.d. */
struct peer {
	uint8_t addr[16];
	uint16_t port;
};

struct pipe_entry {
	nng_pipe pipe;
	struct peer peer;
};

struct fd_inode {
	unsigned long inode;
	int fd;
};

struct candidate {
	unsigned long inode;
	int64_t first_seen_ms;
	bool seen; /* in the current scan */
};

struct reaper {
	int port, limit_s;
	void (*log)(const char *fmt, ...);
	pthread_t thread;
	bool running;
	pthread_mutex_t lock; /* guards pipes, n_pipes, overflow, stop */
	pthread_cond_t wake;
	bool stop;
	struct pipe_entry *pipes, *scratch; /* scratch: the scanning thread's copy */
	size_t n_pipes;
	/* A session could not be recorded: reaping would cut it off, so it stops. */
	bool overflow, overflow_logged;
	/* The scanning thread's own. */
	struct fd_inode *fds;
	size_t n_fds;
	struct candidate *cands;
	size_t n_cands;
};

static bool peer_from_nng(const nng_sockaddr *sa, struct peer *p)
{
	memset(p, 0, sizeof(*p));
	if (sa->s_family == NNG_AF_INET) {
		p->addr[10] = p->addr[11] = 0xff;
		memcpy(p->addr + 12, &sa->s_in.sa_addr, 4);
		p->port = ntohs(sa->s_in.sa_port);
		return true;
	}
	if (sa->s_family == NNG_AF_INET6) {
		memcpy(p->addr, sa->s_in6.sa_addr, 16);
		p->port = ntohs(sa->s_in6.sa_port);
		return true;
	}
	return false;
}

/* Drops pipe id from the table. Called with the lock held. */
static void forget_pipe(struct reaper *r, uint32_t id)
{
	for (size_t i = 0; i < r->n_pipes; i++)
		if ((uint32_t)nng_pipe_id(r->pipes[i].pipe) == id) {
			r->pipes[i] = r->pipes[--r->n_pipes];
			return;
		}
}

/* nng's pipe notifications: runs on nng threads, so only bookkeeping. */
static void on_pipe(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct reaper *r = arg;
	uint32_t id = (uint32_t)nng_pipe_id(pipe);
	nng_sockaddr sa;
	struct peer peer;

	/*
	 * nng may report a pipe's removal before its addition (a peer that hangs
	 * up at once): such a stale entry is dropped by the next scan.
	 */
	if (ev == NNG_PIPE_EV_ADD_POST &&
	    (nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) != 0 || !peer_from_nng(&sa, &peer)))
		return; /* already gone, or not TCP */
	pthread_mutex_lock(&r->lock);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		if (r->n_pipes < MAX_PIPES)
			r->pipes[r->n_pipes++] = (struct pipe_entry){pipe, peer};
		else
			r->overflow = true;
	} else
		forget_pipe(r, id);
	pthread_mutex_unlock(&r->lock);
}

static bool is_pipe(struct reaper *r, const struct peer *p)
{
	bool found = false;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n_pipes && !found; i++)
		found = r->pipes[i].peer.port == p->port &&
		        memcmp(r->pipes[i].peer.addr, p->addr, 16) == 0;
	pthread_mutex_unlock(&r->lock);
	return found;
}

/* The inode of the socket behind fd, or 0. */
static unsigned long fd_socket_inode(int fd)
{
	char path[64], link[64];
	unsigned long inode = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
		return 0;
	link[n] = '\0';
	if (sscanf(link, "socket:[%lu]", &inode) != 1)
		return 0;
	return inode;
}

static int by_inode(const void *a, const void *b)
{
	unsigned long x = ((const struct fd_inode *)a)->inode;
	unsigned long y = ((const struct fd_inode *)b)->inode;

	return x < y ? -1 : x > y;
}

/* Lists the daemon's socket descriptors, sorted by inode. */
static void list_sockets(struct reaper *r)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	r->n_fds = 0;
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && r->n_fds < MAX_SOCKETS) {
		int fd = atoi(e->d_name);
		unsigned long inode;
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d))
			continue;
		if ((inode = fd_socket_inode(fd)) != 0)
			r->fds[r->n_fds++] = (struct fd_inode){inode, fd};
	}
	closedir(d);
	qsort(r->fds, r->n_fds, sizeof(r->fds[0]), by_inode);
}

/* Parses hex words of /proc/net/tcp*: each is a 32-bit value in host order. */
static bool parse_addr(const char *hex, size_t words, uint8_t *out)
{
	for (size_t i = 0; i < words; i++) {
		char word[9];
		uint32_t v;
		memcpy(word, hex + 8 * i, 8);
		word[8] = '\0';
		if (sscanf(word, "%8x", &v) != 1)
			return false;
		memcpy(out + 4 * i, &v, 4);
	}
	return true;
}

static void shut_down(struct reaper *r, int fd, unsigned long inode, const struct peer *p)
{
	char text[INET6_ADDRSTRLEN];
	int d;

	/*
	 * The descriptor may have been closed and reused since the listing: a
	 * duplicate pins the socket, which is shut only if it is still the one
	 * that was looked at.
	 */
	if ((d = dup(fd)) < 0)
		return;
	if (fd_socket_inode(d) != inode) {
		close(d);
		return;
	}
	shutdown(d, SHUT_RDWR);
	close(d);
	if (r->log == NULL)
		return;
	inet_ntop(AF_INET6, p->addr, text, sizeof(text));
	r->log("closing a connection from [%s]:%u that did not start an RPC session in %d s "
	       "(no TLS handshake, or an unfinished one)",
	       text, p->port, r->limit_s);
}

/* Looks at one connection on the listening port. */
static void consider(struct reaper *r, unsigned long inode, const struct peer *p, int64_t now)
{
	struct fd_inode key = {inode, 0}, *f;
	struct candidate *c = NULL;

	f = bsearch(&key, r->fds, r->n_fds, sizeof(key), by_inode);
	if (f == NULL || is_pipe(r, p))
		return;
	for (size_t i = 0; i < r->n_cands && c == NULL; i++)
		if (r->cands[i].inode == inode)
			c = &r->cands[i];
	if (c == NULL) {
		if (r->n_cands < MAX_CANDIDATES)
			r->cands[r->n_cands++] = (struct candidate){inode, now, true};
		return;
	}
	c->seen = true;
	if (now - c->first_seen_ms >= (int64_t)r->limit_s * 1000) {
		shut_down(r, f->fd, inode, p);
		c->seen = false; /* dropped from the list below */
	}
}

static void scan_table(struct reaper *r, const char *path, size_t words, int64_t now)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (f == NULL)
		return;
	if (fgets(line, sizeof(line), f) == NULL) { /* the header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char local[40], remote[40];
		unsigned lport, rport, state;
		unsigned long inode;
		struct peer p = {{0}, 0};
		/* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line,
		           " %*s %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*s %*s %*s %*s %*s %lu",
		           local, &lport, remote, &rport, &state, &inode) != 6)
			continue;
		/* ESTABLISHED, or CLOSE_WAIT: the peer left and nng has not noticed. */
		if (lport != (unsigned)r->port || (state != 0x01 && state != 0x08) || inode == 0 ||
		    strlen(remote) != 8 * words)
			continue;
		if (words == 1) {
			p.addr[10] = p.addr[11] = 0xff;
			if (!parse_addr(remote, 1, p.addr + 12))
				continue;
		} else if (!parse_addr(remote, 4, p.addr))
			continue;
		p.port = (uint16_t)rport;
		consider(r, inode, &p, now);
	}
	fclose(f);
}

/*
 * Drops pipes nng no longer knows. nng is asked without holding the lock:
 * its own locks are held when it calls on_pipe, which takes ours.
 */
static void prune_pipes(struct reaper *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->n_pipes;
	memcpy(r->scratch, r->pipes, n * sizeof(r->pipes[0]));
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; i < n; i++) {
		nng_sockaddr sa;
		if (nng_pipe_get_addr(r->scratch[i].pipe, NNG_OPT_REMADDR, &sa) == 0)
			continue;
		pthread_mutex_lock(&r->lock);
		forget_pipe(r, (uint32_t)nng_pipe_id(r->scratch[i].pipe));
		pthread_mutex_unlock(&r->lock);
	}
}

static void scan(struct reaper *r)
{
	int64_t now = rpc_monotonic_ms();
	size_t kept = 0;
	bool overflow;

	prune_pipes(r);
	pthread_mutex_lock(&r->lock);
	overflow = r->overflow;
	pthread_mutex_unlock(&r->lock);
	if (overflow) {
		if (!r->overflow_logged && r->log != NULL)
			r->log("more than %d sessions at once: connections that never start a "
			       "session are no longer closed",
			       MAX_PIPES);
		r->overflow_logged = true;
		return;
	}
	list_sockets(r);
	for (size_t i = 0; i < r->n_cands; i++)
		r->cands[i].seen = false;
	scan_table(r, "/proc/net/tcp", 1, now);
	scan_table(r, "/proc/net/tcp6", 4, now);
	/* New candidates were added as seen; gone and shut ones are dropped. */
	for (size_t i = 0; i < r->n_cands; i++)
		if (r->cands[i].seen)
			r->cands[kept++] = r->cands[i];
	r->n_cands = kept;
}

static void *reaper_main(void *arg)
{
	struct reaper *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct timespec until = rpc_monotonic_after(SCAN_INTERVAL_MS);
		pthread_cond_timedwait(&r->wake, &r->lock, &until);
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->lock);
		scan(r);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int reaper_start(nng_socket sock, int limit_s, void (*log)(const char *fmt, ...),
                 struct reaper **out, struct errbuf *eb)
{
	struct reaper *r = calloc(1, sizeof(*r));
	int rv;

	if (r == NULL || (r->pipes = calloc(MAX_PIPES, sizeof(*r->pipes))) == NULL ||
	    (r->scratch = calloc(MAX_PIPES, sizeof(*r->scratch))) == NULL ||
	    (r->fds = calloc(MAX_SOCKETS, sizeof(*r->fds))) == NULL ||
	    (r->cands = calloc(MAX_CANDIDATES, sizeof(*r->cands))) == NULL) {
		if (r != NULL) {
			free(r->pipes);
			free(r->scratch);
			free(r->fds);
		}
		free(r);
		return status_fail(eb, YB_ENOMEM, "out of memory");
	}
	r->limit_s = limit_s;
	r->log = log;
	pthread_mutex_init(&r->lock, NULL);
	rpc_monotonic_cond_init(&r->wake);
	if ((rv = nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, on_pipe, r)) != 0 ||
	    (rv = nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, on_pipe, r)) != 0) {
		/* No callback may be left pointing at r. */
		nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, NULL, NULL);
		nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
		reaper_stop(r);
		return status_fail(eb, YB_ECONNECT, "cannot watch connections: %s",
		                   nng_strerror(rv));
	}
	*out = r;
	return YB_OK;
}

int reaper_watch(struct reaper *r, int port, struct errbuf *eb)
{
	r->port = port;
	if (access("/proc/self/fd", R_OK) != 0)
		return YB_OK; /* not Linux: nothing to look at */
	if (pthread_create(&r->thread, NULL, reaper_main, r) != 0)
		return status_fail(eb, YB_ENOMEM, "cannot start the connection reaper");
	r->running = true;
	return YB_OK;
}

void reaper_stop(struct reaper *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	if (r->running)
		pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
	free(r->pipes);
	free(r->scratch);
	free(r->fds);
	free(r->cands);
	free(r);
}

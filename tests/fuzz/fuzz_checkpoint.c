/*
 * fuzz_checkpoint.c - libFuzzer target for the verified-checkpoint file an
 * auditor keeps between two verifications (checkpoint.h): any bytes are
 * either refused with a message or give a checkpoint whose tree edge is of
 * its size and folds to its root, and which reads back the same once saved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct checkpoint_trusted t, again;
	uint8_t root[MERKLE_HASH_LEN];
	struct errbuf eb;

	eb.msg[0] = '\0';
	if (checkpoint_trusted_parse((const char *)data, size, "input", &t, &eb) != YB_OK) {
		checkpoint_trusted_free(&t);
		if (eb.msg[0] == '\0')
			abort();
		return 0;
	}
	/* Without an edge (a witness's state) only the signed head is promised. */
	if (t.cert == NULL || t.cert_len == 0 ||
	    (t.has_edge &&
	     (t.edge.size != t.cp.size || merkle_frontier_root(&t.edge, root) != YB_OK ||
	      memcmp(root, t.cp.root, 32) != 0)))
		abort();
	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_checkpoint.%ld", (long)getpid());
	if (checkpoint_trusted_save(path, &t, &eb) != YB_OK ||
	    checkpoint_trusted_load(path, &again, &eb) != YB_OK || again.cp.size != t.cp.size ||
	    again.cp.at_ms != t.cp.at_ms || again.cp.sig_len != t.cp.sig_len ||
	    memcmp(again.cp.sig, t.cp.sig, t.cp.sig_len) != 0 || again.cert_len != t.cert_len ||
	    memcmp(again.cert, t.cert, t.cert_len) != 0 || again.has_edge != t.has_edge)
		abort();
	unlink(path);
	checkpoint_trusted_free(&again);
	checkpoint_trusted_free(&t);
	return 0;
}

/*
 * world.c - freeing what the daemon loaded (see world.h; server.c loads it).
 */
#include "world.h"

#include <stdlib.h>

void world_free(struct world *w)
{
	if (w == NULL)
		return;
	orgtree_free(w->orgs);
	catalog_free(w->cat);
	pki_verifier_free(w->verifier);
	free(w);
}

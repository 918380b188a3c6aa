/*
 * batch.h - group commit: the daemon's writing calls share one SQLite
 * connection and one transaction per batch.
 *
 * A writing call joins the open batch (opening it when there is none) and
 * gets the writing connection to itself; its writes go inside a savepoint,
 * so a refused call undoes only its own. When it finishes, it hands the
 * connection to the next call waiting to join; the last call of the batch,
 * the one that finds nobody waiting, commits for everyone and wakes them.
 * batch_finish returns only once the caller's writes are durable (or lost
 * with the whole batch), so a reply still leaves only after its data and
 * call record are on disk; one fsync now covers every call of the batch.
 * A batch also commits once it holds 64 calls or is 20 ms old, whoever is
 * waiting, so calls that join and leave without writing cannot keep it
 * open.
 */
#ifndef YB_BATCH_H
#define YB_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"
#include "store.h"

struct batch;

/* Opens the writing connection to the database at path. The caller owns *out. */
int batch_open(const char *path, struct batch **out, struct errbuf *eb);

/* Closes the connection; no call may be inside a batch. NULL is allowed. */
void batch_close(struct batch *b);

/*
 * Waits for the writing connection, opens the batch's transaction if need
 * be and a savepoint for this call. YB_OK with *db, the connection to write
 * with until batch_finish, or YB_EDB / YB_UNAVAILABLE (SQLite's lock held
 * elsewhere for 10 s) with eb saying why: then there is nothing to finish.
 */
int batch_join(struct batch *b, struct store **db, struct errbuf *eb);

/*
 * Ends the caller's part of the batch: keep releases its savepoint and waits
 * until the batch is committed; !keep rolls its writes back and returns at
 * once. YB_OK when kept writes are durable; YB_EDB when the batch could not
 * commit, and then nothing of any of its calls was stored (eb says why).
 */
int batch_finish(struct batch *b, bool keep, struct errbuf *eb);

/* Whether the calling thread holds the writing connection (between join and finish). */
bool batch_held(struct batch *b);

/* Batches committed so far and the kept calls they held (for the log). */
void batch_stats(struct batch *b, uint64_t *batches, uint64_t *calls);

#endif

// Package fsstore is a tiering.ObjectStore that keeps objects as files
// under one directory. It is the embedded default (<data-dir>/objects): a
// single agent offloads segments with no external service, and tests run
// the tiering code paths without an S3 server.
//
// # Layout
//
// The object under key "a/b/c.log" is the regular file <dir>/a/b/c.log;
// the file's bytes are the object's bytes, with no header. Keys are
// validated (tiering.ValidateKey), so a path built from a key always lies
// inside <dir>, and since no key segment starts with '.', names starting
// with '.' belong to the store: <dir>/.tmp holds files being written. List
// skips them, and Open empties .tmp, removing what a crash left there. A
// directory holds one Store at a time.
//
// Directories are created on demand and removed by Delete once empty, so
// deleted topics leave nothing behind. A key cannot be both an object and
// a directory of another key; Put reports tiering.ErrKeyConflict.
//
// # Durability (fsync discipline)
//
// Put writes the object to a new file in .tmp, fsyncs it, closes it, and
// renames it over <dir>/<key>; rename is atomic, so a reader sees either
// the old file or the new one, and one that opened the old file keeps
// reading it to the end. Put then fsyncs the object's directory so the
// rename survives a crash. Before the rename, every directory on the path
// is made durable once per Store: it is created if needed and its parent
// is fsynced, and the Store remembers it (a directory another Put created
// is synced too, so a Put never returns before the entries leading to its
// object are on disk). Put returns nil only after all of this.
//
// Delete unlinks the file and fsyncs its directory, so a deleted object
// does not come back after a crash; removing empty parent directories is
// not synced (an empty directory that reappears is harmless).
//
// A crash during Put leaves either the old object or the new one, plus at
// most a temporary file that the next Open removes.
//
// # Counting
//
// Stats counts calls: one request per Put, Get, Stat, List or Delete, the
// bytes Put stored and the bytes Get's readers returned.
package fsstore

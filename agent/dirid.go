package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// dirIDFile holds a random id that names the data directory. The agent
// registers with it, so after a crash the restarted agent (which holds the
// directory's lock) can take over its own stale registration at once.
//
// Format: one line "strata-dir-id v1 <32 hex digits>\n".
const dirIDFile = "dir.id"

const dirIDPrefix = "strata-dir-id v1 "

// loadDirID reads the data directory's id, creating it (atomically) on
// first use.
func loadDirID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, dirIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		line := strings.TrimSuffix(string(b), "\n")
		id, ok := strings.CutPrefix(line, dirIDPrefix)
		if _, herr := hex.DecodeString(id); !ok || herr != nil || len(id) != 32 {
			return "", fmt.Errorf("%s is corrupt (%q); remove it to let the agent write a new one", path, line)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	if err := writeFileAtomic(path, []byte(dirIDPrefix+id+"\n")); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return id, nil
}

// writeFileAtomic replaces path with data: write a temp file, fsync it,
// rename it over path, fsync the directory.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

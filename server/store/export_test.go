package store

import "context"

// OpenAt opens dir's database migrated only up to version upTo, to build
// an old schema in tests.
func OpenAt(ctx context.Context, dir string, upTo int) error {
	db, err := openSQLite(ctx, dir)
	if err != nil {
		return err
	}
	defer db.Close()
	return migrate(ctx, db, upTo)
}

// LoadMigrations exposes loadMigrations.
var LoadMigrations = loadMigrations

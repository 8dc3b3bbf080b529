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
	return migrate(ctx, db, migrations, upTo, false)
}

// LoadMigrations exposes loadMigrations.
var LoadMigrations = loadMigrations

// SQLiteMigrations and PostgresMigrations name the embedded migrations.
var SQLiteMigrations, SQLiteNames, PostgresNames = len(migrations), names(migrations), names(pgMigrations)

func names(ms []migration) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.name)
	}
	return out
}

// Placeholders exposes placeholders.
var Placeholders = placeholders

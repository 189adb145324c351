#include <sqlite3.h>

/// sqlite3_db_config() is variadic, which Swift cannot call: one typed wrapper per use.
static inline void csqlite_disable_dqs(sqlite3 *db) {
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, (void *)0);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, (void *)0);
}

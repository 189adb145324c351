extension Database {
    /// Stores a canonical body under its content hash, once: the mirror's entities and the
    /// desired state's mapped bodies share `blobs`, and an identical body is already there.
    func storeBlob(_ body: CanonicalBody) throws(DatabaseError) {
        let insert = try statement("INSERT OR IGNORE INTO blobs (hash, body) VALUES (?, ?)")
        try insert.bind([.text(body.hash.hex), .text("")])
        try insert.bindText(body.bytes, at: 2)
        while try insert.step() {}
    }

    /// The canonical JSON stored under a content hash: one read for the mirror's history and the
    /// ledger.
    func blobBody(_ hash: ContentHash) throws(DatabaseError) -> String? {
        try row("SELECT body FROM blobs WHERE hash = ?", [.text(hash.hex)])?.string("body")
    }
}

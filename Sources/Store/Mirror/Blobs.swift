extension Database {
    /// The canonical JSON stored under a content hash in `blobs`, which holds both the mirrored
    /// entities and the mapped bodies Port acknowledged: one read for the mirror's history and
    /// the ledger.
    func blobBody(_ hash: ContentHash) throws(DatabaseError) -> String? {
        try row("SELECT body FROM blobs WHERE hash = ?", [.text(hash.hex)])?.string("body")
    }
}

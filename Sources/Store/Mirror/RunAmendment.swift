extension MirrorStore {
    /// Marks a committed run partial after the fact, adding `reason` to its error: its walk
    /// committed, but what followed (the Port push) was cut short, e.g. by the run's timeout.
    public func markPartial(run: Int, reason: String) throws(DatabaseError) {
        try db.run("""
            UPDATE runs SET status = CASE WHEN status = 'succeeded' THEN 'partial' ELSE status END,
                error = coalesce(error || '; ', '') || ? WHERE id = ?
            """, [.text(reason), .int(run)])
    }
}

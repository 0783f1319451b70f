import BookingDomain

/// What one call of the booking procedure came to, as ``PostgresStore/insert(_:)`` reads it.
enum InsertAttempt: Sendable {
    /// The procedure answered: the appointment it created, or the one of a replay.
    case answered(InsertOutcome)
    /// The call failed after its commit (a statement timeout or cancel falling due while it committed), and its
    /// booking was found stored.
    case found(InsertOutcome)
    /// The procedure refused, and this is what stands in the way.
    case refused(BookingError)
    /// The procedure refused, yet nothing stands in the way any more: the booking runs again.
    case refusedByNothing
    /// The call's claim met another booking at a unique index or the exclusion constraint (or in a deadlock
    /// there), and stored nothing: the booking runs again without the first try, so the claim says what stands
    /// in the way.
    case conflicted
    /// The outcome is unknown: the connection died while the call was out (being sent, or sent and not yet known
    /// to have stored nothing), its answer could not be read, or the read after a cancelled call failed. The
    /// procedure may have committed.
    case callLost
}

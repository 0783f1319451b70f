/// What placing a hold answers: the hold and its token, shown once.
public struct HoldConfirmation: Hashable, Sendable {
    /// The hold.
    public var hold: SlotHold
    /// The secret that books the held slot (``BookingRequest/holdToken``) or releases it; only its SHA-256 is stored.
    public var token: String

    /// Creates a confirmation.
    public init(hold: SlotHold, token: String) {
        self.hold = hold
        self.token = token
    }
}

import Foundation

/// A booking request whose fields passed the rules of ``BookingService/book(_:)``.
struct ValidatedRequest {
    let slot: TimeSlot
    let name: String
    let email: String
    let note: String?
    let resource: ResourceID
    let idempotencyKey: String?
    let holdToken: String?

    /// Hex SHA-256 of the canonical request: what an idempotent replay must repeat exactly.
    var fingerprint: String {
        let fields = [
            resource.rawValue, String(Int64((slot.start.timeIntervalSince1970 * 1000).rounded())),
            String(Int64((slot.end.timeIntervalSince1970 * 1000).rounded())), name, email, note ?? "\u{0}",
        ]
        // Each field as its UTF-8 length, a colon and the field, in one string.
        var canonical = ""
        canonical.reserveCapacity(fields.reduce(6 * 4) { $0 + $1.utf8.count })
        for field in fields {
            canonical += String(field.utf8.count)
            canonical += ":"
            canonical += field
        }
        return SecretToken.sha256Hex(canonical)
    }
}

extension BookingRequest {
    /// Applies the field rules, collecting every problem: name 1-200 characters after trimming,
    /// a plausible email of at most 254 characters, a note of at most 500, a slot whose end is after
    /// its start, and an idempotency key of 1-255 printable ASCII characters.
    ///
    /// Control characters (C0 U+0000-U+001F, DEL U+007F and C1 U+0080-U+009F) are refused in the
    /// name and email, and in the note except tab and line breaks. Format characters that text
    /// needs (the zero-width joiner and non-joiner of emoji sequences, Persian and Indic names) are
    /// not controls and are kept.
    func validated() throws(BookingError) -> ValidatedRequest {
        var problems: [String: String] = [:]
        let name = self.name.trimmedOfWhitespace
        if name.isEmpty {
            problems["name"] = "is required"
        } else if name.unicodeScalars.count > 200 {
            problems["name"] = "must be at most 200 characters"
        } else if name.unicodeScalars.contains(where: { $0.isControl(allowing: []) }) {
            problems["name"] = "must not contain control characters"
        }
        let email = self.email.trimmedOfWhitespace
        if let problem = Self.emailProblem(email) { problems["email"] = problem }
        let note = self.note?.trimmedOfWhitespace
        if let note, note.unicodeScalars.count > 500 {
            problems["note"] = "must be at most 500 characters"
        } else if let note, note.unicodeScalars.contains(where: { $0.isControl(allowing: Self.noteLineBreaks) }) {
            problems["note"] = "must not contain control characters other than tab and line breaks"
        }
        if let problem = TimeSlot.instantProblem(slotStart) { problems["slotStart"] = problem }
        if let problem = TimeSlot.instantProblem(slotEnd) {
            problems["slotEnd"] = problem
        } else if slotEnd <= slotStart {
            problems["slotEnd"] = "must be after slotStart"
        }
        if let key = idempotencyKey, let problem = Self.idempotencyKeyProblem(key) {
            problems["idempotencyKey"] = problem
        }
        if let holdToken, let problem = Self.holdTokenProblem(holdToken) { problems["holdToken"] = problem }
        guard problems.isEmpty else { throw .invalidInput(problems) }
        return ValidatedRequest(
            slot: TimeSlot(uncheckedStart: slotStart, end: slotEnd), name: name, email: email,
            note: note?.isEmpty == false ? note : nil, resource: resource, idempotencyKey: idempotencyKey,
            holdToken: holdToken)
    }

    /// What is wrong with a client's idempotency key (of a booking or a reschedule), or `nil`: it must be
    /// 1-255 printable ASCII characters without spaces.
    static func idempotencyKeyProblem(_ key: String) -> String? {
        guard !key.isEmpty, key.utf8.count <= 255, key.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) })
        else { return "must be 1-255 printable ASCII characters without spaces" }
        return nil
    }

    /// A hold token is what ``BookingService/hold(_:)`` hands out: printable ASCII, at most 255 characters.
    static func holdTokenProblem(_ token: String) -> String? {
        guard !token.isEmpty, token.utf8.count <= 255,
            token.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) })
        else { return "must be a hold token as placing a hold answers it" }
        return nil
    }

    /// Tab, line feed and carriage return: the controls a multi-line note may contain.
    private static let noteLineBreaks: Set<Unicode.Scalar> = ["\t", "\n", "\r"]

    private static func emailProblem(_ email: String) -> String? {
        if email.isEmpty { return "is required" }
        if email.utf8.count > 254 { return "must be at most 254 characters" }
        // Printable ASCII, as most addresses are: each byte is a character, and none is a space or a control.
        if email.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            return isAddressShaped(email.utf8) ? nil : "must be an address like name@example.com"
        }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return "must be an address like name@example.com" }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }) else {
            return "must be an address like name@example.com"
        }
        // Printable ASCII (U+0021-U+007E) is neither space, control nor format: only the rest is looked up.
        if email.unicodeScalars.contains(where: {
            !(0x21...0x7E).contains($0.value)
                && (CharacterSet.whitespacesAndNewlines.contains($0) || $0.isControl(allowing: [])
                    || $0.properties.generalCategory == .format)
        }) {
            return "must not contain spaces or control characters"
        }
        return nil
    }

    /// Whether `bytes` (printable ASCII) are one `@` after a non-empty local part, then a domain of two or more
    /// non-empty labels separated by dots: what ``emailProblem(_:)`` asks of any address, without splitting it.
    private static func isAddressShaped(_ bytes: String.UTF8View) -> Bool {
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), at != bytes.startIndex else { return false }
        var labels = 1
        var labelLength = 0
        for byte in bytes[bytes.index(after: at)...] {
            switch byte {
            case UInt8(ascii: "@"): return false
            case UInt8(ascii: "."):
                guard labelLength > 0 else { return false }
                labels += 1
                labelLength = 0
            default: labelLength += 1
            }
        }
        return labels >= 2 && labelLength > 0
    }
}

extension Unicode.Scalar {
    /// Whether this is a C0 or C1 control character (or DEL) outside `allowed`.
    func isControl(allowing allowed: Set<Unicode.Scalar>) -> Bool {
        (value < 0x20 || (0x7F...0x9F).contains(value)) && !allowed.contains(self)
    }
}

extension String {
    /// The text without leading and trailing whitespace and line breaks: the text itself when it starts and
    /// ends with neither, as most input does (`trimmingCharacters(in:)` goes through `NSString` every time).
    fileprivate var trimmedOfWhitespace: String {
        guard let first = unicodeScalars.first, let last = unicodeScalars.last,
            !Self.isWhitespace(first), !Self.isWhitespace(last)
        else { return trimmingCharacters(in: .whitespacesAndNewlines) }
        return self
    }

    /// Whether `scalar` is whitespace or a line break; printable ASCII (U+0021-U+007E) never is, and is not looked
    /// up in the character set.
    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        !(0x21...0x7E).contains(scalar.value) && CharacterSet.whitespacesAndNewlines.contains(scalar)
    }
}

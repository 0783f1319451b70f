extension ServerSettings {
    /// The characters a calendar feed secret may use: RFC 3986's unreserved ones, which a path carries as they are.
    static let feedSecretCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

    /// Reads `--webhook-calendar`, `--calendar-domain` and `--calendar-feed-secret` (or their variables).
    mutating func readCalendarSettings(value: (String) -> String?) throws {
        if let text = value("webhook-calendar") {
            switch text.lowercased() {
            case "true", "1", "yes": webhookCalendar = true
            case "false", "0", "no": webhookCalendar = false
            default:
                throw Invalid(
                    flag: "webhook-calendar", value: text, accepted: "must be true or false (or 1 or 0, yes or no)")
            }
            if webhookCalendar, webhookURL == nil {
                throw Invalid(
                    flag: "webhook-calendar", value: text,
                    accepted: "needs --webhook-url (BOOKING_WEBHOOK_URL): it attaches a calendar file to webhooks")
            }
        }
        if let text = value("calendar-domain") {
            let labels = text.split(separator: ".", omittingEmptySubsequences: false)
            guard text.count <= 253,
                labels.allSatisfy({ label in
                    (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                        && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                })
            else {
                throw Invalid(
                    flag: "calendar-domain", value: text, accepted: "must be a domain name like booking.example.com")
            }
            calendarDomain = text.lowercased()
        }
        if let secret = value("calendar-feed-secret") {
            guard secret.count >= Self.minimumAdminTokenLength, secret.allSatisfy(Self.feedSecretCharacters.contains)
            else {
                throw Invalid(
                    flag: "calendar-feed-secret", value: "(hidden)",
                    accepted:
                        "must be at least \(Self.minimumAdminTokenLength) letters, digits, '-', '_', '.' or '~' (it travels in the feed's URL path), e.g. from: openssl rand -hex 24"
                )
            }
            calendarFeedSecret = secret
        }
    }
}

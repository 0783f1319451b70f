import ArgumentParser
import Foundation

/// Every command-line flag of `serve`: the store's and the log's (``StoreOptions``), then the rest
/// (``ServingOptions``). Each falls back to `BOOKING_<FLAG>`.
struct ServerOptions: ParsableArguments {
    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var servingOptions: ServingOptions

    /// The flags given on the command line, by flag name.
    var given: [String: String] { Self.given(storeOptions, servingOptions) }

    /// The flags given in both groups, by flag name: `serve`'s, and `migrate`'s, which hides the serving ones.
    static func given(_ storeOptions: StoreOptions, _ servingOptions: ServingOptions) -> [String: String] {
        storeOptions.given.merging(servingOptions.given) { $1 }
    }

    /// `BOOKING_` + the flag in upper snake case: `time-zone` -> `BOOKING_TIME_ZONE`.
    static func environmentName(_ flag: String) -> String {
        "BOOKING_" + flag.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}

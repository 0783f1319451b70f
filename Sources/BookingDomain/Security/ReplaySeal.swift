import Crypto
import Foundation

/// Lets an idempotent replay return the cancel token to the holder of the idempotency key, and to
/// no one else.
///
/// A store keeps only the SHA-256 of the idempotency key (to find the booking) and the cancel token
/// sealed with AES-GCM under a key derived by HKDF-SHA256 from the idempotency key itself. A reader of
/// the database has neither the idempotency key nor the token; a client that retries with its key
/// gets the token back. Keys should be random (a UUID): a guessable key is only as strong as the guess.
enum ReplaySeal {
    /// What a store keeps instead of the idempotency key: lowercase hex SHA-256 of `idempotency-key:<key>`.
    static func storedKey(for idempotencyKey: String) -> String {
        SecretToken.sha256Hex("idempotency-key:" + idempotencyKey)
    }

    /// `token` sealed under the key derived from `idempotencyKey`: base64 of AES-GCM's nonce, ciphertext and tag.
    static func seal(_ token: String, idempotencyKey: String) -> String? {
        guard let box = try? AES.GCM.seal(Data(token.utf8), using: key(from: idempotencyKey)),
            let combined = box.combined
        else { return nil }
        return combined.base64EncodedString()
    }

    /// The token sealed by ``seal(_:idempotencyKey:)``, or `nil` when `sealed` was not sealed under this key.
    static func open(_ sealed: String, idempotencyKey: String) -> String? {
        guard let combined = Data(base64Encoded: sealed), let box = try? AES.GCM.SealedBox(combined: combined),
            let plain = try? AES.GCM.open(box, using: key(from: idempotencyKey))
        else { return nil }
        return String(data: plain, encoding: .utf8)
    }

    private static func key(from idempotencyKey: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(idempotencyKey.utf8)),
            salt: Data("swift-booking replay seal".utf8), info: Data("cancel-token v1".utf8), outputByteCount: 32)
    }
}

import Foundation
import Synchronization

/// The one place that keeps configured secrets out of what mirrorctl prints, logs and stores.
///
/// The credentials (Backstage token, Port client secret, Port access tokens) are registered when
/// they are loaded or fetched; any text that came from a server passes through `redact` before it
/// becomes an error, a warning or a stored reason, so a server that echoes a secret back (in a
/// 401 message, say) can't make mirrorctl leak it. Process-wide and thread-safe.
public enum SecretRedaction {
    /// What a secret is replaced with.
    public static let mask = "***"
    /// Shorter values are not treated as secrets: masking every "a" would garble all output.
    public static let minimumLength = 6

    private static let secrets = Mutex<[String]>([])

    /// Adds `secret` to the values `redact` masks (ignored when too short to be a credential).
    public static func register(_ secret: String?) {
        guard let secret, secret.count >= minimumLength else { return }
        secrets.withLock { secrets in
            guard !secrets.contains(secret) else { return }
            secrets.append(secret)
            // Longest first, so a secret that contains another is masked whole.
            secrets.sort { $0.count > $1.count }
        }
    }

    /// `text` with every registered secret replaced by `***`.
    public static func redact(_ text: String) -> String {
        let current = secrets.withLock { $0 }
        var out = text
        for secret in current where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: mask)
        }
        return out
    }

    /// `redact` for optional text.
    public static func redact(_ text: String?) -> String? {
        text.map { redact($0) }
    }
}
